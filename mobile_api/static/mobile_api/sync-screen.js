// The sync screen (#/sync): the connection, the last sync, the problems to resolve, what waits
// to be sent, "sync now" and logging out.

import { h } from "./dom.js";
import { actionLabel, dayIn, timeIn } from "./format.js";
import { t } from "./i18n.js";
import * as outbox from "./outbox.js";
import { problemCard } from "./problems.js";
import { render, show } from "./screen.js";
import { logOut } from "./session.js";
import * as store from "./store.js";

export async function renderSync() {
  const state = await outbox.status();
  const entries = await store.all("outbox");
  const held = new Set(state.problems.flatMap((problem) => outbox.heldBy(problem, entries)).map((e) => e.seq));
  const lastSync = await store.getMeta("lastSync");
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
    h("button", { type: "button", class: "primary", onclick: async () => { await outbox.drain(); render(); } }, t("Sync now")),
    h("button", { type: "button", class: "secondary", onclick: logOut }, t("Log out")),
  );
}
