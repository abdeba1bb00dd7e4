// Draws each GeoJSON output of a results page on a Leaflet map (Leaflet is served locally).
(function () {
  "use strict";

  var STYLE = { color: "#1d4e6b", weight: 2, fillOpacity: 0.25 };

  // The feature's properties as a small table for its popup (text only: no HTML from results).
  function popup(feature) {
    var table = document.createElement("table");
    Object.keys(feature.properties || {}).forEach(function (key) {
      var row = table.insertRow();
      row.insertCell().textContent = key;
      var value = feature.properties[key];
      row.insertCell().textContent = typeof value === "object" ? JSON.stringify(value) : String(value);
    });
    return table;
  }

  function draw(element, geojson) {
    var map = L.map(element);
    if (element.dataset.umsTiles) {
      L.tileLayer(element.dataset.umsTiles, { attribution: element.dataset.umsAttribution, maxZoom: 19 }).addTo(map);
    }
    var layer = L.geoJSON(geojson, {
      style: function () { return STYLE; },
      pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, { radius: 6 }); },
      onEachFeature: function (feature, featureLayer) {
        if (feature.properties) featureLayer.bindPopup(function () { return popup(feature); });
      },
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
    } else {
      map.setView([0, 0], 1);
    }
    element.dataset.umsFeatures = String(layer.getLayers().length);
    return layer.getLayers().length;
  }

  document.querySelectorAll("[data-ums-map]").forEach(function (element) {
    var note = element.parentElement.querySelector("[data-ums-map-note]");
    fetch(element.dataset.umsMap, { headers: { Accept: "application/geo+json, application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (geojson) {
        var count = draw(element, geojson);
        note.textContent = count + " feature(s)" + (element.dataset.umsTiles ? "" : " · no base map configured");
      })
      .catch(function (error) { note.textContent = "Could not draw this output: " + error; });
  });
})();
