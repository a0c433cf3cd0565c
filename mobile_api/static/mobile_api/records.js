// The records of the work on site, as forms while the job is being worked (checklist, parts,
// photos, meter reading, signature), and read-only once it is done. Each form queues a record
// (actions.js) and redraws; what is queued shows at once, marked as waiting to send.

import { queueRecord } from "./actions.js";
import { h, section } from "./dom.js";
import { dateOf, number } from "./format.js";
import { t } from "./i18n.js";
import { LIMITS } from "./page.js";
import { compressPhoto } from "./photo.js";
import { meterTooLow } from "./problems.js";
import { render } from "./screen.js";
import { createSignaturePad } from "./signature.js";

export function checklistSection(job) {
  if (!job.checklist.length) return null;
  const rows = job.checklist.map((item) => {
    const name = `item-${item.position}`;
    const label = `${item.label}${item.required ? " *" : ""}`;
    let input;
    if (item.kind === "pass_fail") {
      input = h(
        "div",
        { class: "choices", role: "radiogroup", "aria-label": label },
        ["pass", "fail", "na"].map((result) =>
          h("label", { class: "choice" }, h("input", { type: "radio", name, value: result, checked: item.result === result }), t(`result:${result}`)),
        ),
      );
    } else if (item.kind === "value") {
      input = h(
        "span",
        { class: "with-unit" },
        h("input", { type: "number", step: "any", inputmode: "decimal", name, "aria-label": label, value: item.value ?? "", min: `-${LIMITS.measurement}`, max: LIMITS.measurement }),
        item.unit,
      );
    } else {
      input = h("textarea", { name, rows: 2, "aria-label": label, value: item.text || "", maxlength: LIMITS.checklistText });
    }
    return h("fieldset", { class: "item", "data-position": item.position }, h("legend", {}, label), input);
  });
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        const answers = [];
        for (const item of job.checklist) {
          const raw = data.get(`item-${item.position}`);
          if (raw === null || raw === "") continue;
          if (item.kind === "pass_fail" && raw !== item.result) answers.push({ position: item.position, result: raw });
          if (item.kind === "value" && Number(raw) !== Number(item.value)) answers.push({ position: item.position, value: raw });
          if (item.kind === "text" && raw !== item.text) answers.push({ position: item.position, text: raw });
        }
        if (!answers.length) return;
        await queueRecord(job, "checklist", "checklist", { answers, at: new Date().toISOString() });
        render();
      },
    },
    rows,
    h("button", { type: "submit", class: "secondary" }, t("Save checklist")),
  );
  return section(t("Checklist"), form);
}

function partsList(job) {
  if (!job.parts.length) return null;
  return h("ul", { class: "parts" }, job.parts.map((p) => h("li", {}, `${Number(p.quantity)} × ${p.part_number} ${p.description}`)));
}

export function partsSection(job) {
  const partNumber = h("input", { id: "part-number", required: true, autocapitalize: "characters", maxlength: LIMITS.partNumber });
  const description = h("input", { id: "part-description", maxlength: LIMITS.partDescription });
  const quantity = h("input", { id: "part-quantity", type: "number", min: "0.001", max: LIMITS.quantity, step: "any", inputmode: "decimal", value: "1", required: true });
  return section(
    t("Parts used"),
    partsList(job),
    h(
      "form",
      {
        class: "inline-form",
        onsubmit: async (event) => {
          event.preventDefault();
          const part = { part_number: partNumber.value.trim(), description: description.value.trim(), quantity: quantity.value };
          await queueRecord(job, "parts", "parts", { parts: [part], at: new Date().toISOString() });
          render();
        },
      },
      h("label", { for: "part-number" }, t("Part number")),
      partNumber,
      h("label", { for: "part-description" }, t("Description")),
      description,
      h("label", { for: "part-quantity" }, t("Quantity")),
      quantity,
      h("button", { type: "submit", class: "secondary" }, t("Add part")),
    ),
  );
}

export function photosSection(job) {
  const message = h("p", { class: "error", role: "alert" });
  const caption = h("input", { id: "photo-caption", maxlength: LIMITS.caption });
  const photoCount = job.attachments.filter((a) => a.kind === "photo").length;
  const full = photoCount >= LIMITS.photos;
  const picker = h("input", {
    id: "photo-file",
    type: "file",
    accept: "image/*",
    capture: "environment",
    onchange: async (event) => {
      const file = event.target.files[0];
      if (!file) return;
      const takenAt = new Date().toISOString(); // shrinking it drops its EXIF, and its time
      message.textContent = t("Preparing the photo…");
      let photo = null;
      try {
        photo = await compressPhoto(file);
      } catch (e) {
        photo = null;
      }
      if (!photo) {
        message.textContent = t("This photo could not be made small enough to send. Take it again closer or with less detail.");
        return;
      }
      await queueRecord(job, "photo", "photos", null, { photo, photoName: "photo.jpg", caption: caption.value.trim(), at: takenAt });
      render();
    },
  });
  return section(
    t("Photos"),
    job.attachments.length
      ? h("ul", { class: "photos" }, job.attachments.map((a) => h("li", {}, `${a.caption || t("Photo")} · ${Math.ceil(a.size_bytes / 1024)} KB${a.local ? ` · ${t("waiting to send")}` : ""}`)))
      : null,
    full
      ? h("p", { class: "note" }, t("This job already has the most photos it can keep ({n}).", { n: LIMITS.photos }))
      : [h("label", { for: "photo-caption" }, t("Caption")), caption, h("label", { for: "photo-file", class: "button secondary" }, t("Take a photo")), picker],
    message,
  );
}

