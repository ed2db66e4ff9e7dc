// Signing the page in when the server has API keys: the key is traded once for a session cookie
// (HttpOnly, so this script never holds it after sending), which then rides on every request,
// the event stream, the video and downloads included.

import { ApiError, del, get, post } from "./api.js";
import { $, show } from "./dom.js";
import { friendly } from "./errors.js";

const PATH = "/api/v1/session";

// Resolve once the page may use the API: at once on an open install or a live session, else after a sign-in.
export async function signedIn() {
  const state = await get(PATH);
  show($("#sign-out"), state.keysRequired && state.signedIn);
  if (!state.keysRequired || state.signedIn) return;
  show($("main"), false);
  show($("#signin"), true);
  $("#api-key").focus();
  await new Promise((resolve) => {
    $("#signin-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = $("#signin-error");
      error.textContent = "";
      try {
        await post(PATH, { key: $("#api-key").value });
      } catch (failure) {
        error.textContent = failure instanceof ApiError && failure.fields.length
          ? friendly(failure.fields[0].message) : failure.message;
        $("#api-key").setAttribute("aria-invalid", "true");
        return;
      }
      $("#api-key").value = "";
      show($("#signin"), false);
      show($("main"), true);
      show($("#sign-out"), true);
      resolve();
    });
  });
}

export function bindSignOut() {
  $("#sign-out").addEventListener("click", async () => {
    await del(PATH).catch(() => {});
    location.replace(location.pathname);
  });
  // A session that ended elsewhere (expired, signed out in another tab): start over at the sign-in.
  window.addEventListener("moneyreels:unauthorized", () => location.replace(location.pathname));
}
