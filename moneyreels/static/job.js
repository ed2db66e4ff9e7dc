// The job panel: status, stages, progress, player, files, score, review and log of one job.

import { del, post } from "./api.js";
import { $, clear, el, formatTime, show } from "./dom.js";
import { STATUS_TEXT, jobTitle, logLine, seconds, stageName } from "./describe.js";
import { STAGES, isFinished, watch } from "./watch.js";

const MAX_LOG_LINES = 400;
const STAGE_STATUS = { start: "running", complete: "done", skipped: "skipped", error: "error", cancelled: "pending" };

let current = null; // {id, job, watcher}
let hooks = { onChange() {}, onConnection() {}, onClose() {} };

export function setHooks(given) {
  hooks = { ...hooks, ...given };
}

export const currentId = () => current?.id ?? null;

export function openJob(id, { fresh = false } = {}) {
  if (current?.id === id && !fresh) return;
  stopWatching();
  const session = { id, job: null, watcher: null };
  current = session;
  resetView(id);
  const live = (fn) => (...args) => current === session && fn(...args);
  session.watcher = watch(id, {
    onSnapshot: live((job) => applySnapshot(session, job)),
    onEvent: live(applyEvent),
    onEnd: live((name) => ended(session, name)),
    onConnection: live((state) => hooks.onConnection(state)),
    onTransport: live((transport) => { $("#job").dataset.transport = transport; }),
    onError: live((error) => showError(error.message)),
  });
}

export function closeJob() {
  stopWatching();
  current = null;
  show($("#job"), false);
  show($("#idle"), true);
  hooks.onClose();
}

function stopWatching() {
  current?.watcher?.stop();
  hooks.onConnection("live");
  const player = $("#player");
  player.pause();
  player.removeAttribute("src");
  player.load();
}

function resetView(id) {
  const section = $("#job");
  section.dataset.jobId = id;
  delete section.dataset.status;
  $("#job-title").textContent = "Loading…";
  $("#job-meta").textContent = `Job ${id}`;
  setStatus("", false);
  showError("");
  clear($("#stages"));
  clear($("#log"));
  clear($("#scenes"));
  show($("#progress-box"), false);
  $("#progress").value = 0;
  $("#progress-label").textContent = "Rendering";
  for (const node of [$("#scenes"), $("#review")]) delete node.dataset.shown;
  for (const box of ["#result", "#review", "#scenes-box"]) show($(box), false);
  show(section, true);
  show($("#idle"), false);
}

function applySnapshot(session, job) {
  if (session.job && session.job.status !== job.status) hooks.onChange(session.id);
  session.job = job;
  $("#job-title").textContent = jobTitle(job);
  $("#job-meta").textContent = [job.kind === "render" ? "Manifest render" : job.archetype,
    `created ${formatTime(job.createdAt)}`, `id ${job.id}`].filter(Boolean).join(" · ");
  setStatus(job.status, job.cancelRequested);
  renderStages(job.stages || {});
  if (job.kind === "render" && !isFinished(job.status)) show($("#progress-box"), true);
  if (job.score) renderScore(job.score);
  if (job.criticReview) renderReview(job.criticReview);
  renderResult(job);
  showError(job.status === "failed" && job.error ? errorText(job.error) : "");
}

const errorText = (error) => (error.code ? `${error.message} (${error.code})` : error.message);

function applyEvent(name, data, message) {
  // A stage step comes twice: its stage:<name> event and the `log` twin that MoneyPrinter clients read.
  if (!(name === "log" && data.stage)) appendLog(...logLine(name, data, message));
  if (name === "job:status") {
    setStatus(data.status, current.job?.cancelRequested);
    hooks.onChange(current.id);
  }
  else if (name === "progress") setProgress(data.progress, data.message);
  else if (name.startsWith("stage:")) applyStageEvent(data);
  else if (name === "job:failed") showError(data.error || "The job failed.");
}

function applyStageEvent(data) {
  if (data.type in STAGE_STATUS) {
    renderStage(data.stage, { status: STAGE_STATUS[data.type], detail: data.detail, reason: data.reason,
      error: data.error, durationSec: data.durationSec });
  }
  if (data.type === "score") renderScore(data.score);
  if (data.type === "review") renderReview(data);
}

function ended(session, name) {
  if (name === "job:deleted") {
    setStatus("deleted", false);
    showError("This job no longer exists.");
  }
  hooks.onChange(session.id);
}

function setStatus(status, cancelRequested) {
  const badge = $("#job-status");
  const active = status === "queued" || status === "running";
  badge.textContent = active && cancelRequested ? "Cancelling…" : STATUS_TEXT[status] || status || "…";
  badge.className = `badge status-${status || "unknown"}`;
  if (status) $("#job").dataset.status = status;
  const cancel = $("#cancel-job");
  show(cancel, active);
  cancel.disabled = Boolean(cancelRequested);
  show($("#delete-job"), isFinished(status));
  const retryable = current?.job?.kind === "generate" && (status === "failed" || status === "cancelled");
  show($("#retry-job"), retryable);
}

function renderStages(stages) {
  const list = $("#stages");
  const names = Object.keys(stages).length ? STAGES : [];
  show(list, names.length > 0);
  for (const name of names) renderStage(name, stages[name] || { status: "pending" });
}

