// Times, dates, numbers, durations and names of things, in the technician's language.

import { lang, t } from "./i18n.js";

const locale = () => (lang === "zh" ? "zh-CN" : "en-GB");

export const timeIn = (iso, zone) =>
  iso ? new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit", timeZone: zone }).format(new Date(iso)) : "";
export const dayIn = (iso, zone) =>
  iso ? new Intl.DateTimeFormat(locale(), { weekday: "short", day: "numeric", month: "short", timeZone: zone }).format(new Date(iso)) : "";
export const dateOf = (iso) =>
  new Intl.DateTimeFormat(locale(), { day: "numeric", month: "short", year: "numeric" }).format(new Date(iso));
export const number = (value) => new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }).format(Number(value));
export const localDay = (date) => date.toLocaleDateString("sv"); // YYYY-MM-DD in the phone's zone

export function duration(minutes) {
  const m = Math.abs(Math.round(minutes));
  if (m < 60) return t("{m} min", { m });
  if (m < 48 * 60) return t("{h} h {m} min", { h: Math.floor(m / 60), m: m % 60 });
  return t("{d} days", { d: Math.round(m / 1440) });
}

export const statusLabel = (status) => t(`status:${status}`);

// What a queued action (an outbox entry) is called.
export function actionLabel(entry) {
  if (entry.kind === "event") return t(`event:${entry.body.type}`);
  return t(`record:${entry.kind}`);
}
