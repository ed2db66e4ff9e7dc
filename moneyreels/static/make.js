// The topic/script form: its choices come from the API, and so does the word on what works offline.

import { get, post } from "./api.js";
import { $, clear, el } from "./dom.js";
import { clearErrors, showErrors } from "./errors.js";

const CATEGORIES = { llm: "LLM (writes the script)", tts: "Voice (TTS)", image: "Images", stock: "Stock media",
  video: "Video clips", music: "Music" };
const LLM_KEYS = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY"];

let catalog = { providers: {}, keys: {} };

export async function loadChoices() {
  const [archetypes, platforms, providers, health] = await Promise.all([
    get("/api/v1/archetypes"), get("/api/v1/platforms"), get("/api/v1/providers"), get("/api/v1/health"),
  ]);
  catalog = { providers, keys: health.keys || {} };
  $("#archetype").append(...archetypes.map((a) =>
    el("option", { value: a.name, text: `${a.name.replaceAll("_", " ")} — ${a.mood.replaceAll("_", " ")}` })));
  $("#platform").append(...platforms.map((p) =>
    el("option", { value: p.name, title: `${p.width}×${p.height}`, text: `${p.name} (up to ${p.maxDurationSeconds} s)` })));
  renderProviders(providers);
  renderVoices();
  describeOffline();
  return health;
}

function renderProviders(providers) {
  const box = clear($("#providers"));
  for (const [category, label] of Object.entries(CATEGORIES)) {
    const entries = providers[category] || [];
    const usable = entries.filter((entry) => entry.available);
    const select = el("select", { id: `provider-${category}`, name: `providers.${category}`, disabled: !entries.length },
      el("option", { value: "", text: usable.length ? "Automatic" : "Automatic (none usable)" }),
      ...entries.map((entry) => el("option", {
        value: entry.key, disabled: !entry.available,
        text: entry.available ? `${entry.label} ✓` : `${entry.label} — needs ${needs(entry)}`,
      })));
    if (category === "tts") select.addEventListener("change", renderVoices);
    box.append(el("div", { class: "field", dataset: { field: `providers.${category}` } },
      el("label", { for: select.id, text: label }), select, el("p", { class: "field-error" })));
  }
}

const needs = (entry) => (entry.requires?.length ? entry.requires.join(" or ") : "a running server");

function renderVoices() {
  const chosen = $("#provider-tts")?.value;
  const entries = catalog.providers.tts || [];
  const tts = entries.find((entry) => entry.key === chosen) || entries.find((entry) => entry.available);
  const voices = [...(tts?.voices || [])].sort((a, b) => a.label.localeCompare(b.label));
  const select = $("#voice");
  const keep = select.value;
  clear(select).append(el("option", { value: "", text: "Default" }),
    ...voices.map((voice) => el("option", { value: voice.id, text: `${voice.label.trim()} (${voice.id})` })));
  select.value = voices.some((voice) => voice.id === keep) ? keep : "";
}

const usableLlms = () => (catalog.providers.llm || []).filter((entry) => entry.available).map((entry) => entry.label);

export const llmUsable = () => usableLlms().length > 0;

// Say plainly what a topic and a script need here, from /providers and /health.
export function describeOffline() {
  const note = $("#offline-note");
  const llms = usableLlms();
  const keys = Object.entries(catalog.keys).filter(([, present]) => present).map(([name]) => name);
  const keyText = keys.length ? `Keys set on the server: ${keys.join(", ")}.` : "No API keys are set on the server.";
  const mode = document.querySelector('input[name="mode"]:checked')?.value;
  note.classList.toggle("warn", mode === "topic" && !llms.length);
  if (mode === "script") {
    note.textContent = "A script works fully offline, as is: the Piper voice speaks it, each scene gets a picture " +
      "(from MEDIA_DIR, or drawn in the archetype's palette), and music is synthesized. " +
      (llms.length ? `The critic asks ${llms[0]}.` : "The critic reviews it with local checks.");
  } else if (llms.length) {
    note.textContent = `A topic is researched and written by an LLM: ${llms.join(", ")} is ready. ` +
      `The voice, pictures and music are made locally. ${keyText}`;
  } else {
    note.textContent = "A topic needs an LLM to research and write it, and none is usable here, so a topic job " +
      `would fail. ${keyText} Either set ${LLM_KEYS.join(", ")} in the server's environment and restart it ` +
      "(keys come from console.anthropic.com, platform.openai.com or aistudio.google.com), or install Ollama " +
      "(ollama.com), run `ollama pull llama3.2` and keep it running on localhost:11434. " +
      "Or switch to Script: a script works fully offline.";
  }
}

function requestBody(form, mode) {
  const data = new FormData(form);
  const body = { [mode]: data.get(mode) };
  for (const name of ["archetype", "pacing", "platform", "voice", "direction"]) {
    if (data.get(name)) body[name] = data.get(name);
  }
  for (const name of ["dryRun", "noMusic", "noVideo", "useMyMedia"]) body[name] = data.has(name);
  const providers = {};
  for (const category of Object.keys(CATEGORIES)) {
    const value = data.get(`providers.${category}`);
    if (value) providers[category] = value;
  }
  if (Object.keys(providers).length) body.providers = providers;
  return body;
}

export function bindMakeForm(onCreated) {
  const form = $("#reel-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const mode = document.querySelector('input[name="mode"]:checked').value;
    const button = $("button[type=submit]", form);
    button.disabled = true;
    clearErrors(form);
    try {
      const job = await post("/api/v1/jobs", requestBody(form, mode));
      onCreated(job.id);
    } catch (error) {
      showErrors(form, error, mode);
    } finally {
      button.disabled = false;
    }
  });
}
