// The manifest editor: examples to start from, JSON checked as you type, the server's field errors listed.

import { get, post } from "./api.js";
import { $, clear, el } from "./dom.js";
import { clearErrors, friendly } from "./errors.js";
import { fieldsOf, markMergeErrors, renderTemplate, showMergeFields, useSamples } from "./merge.js";

const DRAFT_KEY = "moneyreels.manifest";
let recipes = [];
let checkTimer = 0;

export async function loadRecipes() {
  const index = await get(new URL("./recipes/index.json", import.meta.url).pathname);
  recipes = index.recipes;
  $("#recipe").append(...recipes.map((recipe, i) => el("option", { value: i, text: recipe.title })));
  $("#recipe-note").textContent = `${recipes[0].note} ${index.note}`;
  const draft = localStorage.getItem(DRAFT_KEY);
  if (draft) setText(draft);
  else await loadRecipe(0);
}

async function loadRecipe(i) {
  const recipe = recipes[i];
  const url = new URL(`./recipes/${recipe.file}`, import.meta.url).pathname;
  useSamples(recipe.merge);
  setText(JSON.stringify(await get(url), null, 2));
  localStorage.setItem(DRAFT_KEY, $("#manifest").value);
  $("#recipe-note").textContent = recipe.note;
}

function setText(text) {
  $("#manifest").value = text;
  check();
}

// Parse the editor's text; report a syntax error with its line and column.
function parse() {
  const text = $("#manifest").value;
  try {
    const value = JSON.parse(text);
    if (!value || typeof value !== "object" || Array.isArray(value)) return { error: "The manifest must be a JSON object." };
    return { value };
  } catch (error) {
    const at = /position (\d+)/.exec(error.message);
    if (!at || /line \d+/.test(error.message)) return { error: `JSON error: ${error.message}` };
    const before = text.slice(0, Number(at[1])).split("\n");
    return { error: `JSON error at line ${before.length}, column ${before.at(-1).length + 1}: ${error.message}` };
  }
}

function summary(manifest) {
  const out = manifest.output || {};
  const layers = (manifest.composition?.timeline || []).length + (manifest.composition?.text_overlays || []).length;
  return `Valid JSON · ${out.width ?? "?"}×${out.height ?? "?"} at ${out.fps ?? "?"} fps · ` +
    `${(manifest.assets || []).length} assets · ${layers} layers. The server checks the rest when you render.`;
}

function check() {
  const { value, error } = parse();
  const editor = $("#manifest");
  const status = $("#manifest-check");
  status.textContent = error || summary(value);
  status.classList.toggle("bad", Boolean(error));
  if (error) editor.setAttribute("aria-invalid", "true");
  else editor.removeAttribute("aria-invalid");
  if (value) showMergeFields(fieldsOf(value));
  return value;
}

function showFieldErrors(form, error) {
  const list = $("#manifest-errors");
  // The JSON parsed, but the server refused it: "Valid JSON" above the refusal would mislead.
  $("#manifest-check").textContent = "";
  if (!error.fields.length) {
    $(".form-error", form).textContent = error.message;
    return;
  }
  list.append(...error.fields.map(({ field, message }) =>
    el("li", {}, el("code", { text: field }), document.createTextNode(` ${friendly(message)}`))));
  const mergeInput = markMergeErrors(error.fields);
  $(".form-error", form).textContent = `The server refused the manifest: ${error.fields.length} problem(s) listed above.`;
  $("#manifest").setAttribute("aria-invalid", "true");
  (mergeInput || $("#manifest")).focus();
}

export function bindManifestForm(onCreated) {
  const form = $("#manifest-form");
  const editor = $("#manifest");
  editor.addEventListener("input", () => {
    localStorage.setItem(DRAFT_KEY, editor.value);
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 250);
  });
  $("#load-recipe").addEventListener("click", () => loadRecipe(Number($("#recipe").value)));
  $("#recipe").addEventListener("change", () => { $("#recipe-note").textContent = recipes[$("#recipe").value].note; });
  $("#format-manifest").addEventListener("click", () => {
    const value = check();
    if (value) setText(JSON.stringify(value, null, 2));
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    clear($("#manifest-errors"));
    const manifest = check();
    if (!manifest) {
      $(".form-error", form).textContent = "Fix the JSON first.";
      editor.focus();
      return;
    }
    const button = $("button[type=submit]", form);
    button.disabled = true;
    try {
      // A manifest with {{FIELD}} placeholders is a template: stored, then rendered with the boxes' values.
      const answer = fieldsOf(manifest).length ? await renderTemplate(manifest) : await post("/v1/videos/render", manifest);
      onCreated(answer.job_id || answer.data?.job?.id);
    } catch (error) {
      showFieldErrors(form, error);
    } finally {
      button.disabled = false;
    }
  });
}
