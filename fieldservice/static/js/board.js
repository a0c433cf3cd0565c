/* Dispatch board: the map (Leaflet, vendored). Without a tile URL the markers are drawn on a
   plain background; the view always fits the markers. Everything else is htmx. */
(function () {
  "use strict";
  var COLORS = { planned: "#2b6cb0", unassigned: "#dd6b20", home: "#1f7a4d", position: "#1f7a4d" };

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
      marker.bindTooltip(point.name);
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

  // Focus the move form when htmx brings it in, so a keyboard user lands on it.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "reassign-panel") {
      var panel = document.getElementById("reassign-panel");
      var field = panel && panel.querySelector("select, input:not([type=hidden])");
      if (field) field.focus();
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawMap);
  else drawMap();
})();
