// Calls to the technician API, and the Idempotency-Key each change is sent with.

import { API_ROOT } from "./page.js";

// No answer at all (no signal, or the server unreachable), as opposed to an HTTP status.
export class Offline extends Error {}

export async function call(method, path, { json, form, key, token } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (key) {
    headers["Idempotency-Key"] = key;
    // The phone's clock as it sends: a clock far from the server's is not trusted with times.
    headers["Device-Time"] = new Date().toISOString();
  }
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let response;
  try {
    response = await fetch(API_ROOT + path, { method, headers, body, cache: "no-store" });
  } catch (error) {
    throw new Offline(error.message);
  }
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("application/json") ? await response.json().catch(() => null) : null;
  return { status: response.status, data, response };
}

// crypto.randomUUID exists only on HTTPS or localhost; a phone trying the demo over the
// local network has neither, and its keys must still be unique.
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
