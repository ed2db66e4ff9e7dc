// Merge fields in the manifest editor: a box for each {{FIELD}}; rendering stores the manifest as
// the page's template (docs/templates.md) and renders it with the values typed in.

import { post, put } from "./api.js";
import { $, $$, clear, el } from "./dom.js";
import { friendly } from "./errors.js";

const TEMPLATE_KEY = "moneyreels.template";
const PLACEHOLDER = /\{\{([A-Za-z0-9_]{1,64})\}\}/g;
const VALUES_KEY = "moneyreels.merge";
// Values kept while fields come and go as the manifest is edited, and across reloads.
let typed = JSON.parse(localStorage.getItem(VALUES_KEY) || "{}");

// The field names of a parsed manifest's string values, each once, in order.
export function fieldsOf(value, found = new Set()) {
  if (typeof value === "string") for (const match of value.matchAll(PLACEHOLDER)) found.add(match[1]);
  else if (value && typeof value === "object") for (const item of Object.values(value)) fieldsOf(item, found);
  return [...found];
}

// A recipe's sample values: they fill the boxes shown next.
export function useSamples(samples = {}) {
  rememberTyped();
  for (const [name, value] of Object.entries(samples)) typed[name] = String(value);
  localStorage.setItem(VALUES_KEY, JSON.stringify(typed));
  clear($("#merge-inputs"));
}

// Show one labelled box per field, keeping what was typed in the boxes of fields still there.
export function showMergeFields(fields) {
  rememberTyped();
  $("#merge-fields").hidden = !fields.length;
  if ($$("#merge-inputs input").map((input) => input.name).join() === fields.join()) return;
  clear($("#merge-inputs")).append(...fields.map((name) => el("div", { class: "field", dataset: { field: `merge.${name}` } },
    el("label", { for: `merge-${name}`, text: name }),
    el("input", { id: `merge-${name}`, name, type: "text", value: typed[name] ?? "", autocomplete: "off",
      "aria-describedby": `merge-${name}-error`, oninput: rememberTyped }),
    el("p", { id: `merge-${name}-error`, class: "field-error", "aria-live": "polite" }))));
}

function rememberTyped() {
  for (const input of $$("#merge-inputs input")) typed[input.name] = input.value;
  localStorage.setItem(VALUES_KEY, JSON.stringify(typed));
}

// Mark the boxes of the fields behind the server's errors (merge.FIELD, or "(from merge field FIELD)");
// return the first box's input.
export function markMergeErrors(errors) {
  let first = null;
  for (const { field, message } of errors) {
    const blamed = /\(from merge fields? ([A-Za-z0-9_, ]+)\)$/.exec(message);
    const names = field.startsWith("merge.") ? [field.slice(6)] : blamed ? blamed[1].split(", ") : [];
    for (const name of names) {
      const box = $(`#merge-inputs [data-field="${CSS.escape(`merge.${name}`)}"]`);
      const slot = box && $(".field-error", box);
      if (!slot || slot.textContent) continue; // one message a box: the first
      slot.textContent = field.startsWith("merge.") ? friendly(message) : `${friendly(message)} It goes in ${field}.`;
      $("input", box).setAttribute("aria-invalid", "true");
      first ||= $("input", box);
    }
  }
  return first;
}

// Store the manifest as the page's template (replacing the one stored before), then render it merged.
export async function renderTemplate(manifest) {
  rememberTyped();
  const merge = Object.fromEntries($$("#merge-inputs input").map((input) => [input.name, input.value]));
  const body = { name: "Made on the page", manifest };
  const known = localStorage.getItem(TEMPLATE_KEY);
  let saved = null;
  if (known) saved = await put(`/v1/templates/${encodeURIComponent(known)}`, body).catch((error) => {
    if (error.status === 404) return null; // deleted meanwhile, or another key's: store it anew
    throw error;
  });
  saved ||= await post("/v1/templates", body);
  localStorage.setItem(TEMPLATE_KEY, saved.data.id);
  $("#template-note").textContent = `Stored as template ${saved.data.id}: render it from anywhere with ` +
    "POST /v1/videos/render {template_id, merge}.";
  return post("/v1/videos/render", { template_id: saved.data.id, merge });
}
