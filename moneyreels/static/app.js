// The page's entry point: wires the forms, the job panel, past reels and the #job=<id> deep link.

import { get } from "./api.js";
import { $, $$, show } from "./dom.js";
import { bindBatchForm } from "./batch.js";
import { bindHistory, refreshJobs } from "./history.js";
import { bindLibrary } from "./library.js";
import { bindJobActions, closeJob, currentId, openJob, setHooks } from "./job.js";
import { bindMakeForm, describeOffline, llmUsable, loadChoices } from "./make.js";
import { bindManifestForm, loadRecipes } from "./manifest.js";
import { bindSignOut, signedIn } from "./session.js";

const MODE_KEY = "moneyreels.mode";

const jobInHash = () => new URLSearchParams(location.hash.slice(1)).get("job");

function route() {
  const id = jobInHash();
  if (id) openJob(id);
  else if (currentId()) closeJob();
}

function created(id) {
  location.hash = `job=${id}`;
  refreshJobs();
  $("#job").scrollIntoView({ behavior: "smooth", block: "start" });
}

function setMode(mode) {
  for (const radio of $$('input[name="mode"]')) radio.checked = radio.value === mode;
  show($("#reel-form"), mode === "topic" || mode === "script");
  show($("#manifest-form"), mode === "manifest");
  show($("#batch-form"), mode === "batch");
  show($('#reel-form .field[data-field="topic"]'), mode === "topic");
  show($('#reel-form .field[data-field="script"]'), mode === "script");
  describeOffline();
}

// Only a choice the user made is remembered; until then the page opens where work can start.
function bindModes() {
  for (const radio of $$('input[name="mode"]')) {
    radio.addEventListener("change", () => {
      localStorage.setItem(MODE_KEY, radio.value);
      setMode(radio.value);
    });
  }
  setMode(localStorage.getItem(MODE_KEY) || "script");
}

// Topic is the natural start, but only where an LLM can write it.
function defaultMode() {
  if (!localStorage.getItem(MODE_KEY) && llmUsable()) setMode("topic");
}

let wasOffline = false;
function connection(state) {
  const banner = $("#banner");
  const offline = state === "reconnecting";
  banner.textContent = offline ? "Lost the connection to the server: reconnecting…" : "";
  show(banner, offline);
  if (offline) setPill("Server unreachable", "down");
  if (wasOffline && !offline) {
    refreshJobs();
    showHealth();
  }
  wasOffline = offline;
}

function setPill(text, state) {
  const pill = $("#health");
  pill.textContent = text;
  pill.dataset.state = state;
}

async function showHealth(health) {
  try {
    health ||= await get("/api/v1/health");
    setPill(health.status === "healthy" ? `Server ready · worker ${health.worker}`
      : `Server ${health.status}: database ${health.database}, worker ${health.worker}`, health.status);
  } catch (error) {
    setPill(`Server unreachable: ${error.message}`, "down");
  }
}

async function start() {
  bindSignOut();
  try {
    await signedIn();
  } catch (error) {
    setPill(`Server unreachable: ${error.message}`, "down");
    return;
  }
  bindModes();
  bindMakeForm(created);
  bindManifestForm(created);
  bindBatchForm(refreshJobs);
  bindLibrary();
  bindJobActions();
  bindHistory((id) => id === currentId() && closeJob());
  setHooks({
    onChange: refreshJobs,
    onConnection: connection,
    onClose: () => history.replaceState(null, "", location.pathname + location.search),
  });
  window.addEventListener("hashchange", route);
  route();
  refreshJobs();
  loadRecipes().catch((error) => { $("#manifest-check").textContent = `Examples unavailable: ${error.message}`; });
  try {
    showHealth(await loadChoices());
    defaultMode();
  } catch (error) {
    showHealth();
    $("#reel-form .form-error").textContent = `Could not load the choices: ${error.message}`;
  }
}

start();
