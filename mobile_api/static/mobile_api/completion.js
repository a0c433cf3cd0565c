// Completing the job: the resolution, and what the server would still refuse the completion
// for, said on the phone before it queues.

import { queueEvent } from "./actions.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { LIMITS } from "./page.js";
import { render } from "./screen.js";

// What the server would refuse a completion for, said here first so the technician hears
// it on site, with or without signal: what the server listed (`completion_needs`) and no
// action waiting to send provides, and the resolution.
function missingForCompletion(job, resolution) {
  const missing = (job.completion_needs || []).filter((field) => !job.provided.has(field)).map((field) => neededLabel(job, field));
  if (!resolution) missing.push(t("What was done (resolution)"));
  return missing;
}

function neededLabel(job, field) {
  const position = /^checklist\[(\d+)\]$/.exec(field);
  const item = position && job.checklist.find((i) => i.position === Number(position[1]));
  if (item) return t("Checklist: {label}", { label: item.label });
  if (field === "signature") return t("The customer's signature (the contract requires it)");
  return field;
}

export function completeSection(job) {
  const resolution = h("textarea", { id: "resolution", rows: 4, maxlength: LIMITS.resolution });
  const missingList = h("ul", { class: "error", role: "alert" });
  return h(
    "section",
    { class: "card", id: "complete", "aria-label": t("Complete the job") },
    h("h2", {}, t("Complete the job")),
    h("label", { for: "resolution" }, t("What was done")),
    resolution,
    missingList,
    h(
      "button",
      {
        type: "button",
        class: "primary",
        onclick: async () => {
          const text = resolution.value.trim();
          const missing = missingForCompletion(job, text);
          missingList.replaceChildren(...(missing.length ? [h("li", {}, t("Before completing:")), ...missing.map((m) => h("li", {}, m))] : []));
          if (missing.length) return;
          await queueEvent(job, "completed", { resolution: text });
          render();
        },
      },
      t("Complete job"),
    ),
  );
}
