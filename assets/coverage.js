/* Styling functions of the coverage planning map (components/coverage_map.py): each feature carries its colour. */
window.jingbaoCoverage = {
    point: function (feature, latlng) {
        var p = feature.properties, station = p.role === "station";
        if (p.role === "recommended") {
            // numbered on the map as in the list beside it ("芗城区 · 新增站点 1")
            return L.marker(latlng, {icon: L.divIcon({className: "coverage-step", iconSize: [22, 22],
                                                      html: String(Number(p.step) || "")}), keyboard: false});
        }
        return L.circleMarker(latlng, {
            radius: station ? 6 : 8, color: "#ffffff", weight: station ? 1.5 : 2, fillColor: p.colour,
            fillOpacity: station ? 0.95 : 1.0,
            // a click on a station or a candidate is its own; a recommended site lets the map take it
            bubblingMouseEvents: p.role === "recommended"
        });
    },
    ring: function (feature, latlng) {
        // a catchment: a dashed circle of `radius` metres, drawn on the map's canvas for rings (not one SVG path each)
        var p = feature.properties;
        return L.circle(latlng, {radius: Number(p.radius) || 0, color: p.colour, weight: 1, fill: false,
                                 opacity: 0.55, dashArray: "4 3", interactive: false,
                                 renderer: window.jingbaoCoverage.canvas()});
    },
    canvas: function () {
        // one canvas renderer while its map is on the page; a new one for the map of a later visit
        var r = window.jingbaoCoverage._canvas;
        if (!r || (r._map && !document.body.contains(r._map.getContainer()))) {
            r = window.jingbaoCoverage._canvas = L.canvas({padding: 0.5});
        }
        return r;
    },
    style: function (feature) {
        var p = feature.properties;
        if (p.style) { return p.style; }
        return {color: p.colour, weight: 0.6, fillColor: p.colour, fillOpacity: p.opacity};
    }
};
