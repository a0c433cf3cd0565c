// The sync pull: every change to the technician's jobs since the last cursor, from /sync.

import * as api from "./api.js";
import { notify } from "./changes.js";
import * as store from "./store.js";

let pulling = null;

// The server's list is the truth for what is no longer pending here.
async function pullOnce() {
  const bearer = await store.getMeta("token");
  if (!bearer) return false;
  const cursor = await store.getMeta("cursor");
  const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
  let answer;
  try {
    answer = await api.call("GET", `/sync${query}`, { token: bearer });
  } catch (error) {
    if (error instanceof api.Offline) return false;
    throw error;
  }
  if (answer.status === 401) {
    await store.setMeta("sessionExpired", true);
    return false;
  }
  if ((answer.status === 400 || answer.status === 422) && cursor) {
    await store.setMeta("cursor", null); // a cursor the server cannot use: start again with everything
    return pullOnce();
  }
  if (answer.status !== 200) return false;
  const { changes, full, cursor: next } = answer.data;
  await store.applySync(changes, { full, cursor: next, at: new Date().toISOString() });
  return true;
}

// Single flight: a pull asked for during one shares it.
export function pull() {
  pulling ??= pullOnce().finally(() => {
    pulling = null;
    notify();
  });
  return pulling;
}
