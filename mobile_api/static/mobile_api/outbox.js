// The outbox: the technician's actions, queued on the phone and sent in order.
//
// Every action the technician takes is first written to the outbox (IndexedDB) with its own
// Idempotency-Key, then sent in order. A lost answer is simply sent again with the same key:
// the server answers as the first time and does nothing twice. Sending is single-flight (the
// `online` event, a timer and a tap on "sync now" share one drain) and backs off on failure.
//
// What the server refuses stays in the outbox until the technician decides:
//   409  a conflict: the dispatcher changed or reassigned the job meanwhile
//   4xx  refused: something is missing or invalid (the answer says what)
//   5xx  failed: the server errs on this action while it answers others (a bug it has with
//        it); after SERVER_ERROR_TRIES such answers it is set aside with "Retry", never deleted
// and holds back only the later actions of that job that depend on it (`dependsOn`); the
// others are sent, and so are other jobs'. When the server answers nothing (no signal, the
// server or its database down) the queue pauses and tries again later, without end. 401
// stops everything until the technician logs in again.

import * as api from "./api.js";
import { notify } from "./changes.js";
import * as store from "./store.js";
import { pull } from "./sync.js";

const MIN_DELAY_MS = 2000;
const MAX_DELAY_MS = 5 * 60 * 1000;
// 5xx answers to one action, while the server answers the rest, before it is set aside:
// with the backoff, about half a minute of tries.
const SERVER_ERROR_TRIES = 5;
let draining = null;
let retryTimer = null;
let failures = 0;
let lastError = "";

const token = () => store.getMeta("token");

// Whether the action `later` waits for the action `earlier`: an earlier one of the same job
// that provides something it needs. The app sets both lists when it queues an action
// (actions.js); actions queued by an older version of the app carry neither and wait, as they
// did then, for everything queued before them on their job.
export function dependsOn(later, earlier) {
  if (later.jobId !== earlier.jobId || earlier.seq >= later.seq) return false;
  if (!later.needs || !earlier.provides) return true;
  return later.needs.some((need) => earlier.provides.includes(need));
}

// The pending actions that `problem` (a refused one) holds back, directly or through
// another held one, oldest first. `entries` is the outbox in order.
export function heldBy(problem, entries) {
  const chain = [problem];
  for (const entry of entries) {
    if (entry.state === "pending" && chain.some((held) => dependsOn(entry, held))) chain.push(entry);
  }
  return chain.slice(1);
}

export async function add(action) {
  const entry = {
    ...action,
    key: api.newKey(),
    createdAt: new Date().toISOString(),
    state: "pending",
    attempts: 0,
    problem: null,
  };
  entry.seq = await store.put("outbox", entry);
  notify();
  drain();
  return entry;
}

function send(entry, bearer) {
  if (entry.photo) {
    const form = new FormData();
    form.append("file", entry.photo, entry.photoName || "photo.jpg");
    form.append("caption", entry.caption || "");
    if (entry.at) form.append("at", entry.at); // when it was taken: the photo keeps no EXIF
    return api.call("POST", entry.path, { form, key: entry.key, token: bearer });
  }
  return api.call("POST", entry.path, { json: entry.body, key: entry.key, token: bearer });
}

function retryLater(message) {
  failures += 1;
  lastError = message;
  const delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** (failures - 1));
  clearTimeout(retryTimer);
  retryTimer = setTimeout(drain, delay * (0.8 + Math.random() * 0.4));
}

// Whether the server answers at all: after a 5xx, tells "this action fails" from "the
// server (or its database) is down", which answers 503 to everything.
async function serverAnswers(bearer) {
  try {
    const { status } = await api.call("GET", "/me", { token: bearer });
    return status >= 200 && status < 300;
  } catch (error) {
    if (error instanceof api.Offline) return false;
    throw error;
  }
}

