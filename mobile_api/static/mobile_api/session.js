// Logging in (the one thing that needs signal) and out. A technician's data stays on the
// phone across an expired session; another technician logging in on it starts clean.

import * as api from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import * as outbox from "./outbox.js";
import { render, show } from "./screen.js";
import * as store from "./store.js";
import { pull } from "./sync.js";

export async function renderLogin() {
  const expired = await store.getMeta("sessionExpired");
  const waiting = (await store.all("outbox")).length;
  const error = h("p", { class: "error", role: "alert" });
  const username = h("input", { id: "username", name: "username", autocomplete: "username", autocapitalize: "none", required: true, value: (await store.getMeta("username")) || "" });
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
    answer = await api.call("POST", "/auth/token", { json: { username, password } });
  } catch (e) {
    error.textContent = t("No connection. Logging in needs signal once; after that the app works offline.");
    return;
  }
  if (answer.status === 429) return (error.textContent = t("Too many failed attempts. Wait a few minutes and try again."));
  if (answer.status !== 200) return (error.textContent = t("Wrong user name or password, or this account is not a technician."));
  const previous = await store.getMeta("username");
  if (previous && previous !== username) await store.clearAll(); // another technician's phone data
  await store.setMeta("token", answer.data.token);
  await store.setMeta("expiresAt", answer.data.expires_at);
  await store.setMeta("username", username);
  await store.setMeta("sessionExpired", false);
  const me = await api.call("GET", "/me", { token: answer.data.token });
  if (me.status === 200) await store.setMeta("me", me.data);
  await outbox.drain();
  await pull();
  location.hash = "#/today";
  render();
}

export async function logOut() {
  const state = await outbox.status();
  const unsent = state.pending.length + state.problems.length;
  if (unsent && !confirm(t("{n} changes have not reached the server. Log out and lose them?", { n: unsent }))) return;
  const token = await store.getMeta("token");
  api.call("POST", "/auth/revoke", { token, key: api.newKey() }).catch(() => {});
  await store.clearAll();
  location.hash = "#/login";
  render();
}
