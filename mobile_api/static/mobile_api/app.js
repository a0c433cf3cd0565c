// The technician app's entry module (mobile_api/templates/mobile_api/app.html): the router,
// the redraws, the language button and the start.
// Routes live after the '#': #/login, #/today, #/job/<id>, #/sync. Every tap that changes a
// job goes to the outbox (outbox.js, through actions.js) first; the screens show the job as the
// server last sent it with the queued actions applied (local-view.js), so the app works the
// same with no signal.

import { onChange } from "./changes.js";
import { lang, setLanguage } from "./i18n.js";
import { refreshIndicator } from "./indicator.js";
import { jobChanged, renderJob } from "./job.js";
import * as outbox from "./outbox.js";
import { WORKER_URL } from "./page.js";
import { locate } from "./place.js";
import { current, drawWith, setCurrent, typing } from "./screen.js";
import { renderLogin } from "./session.js";
import * as store from "./store.js";
import { renderSync } from "./sync-screen.js";
import { renderToday } from "./today.js";

const POLL_MS = 60 * 1000;
const languageButton = document.getElementById("language");

async function render() {
  const scroll = window.scrollY;
  const token = await store.getMeta("token");
  const [, page, id] = (location.hash || "#/today").split("/");
  const samePage = current.page === page && current.id === Number(id);
  setCurrent(page, Number(id));
  if (!token || (await store.getMeta("sessionExpired"))) {
    setCurrent("login", NaN);
    await renderLogin();
  }
  else if (page === "job" && id) await renderJob(Number(id));
  else if (page === "sync") await renderSync();
  else await renderToday();
  if (samePage) window.scrollTo(0, scroll);
  await refreshIndicator();
}

drawWith(render);

// Background changes (a drain, a pull) redraw the screen, but a job screen only when its
// job changed and nothing is being typed there, so a half-filled form is not wiped.
onChange(async () => {
  await refreshIndicator();
  if (typing() || current.page === "login") return;
  if (current.page === "job" && !(await jobChanged(current.id))) return;
  render();
});

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  languageButton.textContent = lang === "zh" ? "English" : "中文";
}

languageButton.addEventListener("click", () => {
  setLanguage(lang === "zh" ? "en" : "zh");
  applyLanguage();
  render();
});

window.addEventListener("hashchange", render);
window.addEventListener("offline", refreshIndicator);
window.addEventListener("online", refreshIndicator);
setInterval(() => {
  if (navigator.onLine) outbox.drain();
  if (current.page === "today") render();
}, POLL_MS);

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(WORKER_URL).catch(() => {});
}
applyLanguage();
locate();
render().then(() => outbox.drain());
