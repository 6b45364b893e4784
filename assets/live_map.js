/* Live map (实时地图): how the GeoJSON layers draw their points, styles, tooltips and popups.
 * dash-leaflet calls these by name ({"variable": "jingbaoLiveMap.<fn>"}) with the layer's props (hideout) last.
 * Every text goes in through textContent: feature properties are never parsed as HTML. */
window.jingbaoLiveMap = (function () {
    "use strict";

    function el(tag, className, text) {
        const node = document.createElement(tag);
        if (className) { node.className = className; }
        if (text !== undefined && text !== null) { node.textContent = String(text); }
        return node;
    }

    function label(ctx, group, key) {
        const labels = (ctx && ctx.hideout && ctx.hideout.labels) || {};
        return (labels[group] && labels[group][key]) || key;
    }

    function popupBox(title, rows, footer) {
        const box = el("div", "lm-popup");
        box.appendChild(el("div", "lm-popup-title", title));
        const table = el("dl", "lm-popup-rows");
        rows.forEach(function (row) {
            if (row[1] === undefined || row[1] === null || row[1] === "") { return; }
            table.appendChild(el("dt", null, row[0]));
            table.appendChild(el("dd", null, row[1]));
        });
        box.appendChild(table);
        if (footer) {
            const link = el("a", "lm-popup-link", footer.text);
            link.href = footer.href;
            box.appendChild(link);
        }
        return box;
    }

    /* [[stage, "HH:MM" or "+N"], ...] as popup rows */
    function stageRows(ctx, times) {
        return (times || []).map(function (t) { return [label(ctx, "stage_time", t[0]), t[1]]; });
    }

    /* a rider unit is a triangle (motorcycle) or a pentagon (car), never a circle like an incident; the glyphs are
     * constants, no feature data goes into them */
    const GLYPHS = {
        motorcycle: '<svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">' +
            '<path class="lm-glyph" d="M10 1.5 L18.5 18 L1.5 18 Z"/></svg>',
        car: '<svg viewBox="0 0 20 20" width="20" height="20" aria-hidden="true">' +
            '<path class="lm-glyph" d="M10 1.5 L18.8 8 L15.6 18.5 L4.4 18.5 L1.2 8 Z"/></svg>',
    };

    function unit(feature, latlng, ctx) {
        const p = feature.properties;
        const car = p.vk === "car";
        const icon = L.divIcon({
            className: "lm-unit lm-" + p.vk + " lm-" + p.st,
            iconSize: car ? [20, 20] : [18, 18],
            html: car ? GLYPHS.car : GLYPHS.motorcycle,
        });
        return L.marker(latlng, {icon: icon, title: label(ctx, "vehicle", p.vk) + " · " + label(ctx, "status", p.st),
                                 riseOnHover: true, keyboard: false});
    }

    function unitPopup(feature, layer, ctx) {
        layer.bindPopup(function () {
            const p = feature.properties;
            const rows = [[label(ctx, "field", "team"), p.team], [label(ctx, "field", "vehicle"), label(ctx, "vehicle", p.vk)],
                          [label(ctx, "field", "status"), label(ctx, "status", p.st)],
                          [label(ctx, "field", "case"), p.case ? "#" + p.case : label(ctx, "field", "none")]];
            return popupBox(label(ctx, "field", "unit") + " " + p.cs, rows.concat(stageRows(ctx, p.times)));
        }, {className: "lm-popup-wrap", maxWidth: 280});
    }

    /* the stage an incident had reached at minute `until` (playback), or its stage now */
    function stageAt(p, until) {
        if (until === undefined || until === null || !p.t) { return p.s; }
        const t = p.t;
        const reached = function (i) { return t[i] !== null && t[i] !== undefined && t[0] + t[i] <= until; };
        if (reached(5)) { return "paid"; }
        if (reached(2)) { return "cleared"; }
        if (reached(1)) { return "on_scene"; }
        return "reported";
    }

    function incident(feature, latlng, ctx) {
        const colours = (ctx && ctx.hideout && ctx.hideout.colours) || {};
        const stage = stageAt(feature.properties, ctx && ctx.hideout && ctx.hideout.until);
        return L.circleMarker(latlng, {radius: 6, weight: 1, color: "#ffffff", fillOpacity: 0.9,
                                       className: "lm-incident lm-stage-" + stage,
                                       fillColor: colours[stage] || "#5b6675"});
    }

    /* playback shows the incidents reported by the slider's minute; live shows them all */
    function playbackFilter(feature, ctx) {
        const until = ctx && ctx.hideout && ctx.hideout.until;
        if (until === undefined || until === null || feature.properties.cluster) { return true; }
        return feature.properties.t[0] <= until;
    }

    function pad(n) { return (n < 10 ? "0" : "") + n; }

    /* minutes since 1970 (UTC) as "MM-DD HH:MM" in Asia/Shanghai (UTC+8, no daylight saving) */
    function localMinutes(minutes) {
        const d = new Date((minutes + 8 * 60) * 60000);
        return pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + pad(d.getUTCHours()) + ":" +
            pad(d.getUTCMinutes());
    }

    /* [report minute, then minutes to on scene, cleared, liability, assessed, paid] as [[stage, time], ...] */
    function incidentTimes(t) {
        const stages = ["reported", "on_scene", "cleared", "liability", "assessed", "paid"];
        const rows = [];
        (t || []).forEach(function (value, i) {
            if (value === null || value === undefined) { return; }
            rows.push([stages[i], localMinutes(i === 0 ? value : t[0] + value)]);
        });
        return rows;
    }

    function incidentPopup(feature, layer, ctx) {
        if (feature.properties.cluster) { return; }
        layer.bindPopup(function () {
            const p = feature.properties;
            const stage = stageAt(p, ctx && ctx.hideout && ctx.hideout.until);
            const rows = [[label(ctx, "field", "stage"), label(ctx, "stage", stage)]]
                .concat(stageRows(ctx, incidentTimes(p.t)));
            return popupBox(label(ctx, "field", "incident") + " #" + p.id, rows);
        }, {className: "lm-popup-wrap", maxWidth: 280});
    }

    function cluster(feature, latlng, index, ctx) {
        const count = feature.properties.point_count;
        const size = count < 100 ? 30 : (count < 1000 ? 38 : 46);
        const kind = (ctx && ctx.hideout && ctx.hideout.cluster) || "incident";
        const icon = L.divIcon({html: "<span>" + Number(count).toLocaleString() + "</span>",
                                className: "lm-cluster lm-cluster-" + kind, iconSize: L.point(size, size)});
        return L.marker(latlng, {icon: icon});
    }

    function station(feature, latlng, ctx) {
        const icon = L.divIcon({className: "lm-station lm-" + feature.properties.k, iconSize: [12, 12], html: ""});
        return L.marker(latlng, {icon: icon, keyboard: false});
    }

    function stationPopup(feature, layer, ctx) {
        if (feature.properties.cluster) { return; }
        layer.bindPopup(function () {
            const p = feature.properties;
            return popupBox(p.name, [[label(ctx, "field", "kind"), label(ctx, "kind", p.k)],
                                     [label(ctx, "field", "staff"), p.staff || null]]);
        }, {className: "lm-popup-wrap", maxWidth: 260});
    }

    function districtTooltip(feature, layer, ctx) {
        layer.bindTooltip(el("span", null, feature.properties.name), {sticky: true, className: "lm-tooltip"});
    }

    function gridTooltip(feature, layer, ctx) {
        layer.bindTooltip(el("span", null, feature.properties.name), {sticky: true, className: "lm-tooltip"});
    }

    function hexStyle(feature, ctx) {
        const top = (ctx && ctx.hideout && ctx.hideout.max) || 1;
        const share = Math.min(1, feature.properties.c / top);
        const scale = ["#fde9d9", "#f8b98b", "#ef7d45", "#d7301f", "#990000"];
        return {fillColor: scale[Math.min(4, Math.floor(share * 5))], fillOpacity: 0.55, weight: 0, stroke: false};
    }

    function hexTooltip(feature, layer, ctx) {
        layer.bindTooltip(el("span", null, label(ctx, "field", "density") + ": " + feature.properties.c),
                          {sticky: true, className: "lm-tooltip"});
    }

    function rescuePopup(feature, layer, ctx) {
        layer.bindPopup(function () {
            const p = feature.properties;
            return popupBox(label(ctx, "field", "mission") + " #" + p.id, stageRows(ctx, p.times));
        }, {className: "lm-popup-wrap", maxWidth: 280});
    }

    function unitFilter(feature) { return !feature.properties.gone; }

    return {unitFilter: unitFilter, playbackFilter: playbackFilter, unit: unit, unitPopup: unitPopup, incident: incident, incidentPopup: incidentPopup, cluster: cluster,
            station: station, stationPopup: stationPopup, districtTooltip: districtTooltip, gridTooltip: gridTooltip,
            hexStyle: hexStyle, hexTooltip: hexTooltip, rescuePopup: rescuePopup};
})();

/* A live tick's delta applied to the units layer in the browser: new coordinates by feature index, whole features
 * for the units whose status or case changed. Only the delta crossed the network. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    jingbaoLiveMap: {
        applyTick: function (delta, data) {
            if (!delta || !data || !data.features) { return window.dash_clientside.no_update; }
            const features = data.features.slice();
            delta.i.forEach(function (index, k) {
                const feature = features[index];
                if (!feature) { return; }
                features[index] = Object.assign({}, feature,
                    {geometry: {type: "Point", coordinates: [delta.x[k], delta.y[k]]}});
            });
            Object.keys(delta.full || {}).forEach(function (index) { features[Number(index)] = delta.full[index]; });
            return Object.assign({}, data, {features: features});
        },
    },
});
