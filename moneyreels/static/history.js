// Past reels, newest first, a page at a time; each opens by its #job=<id> link.

import { del, get } from "./api.js";
import { $, clear, el, formatTime } from "./dom.js";
import { STATUS_TEXT, jobTitle } from "./describe.js";
import { currentId } from "./job.js";
import { isFinished } from "./watch.js";

const PAGE_SIZE = 8;
let offset = 0;
let onDeleted = () => {};

export async function refreshJobs() {
  const error = $("#jobs-error");
  try {
    const page = await get(`/api/v1/jobs?limit=${PAGE_SIZE}&offset=${offset}&kind=all`);
    if (!page.jobs.length && offset > 0) {
      offset = Math.max(0, offset - PAGE_SIZE);
      return refreshJobs();
    }
    error.textContent = "";
    render(page);
  } catch (failure) {
    error.textContent = `Could not load past reels: ${failure.message}`;
  }
}

function render(page) {
  const list = clear($("#jobs"));
  if (!page.jobs.length) list.append(el("li", { class: "empty", text: "No reels yet. Make one above." }));
  list.append(...page.jobs.map(row));
  const last = Math.min(page.offset + page.jobs.length, page.total);
  $("#page-info").textContent = page.total ? `${page.offset + 1}–${last} of ${page.total}` : "";
  $("#prev-page").disabled = page.offset === 0;
  $("#next-page").disabled = last >= page.total;
}

function row(job) {
  const remove = isFinished(job.status) && el("button", {
    type: "button", class: "danger small", text: "Delete", "aria-label": `Delete ${jobTitle(job)}`,
    onclick: (event) => deleteJob(event.currentTarget, job),
  });
  const current = job.id === currentId();
  const poster = job._links?.poster?.href;
  const thumb = poster ? el("img", { class: "thumb", src: poster, alt: "", loading: "lazy" })
    : el("span", { class: "thumb", "aria-hidden": "true" });
  return el("li", { class: current ? "job-row current" : "job-row", dataset: { jobId: job.id, status: job.status } },
    thumb,
    el("a", { href: `#job=${job.id}`, class: "job-link", "aria-current": current && "true" },
      el("span", { class: "job-name", text: jobTitle(job) }),
      el("span", { class: "hint", text: `${formatTime(job.createdAt)} · ${job.id.slice(0, 8)}` })),
    el("span", { class: `badge status-${job.status}`, text: STATUS_TEXT[job.status] || job.status }),
    remove);
}

async function deleteJob(button, job) {
  if (!window.confirm(`Delete “${jobTitle(job)}” and all its files?`)) return;
  button.disabled = true;
  try {
    await del(`/api/v1/jobs/${job.id}`);
    onDeleted(job.id);
    await refreshJobs();
  } catch (failure) {
    $("#jobs-error").textContent = failure.message;
    button.disabled = false;
  }
}

export function bindHistory(whenDeleted) {
  onDeleted = whenDeleted;
  $("#refresh-jobs").addEventListener("click", refreshJobs);
  $("#prev-page").addEventListener("click", () => { offset = Math.max(0, offset - PAGE_SIZE); refreshJobs(); });
  $("#next-page").addEventListener("click", () => { offset += PAGE_SIZE; refreshJobs(); });
}