// The last reading of each meter stands beside the field (the server's, or one still waiting
// to send): a meter only goes up, and a lower reading is refused here, before it queues.
export function meterSection(job) {
  if (!job.equipment) return null;
  const readings = job.equipment.last_meter_readings || [];
  const lastOf = (kind) => readings.find((reading) => reading.kind === kind) || null;
  const kinds = ["operating_hours", "cycles"];
  const first = kinds.find(lastOf) || kinds[0];
  const last = h("p", { id: "meter-last", class: "note" });
  const message = h("p", { class: "error", role: "alert" });
  const showLast = () => {
    const reading = lastOf(kind.value);
    last.textContent = reading
      ? `${t("Last reading: {value} on {date}", { value: number(reading.value), date: dateOf(reading.read_at) })}${reading.unsent ? ` · ${t("waiting to send")}` : ""}`
      : t("No earlier reading.");
    message.textContent = "";
  };
  const kind = h(
    "select",
    { id: "meter-kind", onchange: showLast },
    h("option", { value: "operating_hours", selected: first === "operating_hours" }, t("Operating hours")),
    h("option", { value: "cycles", selected: first === "cycles" }, t("Cycles")),
  );
  const value = h("input", { id: "meter-value", type: "number", min: "0", max: LIMITS.meter, step: "0.01", inputmode: "decimal", required: true, "aria-describedby": "meter-last" });
  showLast();
  return section(
    t("Meter reading"),
    h(
      "form",
      {
        class: "inline-form",
        onsubmit: async (event) => {
          event.preventDefault();
          const reading = lastOf(kind.value);
          if (reading && Number(value.value) < Number(reading.value)) {
            message.textContent = meterTooLow(reading);
            return;
          }
          await queueRecord(job, "meter", "meter-readings", { kind: kind.value, value: value.value, at: new Date().toISOString() });
          render();
        },
      },
      h("label", { for: "meter-kind" }, t("Meter")),
      kind,
      h("label", { for: "meter-value" }, t("Reading")),
      value,
      last,
      message,
      h("button", { type: "submit", class: "secondary" }, t("Save reading")),
    ),
  );
}

export function signatureSection(job) {
  const pad = createSignaturePad();
  const signer = h("input", { id: "signer-name", autocomplete: "name", maxlength: LIMITS.signerName, value: job.contact ? job.contact.name.slice(0, LIMITS.signerName) : "" });
  const message = h("p", { class: "error", role: "alert" });
  return section(
    job.requires_signature ? `${t("Customer signature")} *` : t("Customer signature"),
    job.signed_by ? h("p", { class: "signed" }, t("Signed by {name}", { name: job.signed_by })) : null,
    h("label", { for: "signer-name" }, t("Name of the person signing")),
    signer,
    pad.element,
    h(
      "div",
      { class: "row" },
      h("button", { type: "button", class: "secondary", onclick: () => pad.clear() }, t("Clear")),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: async () => {
            if (pad.isEmpty()) return (message.textContent = t("Ask the customer to sign in the box first."));
            if (!signer.value.trim()) return (message.textContent = t("Write the name of the person signing."));
            await queueRecord(job, "signature", "signature", { png_base64: pad.toDataURL(), signer_name: signer.value.trim(), at: new Date().toISOString() });
            render();
          },
        },
        t("Save signature"),
      ),
    ),
    message,
  );
}

// What was recorded on site, read-only once the work is done.
export function recordedSummary(job) {
  const answered = job.checklist.filter((item) => item.result || item.value != null || item.text);
  const photos = job.attachments.filter((a) => a.kind === "photo");
  if (!answered.length && !job.parts.length && !photos.length && !job.signed_by && !job.resolution) return null;
  return section(
    t("Recorded on site"),
    answered.length ? h("ul", {}, answered.map((i) => h("li", {}, `${i.label}: ${i.result ? t(`result:${i.result}`) : i.value ?? i.text}`))) : null,
    partsList(job),
    photos.length ? h("ul", { class: "photos" }, photos.map((a) => h("li", {}, `${t("Photo")}: ${a.caption || "—"}`))) : null,
    job.signed_by ? h("p", { class: "signed" }, t("Signed by {name}", { name: job.signed_by })) : null,
    job.resolution ? h("p", {}, job.resolution) : null,
  );
}
