// Problems the server reported on queued actions, shown on every screen they concern, with
// the technician's way out: dismiss a refusal, or retry an action the server kept failing on.

import { h } from "./dom.js";
import { actionLabel, dateOf, number, statusLabel, timeIn } from "./format.js";
import { t } from "./i18n.js";
import * as outbox from "./outbox.js";
import { render, showingJob } from "./screen.js";

// `entries`: the whole outbox, to say which queued actions wait for this one.
export function problemCard(entry, entries) {
  if (entry.state === "failed") return failedCard(entry, entries);
  const problem = entry.problem || {};
  const conflict = entry.state === "conflict";
  const current = problem.details && problem.details.current;
  const missing = (problem.details && problem.details.missing) || [];
  const gone = ["reassigned", "not_found"].includes(problem.code);
  const held = outbox.heldBy(entry, entries);
  return h(
    "section",
    { class: "problem", role: "alert", "data-code": problem.code || "", "data-kind": entry.kind },
    h("h3", {}, conflict ? t("Changed by the office while you were offline") : t("Not accepted by the server")),
    h("p", {}, `${entry.jobNumber} · ${actionLabel(entry)}`),
    h("p", { class: "server-message" }, problemMessage(problem)),
    current && current.status ? h("p", {}, t("The job is now: {status}", { status: statusLabel(current.status) })) : null,
    missing.length ? h("ul", {}, missing.map((m) => h("li", {}, m.message || m.field))) : null,
    held.length ? h("p", { class: "held" }, t("Waiting until this is resolved: {actions}", { actions: held.map(actionLabel).join(", ") })) : null,
    h(
      "button",
      {
        type: "button",
        class: "primary",
        onclick: async () => {
          await outbox.discard(entry.seq);
          if (gone && showingJob(entry.jobId)) location.hash = "#/today";
          else render();
        },
      },
      gone ? t("OK, remove it from my list") : conflict ? t("Continue with the current job") : t("Dismiss and fix"),
    ),
  );
}

// An action the server kept failing on while it took the others: kept on the phone (it is
// the technician's work), tried again when they say so.
function failedCard(entry, entries) {
  const held = outbox.heldBy(entry, entries);
  return h(
    "section",
    { class: "problem", role: "alert", "data-code": "server_error", "data-kind": entry.kind },
    h("h3", {}, t("The server could not take this")),
    h("p", {}, `${entry.jobNumber} · ${actionLabel(entry)}`),
    h("p", { class: "server-message" }, t("The server failed on it {n} times while it took your other changes. It is kept on the phone: try again later, or tell the office.", { n: entry.serverErrors || entry.attempts })),
    held.length ? h("p", { class: "held" }, t("Waiting until this is resolved: {actions}", { actions: held.map(actionLabel).join(", ") })) : null,
    h(
      "button",
      {
        type: "button",
        class: "primary",
        onclick: async () => {
          await outbox.retry(entry.seq);
          render();
        },
      },
      t("Retry"),
    ),
  );
}

// The server's words, or the app's own in the technician's language where the refusal
// carries what they need.
function problemMessage(problem) {
  const previous = problem.code === "meter_went_down" && problem.details && problem.details.previous;
  if (previous) return meterTooLow(previous);
  const next = problem.code === "meter_above_later_reading" && problem.details && problem.details.next;
  if (next) return meterAboveLater(next);
  const earlier = problem.code === "event_out_of_order" && problem.details && problem.details.previous;
  if (earlier) return t("Earlier than the job's previous step ({time} on {date}). Check the phone's date and time.", { time: timeIn(earlier.at), date: dateOf(earlier.at) });
  if (problem.code === "too_many_photos") return t("This job already has the most photos it can keep ({n}).", { n: problem.details.limit });
  return problem.message || "";
}

const meterAboveLater = (later) =>
  t("Higher than a reading taken after it ({value} on {date}): a meter only goes up. Check the reading.", {
    value: number(later.value),
    date: dateOf(later.read_at),
  });

// Also what the meter form says before it queues a lower reading (records.js).
export const meterTooLow = (last) =>
  t("Lower than the last reading ({value} on {date}): a meter only goes up. Check the reading.", {
    value: number(last.value),
    date: dateOf(last.read_at),
  });
