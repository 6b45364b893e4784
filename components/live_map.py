"""Pure builders of the live map: DataFrames in, GeoJSON dicts and dash-leaflet layers out. No database here, so the
wall display can embed the same map. Coordinates arrive in WGS-84 and are shifted to GCJ-02 when the tiles say so."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import dash_leaflet as dl
import numpy as np
import pandas as pd
from dash import html

from base.i18n import t
from data_access.geo import wgs84_to_gcj02_array
from data_access.timeutil import LOCAL_OFFSET

NS = "jingbaoLiveMap"
CLUSTER_ABOVE = 1_000            # incidents are clustered with superCluster above this many points
STATUS_COLOURS = {"patrolling": "#2e7d32", "en_route": "#d9822b", "on_scene": "#c62828", "off_duty": "#8a94a3"}
STAGE_COLOURS = {"reported": "#c62828", "on_scene": "#d9822b", "cleared": "#1f5fa8", "paid": "#2e7d32"}
STATION_COLOURS = {"police_booth": "#163f73", "claim_point": "#6a4c93", "quick_centre": "#8e24aa",
                   "vehicle_admin": "#00838f", "persuasion": "#8d6e63", "helipad": "#e65100", "hospital": "#c62828",
                   "rider_base": "#1f5fa8"}
# The overlays of the layer control, in drawing order, with the text key of each name.
LAYERS = ("districts", "grids", "booths", "units", "claim_points", "vehicle_admin", "persuasion", "incidents",
          "density", "rescue")
STAGE_TIMES = ("reported_at", "on_scene_at", "cleared_at", "liability_at", "assessed_at", "paid_at")
RESCUE_TIMES = ("requested_at", "takeoff_at", "on_scene_at", "hospital_at")


def fn(name: str) -> dict:
    """A function of assets/live_map.js, the way dash-leaflet takes it."""
    return {"variable": f"{NS}.{name}"}


def shifted(lon, lat, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 coordinates moved onto the tiles' datum (GCJ-02 tiles sit a few hundred metres off in China)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if datum == "gcj02" and len(lon):
        return wgs84_to_gcj02_array(lon, lat)
    return lon, lat


def shift_geometry(geometry: dict, datum: str) -> dict:
    if datum != "gcj02":
        return geometry

    def walk(coords):
        if coords and isinstance(coords[0], (int, float)):
            x, y = shifted([coords[0]], [coords[1]], datum)
            return [round(float(x[0]), 6), round(float(y[0]), 6)]
        return [walk(c) for c in coords]

    return {**geometry, "coordinates": walk(geometry["coordinates"])}


def local_hhmm(value, with_day: bool = False) -> str | None:
    """A UTC time as Asia/Shanghai wall time, "08:32" or "06-01 08:32"."""
    if value is None or pd.isna(value):
        return None
    local = pd.Timestamp(value) + LOCAL_OFFSET
    return local.strftime("%m-%d %H:%M" if with_day else "%H:%M")


def stage_times(row, columns: tuple[str, ...] = STAGE_TIMES) -> list[list[str]]:
    """[[stage, "MM-DD HH:MM"], ...] for the stages a case (or mission) reached."""
    return [[c[:-3], text] for c in columns if (text := local_hhmm(row.get(c), with_day=True))]


def _points(frame: pd.DataFrame, properties: list[dict], datum: str) -> dict:
    lon, lat = shifted(frame["lon"], frame["lat"], datum)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(float(x), 5), round(float(y), 5)]},
         "properties": p} for x, y, p in zip(lon, lat, properties, strict=True)]}


# ------------------------------------------------------------------------------------------------ GeoJSON data
def districts_geojson(boundaries: dict, lang: str, datum: str) -> dict:
    name = "name_zh" if lang == "zh" else "name_en"
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": shift_geometry(f["geometry"], datum),
         "properties": {"adcode": f["properties"]["adcode"], "name": f["properties"][name]}}
        for f in boundaries.get("features", [])]}


def grids_geojson(grids: pd.DataFrame, lang: str, datum: str) -> dict:
    name = "name_zh" if lang == "zh" else "name_en"
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": shift_geometry(row["polygon"], datum),
         "properties": {"grid": int(row["grid_id"]), "name": row[name]}}
        for row in grids.to_dict("records")]}


def stations_geojson(stations: pd.DataFrame, lang: str, datum: str) -> dict:
    name = "name_zh" if lang == "zh" else "name_en"
    props = [{"sid": int(r["station_id"]), "k": r["kind"], "name": r[name], "staff": int(r["staff"] or 0)}
             for r in stations.to_dict("records")]
    return _points(stations, props, datum)


def unit_properties(row: dict, lang: str, case_times: dict[int, list[list[str]]]) -> dict:
    """What a unit's popup shows: call sign, team, vehicle, status, current case and that case's stage times."""
    case = None if row.get("case_id") is None or pd.isna(row.get("case_id")) else int(row["case_id"])
    return {"uid": int(row["unit_id"]), "cs": row["callsign"], "team": row["team_zh" if lang == "zh" else "team_en"],
            "vk": row["vehicle_kind"], "st": row["status"], "case": case,
            "times": case_times.get(case, []) if case else []}


def status_keys(units: pd.DataFrame) -> dict[str, str]:
    """"unit id" -> "status:case" — what a live tick compares to decide whether a unit's popup changed."""
    return {str(int(u)): f"{s}:{'' if pd.isna(c) else int(c)}"
            for u, s, c in zip(units["unit_id"], units["status"], units["case_id"], strict=True)}


