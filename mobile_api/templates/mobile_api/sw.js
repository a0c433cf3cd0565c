{% load static %}// The technician app's service worker (rendered by mobile_api.views.service_worker).
// It keeps the app shell in a cache named after the app's version, so the app starts
// with no signal: the page, the manifest, the icons and every JavaScript module, each under
// its static URL (content-hashed in production, the modules' imports too: fieldservice.storage).
// Data (jobs, the queue of actions) lives in IndexedDB, not here, and API calls are never
// cached: the app decides what to do when they fail.
"use strict";

const CACHE = "fieldservice-app-{{ version }}";
const SHELL = "{% url 'technician_app:shell' %}";
const FILES = [
  SHELL,
  "{% url 'technician_app:manifest' %}",
{% for file in files %}  "{{ file }}",
{% endfor %}];

self.addEventListener("install", (event) => {
  // cache: "reload" so a new version never takes a stale copy from the HTTP cache.
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(FILES.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("fieldservice-app-") && name !== CACHE)
          .map((name) => caches.delete(name)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.startsWith(SHELL)) {
    // Every page of the app is the one shell: routes live after the '#'.
    event.respondWith(caches.match(SHELL).then((cached) => cached || fetch(request)));
    return;
  }
  if (FILES.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((cached) => cached || fetch(request)));
  }
});
