// One job (#/job/<id>): its state and the steps it allows now, the site, the contact, the
// equipment and, while it is being worked, the forms that record the work and complete it.

import { holdsNewSteps, queueEvent } from "./actions.js";
import { completeSection } from "./completion.js";
import { h, section } from "./dom.js";
import { dayIn } from "./format.js";
import { t } from "./i18n.js";
import { plannedWindow, slaCountdown, statusText } from "./job-summary.js";
import { localView, stepsOf } from "./local-view.js";
import { LIMITS } from "./page.js";
import { mapsLink } from "./place.js";
import { problemCard } from "./problems.js";
import { checklistSection, meterSection, partsSection, photosSection, recordedSummary, signatureSection } from "./records.js";
import { render, show } from "./screen.js";
import * as store from "./store.js";

// While the server offers the completion, the records can be filled (on site).
const COMPLETED = "completed";
const working = (job) => stepsOf(job).some((step) => step.event === COMPLETED);

let shownJobState = ""; // what the job screen shows, to redraw it only when that changed

function jobState(server, entries) {
  const mine = entries.filter((e) => server && e.jobId === server.id);
  return JSON.stringify([server && server.version, mine.map((e) => [e.seq, e.state])]);
}

// Whether job `id` (or its queued actions) changed since the job screen drew it.
export async function jobChanged(id) {
  const [server, entries] = await Promise.all([store.get("jobs", id), store.all("outbox")]);
  return jobState(server, entries) !== shownJobState;
}

function stepButtons(job) {
  const steps = stepsOf(job).filter((step) => step.event !== COMPLETED);
  return h(
    "div",
    { class: "steps" },
    steps.map(({ event: type }, index) =>
      h(
        "button",
        {
          type: "button",
          class: index === 0 ? "primary" : "secondary",
          onclick: async () => {
            let extra = {};
            if (type === "paused") {
              const reason = prompt(t("Why are you pausing?"));
              if (reason === null) return;
              extra = { reason: reason.slice(0, LIMITS.reason) }; // a prompt has no maxlength
            }
            await queueEvent(job, type, extra);
            render();
          },
        },
        t(`event:${type}`),
      ),
    ),
    working(job)
      ? h("a", { class: "button secondary", href: "#complete", onclick: (e) => { e.preventDefault(); document.getElementById("complete").scrollIntoView(); } }, t("Complete…"))
      : null,
    ["completed", "closed"].includes(job.status) && job.report_url ? h("button", { type: "button", class: "secondary", onclick: () => openReport(job) }, t("Service report (PDF)")) : null,
  );
}

async function openReport(job) {
  const token = await store.getMeta("token");
  try {
    const response = await fetch(job.report_url, { headers: { Authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(String(response.status));
    window.open(URL.createObjectURL(await response.blob()), "_blank");
  } catch (e) {
    alert(t("The report needs a connection. Try again when you have signal."));
  }
}

function accessHours(site) {
  const days = site.access_weekdays.map((d) => t(`weekday:${d}`)).join(" ");
  return `${days} · ${site.access_opens}–${site.access_closes}`;
}

export async function renderJob(id) {
  const [server, entries] = await Promise.all([store.get("jobs", id), store.all("outbox")]);
  const problems = entries.filter((e) => e.jobId === id && e.state !== "pending");
  if (!server) {
    show(h("p", {}, t("This job is not on your list any more.")), problems.map((problem) => problemCard(problem, entries)), h("a", { href: "#/today", class: "button secondary" }, t("Back to today")));
    return;
  }
  shownJobState = jobState(server, entries);
  const job = { ...localView(server, entries), serverVersion: server.version };
  const undecided = holdsNewSteps(problems);
  // Queued and held back (it would show as completed otherwise): not a second one.
  const completionQueued = entries.some((e) => e.jobId === id && e.state === "pending" && e.kind === "event" && e.body.type === "completed");
  const site = job.site;
  const contact = job.contact;
  const equipment = job.equipment;
  show(
    h("a", { href: "#/today", class: "back" }, `‹ ${t("Today")}`),
    h(
      "header",
      { class: "job-head" },
      h("h1", {}, `${job.number} · ${job.title}`),
      h(
        "div",
        { class: "row meta" },
        h("span", { class: `status status-${job.status}`, "data-testid": "job-status" }, statusText(job)),
        h("span", { class: "priority" }, `P${job.priority}`),
        slaCountdown(job),
        job.planned_start ? h("span", {}, plannedWindow(job)) : null,
      ),
      job.pendingCount ? h("p", { class: "pending" }, t("{n} waiting to send", { n: job.pendingCount })) : null,
    ),
    problems.map((problem) => problemCard(problem, entries)),
    undecided ? null : stepButtons(job), // decide on the refused step first
    job.description ? h("p", { class: "description" }, job.description) : null,
    section(
      t("Site"),
      h("p", {}, h("strong", {}, job.account_name), h("br"), site.name),
      h("p", {}, h("a", { href: mapsLink(site), class: "maps" }, `${site.address}, ${site.city}`)),
      h("p", {}, t("Access"), ": ", accessHours(site)),
      site.access_notes ? h("p", { class: "note" }, site.access_notes) : null,
    ),
    contact
      ? section(
          t("Contact"),
          h("p", {}, `${contact.name}${contact.title ? ` · ${contact.title}` : ""}`),
          contact.phone ? h("a", { href: `tel:${contact.phone.replace(/\s+/g, "")}`, class: "button secondary call" }, `${t("Call")} ${contact.phone}`) : null,
          contact.email ? h("p", {}, h("a", { href: `mailto:${contact.email}` }, contact.email)) : null,
        )
      : null,
    equipment
      ? section(
          t("Equipment"),
          h("p", {}, `${equipment.manufacturer} ${equipment.model_name} (${equipment.model_number})`),
          h("p", {}, `${t("Serial")} ${equipment.serial_number}${equipment.asset_tag ? ` · ${t("Asset tag")} ${equipment.asset_tag}` : ""}`),
          equipment.last_visits.length
            ? h(
                "details",
                {},
                h("summary", {}, t("Last visits ({n})", { n: equipment.last_visits.length })),
                h("ul", { class: "visits" }, equipment.last_visits.map((v) => h("li", {}, `${dayIn(v.completed_at)} · ${v.number} · ${v.resolution || "—"}${v.technician ? ` (${v.technician})` : ""}`))),
              )
            : h("p", { class: "empty" }, t("No earlier visits.")),
        )
      : null,
    working(job)
      ? [checklistSection(job), partsSection(job), photosSection(job), meterSection(job), signatureSection(job), undecided || completionQueued ? null : completeSection(job)]
      : recordedSummary(job),
  );
}
