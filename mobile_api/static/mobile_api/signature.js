// A signature pad: a canvas the customer signs with a finger, a stylus or a mouse.

import { t } from "./i18n.js";

const HEIGHT = 180;

export function createSignaturePad() {
  const canvas = document.createElement("canvas");
  canvas.className = "signature-pad";
  canvas.setAttribute("aria-label", t("Signature box: sign here"));
  canvas.setAttribute("role", "img");
  const context = canvas.getContext("2d");
  let drawn = false;
  let last = null;

  // The canvas is sized in device pixels when it appears, so strokes stay sharp on phones.
  function fit() {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 320;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(HEIGHT * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.lineWidth = 2.2;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#111";
    context.fillStyle = "#fff";
    context.fillRect(0, 0, width, HEIGHT);
    drawn = false;
  }

  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  };

  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    context.beginPath();
    context.arc(last.x, last.y, 1, 0, 2 * Math.PI);
    context.fillStyle = "#111";
    context.fill();
    drawn = true;
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!last) return;
    const next = point(event);
    context.beginPath();
    context.moveTo(last.x, last.y);
    context.lineTo(next.x, next.y);
    context.stroke();
    last = next;
  });
  const stop = () => (last = null);
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);

  new ResizeObserver(() => {
    if (!drawn) fit();
  }).observe(canvas);

  return {
    element: canvas,
    clear: fit,
    isEmpty: () => !drawn,
    toDataURL: () => canvas.toDataURL("image/png"),
  };
}
