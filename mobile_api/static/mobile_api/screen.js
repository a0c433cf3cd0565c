// The one screen (<main id="view">): what it shows, which page that is, and a redraw that any
// screen can ask for after a tap. The router (app.js) says how to draw (`drawWith`), so the
// screens need not import the router that imports them.

const view = document.getElementById("view");
let draw = async () => {};

// The page shown: { page: "today" | "job" | "sync" | "login", id: the job's id or NaN }.
export let current = { page: null, id: null };

export function setCurrent(page, id) {
  current = { page, id };
}

export const showingJob = (jobId) => current.page === "job" && current.id === jobId;

export function show(...children) {
  view.replaceChildren(...children.flat(Infinity).filter(Boolean));
}

// Whether the technician is typing on the screen (a redraw would wipe a half-filled form).
export const typing = () =>
  view.contains(document.activeElement) && /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName);

export const render = () => draw();

export function drawWith(router) {
  draw = router;
}
