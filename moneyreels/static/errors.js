// Show an API error next to what caused it: a field's own slot, else the form's.

import { $, $$ } from "./dom.js";

export function clearErrors(form) {
  for (const slot of $$(".field-error, .form-error", form)) slot.textContent = "";
  for (const input of $$("[aria-invalid]", form)) input.removeAttribute("aria-invalid");
}

// fallbackField names the field that "(body)"-level errors belong to, if any.
export function showErrors(form, error, fallbackField) {
  clearErrors(form);
  const unplaced = [];
  let first = null;
  for (const { field, message } of error.fields) {
    const name = field === "(body)" ? fallbackField : field;
    const box = name && form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
    if (!box || box.hidden) {
      unplaced.push(field === "(body)" ? message : `${field}: ${message}`);
      continue;
    }
    $(".field-error", box).textContent = message;
    const input = $("input, select, textarea", box);
    input.setAttribute("aria-invalid", "true");
    first ||= input;
  }
  const summary = unplaced.length ? unplaced.join(" ") : error.fields.length ? "" : error.message;
  $(".form-error", form).textContent = first && !summary ? "Please fix the marked field." : summary;
  first?.focus();
}
