// The job list (#/today): today's jobs, those still open from earlier and tomorrow's, each a
// card that opens the job, with the problems the server reported above them.

import { h } from "./dom.js";
import { dayIn, localDay, timeIn } from "./format.js";
import { t } from "./i18n.js";
import { plannedWindow, slaCountdown, statusText } from "./job-summary.js";
import { localView } from "./local-view.js";
import { distanceKm } from "./place.js";
import { problemCard } from "./problems.js";
import { show } from "./screen.js";
import * as store from "./store.js";

function jobCard(job) {
  const km = distanceKm(job.site);
  return h(
    "a",
    { class: `job-card priority-${job.priority}`, href: `#/job/${job.id}`, "data-job": job.number },
    h(
      "div",
      { class: "row" },
      h("span", { class: "window" }, job.planned_start ? plannedWindow(job) : t("Not planned")),
      h("span", { class: `status status-${job.status}` }, statusText(job)),
    ),
    h("strong", { class: "title" }, `${job.number} · ${job.title}`),
    h("span", { class: "site" }, `${job.account_name} — ${job.site.name}, ${job.site.city}`),
    h(
      "div",
      { class: "row meta" },
      h("span", { class: "priority" }, `P${job.priority}`),
      slaCountdown(job),
      km !== null ? h("span", { class: "distance" }, `${km.toFixed(1)} km`) : null,
      job.pendingCount ? h("span", { class: "pending" }, t("{n} waiting to send", { n: job.pendingCount })) : null,
      job.problemCount ? h("span", { class: "refused" }, t("{n} not accepted", { n: job.problemCount })) : null,
    ),
  );
}

export async function renderToday() {
  const [stored, entries] = await Promise.all([store.all("jobs"), store.all("outbox")]);
  const jobs = stored.map((job) => localView(job, entries));
  const me = (await store.getMeta("me")) || {};
  const today = localDay(new Date());
  const tomorrow = localDay(new Date(Date.now() + 86400000));
  const planned = (job) => (job.planned_start ? localDay(new Date(job.planned_start)) : "");
  const byPlan = (a, b) => (a.planned_start || "").localeCompare(b.planned_start || "") || a.id - b.id;
  const done = ["completed", "closed", "cancelled"];
  const sections = [
    [t("Today"), jobs.filter((j) => planned(j) === today)],
    [t("Still open from earlier"), jobs.filter((j) => planned(j) < today && !done.includes(j.status))],
    [t("Tomorrow"), jobs.filter((j) => planned(j) === tomorrow)],
  ];
  const problems = entries.filter((e) => e.state !== "pending");
  const shift = me.today_shift;
  show(
    h("h1", {}, t("Today"), " ", h("small", {}, dayIn(new Date().toISOString()))),
    h("p", { class: "who" }, me.full_name || me.username || "", shift ? ` · ${t("Shift")} ${timeIn(shift.starts_at)}–${timeIn(shift.ends_at)}` : ""),
    problems.map((problem) => problemCard(problem, entries)),
    sections.map(([title, list]) =>
      list.length || title === t("Today")
        ? h(
            "section",
            { class: "jobs", "aria-label": title },
            title === t("Today") ? null : h("h2", {}, title),
            list.length ? list.sort(byPlan).map(jobCard) : h("p", { class: "empty" }, t("No jobs planned for today.")),
          )
        : null,
    ),
  );
}