def units_geojson(units: pd.DataFrame, cases: pd.DataFrame, lang: str, datum: str) -> dict:
    """One point per unit that has a position, in unit-id order (a live tick patches features by that order)."""
    placed = units[units["lon"].notna()].reset_index(drop=True)
    case_times = {int(r["case_id"]): stage_times(r) for r in cases.to_dict("records")}
    return _points(placed, [unit_properties(r, lang, case_times) for r in placed.to_dict("records")], datum)


def hidden_unit(unit_id: int) -> dict:
    """A unit not on the map at the playback's time: kept in its place in the feature list, filtered out."""
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]},
            "properties": {"uid": unit_id, "gone": True}}


def apply_delta(data: dict, delta: dict) -> dict:
    """What assets/live_map.js `applyTick` does in the browser, for the first frame built on the server."""
    features = list(data["features"])
    for index, x, y in zip(delta["i"], delta["x"], delta["y"], strict=True):
        features[index] = {**features[index], "geometry": {"type": "Point", "coordinates": [x, y]}}
    for index, feature in delta["full"].items():
        features[int(index)] = feature
    return {**data, "features": features}


def incidents_geojson(incidents: pd.DataFrame, datum: str) -> dict:
    """One point per incident: id, stage and its timeline as [report time in minutes since 1970 (UTC), then the
    minutes from the report to on scene, cleared, liability, assessed, paid (null when not reached)]; compact
    because a window can hold ten thousand of them. assets/live_map.js formats the times in Asia/Shanghai."""
    lon, lat = shifted(incidents["lon"], incidents["lat"], datum)
    def minute_of(column: str) -> pd.Series:
        return (pd.to_datetime(incidents[column]) - pd.Timestamp(0)) // pd.Timedelta(minutes=1)

    reported = minute_of("reported_at")
    base = [int(v) for v in reported.tolist()]
    later = []
    for column in STAGE_TIMES[1:]:       # whole minutes apart on the clock, so each time reads as it happened
        minutes = minute_of(column) - reported
        later.append([None if pd.isna(v) else int(v) for v in minutes.tolist()])
    times = [list(row) for row in zip(base, *later, strict=True)]
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(x, 5), round(y, 5)]},
         "properties": {"id": i, "s": s, "t": tl}}
        for x, y, i, s, tl in zip(lon.tolist(), lat.tolist(), incidents["case_id"].astype(int).tolist(),
                                  incidents["stage"].tolist(), times, strict=True)]}


def hexagon(lon: float, lat: float, size: float) -> list[list[float]]:
    ring = [[round(lon + size * math.cos(math.pi / 3 * k), 5), round(lat + size * math.sin(math.pi / 3 * k), 5)]
            for k in range(6)]
    return ring + [ring[0]]


def density_geojson(cells: pd.DataFrame, size: float, datum: str) -> dict:
    """Hexagons (flat-topped, circumradius `size` degrees) with their accident count."""
    lon, lat = shifted(cells["lon"], cells["lat"], datum)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [hexagon(float(x), float(y), size)]},
         "properties": {"c": int(c)}} for x, y, c in zip(lon, lat, cells["count"], strict=True)]}


def rescues_geojson(missions: pd.DataFrame, datum: str) -> dict:
    features = []
    for row in missions.to_dict("records"):
        if len(row["route"]) < 2:
            continue
        geometry = shift_geometry({"type": "LineString", "coordinates": row["route"]}, datum)
        features.append({"type": "Feature", "geometry": geometry,
                         "properties": {"id": int(row["mission_id"]), "times": stage_times(row, RESCUE_TIMES)}})
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class MapLayers:
    """Everything the map draws except the live units, memoized like the queries behind it."""

    data: dict
    notes: tuple[str, ...]
    total: int
    cluster: bool
    density_hideout: dict
    viewport: dict | None
    heading: str


