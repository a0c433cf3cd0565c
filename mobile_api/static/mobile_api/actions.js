// What a tap queues: each action goes to the outbox with what it needs of the earlier ones of
// its job and what it provides to later ones, so the outbox holds an action back only while
// something it needs was refused (outbox.dependsOn).
//
// Every action needs the job's status as the status steps before it leave it. A completion
// also needs whatever the server said the job still lacks (`completion_needs`, the fields of
// its refusal: `checklist[2]`, `signature`), which the records queued before it provide; a
// meter reading, parts or a photo provide none of it, and a refusal of one holds nothing.

import * as outbox from "./outbox.js";
import { locate } from "./place.js";

const STATUS = "status";

function completionNeeds(job) {
  return job.completion_needs ? [STATUS, ...job.completion_needs] : undefined; // unknown: wait for all
}

// `job` as the screen shows it, with `serverVersion`: the version the server last sent.
export async function queueEvent(job, type, extra = {}) {
  const located = await locate();
  await outbox.add({
    kind: "event",
    jobId: job.id,
    jobNumber: job.number,
    needs: type === "completed" ? completionNeeds(job) : [STATUS],
    provides: [STATUS],
    path: `/jobs/${job.id}/events`,
    body: {
      type,
      at: new Date().toISOString(),
      version: job.serverVersion,
      location: located ? { lat: located.lat, lon: located.lon } : null,
      ...extra,
    },
  });
}

// A record of the work (`kind`: checklist, parts, meter, signature, photo) posted to
// /jobs/<id>/<path>; `extra` carries a photo's file and caption.
export async function queueRecord(job, kind, path, body, extra = {}) {
  const provides =
    kind === "checklist" ? body.answers.map((answer) => `checklist[${answer.position}]`) : kind === "signature" ? ["signature"] : [];
  await outbox.add({ kind, jobId: job.id, jobNumber: job.number, needs: [STATUS], provides, path: `/jobs/${job.id}/${path}`, body, ...extra });
}

// An action queued now needs the job's status as its earlier status steps leave it; a
// refusal of one of those (what a new step would wait for) is decided on first.
export const holdsNewSteps = (problems) =>
  problems.some((problem) => outbox.dependsOn({ jobId: problem.jobId, seq: Infinity, needs: [STATUS] }, problem));