function renderStage(name, state) {
  const list = $("#stages");
  show(list, true);
  let row = list.querySelector(`[data-stage="${name}"]`);
  if (!row) {
    row = el("li", { class: "stage", dataset: { stage: name } },
      el("span", { class: "stage-name", text: stageName(name) }),
      el("span", { class: "stage-status" }), el("span", { class: "stage-detail" }), el("span", { class: "stage-time" }));
    list.append(row);
    sortStages(list);
  }
  row.dataset.status = state.status;
  $(".stage-status", row).textContent = state.status;
  $(".stage-detail", row).textContent = state.error || state.detail || state.reason || "";
  $(".stage-time", row).textContent = state.durationSec !== undefined && state.durationSec !== null
    ? seconds(state.durationSec) : "";
}

function sortStages(list) {
  const rows = [...list.children].sort((a, b) => STAGES.indexOf(a.dataset.stage) - STAGES.indexOf(b.dataset.stage));
  list.append(...rows);
}

function setProgress(fraction, label) {
  show($("#progress-box"), true);
  const value = Math.max(0, Math.min(1, Number(fraction) || 0));
  $("#progress").value = value;
  $("#progress-label").textContent = `${label || "Rendering"} · ${Math.round(value * 100)} %`;
}

// Whether node shows something other than value yet (polling hands over the same score again and again).
function changed(node, value) {
  const key = JSON.stringify(value);
  if (node.dataset.shown === key) return false;
  node.dataset.shown = key;
  return true;
}

function renderScore(score) {
  if (!changed($("#scenes"), score)) return;
  show($("#scenes-box"), true);
  $("#arc").textContent = [score.emotional_arc && `Arc: ${score.emotional_arc}`,
    score.music_mood && `music: ${score.music_mood.replaceAll("_", " ")}`].filter(Boolean).join(" · ");
  clear($("#scenes")).append(...(score.scenes || []).map((scene) => el("li", {},
    el("p", { text: scene.script_line || "" }),
    el("p", { class: "hint", text: [scene.visual_type, scene.motion, scene.transition].filter(Boolean).join(" · ") }))));
}

function renderReview(review) {
  if (!changed($("#review"), review)) return;
  show($("#review"), true);
  $("#review-score").textContent = `${review.score}/10${review.method ? ` (${review.method})` : ""}`;
  const items = (list) => (list && list.length ? list : ["None noted."]).map((text) => el("li", { text }));
  clear($("#strengths")).append(...items(review.strengths));
  clear($("#weaknesses")).append(...items(review.weaknesses));
}

function renderResult(job) {
  const ready = job.status === "completed" && job.videoPath;
  show($("#result"), Boolean(ready));
  if (!ready) return;
  const base = `/api/v1/jobs/${encodeURIComponent(job.id)}`;
  const video = job._links?.video?.href || `${base}/artifacts/${encodeURIComponent(job.videoPath)}`;
  const player = $("#player");
  const poster = job._links?.poster?.href;
  if (poster && player.getAttribute("poster") !== poster) player.poster = poster;
  if (player.getAttribute("src") !== video) player.src = video;
  const files = [
    ["Download the video", video, job.videoPath],
    job.kind === "generate" && ["manifest.json (what was rendered)", `${base}/artifacts/manifest.json`, "manifest.json"],
    job.musicTrack?.path && [`Music: ${job.musicTrack.track}`, `${base}/artifacts/${job.musicTrack.path}`, job.musicTrack.path],
    ["Job JSON (score, review, costs)", base, `${job.id}.json`],
  ].filter(Boolean);
  clear($("#artifacts")).append(...files.map(([label, href, name]) =>
    el("li", {}, el("a", { href, download: name, text: label }))));
}

function appendLog(level, text) {
  const log = $("#log");
  const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
  log.append(el("li", { class: `level-${level}`, text }));
  while (log.children.length > MAX_LOG_LINES) log.firstElementChild.remove();
  if (stick) log.scrollTop = log.scrollHeight;
}

function showError(message) {
  $("#job-error").textContent = message;
}

async function act(button, action) {
  if (!current) return;
  const { id } = current;
  button.disabled = true;
  showError("");
  try {
    await action(id);
  } catch (error) {
    showError(error.message);
  } finally {
    button.disabled = false;
  }
}

export function bindJobActions() {
  $("#cancel-job").addEventListener("click", (event) => act(event.currentTarget, async (id) => {
    const answer = await post(`/api/v1/jobs/${id}/cancel`);
    if (current?.id === id && current.job) current.job.cancelRequested = answer.cancelRequested;
    setStatus(answer.state, answer.cancelRequested);
  }));
  $("#retry-job").addEventListener("click", (event) => act(event.currentTarget, async (id) => {
    await post(`/api/v1/jobs/${id}/retry`);
    openJob(id, { fresh: true });
    hooks.onChange(id);
  }));
  $("#delete-job").addEventListener("click", (event) => act(event.currentTarget, async (id) => {
    if (!window.confirm("Delete this reel and all its files?")) return;
    await del(`/api/v1/jobs/${id}`);
    closeJob();
    hooks.onChange(id);
  }));
  $("#close-job").addEventListener("click", closeJob);
}