# ------------------------------------------------------------------------------------------------ labels
def hideout(lang: str, **extra) -> dict:
    """Texts and colours the JavaScript of assets/live_map.js reads (never raw HTML)."""
    labels = {
        "status": {s: t(f"live_map.status.{s}", lang) for s in STATUS_COLOURS},
        "vehicle": {v: t(f"live_map.vehicle.{v}", lang) for v in ("motorcycle", "car")},
        "stage": {s: t(f"live_map.stage.{s}", lang) for s in STAGE_COLOURS},
        "kind": {k: t(f"live_map.kind.{k}", lang) for k in STATION_COLOURS},
        "stage_time": {s[:-3]: t(f"live_map.time.{s[:-3]}", lang) for s in (*STAGE_TIMES, *RESCUE_TIMES)},
        "field": {f: t(f"live_map.field.{f}", lang) for f in ("unit", "team", "vehicle", "status", "case", "none",
                                                              "stage", "incident", "kind", "staff", "density",
                                                              "mission")},
    }
    return {"labels": labels, "colours": STAGE_COLOURS, **extra}


# ------------------------------------------------------------------------------------------------ layers
def geojson_layer(layer_id: str, data: dict, lang: str, *, point: str | None = None, each: str | None = None,
                  style: dict | None = None, style_fn: str | None = None, cluster: bool = False,
                  cluster_kind: str = "incident", extra: dict | None = None, filter_fn: str | None = None
                  ) -> dl.GeoJSON:
    options = {}
    if filter_fn:
        options["filter"] = fn(filter_fn)
    if point:
        options["pointToLayer"] = fn(point)
    if each:
        options["onEachFeature"] = fn(each)
    if style_fn:
        options["style"] = fn(style_fn)
    elif style:
        options["style"] = style
    if cluster:
        options.update(cluster=True, clusterToLayer=fn("cluster"), zoomToBoundsOnClick=True,
                       superClusterOptions={"radius": 120 if cluster_kind == "persuasion" else 70, "maxZoom": 15})
    return dl.GeoJSON(id=layer_id, data=data, hideout=hideout(lang, cluster=cluster_kind, **(extra or {})),
                      **options)


def overlay(name: str, layer, checked: bool = True) -> dl.Overlay:
    return dl.Overlay(dl.LayerGroup(layer), name=name, checked=checked)


def legend(lang: str) -> html.Div:
    """The map's legend: unit status, vehicle shape, incident stage and station kinds."""

    def item(swatch_class: str, colour: str | None, text: str) -> html.Li:
        style = {"background": colour} if colour else None
        return html.Li([html.Span(className=f"lm-swatch {swatch_class}", style=style), html.Span(text)])

    return html.Div([
        html.H3(t("live_map.legend.units", lang)),
        html.Ul([item("lm-dot", c, t(f"live_map.status.{s}", lang)) for s, c in STATUS_COLOURS.items()]
                + [item("lm-shape-motorcycle", None, t("live_map.vehicle.motorcycle", lang)),
                   item("lm-shape-car", None, t("live_map.vehicle.car", lang))]),
        html.H3(t("live_map.legend.incidents", lang)),
        html.Ul([item("lm-ring", c, t(f"live_map.stage.{s}", lang)) for s, c in STAGE_COLOURS.items()]),
        html.H3(t("live_map.legend.stations", lang)),
        html.Ul([item("lm-square", c, t(f"live_map.kind.{k}", lang)) for k, c in STATION_COLOURS.items()
                 if k != "rider_base"]),
    ], className="lm-legend", **{"aria-label": t("live_map.legend", lang)})


def base_layers(tile_url: str, attribution: str) -> list:
    """The tile layer when one is configured; otherwise the boundaries alone are the base map."""
    if not tile_url:
        return []
    return [dl.TileLayer(url=tile_url, attribution=attribution or None, maxZoom=18)]


def time_label(at: dt.datetime | None, lang: str) -> str:
    """"更新于 06-01 08:32:15" — when the units were last seen (local time)."""
    if at is None:
        return t("live_map.no_positions", lang)
    local = pd.Timestamp(at) + LOCAL_OFFSET
    return t("live_map.updated", lang, time=local.strftime("%m-%d %H:%M:%S"))
