// My media: drop files to upload them (with progress), see thumbnails, edit tags, delete.

import { del, get, patch, upload } from "./api.js";
import { $, clear, el } from "./dom.js";
import { friendly } from "./errors.js";

const PATH = "/api/v1/media";

const tagsOf = (text) => text.split(",").map((tag) => tag.trim()).filter(Boolean);
const length = (item) => (item.durationSeconds ? ` · ${item.durationSeconds.toFixed(1)} s` : "");

function problem(error) {
  return error.fields?.length ? friendly(error.fields[0].message) : error.message;
}

export async function refreshLibrary() {
  try {
    const library = await get(PATH);
    $("#library-count").textContent = library.total ? `${library.total} file(s)` : "";
    const list = clear($("#media"));
    if (!library.media.length) list.append(el("li", { class: "empty", text: "No media yet." }));
    list.append(...library.media.map(card));
  } catch (error) {
    $("#library-error").textContent = `Could not load your media: ${error.message}`;
  }
}

function card(item) {
  const tags = el("input", { type: "text", value: item.tags.join(", "), "aria-label": `Tags of ${item.name}` });
  const note = el("p", { class: "field-error" });
  tags.addEventListener("change", async () => {
    note.textContent = "";
    try {
      const saved = await patch(item._links.update.href, { tags: tagsOf(tags.value) });
      tags.value = saved.tags.join(", ");
    } catch (error) {
      note.textContent = problem(error);
    }
  });
  const picture = item._links.thumbnail
    ? el("img", { class: "media-thumb", src: item._links.thumbnail.href, alt: "", loading: "lazy" })
    : el("span", { class: "media-thumb", text: "♪", "aria-hidden": "true" });
  return el("li", { class: "media-card", dataset: { name: item.name, kind: item.kind } },
    picture,
    el("p", { class: "media-name", text: item.name }),
    el("p", { class: "hint", text: `${item.kind}${length(item)} · ${item.path}` }),
    tags, note,
    el("button", { type: "button", class: "danger small", text: "Delete", "aria-label": `Delete ${item.name}`,
      onclick: async () => {
        try {
          await del(item._links.delete.href);
          await refreshLibrary();
        } catch (error) {
          note.textContent = error.message;
        }
      } }));
}

async function send(file) {
  const bar = el("progress", { max: 1, value: 0, "aria-label": `Uploading ${file.name}` });
  const status = el("span", { class: "hint", text: "uploading…" });
  const row = el("li", { dataset: { file: file.name } }, el("span", { text: file.name }), bar, status);
  $("#uploads").append(row);
  const data = new FormData();
  data.append("file", file);
  data.append("tags", $("#media-tags").value);
  try {
    const added = await upload(PATH, data, (fraction) => { bar.value = fraction; });
    bar.value = 1;
    status.textContent = added.name === file.name ? "added" : `added as ${added.name}`;
    row.dataset.state = "added";
  } catch (error) {
    status.textContent = problem(error);
    status.className = "field-error";
    row.dataset.state = "refused";
  }
}

async function sendAll(files) {
  for (const file of files) await send(file);
  await refreshLibrary();
}

export function bindLibrary() {
  const zone = $("#drop-zone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    sendAll([...event.dataTransfer.files]);
  });
  $("#media-file").addEventListener("change", (event) => {
    sendAll([...event.target.files]);
    event.target.value = "";
  });
  refreshLibrary();
}
