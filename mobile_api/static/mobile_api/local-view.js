// What the technician sees of a job: the server's copy with their queued actions applied, so
// a whole job done in a basement shows on the phone before it reaches the server; a status
// it has not sent says so, and one held back by a refusal is not shown as taken.

import { heldBy } from "./outbox.js";
import { STEPS } from "./page.js";

// The steps a job offers: what the server sent with it (`next_steps`), or, past a step queued
// here and not yet sent, what the server's table (page.js) says follows that status.
export const stepsOf = (view) => (view.statusUnsent || !view.next_steps ? STEPS[view.status] : view.next_steps) || [];

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

// `job` as the technician sees it, given the whole outbox (`entries`). It carries `provided`:
// what its pending actions provide (see outbox.dependsOn); and `problemCount`: its actions the
// server refused, which are not applied here.
export function localView(job, entries) {
  const mine = entries.filter((entry) => entry.jobId === job.id);
  const problems = mine.filter((entry) => entry.state !== "pending");
  const held = new Set(problems.flatMap((problem) => heldBy(problem, mine)).map((entry) => entry.seq));
  const start = { ...job, pendingCount: 0, provided: new Set(), statusUnsent: false };
  const view = mine.filter((entry) => entry.state === "pending").reduce((v, entry) => apply(v, entry, held), start);
  return { ...view, problemCount: problems.length };
}
