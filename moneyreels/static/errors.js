// Show an API error next to what caused it: a field's own slot, else the form's.

import { $, $$ } from "./dom.js";

// The validator's stock phrases, as a person would say them; anything else is shown as sent.
const PHRASES = [
  [/^String should have at least 1 character$/, () => "Please fill this in."],
  [/^String should have at least (\d+) characters$/, (n) => `Please write at least ${n} characters.`],
  [/^String should have at most (\d+) characters?$/, (n) => `Please keep this to ${n} characters or fewer.`],
  [/^Field required$/, () => "This is required."],
  [/^Input should be greater than or equal to (\S+)$/, (n) => `Use ${n} or more.`],
  [/^Input should be greater than (\S+)$/, (n) => `Use a number above ${n}.`],
  [/^Input should be less than or equal to (\S+)$/, (n) => `Use ${n} or less.`],
  [/^Input should be less than (\S+)$/, (n) => `Use a number below ${n}.`],
  [/^Input should be a valid integer/, () => "Use a whole number."],
  [/^Input should be a valid number/, () => "Use a number."],
  [/^Input should be a valid string/, () => "Use text here."],
  [/^Input should be a valid boolean/, () => "Use true or false."],
  [/^Input should be (.+)$/, (choices) => `Use one of: ${choices}.`],
  [/^Extra inputs are not permitted$/, () => "This key is not part of the format."],
  [/^Value error, (.+)$/, (text) => text],
];

export function friendly(message) {
  for (const [pattern, say] of PHRASES) {
    const found = pattern.exec(message);
    if (found) return say(...found.slice(1));
  }
  return message;
}

export function clearErrors(form) {
  for (const slot of $$(".field-error, .form-error", form)) slot.textContent = "";
  for (const input of $$("[aria-invalid]", form)) input.removeAttribute("aria-invalid");
}

// fallbackField names the field that "(body)"-level errors belong to, if any.
export function showErrors(form, error, fallbackField) {
  clearErrors(form);
  const unplaced = [];
  let first = null;
  for (const { field, message: raw } of error.fields) {
    const message = friendly(raw);
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
