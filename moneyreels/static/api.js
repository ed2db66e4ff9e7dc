// fetch() for the three API dialects, turning every error envelope into an ApiError.

export class ApiError extends Error {
  constructor(message, { status = 0, code = "network", fields = [], retryAfter = 0 } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields; // [{field, message}] from details.errors
    this.retryAfter = retryAfter;
  }

  get offline() {
    return this.status === 0 || this.status >= 500;
  }
}

// Pydantic's "Value error, x" reads better as "x".
const tidy = (message) => String(message || "").replace(/^Value error, /, "");

function fromBody(status, body, response) {
  // /api/v1: {error: {code, message, details}}; /v1: {success: false, error: {...}}; /api: {message}
  const error = (body && typeof body.error === "object" && body.error) || {};
  const message = tidy(error.message || body?.message || `The server answered ${status}.`);
  const fields = (error.details?.errors || []).map((e) => ({ field: e.field, message: tidy(e.message) }));
  const retryAfter = Number(response.headers.get("Retry-After")) || 0;
  return new ApiError(message, { status, code: error.code || "http_error", fields, retryAfter });
}

async function send(method, path, body, signal) {
  const init = { method, signal, headers: { Accept: "application/json" } };
  if (body instanceof FormData) {
    init.body = body; // the browser sets the multipart boundary
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError("Cannot reach the server.");
  }
  const data = await response.json().catch(() => null);
  if (response.status === 401 && !path.startsWith("/api/v1/session")) {
    window.dispatchEvent(new CustomEvent("moneyreels:unauthorized"));
  }
  if (!response.ok) throw fromBody(response.status, data, response);
  return data;
}

// A rate-limited request was refused before it did anything: wait as asked, then try again (twice at most).
async function api(method, path, body, { signal } = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send(method, path, body, signal);
    } catch (error) {
      if (error.status !== 429 || attempt >= 2) throw error;
      await new Promise((resolve) => setTimeout(resolve, (error.retryAfter || 1) * 1000));
    }
  }
}

export const get = (path, options) => api("GET", path, undefined, options);
export const post = (path, body, options) => api("POST", path, body, options);
export const del = (path, options) => api("DELETE", path, undefined, options);

export const patch = (path, body, options) => api("PATCH", path, body, options);
export const put = (path, body, options) => api("PUT", path, body, options);

// POST a FormData with upload progress (fetch cannot report it): onProgress(fraction) as bytes go out.
export function upload(path, data, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    xhr.onerror = () => reject(new ApiError("Cannot reach the server."));
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(fromBody(xhr.status, body, { headers: { get: (name) => xhr.getResponseHeader(name) } }));
    };
    xhr.send(data);
  });
}