// One pass over the outbox, oldest first. Resolves to "done", "partial" (done but for
// actions the server erred on, tried again later), "offline" or "unauthorized".
async function drainOnce() {
  const bearer = await token();
  if (!bearer) return "unauthorized";
  const held = []; // refused, or waiting for one that was
  let erred = null; // the last 5xx of an action set aside for this pass
  for (const entry of await store.all("outbox")) {
    if (entry.state !== "pending" || held.some((earlier) => dependsOn(entry, earlier))) {
      held.push(entry);
      continue;
    }
    let answer;
    try {
      answer = await send(entry, bearer);
    } catch (error) {
      if (!(error instanceof api.Offline)) throw error;
      retryLater("offline");
      return "offline";
    }
    const { status, data } = answer;
    if (status >= 200 && status < 300) {
      const job = data && (data.job || (data.id && data.site ? data : null));
      if (job) await store.put("jobs", job);
      await store.remove("outbox", entry.seq);
    } else if (status === 401) {
      await store.setMeta("sessionExpired", true);
      notify();
      return "unauthorized";
    } else if (status === 408 || status === 429) {
      entry.attempts += 1;
      await store.put("outbox", entry);
      retryLater(`HTTP ${status}`);
      notify();
      return "offline";
    } else if (status >= 500) {
      entry.attempts += 1;
      if (!(await serverAnswers(bearer))) {
        await store.put("outbox", entry);
        retryLater(`HTTP ${status}`); // down: pause, and never give up
        notify();
        return "offline";
      }
      entry.serverErrors = (entry.serverErrors || 0) + 1;
      if (entry.serverErrors >= SERVER_ERROR_TRIES) {
        entry.state = "failed"; // shown with "Retry"; kept until it goes through
        entry.problem = { status, ...(data || { code: `http_${status}`, message: `HTTP ${status}` }) };
      } else {
        erred = `HTTP ${status}`;
      }
      await store.put("outbox", entry);
      held.push(entry); // the others go on
    } else {
      entry.state = status === 409 ? "conflict" : "refused";
      entry.problem = { status, ...(data || { code: `http_${status}`, message: `HTTP ${status}` }) };
      await store.put("outbox", entry);
      held.push(entry);
    }
    notify();
  }
  if (erred) {
    retryLater(erred);
    return "partial";
  }
  failures = 0;
  lastError = "";
  return "done";
}

// Single flight: a call during a pass asks for one more pass (its action may have been
// added after the pass read the outbox) and shares the running promise.
let again = false;
export function drain() {
  if (draining) {
    again = true;
    return draining;
  }
  draining = (async () => {
    let outcome;
    do {
      again = false;
      outcome = await drainOnce();
    } while (again && outcome === "done");
    if (outcome === "done" || outcome === "partial") await pull();
    return outcome;
  })().finally(() => {
    draining = null;
    notify();
  });
  return draining;
}

// The technician's decision on a refused action. A job that is no longer theirs takes all
// its queued actions with it; otherwise only the refused action goes and the rest is sent.
export async function discard(seq) {
  const entry = await store.get("outbox", seq);
  if (!entry) return;
  const gone = entry.problem && ["reassigned", "not_found"].includes(entry.problem.code);
  if (gone) {
    for (const other of await store.all("outbox")) {
      if (other.jobId === entry.jobId) await store.remove("outbox", other.seq);
    }
    await store.remove("jobs", entry.jobId);
  } else {
    await store.remove("outbox", seq);
  }
  notify();
  await drain();
}

// "Retry" on an action the server kept failing on: back in the queue, in its place.
export async function retry(seq) {
  const entry = await store.get("outbox", seq);
  if (!entry) return;
  Object.assign(entry, { state: "pending", problem: null, serverErrors: 0 });
  await store.put("outbox", entry);
  notify();
  await drain();
}

export async function status() {
  const entries = await store.all("outbox");
  return {
    pending: entries.filter((e) => e.state === "pending"),
    problems: entries.filter((e) => e.state !== "pending"),
    lastError,
  };
}

window.addEventListener("online", () => {
  failures = 0;
  drain();
});
