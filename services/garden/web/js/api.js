// Calls to the garden API (same origin) and the rewards API (its URL from config.json).
// Every call carries the bearer token; nothing else of the session is sent (no cookies).

export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

async function call(base, token, method, path, { body, key } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  let response;
  try {
    response = await fetch(new URL(path, base), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
  } catch (error) {
    throw new ApiError(0, "network", String(error && error.message));
  }
  if (!response.ok) {
    let error = {};
    try {
      error = (await response.json()).error || {};
    } catch {
      // not the common error shape: the status says enough
    }
    throw new ApiError(response.status, error.code || `http_${response.status}`,
      error.message || response.statusText, error.details || []);
  }
  const type = response.headers.get("content-type") || "";
  return type.includes("application/json") ? response.json() : response.blob();
}

/** A client of one API: get(path), post(path, body, key). Paths are relative to `base`. */
export function client(base, token) {
  const root = base.endsWith("/") ? base : `${base}/`;
  return {
    get: (path) => call(root, token, "GET", path),
    post: (path, body, key) => call(root, token, "POST", path, { body, key }),
  };
}

/** The screens' configuration: where the rewards API is, which parts the garden offers. */
export async function screensConfig() {
  let response;
  try {
    response = await fetch("config.json", { credentials: "omit" });
  } catch (error) {
    throw new ApiError(0, "network", String(error && error.message));
  }
  if (!response.ok) throw new ApiError(response.status, `http_${response.status}`, response.statusText);
  return response.json();
}

/** The garden API's base: the folder above the screens' (`/ui/` → `/`). */
export const GARDEN_BASE = new URL("../", location.href).href;

/** A fresh Idempotency-Key (one per click: a retried request reuses it). */
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Path segment: ids go into paths escaped. */
export const seg = (value) => encodeURIComponent(value);
