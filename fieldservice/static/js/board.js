/* Dispatch board: the map (Leaflet, vendored) and the timeline's geometry. Without a tile URL
   the markers are drawn on a plain background; the view always fits the markers. Everything
   else is htmx.

   Names on the map come from the back office, the API and CSV imports: they are text, never
   HTML. Leaflet inserts a *string* given to bindTooltip/bindPopup as HTML, so it is always
   given a DOM node whose text is set with textContent. */
(function () {
  "use strict";
  var COLORS = { planned: "#2b6cb0", unassigned: "#dd6b20", home: "#1f7a4d", position: "#1f7a4d" };

  function textNode(text) {
    var span = document.createElement("span");
    span.textContent = String(text);
    return span;
  }

  function drawMap() {
    var element = document.getElementById("board-map");
    var data = document.getElementById("board-map-data");
    if (!element || !data || typeof L === "undefined") return;
    var points = JSON.parse(data.textContent);
    var map = L.map(element, { zoomControl: true, attributionControl: !!element.dataset.tileUrl });
    if (element.dataset.tileUrl) {
      L.tileLayer(element.dataset.tileUrl, { maxZoom: 18 }).addTo(map);
    }
    var bounds = [];
    function add(point, radius) {
      var marker = L.circleMarker([point.lat, point.lon], {
        radius: radius, color: "#102a43", weight: 1, fillColor: COLORS[point.kind] || "#52606d", fillOpacity: 0.9,
      });
      marker.bindTooltip(textNode(point.name));
      marker.addTo(map);
      bounds.push([point.lat, point.lon]);
    }
    points.sites.forEach(function (point) { add(point, 6); });
    points.technicians.forEach(function (point) { add(point, 5); });
    if (bounds.length) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 13 });
    } else {
      map.setView([31.23, 121.47], 8);
    }
    element.dataset.markers = String(bounds.length);
  }

  // The timeline's blocks carry their place as numbers (percent of the track) in data
  // attributes, set here through the CSSOM: the Content-Security-Policy refuses style
  // attributes in the markup.
  function place(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var placed = scope.querySelectorAll("[data-left]");
    for (var i = 0; i < placed.length; i++) {
      var left = parseFloat(placed[i].dataset.left);
      var width = parseFloat(placed[i].dataset.width);
      if (isFinite(left)) placed[i].style.left = left + "%";
      if (isFinite(width)) placed[i].style.width = width + "%";
    }
  }

  // Content htmx brings in (a run's status, the move form) is placed like the page.
  document.addEventListener("htmx:load", function (event) { place(event.target); });

  // Focus the move form when htmx brings it in, so a keyboard user lands on it.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "reassign-panel") {
      var panel = document.getElementById("reassign-panel");
      var field = panel && panel.querySelector("select, input:not([type=hidden])");
      if (field) field.focus();
    }
  });

  function start() {
    place(document);
    drawMap();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
