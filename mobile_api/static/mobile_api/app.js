// The technician app: screens and what the technician's taps do.
// Routes live after the '#': #/login, #/today, #/job/<id>, #/sync. Every tap that changes a
// job goes to the outbox (outbox.js) first; the screens show the job as the server last sent
// it with the queued actions applied (LocalView), so the app works the same with no signal.
"use strict";

(() => {
  const t = I18n.t;
  const view = document.getElementById("view");
  const syncButton = document.getElementById("sync-status");
  const languageButton = document.getElementById("language");
  const PHOTO_MAX_BYTES = 2 * 1024 * 1024; // after compression; the server takes up to 10 MB
  const PHOTO_MAX_SIDE = 1600;
  const POLL_MS = 60 * 1000;
  // What the server accepts (its page says: mobile_api.views.app_limits): every field stops
  // there, so nothing queued is refused for its length.
  const LIMITS = JSON.parse(document.body.dataset.limits || "{}");
  let position = null; // the phone's last known position, for distances and arrivals
  let current = { page: null, id: null };
  let shownJobState = ""; // what the job screen shows, to redraw it only when that changed

  // --- small helpers ----------------------------------------------------------------------

  function h(tag, props, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else if (name === "class") element.className = value;
      else if (name === "value") element.value = value;
      else element.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : String(child));
    }
    return element;
  }

  const locale = () => (I18n.lang === "zh" ? "zh-CN" : "en-GB");
  const timeIn = (iso, zone) =>
    iso ? new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit", timeZone: zone }).format(new Date(iso)) : "";
  const dayIn = (iso, zone) =>
    iso ? new Intl.DateTimeFormat(locale(), { weekday: "short", day: "numeric", month: "short", timeZone: zone }).format(new Date(iso)) : "";
  const dateOf = (iso) =>
    new Intl.DateTimeFormat(locale(), { day: "numeric", month: "short", year: "numeric" }).format(new Date(iso));
  const number = (value) => new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }).format(Number(value));
  const localDay = (date) => date.toLocaleDateString("sv"); // YYYY-MM-DD in the phone's zone
  const statusLabel = (status) => t(`status:${status}`);
  // A status the phone has not yet sent says so: a job must never look done on the phone
  // while the server may still refuse it.
  const statusText = (job) =>
    job.statusUnsent ? t("{status} — waiting to send", { status: statusLabel(job.status) }) : statusLabel(job.status);

  function duration(minutes) {
    const m = Math.abs(Math.round(minutes));
    if (m < 60) return t("{m} min", { m });
    if (m < 48 * 60) return t("{h} h {m} min", { h: Math.floor(m / 60), m: m % 60 });
    return t("{d} days", { d: Math.round(m / 1440) });
  }

  // The SLA clock that matters now: the response until the technician is on site, then the fix.
  function slaCountdown(job) {
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

  function distanceKm(site) {
    if (!position) return null;
    const rad = Math.PI / 180;
    const dLat = (site.lat - position.lat) * rad;
    const dLon = (site.lon - position.lon) * rad;
    const a = Math.sin(dLat / 2) ** 2 + Math.cos(position.lat * rad) * Math.cos(site.lat * rad) * Math.sin(dLon / 2) ** 2;
    return 6371 * 2 * Math.asin(Math.sqrt(a));
  }

  function mapsLink(site) {
    const label = encodeURIComponent(`${site.name}, ${site.address}`);
    return /iPhone|iPad|iPod/.test(navigator.userAgent)
      ? `maps://?q=${label}&ll=${site.lat},${site.lon}`
      : `geo:${site.lat},${site.lon}?q=${site.lat},${site.lon}(${label})`;
  }

  function accessHours(site) {
    const days = site.access_weekdays.map((d) => t(`weekday:${d}`)).join(" ");
    return `${days} · ${site.access_opens}–${site.access_closes}`;
  }

  function locate() {
    if (!navigator.geolocation) return Promise.resolve(null);
    return new Promise((resolve) => {
      navigator.geolocation.getCurrentPosition(
        (found) => {
          position = { lat: found.coords.latitude, lon: found.coords.longitude };
          resolve(position);
        },
        () => resolve(position),
        { timeout: 3000, maximumAge: 60000 },
      );
    });
  }

  async function jobsWithQueue() {
    const [jobs, entries] = await Promise.all([Store.all("jobs"), Store.all("outbox")]);
    return { jobs: jobs.map((job) => LocalView.of(job, entries)), entries };
  }

  // --- the sync indicator (always on screen) -------------------------------------------------

  async function refreshIndicator() {
    const token = await Store.getMeta("token");
    syncButton.hidden = !token;
    if (!token) return;
    const state = await Outbox.status();
    const lastSync = await Store.getMeta("lastSync");
    const expired = await Store.getMeta("sessionExpired");
    let text;
    let tone = "ok";
    if (expired) [text, tone] = [t("Log in again to send"), "problem"];
    else if (state.problems.length) [text, tone] = [t("{n} to resolve", { n: state.problems.length }), "problem"];
    else if (state.pending.length && !navigator.onLine) [text, tone] = [t("Offline · {n} waiting", { n: state.pending.length }), "waiting"];
    else if (state.pending.length) [text, tone] = [t("{n} waiting to send", { n: state.pending.length }), "waiting"];
    else if (!navigator.onLine) [text, tone] = [t("Offline"), "waiting"];
    else text = lastSync ? t("Synced {time}", { time: timeIn(lastSync) }) : t("Not synced yet");
    syncButton.textContent = text;
    syncButton.className = `sync ${tone}`;
    syncButton.dataset.pending = String(state.pending.length);
    syncButton.dataset.problems = String(state.problems.length);
  }

  syncButton.addEventListener("click", () => (location.hash = "#/sync"));

  // --- problems the server reported (shown on every screen they concern) ---------------------

  // `entries`: the whole outbox, to say which queued actions wait for this one.
  function problemCard(entry, entries) {
    if (entry.state === "failed") return failedCard(entry, entries);
    const problem = entry.problem || {};
    const conflict = entry.state === "conflict";
    const current = problem.details && problem.details.current;
    const missing = (problem.details && problem.details.missing) || [];
    const gone = ["reassigned", "not_found"].includes(problem.code);
    const held = Outbox.heldBy(entry, entries);
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
            await Outbox.discard(entry.seq);
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
    const held = Outbox.heldBy(entry, entries);
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
            await Outbox.retry(entry.seq);
            render();
          },
        },
        t("Retry"),
      ),
    );
  }

  const showingJob = (jobId) => current.page === "job" && current.id === jobId;

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

  const meterTooLow = (last) =>
    t("Lower than the last reading ({value} on {date}): a meter only goes up. Check the reading.", {
      value: number(last.value),
      date: dateOf(last.read_at),
    });

  // An action queued now needs the job's status as its earlier status steps leave it; a
  // refusal of one of those (what a new step would wait for) is decided on first.
  const holdsNewSteps = (problems) =>
    problems.some((problem) => Outbox.dependsOn({ jobId: problem.jobId, seq: Infinity, needs: [STATUS] }, problem));

  function actionLabel(entry) {
    if (entry.kind === "event") return t(`event:${entry.body.type}`);
    return t(`record:${entry.kind}`);
  }

  // --- login ------------------------------------------------------------------------------------

  async function renderLogin() {
    const expired = await Store.getMeta("sessionExpired");
    const waiting = (await Store.all("outbox")).length;
    const error = h("p", { class: "error", role: "alert" });
    const username = h("input", { id: "username", name: "username", autocomplete: "username", autocapitalize: "none", required: true, value: (await Store.getMeta("username")) || "" });
    const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
    const form = h(
      "form",
      { class: "card login", onsubmit: (event) => { event.preventDefault(); logIn(username.value.trim(), password.value, error); } },
      h("h1", {}, t("Technician login")),
      expired ? h("p", { class: "notice" }, t("Your session ended. Log in again: your {n} unsent changes are kept.", { n: waiting })) : null,
      h("label", { for: "username" }, t("User name")),
      username,
      h("label", { for: "password" }, t("Password")),
      password,
      error,
      h("button", { type: "submit", class: "primary" }, t("Log in")),
    );
    show(form);
  }

  async function logIn(username, password, error) {
    error.textContent = "";
    let answer;
    try {
      answer = await Api.call("POST", "/auth/token", { json: { username, password } });
    } catch (e) {
      error.textContent = t("No connection. Logging in needs signal once; after that the app works offline.");
      return;
    }
    if (answer.status === 429) return (error.textContent = t("Too many failed attempts. Wait a few minutes and try again."));
    if (answer.status !== 200) return (error.textContent = t("Wrong user name or password, or this account is not a technician."));
    const previous = await Store.getMeta("username");
    if (previous && previous !== username) await Store.clearAll(); // another technician's phone data
    await Store.setMeta("token", answer.data.token);
    await Store.setMeta("expiresAt", answer.data.expires_at);
    await Store.setMeta("username", username);
    await Store.setMeta("sessionExpired", false);
    const me = await Api.call("GET", "/me", { token: answer.data.token });
    if (me.status === 200) await Store.setMeta("me", me.data);
    await Outbox.drain();
    await Sync.pull();
    location.hash = "#/today";
    render();
  }

  async function logOut() {
    const state = await Outbox.status();
    const unsent = state.pending.length + state.problems.length;
    if (unsent && !confirm(t("{n} changes have not reached the server. Log out and lose them?", { n: unsent }))) return;
    const token = await Store.getMeta("token");
    Api.call("POST", "/auth/revoke", { token, key: newKey() }).catch(() => {});
    await Store.clearAll();
    location.hash = "#/login";
    render();
  }

  // --- today ------------------------------------------------------------------------------------

  function jobCard(job) {
    const km = distanceKm(job.site);
    return h(
      "a",
      { class: `job-card priority-${job.priority}`, href: `#/job/${job.id}`, "data-job": job.number },
      h(
        "div",
        { class: "row" },
        h("span", { class: "window" }, job.planned_start ? `${timeIn(job.planned_start, job.site.time_zone)}–${timeIn(job.planned_end, job.site.time_zone)}` : t("Not planned")),
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

  async function renderToday() {
    const { jobs, entries } = await jobsWithQueue();
    const me = (await Store.getMeta("me")) || {};
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

  // --- one job ------------------------------------------------------------------------------------

  // While the server offers the completion, the records can be filled (on site).
  const COMPLETED = "completed";
  const working = (job) => LocalView.stepsOf(job).some((step) => step.event === COMPLETED);

  // What an action needs of the earlier ones of its job, and provides to later ones: the
  // outbox holds an action back only while something it needs was refused (Outbox.dependsOn).
  // Every action needs the job's status as the status steps before it leave it. A completion
  // also needs whatever the server said the job still lacks (`completion_needs`, the fields of
  // its refusal: `checklist[2]`, `signature`), which the records queued before it provide; a
  // meter reading, parts or a photo provide none of it, and a refusal of one holds nothing.
  const STATUS = "status";

  function completionNeeds(job) {
    return job.completion_needs ? [STATUS, ...job.completion_needs] : undefined; // unknown: wait for all
  }

  async function queueEvent(job, type, extra = {}) {
    const located = await locate();
    await Outbox.add({
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

  async function queueRecord(job, kind, path, body, extra = {}) {
    const provides =
      kind === "checklist" ? body.answers.map((answer) => `checklist[${answer.position}]`) : kind === "signature" ? ["signature"] : [];
    await Outbox.add({ kind, jobId: job.id, jobNumber: job.number, needs: [STATUS], provides, path: `/jobs/${job.id}/${path}`, body, ...extra });
  }

  function stepButtons(job) {
    const steps = LocalView.stepsOf(job).filter((step) => step.event !== COMPLETED);
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
    const token = await Store.getMeta("token");
    try {
      const response = await fetch(job.report_url, { headers: { Authorization: `Bearer ${token}` } });
      if (!response.ok) throw new Error(String(response.status));
      window.open(URL.createObjectURL(await response.blob()), "_blank");
    } catch (e) {
      alert(t("The report needs a connection. Try again when you have signal."));
    }
  }

  function section(title, ...children) {
    return h("section", { class: "card", "aria-label": title }, h("h2", {}, title), ...children);
  }

  function checklistSection(job) {
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

  function partsSection(job) {
    const number = h("input", { id: "part-number", required: true, autocapitalize: "characters", maxlength: LIMITS.partNumber });
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
            const part = { part_number: number.value.trim(), description: description.value.trim(), quantity: quantity.value };
            await queueRecord(job, "parts", "parts", { parts: [part], at: new Date().toISOString() });
            render();
          },
        },
        h("label", { for: "part-number" }, t("Part number")),
        number,
        h("label", { for: "part-description" }, t("Description")),
        description,
        h("label", { for: "part-quantity" }, t("Quantity")),
        quantity,
        h("button", { type: "submit", class: "secondary" }, t("Add part")),
      ),
    );
  }

  // Photos are shrunk on the phone before they queue: a full-size camera picture would take
  // minutes on a weak signal and fill the phone's storage while it waits.
  async function compressPhoto(file) {
    const bitmap = await createImageBitmap(file);
    let side = PHOTO_MAX_SIDE;
    for (const quality of [0.8, 0.65, 0.5]) {
      const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
      if (blob && blob.size <= PHOTO_MAX_BYTES) return blob;
      side = Math.round(side * 0.75);
    }
    return null;
  }

  function photosSection(job) {
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
  function meterSection(job) {
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

  function signatureSection(job) {
    const pad = SignaturePad.create();
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

  // What was recorded on site, read-only once the work is done.
  function recordedSummary(job) {
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

  function completeSection(job) {
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

  function jobState(server, entries) {
    const mine = entries.filter((e) => server && e.jobId === server.id);
    return JSON.stringify([server && server.version, mine.map((e) => [e.seq, e.state])]);
  }

  async function renderJob(id) {
    const [server, entries] = await Promise.all([Store.get("jobs", id), Store.all("outbox")]);
    const problems = entries.filter((e) => e.jobId === id && e.state !== "pending");
    if (!server) {
      show(h("p", {}, t("This job is not on your list any more.")), problems.map((problem) => problemCard(problem, entries)), h("a", { href: "#/today", class: "button secondary" }, t("Back to today")));
      return;
    }
    shownJobState = jobState(server, entries);
    const job = { ...LocalView.of(server, entries), serverVersion: server.version };
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
          job.planned_start ? h("span", {}, `${timeIn(job.planned_start, site.time_zone)}–${timeIn(job.planned_end, site.time_zone)}`) : null,
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

  // --- the sync screen ---------------------------------------------------------------------------

  async function renderSync() {
    const state = await Outbox.status();
    const entries = await Store.all("outbox");
    const held = new Set(state.problems.flatMap((problem) => Outbox.heldBy(problem, entries)).map((e) => e.seq));
    const lastSync = await Store.getMeta("lastSync");
    show(
      h("h1", {}, t("Sync")),
      h("p", {}, navigator.onLine ? t("Connected.") : t("No connection: everything you do is kept on the phone and sent when the signal returns.")),
      h("p", {}, lastSync ? t("Last sync: {time}", { time: `${dayIn(lastSync)} ${timeIn(lastSync)}` }) : t("Not synced yet")),
      state.lastError ? h("p", { class: "note" }, t("Last attempt failed ({error}); it is retried automatically.", { error: state.lastError })) : null,
      state.problems.map((problem) => problemCard(problem, entries)),
      h("h2", {}, t("Waiting to send ({n})", { n: state.pending.length })),
      state.pending.length
        ? h("ol", { class: "queue" }, state.pending.map((e) => h("li", {}, `${e.jobNumber} · ${actionLabel(e)} · ${timeIn(e.createdAt)}${e.attempts ? ` · ${t("{n} tries", { n: e.attempts })}` : ""}${held.has(e.seq) ? ` · ${t("held back by a refusal")}` : ""}`)))
        : h("p", { class: "empty" }, t("Nothing waiting.")),
      h("button", { type: "button", class: "primary", onclick: async () => { await Outbox.drain(); render(); } }, t("Sync now")),
      h("button", { type: "button", class: "secondary", onclick: logOut }, t("Log out")),
    );
  }

  // --- routing and start ---------------------------------------------------------------------------

  function show(...children) {
    view.replaceChildren(...children.flat(Infinity).filter(Boolean));
  }

  async function render() {
    const scroll = window.scrollY;
    const token = await Store.getMeta("token");
    const [, page, id] = (location.hash || "#/today").split("/");
    const samePage = current.page === page && current.id === Number(id);
    current = { page, id: Number(id) };
    if (!token || (await Store.getMeta("sessionExpired"))) {
      current = { page: "login", id: NaN };
      await renderLogin();
    }
    else if (page === "job" && id) await renderJob(Number(id));
    else if (page === "sync") await renderSync();
    else await renderToday();
    if (samePage) window.scrollTo(0, scroll);
    await refreshIndicator();
  }

  // Background changes (a drain, a pull) redraw the screen, but a job screen only when its
  // job changed and nothing is being typed there, so a half-filled form is not wiped.
  Outbox.onChange(async () => {
    await refreshIndicator();
    const typing = view.contains(document.activeElement) && /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName);
    if (typing || current.page === "login") return;
    if (current.page === "job") {
      const [server, entries] = await Promise.all([Store.get("jobs", current.id), Store.all("outbox")]);
      if (jobState(server, entries) === shownJobState) return;
    }
    render();
  });

  function applyLanguage() {
    document.documentElement.lang = I18n.lang === "zh" ? "zh-CN" : "en";
    languageButton.textContent = I18n.lang === "zh" ? "English" : "中文";
  }

  languageButton.addEventListener("click", () => {
    I18n.set(I18n.lang === "zh" ? "en" : "zh");
    applyLanguage();
    render();
  });

  window.addEventListener("hashchange", render);
  window.addEventListener("offline", refreshIndicator);
  window.addEventListener("online", refreshIndicator);
  setInterval(() => {
    if (navigator.onLine) Outbox.drain();
    if (current.page === "today") render();
  }, POLL_MS);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(document.body.dataset.worker).catch(() => {});
  }
  applyLanguage();
  locate();
  render().then(() => Outbox.drain());
})();
