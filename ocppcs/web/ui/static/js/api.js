// The REST API client: JSON in and out, errors as ApiError with the server's message.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

const listeners = new Set();
/** Call fn() when a request is refused with 401 (the login screen). */
export function onUnauthorized(fn) { listeners.add(fn); }

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)ocppcs_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : null;
}

/** A request to /api/v1 + path; resolves with the parsed JSON (or text, or null for 204). */
export async function api(method, path, body, { raw = false } = {}) {
  const headers = { Accept: "application/json", "X-Requested-With": "ocppcs-ui" };
  const token = csrfToken();
  if (token) headers["X-CSRF-Token"] = token;
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`/api/v1${path}`, init);
  const type = response.headers.get("Content-Type") || "";
  let data = null;
  if (response.status !== 204) {
    data = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  }
  if (response.status === 401) listeners.forEach((fn) => fn());
  if (!response.ok) {
    const message = data && data.error && data.error.message ? data.error.message : `HTTP ${response.status}`;
    throw new ApiError(response.status, message, data);
  }
  return raw ? { data, response } : data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body);
export const put = (path, body) => api("PUT", path, body);
export const del = (path) => api("DELETE", path);

/** A query string from an object, without empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const enc = encodeURIComponent;
