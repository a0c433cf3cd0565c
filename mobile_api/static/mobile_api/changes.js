// "The phone's data changed": the outbox and the sync pull say so, the screens listen (app.js)
// and redraw. A module of its own so that the outbox and the pull need not import each other.

const listeners = new Set();

export const onChange = (listener) => listeners.add(listener);
export const notify = () => listeners.forEach((listener) => listener());
