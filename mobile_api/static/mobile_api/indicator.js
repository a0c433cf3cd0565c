// The sync indicator in the header, always on screen: what waits to be sent, what the server
// refused, or when the phone last synced. A tap opens the sync screen.

import { timeIn } from "./format.js";
import { t } from "./i18n.js";
import * as outbox from "./outbox.js";
import * as store from "./store.js";

const syncButton = document.getElementById("sync-status");

export async function refreshIndicator() {
  const token = await store.getMeta("token");
  syncButton.hidden = !token;
  if (!token) return;
  const state = await outbox.status();
  const lastSync = await store.getMeta("lastSync");
  const expired = await store.getMeta("sessionExpired");
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
