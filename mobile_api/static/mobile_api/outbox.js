// Talking to the server: API calls, the outbox of queued actions, and the sync pull.
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
"use strict";

const Api = (() => {
  const root = document.body.dataset.api.replace(/\/$/, "");

  class Offline extends Error {}

  async function call(method, path, { json, form, key, token } = {}) {
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
      response = await fetch(root + path, { method, headers, body, cache: "no-store" });
    } catch (error) {
      throw new Offline(error.message);
    }
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("application/json") ? await response.json().catch(() => null) : null;
    return { status: response.status, data, response };
  }

  return { call, Offline };
})();

// crypto.randomUUID exists only on HTTPS or localhost; a phone trying the demo over the
// local network has neither, and its keys must still be unique.
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const Outbox = (() => {
  const MIN_DELAY_MS = 2000;
  const MAX_DELAY_MS = 5 * 60 * 1000;
  // 5xx answers to one action, while the server answers the rest, before it is set aside:
  // with the backoff, about half a minute of tries.
  const SERVER_ERROR_TRIES = 5;
  const listeners = new Set();
  let draining = null;
  let retryTimer = null;
  let failures = 0;
  let lastError = "";

  const notify = () => listeners.forEach((listener) => listener());
  const token = () => Store.getMeta("token");

  // Whether the action `later` waits for the action `earlier`: an earlier one of the same job
  // that provides something it needs. The app sets both lists when it queues an action
  // (app.js); actions queued by an older version of the app carry neither and wait, as they
  // did then, for everything queued before them on their job.
  function dependsOn(later, earlier) {
    if (later.jobId !== earlier.jobId || earlier.seq >= later.seq) return false;
    if (!later.needs || !earlier.provides) return true;
    return later.needs.some((need) => earlier.provides.includes(need));
  }

  // The pending actions that `problem` (a refused one) holds back, directly or through
  // another held one, oldest first. `entries` is the outbox in order.
  function heldBy(problem, entries) {
    const chain = [problem];
    for (const entry of entries) {
      if (entry.state === "pending" && chain.some((held) => dependsOn(entry, held))) chain.push(entry);
    }
    return chain.slice(1);
  }

  async function add(action) {
    const entry = {
      ...action,
      key: newKey(),
      createdAt: new Date().toISOString(),
      state: "pending",
      attempts: 0,
      problem: null,
    };
    entry.seq = await Store.put("outbox", entry);
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
      return Api.call("POST", entry.path, { form, key: entry.key, token: bearer });
    }
    return Api.call("POST", entry.path, { json: entry.body, key: entry.key, token: bearer });
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
      const { status } = await Api.call("GET", "/me", { token: bearer });
      return status >= 200 && status < 300;
    } catch (error) {
      if (error instanceof Api.Offline) return false;
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
    for (const entry of await Store.all("outbox")) {
      if (entry.state !== "pending" || held.some((earlier) => dependsOn(entry, earlier))) {
        held.push(entry);
        continue;
      }
      let answer;
      try {
        answer = await send(entry, bearer);
      } catch (error) {
        if (!(error instanceof Api.Offline)) throw error;
        retryLater("offline");
        return "offline";
      }
      const { status, data } = answer;
      if (status >= 200 && status < 300) {
        const job = data && (data.job || (data.id && data.site ? data : null));
        if (job) await Store.put("jobs", job);
        await Store.remove("outbox", entry.seq);
      } else if (status === 401) {
        await Store.setMeta("sessionExpired", true);
        notify();
        return "unauthorized";
      } else if (status === 408 || status === 429) {
        entry.attempts += 1;
        await Store.put("outbox", entry);
        retryLater(`HTTP ${status}`);
        notify();
        return "offline";
      } else if (status >= 500) {
        entry.attempts += 1;
        if (!(await serverAnswers(bearer))) {
          await Store.put("outbox", entry);
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
        await Store.put("outbox", entry);
        held.push(entry); // the others go on
      } else {
        entry.state = status === 409 ? "conflict" : "refused";
        entry.problem = { status, ...(data || { code: `http_${status}`, message: `HTTP ${status}` }) };
        await Store.put("outbox", entry);
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
  function drain() {
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
      if (outcome === "done" || outcome === "partial") await Sync.pull();
      return outcome;
    })().finally(() => {
      draining = null;
      notify();
    });
    return draining;
  }

  // The technician's decision on a refused action. A job that is no longer theirs takes all
  // its queued actions with it; otherwise only the refused action goes and the rest is sent.
  async function discard(seq) {
    const entry = await Store.get("outbox", seq);
    if (!entry) return;
    const gone = entry.problem && ["reassigned", "not_found"].includes(entry.problem.code);
    if (gone) {
      for (const other of await Store.all("outbox")) {
        if (other.jobId === entry.jobId) await Store.remove("outbox", other.seq);
      }
      await Store.remove("jobs", entry.jobId);
    } else {
      await Store.remove("outbox", seq);
    }
    notify();
    await drain();
  }

  // "Retry" on an action the server kept failing on: back in the queue, in its place.
  async function retry(seq) {
    const entry = await Store.get("outbox", seq);
    if (!entry) return;
    Object.assign(entry, { state: "pending", problem: null, serverErrors: 0 });
    await Store.put("outbox", entry);
    notify();
    await drain();
  }

  async function status() {
    const entries = await Store.all("outbox");
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

  return {
    add,
    drain,
    discard,
    retry,
    status,
    dependsOn,
    heldBy,
    onChange: (listener) => listeners.add(listener),
    notify,
  };
})();

const Sync = (() => {
  let pulling = null;

  // Pulls every change to my jobs since the last cursor; the server's list is the truth
  // for what is no longer pending here.
  async function pullOnce() {
    const bearer = await Store.getMeta("token");
    if (!bearer) return false;
    const cursor = await Store.getMeta("cursor");
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
    let answer;
    try {
      answer = await Api.call("GET", `/sync${query}`, { token: bearer });
    } catch (error) {
      if (error instanceof Api.Offline) return false;
      throw error;
    }
    if (answer.status === 401) {
      await Store.setMeta("sessionExpired", true);
      return false;
    }
    if ((answer.status === 400 || answer.status === 422) && cursor) {
      await Store.setMeta("cursor", null); // a cursor the server cannot use: start again with everything
      return pullOnce();
    }
    if (answer.status !== 200) return false;
    const { changes, full, cursor: next } = answer.data;
    await Store.applySync(changes, { full, cursor: next, at: new Date().toISOString() });
    return true;
  }

  function pull() {
    pulling ??= pullOnce().finally(() => {
      pulling = null;
      Outbox.notify();
    });
    return pulling;
  }

  return { pull };
})();

// What the technician sees of a job: the server's copy with their queued actions applied, so
// a whole job done in a basement shows on the phone before it reaches the server; a status
// it has not sent says so, and one held back by a refusal is not shown as taken.
const LocalView = (() => {
  // The server's steps from every status (its page says: mobile_api.steps). A job says what it
  // allows now (`next_steps`); past a step queued here and not yet sent, the table says.
  const STEPS = JSON.parse(document.body.dataset.steps || "{}");
  const stepsOf = (view) => (view.statusUnsent || !view.next_steps ? STEPS[view.status] : view.next_steps) || [];

  function apply(job, entry, held) {
    const view = { ...job, pendingCount: job.pendingCount + 1 };
    const body = entry.body || {};
    for (const provided of entry.provides || []) view.provided.add(provided);
    if (entry.kind === "event") {
      if (held.has(entry.seq)) return view; // held back by a refusal: not taken (its card lists it)
      const step = stepsOf(view).find((s) => s.event === body.type);
      if (step) view.status = step.to;
      view.statusUnsent = true; // shown as "<status> — waiting to send" until the server has it
      if (body.type === "completed") view.resolution = body.resolution;
    } else if (entry.kind === "checklist") {
      const answers = new Map(body.answers.map((a) => [a.position, a]));
      view.checklist = view.checklist.map((item) =>
        answers.has(item.position) ? { ...item, ...answers.get(item.position) } : item,
      );
    } else if (entry.kind === "parts") {
      view.parts = [...view.parts, ...body.parts];
    } else if (entry.kind === "meter" && view.equipment) {
      const readings = (view.equipment.last_meter_readings || []).filter((r) => r.kind !== body.kind);
      const reading = { kind: body.kind, value: body.value, read_at: body.at, unsent: true };
      view.equipment = { ...view.equipment, last_meter_readings: [...readings, reading] };
    } else if (entry.kind === "signature") {
      view.signed_by = body.signer_name;
    } else if (entry.kind === "photo") {
      view.attachments = [
        ...view.attachments,
        { id: `local-${entry.seq}`, kind: "photo", caption: entry.caption, size_bytes: entry.photo.size, local: true },
      ];
    }
    return view;
  }

  // `provided`: what the pending actions provide (see Outbox.dependsOn); `problemCount`: the
  // job's actions the server refused, which are not applied here.
  function of(job, entries) {
    const mine = entries.filter((entry) => entry.jobId === job.id);
    const problems = mine.filter((entry) => entry.state !== "pending");
    const held = new Set(problems.flatMap((problem) => Outbox.heldBy(problem, mine)).map((entry) => entry.seq));
    const start = { ...job, pendingCount: 0, provided: new Set(), statusUnsent: false };
    const view = mine.filter((entry) => entry.state === "pending").reduce((v, entry) => apply(v, entry, held), start);
    return { ...view, problemCount: problems.length };
  }

  return { of, stepsOf };
})();
