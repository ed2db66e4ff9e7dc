// Many reels at once: pasted scripts or a CSV become one batch, whose rows fill in as its jobs run.

import { get, post } from "./api.js";
import { $, clear, el, show, sleep } from "./dom.js";
import { STATUS_TEXT } from "./describe.js";
import { clearErrors, friendly } from "./errors.js";

const POLL_MS = 2000;
let following = 0; // bumped for each new batch, so an older batch's loop stops

function request(form) {
  const file = $("#batch-file").files[0];
  if (file) {
    const data = new FormData();
    data.append("file", file);
    return data;
  }
  const scripts = $("#batch-scripts").value.split(/\n\s*\n/).map((text) => text.trim()).filter(Boolean);
  return { jobs: scripts.map((script) => ({ script })) };
}

function showBatch(batch) {
  show($("#batch"), true);
  const counts = Object.entries(batch.counts).filter(([, count]) => count)
    .map(([status, count]) => `${count} ${(STATUS_TEXT[status] || status).toLowerCase()}`);
  $("#batch-counts").textContent = `${batch.total} reels: ${counts.join(", ")}`;
  $("#batch").dataset.status = batch.status;
  clear($("#batch-jobs")).append(...batch.jobs.map((job) =>
    el("li", { class: "job-row", dataset: { jobId: job.id, status: job.status } },
      el("a", { href: `#job=${job.id}`, class: "job-link" }, el("span", { class: "job-name", text: job.title })),
      el("span", { class: `badge status-${job.status}`, text: STATUS_TEXT[job.status] || job.status }))));
  show($("#cancel-batch"), Boolean(batch._links.cancel));
  $("#cancel-batch").dataset.href = batch._links.cancel?.href || "";
}

async function follow(batch, onChange) {
  const mine = ++following;
  showBatch(batch);
  while (batch.status === "running" && mine === following) {
    await sleep(POLL_MS);
    try {
      const next = await get(batch._links.self.href);
      if (mine !== following) return;
      if (JSON.stringify(next.counts) !== JSON.stringify(batch.counts)) onChange();
      batch = next;
      showBatch(batch);
    } catch (error) {
      if (!error.offline) return; // gone (deleted) or signed out: stop following
    }
  }
}

function showRefusal(form, error) {
  const list = clear($("#batch-errors"));
  list.append(...error.fields.map(({ field, message }) =>
    el("li", {}, el("code", { text: field }), document.createTextNode(` ${friendly(message)}`))));
  $(".form-error", form).textContent = error.fields.length
    ? `Nothing was queued: ${error.fields.length} problem(s) listed above.` : error.message;
}

export function bindBatchForm(onChange) {
  const form = $("#batch-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    clear($("#batch-errors"));
    const body = request(form);
    if (!(body instanceof FormData) && !body.jobs.length) {
      $("#batch-scripts-error").textContent = "Paste at least one script, or choose a CSV file.";
      return;
    }
    const button = $("button[type=submit]", form);
    button.disabled = true;
    try {
      const batch = await post("/api/v1/batches", body);
      onChange();
      follow(batch, onChange);
    } catch (error) {
      showRefusal(form, error);
    } finally {
      button.disabled = false;
    }
  });
  $("#cancel-batch").addEventListener("click", async (event) => {
    const href = event.currentTarget.dataset.href;
    if (!href) return;
    try {
      showBatch(await post(href));
      onChange();
    } catch (error) {
      $(".form-error", form).textContent = error.message;
    }
  });
}
