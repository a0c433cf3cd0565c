// What the page (mobile_api.views) tells the app, read once from its <body data-…>: where the
// API is, where the service worker is, and the server's own rules the app needs offline.

const data = document.body.dataset;

export const API_ROOT = data.api.replace(/\/$/, "");
export const WORKER_URL = data.worker;

// What the server accepts (mobile_api.views.app_limits): every field stops there, so nothing
// queued is refused for its length.
export const LIMITS = JSON.parse(data.limits || "{}");

// The server's steps from every status (mobile_api.steps). A job says what it allows now
// (`next_steps`); past a step queued here and not yet sent, this table says.
export const STEPS = JSON.parse(data.steps || "{}");
