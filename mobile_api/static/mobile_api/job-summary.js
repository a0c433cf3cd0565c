// What the job card (today.js) and the job screen (job.js) both show of a job.

import { h } from "./dom.js";
import { duration, statusLabel, timeIn } from "./format.js";
import { t } from "./i18n.js";

// A status the phone has not yet sent says so: a job must never look done on the phone
// while the server may still refuse it.
export const statusText = (job) =>
  job.statusUnsent ? t("{status} — waiting to send", { status: statusLabel(job.status) }) : statusLabel(job.status);

// The planned start and end, in the site's time zone.
export const plannedWindow = (job) =>
  `${timeIn(job.planned_start, job.site.time_zone)}–${timeIn(job.planned_end, job.site.time_zone)}`;

// The SLA clock that matters now: the response until the technician is on site, then the fix.
export function slaCountdown(job) {
  const beforeArrival = ["new", "scheduled", "dispatched", "en_route"].includes(job.status);
  const due = beforeArrival ? job.sla_response_due : job.sla_resolution_due;
  if (!due || ["completed", "closed", "cancelled"].includes(job.status)) return null;
  const minutes = (new Date(due) - Date.now()) / 60000;
  const what = beforeArrival ? t("Response") : t("Fix");
  const text =
    minutes >= 0
      ? t("{what} due in {time}", { what, time: duration(minutes) })
      : t("{what} overdue by {time}", { what, time: duration(minutes) });
  return h("span", { class: minutes < 0 ? "sla overdue" : minutes < 120 ? "sla soon" : "sla" }, text);
}
