"""The live map's layers as the map draws them: each overlay's GeoJSON for a view (the districts, grids and stations
of the chosen districts, the window's incidents by stage, the density hexbins, the rescue routes or the one mission
the URL names), memoized like the queries behind it; the units layer and what one live tick changes in it; the
district under a clicked point; and the per-city tuning of the opening zoom and the hexagon size.

Rows come from `data_access.live` in WGS-84 and UTC; here they are shifted onto the tiles' datum (GCJ-02 tiles sit a
few hundred metres off in China) and each name is taken in the reader's language. Texts are the page's."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from shapely.geometry import Point, shape
from sqlalchemy import select

from data_access import live, metrics
from data_access.cache import cached_query
from data_access.db import Database
from data_access.filters import Filters
from data_access.geo import gcj02_to_wgs84, wgs84_to_gcj02_array
from data_access.models import City
from data_access.stations import closed_stations
from data_access.timeutil import LOCAL_OFFSET

CLUSTER_ABOVE = 1_000            # incidents are clustered with superCluster above this many points
STAGE_TIMES = live.STAGE_COLUMNS
RESCUE_TIMES = ("requested_at", "takeoff_at", "on_scene_at", "hospital_at")
OFF_DUTY, GONE = "off_duty", "gone"


@dataclass(frozen=True)
class CityTuning:
    zoom: int            # where the map opens
    hex_deg: float       # circumradius of an accident-density hexagon, in longitude degrees


CITY_TUNING = {"350600": CityTuning(zoom=11, hex_deg=0.012), "500000": CityTuning(zoom=9, hex_deg=0.03)}
DEFAULT_TUNING = CityTuning(zoom=10, hex_deg=0.02)


def tuning(city: str) -> CityTuning:
    return CITY_TUNING.get(city, DEFAULT_TUNING)


def city_boundaries(db: Database, city: str) -> dict:
    """The city's districts as a FeatureCollection, read from the `district` table (so a city added with `jingbao
    city add` is drawn like a seed city) and memoized on the data version; shared: callers must not change it."""
    return metrics.district_geojson(db, city)


@cached_query
def city_centres(db: Database) -> dict[str, tuple[float, float]]:
    """(lon, lat) in WGS-84 where a map of each registered city opens."""
    with db.session() as session:
        return {adcode: (lon, lat) for adcode, lon, lat in session.execute(
            select(City.adcode, City.center_lon, City.center_lat).order_by(City.adcode))}


def map_city(db: Database, city: str | None, default: str) -> str | None:
    """The city to draw: the one asked for when it is registered, else the default, else the first registered city;
    None when the database holds no city yet."""
    centres = city_centres(db)
    for candidate in (city, default):
        if candidate in centres:
            return candidate
    return next(iter(centres), None)


def district_at(db: Database, city: str, lon: float, lat: float, datum: str) -> str | None:
    """The adcode of the city's district under a point given on the tiles' datum, or None outside every one."""
    if datum == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    point = Point(lon, lat)
    for feature in city_boundaries(db, city)["features"]:
        if shape(feature["geometry"]).contains(point):
            return feature["properties"]["adcode"]
    return None


# ------------------------------------------------------------------------------------------------ coordinates
def shifted(lon, lat, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 coordinates moved onto the tiles' datum."""
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


def epoch_minute(at: dt.datetime) -> int:
    """Minutes since 1970 (UTC), the clock of the incidents' timelines in assets/live_map.js."""
    return int((at - dt.datetime(1970, 1, 1)).total_seconds() // 60)


# ------------------------------------------------------------------------------------------------ GeoJSON
def _collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _points(frame: pd.DataFrame, properties: list[dict], datum: str) -> dict:
    lon, lat = shifted(frame["lon"], frame["lat"], datum)
    return _collection([
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(float(x), 5), round(float(y), 5)]},
         "properties": p} for x, y, p in zip(lon, lat, properties, strict=True)])


def districts_geojson(boundaries: dict, lang: str, datum: str) -> dict:
    name = "name_zh" if lang == "zh" else "name_en"
    return _collection([
        {"type": "Feature", "geometry": shift_geometry(f["geometry"], datum),
         "properties": {"adcode": f["properties"]["adcode"], "name": f["properties"][name]}}
        for f in boundaries.get("features", [])])


def grids_geojson(grids: pd.DataFrame, lang: str, datum: str) -> dict:
    name = "name_zh" if lang == "zh" else "name_en"
    return _collection([
        {"type": "Feature", "geometry": shift_geometry(row["polygon"], datum),
         "properties": {"grid": int(row["grid_id"]), "name": row[name]}}
        for row in grids.to_dict("records")])


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


def on_duty(statuses: dict[str, str]) -> int:
    """Units on duty among status keys: neither off duty nor gone from the map."""
    return sum(1 for key in statuses.values() if key.split(":")[0] not in (OFF_DUTY, GONE))


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
    return _collection([
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(x, 5), round(y, 5)]},
         "properties": {"id": i, "s": s, "t": tl}}
        for x, y, i, s, tl in zip(lon.tolist(), lat.tolist(), incidents["case_id"].astype(int).tolist(),
                                  incidents["stage"].tolist(), times, strict=True)])


def hexagon(lon: float, lat: float, size: float) -> list[list[float]]:
    ring = [[round(lon + size * math.cos(math.pi / 3 * k), 5), round(lat + size * math.sin(math.pi / 3 * k), 5)]
            for k in range(6)]
    return ring + [ring[0]]


def density_geojson(cells: pd.DataFrame, size: float, datum: str) -> dict:
    """Hexagons (flat-topped, circumradius `size` degrees) with their accident count."""
    lon, lat = shifted(cells["lon"], cells["lat"], datum)
    return _collection([
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [hexagon(float(x), float(y), size)]},
         "properties": {"c": int(c)}} for x, y, c in zip(lon, lat, cells["count"], strict=True)])


def rescues_geojson(missions: pd.DataFrame, datum: str) -> dict:
    features = []
    for row in missions.to_dict("records"):
        if len(row["route"]) < 2:
            continue
        geometry = shift_geometry({"type": "LineString", "coordinates": row["route"]}, datum)
        features.append({"type": "Feature", "geometry": geometry,
                         "properties": {"id": int(row["mission_id"]), "times": stage_times(row, RESCUE_TIMES)}})
    return _collection(features)


# ------------------------------------------------------------------------------------------------ the view's layers
@dataclass(frozen=True)
class MapLayers:
    """Every overlay's GeoJSON except the live units (keyed by layer), and what the page says about them."""

    data: dict[str, dict]
    total: int                   # incidents of the window with a location, every channel
    alerts: int                  # of them, accident alerts (police calls and patrols: the overview's 警情)
    shown: int                   # the newest of them drawn (at most live.INCIDENT_LIMIT)
    density_max: int             # the busiest hexagon's count, the top of the density colour scale
    viewport: dict | None        # fits the focused mission's route
    mission: int | None          # the mission the URL focuses on
    mission_missing: bool        # the URL names a mission that does not exist

    @property
    def cluster(self) -> bool:
        return self.shown > CLUSTER_ABOVE


@cached_query
def map_layers(db: Database, filters: Filters, lang: str, datum: str, now: dt.datetime, mission_raw: str
               ) -> MapLayers:
    """The layers of a view: the chosen districts' boundaries, grids, stations and rescues (or the one mission
    `mission_raw` names, fitted into view), the window's incidents by their stage at `now` and their density."""
    city = filters.city
    grids = live.grids(db, city)
    stations = live.stations(db, city)
    stations = stations[~stations["station_id"].isin(closed_stations(db, city, filters.end))]   # closed by then
    incidents = live.incidents(db, filters, now)
    rescues = live.rescues(db, city, filters.start, filters.end)
    mission = _mission(db, city, mission_raw)
    boundaries = city_boundaries(db, city)
    if filters.districts:
        chosen = set(filters.districts)
        boundaries = {**boundaries, "features": [f for f in boundaries["features"]
                                                 if f["properties"]["adcode"] in chosen]}
        grids = grids[grids["district_adcode"].isin(chosen)]
        stations = stations[stations["district_adcode"].isin(chosen)]
        rescues = rescues[rescues["district_adcode"].isin(chosen)]
    focused, viewport = None, None
    if mission is not None and not mission.empty:
        rescues = mission
        focused = int(mission.iloc[0]["mission_id"])
        route = mission.iloc[0]["route"]
        if route:
            lons, lats = shifted([p[0] for p in route], [p[1] for p in route], datum)
            viewport = {"bounds": [[float(lats.min()), float(lons.min())], [float(lats.max()), float(lons.max())]],
                        "transition": "fitBounds", "options": {"padding": [40, 40]}}
    kinds = stations["kind"]
    size = tuning(city).hex_deg
    cells = live.hexbins(incidents.frame["lon"], incidents.frame["lat"], size)
    data = {
        "districts": districts_geojson(boundaries, lang, datum),
        "grids": grids_geojson(grids, lang, datum),
        "booths": stations_geojson(stations[kinds == "police_booth"], lang, datum),
        "claim_points": stations_geojson(stations[kinds.isin(["claim_point", "quick_centre"])], lang, datum),
        "vehicle_admin": stations_geojson(stations[kinds == "vehicle_admin"], lang, datum),
        "persuasion": stations_geojson(stations[kinds == "persuasion"], lang, datum),
        "incidents": incidents_geojson(incidents.frame, datum),
        "density": density_geojson(cells, size, datum),
        "rescue": rescues_geojson(rescues, datum),
        "rescue-sites": stations_geojson(stations[kinds.isin(["helipad", "hospital"])], lang, datum),
    }
    return MapLayers(data, incidents.total, incidents.alerts, len(incidents.frame),
                     int(cells["count"].max()) if len(cells) else 1, viewport, focused,
                     mission is not None and mission.empty)


def fit_viewport(*collections: dict, padding: int = 24) -> dict | None:
    """A viewport that fits every point and polygon of the GeoJSON collections (hidden units left out), or None when
    they hold nothing: the map opens on where the patrol grids and the units are, not on the whole prefecture."""
    lons: list[float] = []
    lats: list[float] = []

    def walk(coords) -> None:
        if coords and isinstance(coords[0], int | float):
            lons.append(float(coords[0]))
            lats.append(float(coords[1]))
        else:
            for c in coords or []:
                walk(c)

    for collection in collections:
        for feature in (collection or {}).get("features", []):
            if not (feature.get("properties") or {}).get("gone"):
                walk((feature.get("geometry") or {}).get("coordinates"))
    if not lons:
        return None
    return {"bounds": [[min(lats), min(lons)], [max(lats), max(lons)]], "transition": "fitBounds",
            "options": {"padding": [padding, padding]}}


def _mission(db: Database, city: str, raw: str | None) -> pd.DataFrame | None:
    """The rescue mission the URL names (a frame of 0 or 1 rows), or None when it names none."""
    if not raw:
        return None
    try:
        mission = int(raw)
    except ValueError:
        return live.rescues(db, city, mission=-1)
    return live.rescues(db, city, mission=mission)


# ------------------------------------------------------------------------------------------------ the units
@dataclass(frozen=True)
class UnitLayer:
    data: dict                   # GeoJSON: one point per placed unit, in unit-id order
    order: list[int]             # the unit id of each feature
    statuses: dict[str, str]     # status_keys of the units drawn
    on_duty: int                 # placed units not off duty
    units: int                   # every unit of the city
    latest: dt.datetime | None   # the newest position drawn
    latest_id: int | None = None  # the newest position row drawn: the next live tick sends what was stored after it


def unit_layer(db: Database, city: str, lang: str, datum: str, day_start: dt.datetime | None = None) -> UnitLayer:
    """The units where they are now; with `day_start` (UTC of a local midnight: playback) every unit seen by the end
    of that day, placed where it was at its start (hidden when not seen yet). Never cached: it is live."""
    at = None if day_start is None else day_start + dt.timedelta(days=1)
    units = live.unit_states(db, city, at=at)
    busy_cases = [int(c) for c in units["case_id"].dropna()]
    data = units_geojson(units, live.cases(db, busy_cases), lang, datum)
    placed = units[units["lon"].notna()]
    order = [int(u) for u in placed["unit_id"]]
    statuses = status_keys(placed)
    if day_start is None:
        # a registered unit that has not reported yet is kept hidden in its place, so that its first position
        # (from the feed, POST /api/v1/positions) shows on the next tick instead of the next page load
        waiting = [int(u) for u in units.loc[units["lon"].isna(), "unit_id"]]
        data = {**data, "features": data["features"] + [hidden_unit(u) for u in waiting]}
        order += waiting
        statuses = {**statuses, **{str(u): GONE for u in waiting}}
    if day_start is not None and order:
        tick = unit_tick(db, city, order, statuses, lang, datum, at=day_start)
        if tick is not None:
            data = apply_delta(data, tick.delta)
            statuses = tick.statuses
    latest = placed["at"].max() if len(placed) else None
    latest_id = int(placed["position_id"].max()) if len(placed) else None
    return UnitLayer(data, order, statuses, int((placed["status"] != OFF_DUTY).sum()), len(units), latest, latest_id)


@dataclass(frozen=True)
class UnitTick:
    delta: dict                  # what assets/live_map.js `applyTick` applies to the units layer
    statuses: dict[str, str]     # every drawn unit's status key after the tick ("gone": hidden)
    latest: dt.datetime | None   # the newest position sent
    latest_id: int | None = None  # the newest position row sent

    @property
    def on_duty(self) -> int:
        return on_duty(self.statuses)


def unit_tick(db: Database, city: str, order: list[int], known: dict[str, str], lang: str, datum: str,
              at: dt.datetime | None = None, after_id: int | None = None
              ) -> UnitTick | None:
    """What changed in the units layer (`order`: the unit id of each feature; `known`: their status keys), or None
    when nothing did: live, the units whose latest position was stored after the row `after_id`; with `at`
    (playback) every unit where it was at `at`, the units not seen yet hidden.

    The delta is compact: indexes into the layer's features with new coordinates, and whole features only for the
    units whose status or case changed (their popups change), so the boundaries, stations and clustered layers are
    never sent again."""
    index = {unit: i for i, unit in enumerate(order)}
    changed = (live.unit_states(db, city, after_id=after_id) if at is None
               else live.unit_states(db, city, at=at))
    changed = changed[changed["unit_id"].isin(index)].reset_index(drop=True)
    gone = changed[changed["lon"].isna()]
    changed = changed[changed["lon"].notna()].reset_index(drop=True)
    if changed.empty and gone.empty:
        return None
    lon, lat = shifted(changed["lon"], changed["lat"], datum)
    statuses = {**status_keys(changed), **{str(int(u)): GONE for u in gone["unit_id"]}}
    turned = changed.loc[[known.get(str(u)) != statuses[str(u)] for u in changed["unit_id"]]]
    cases = live.cases(db, [int(c) for c in turned["case_id"].dropna()])
    full = {str(index[f["properties"]["uid"]]): f for f in units_geojson(turned, cases, lang, datum)["features"]}
    full.update({str(index[int(u)]): hidden_unit(int(u)) for u in gone["unit_id"] if known.get(str(int(u))) != GONE})
    delta = {"i": [index[int(u)] for u in changed["unit_id"]], "x": [round(float(v), 5) for v in lon],
             "y": [round(float(v), 5) for v in lat], "full": full}
    latest = changed["at"].max() if len(changed) else None
    latest_id = int(changed["position_id"].max()) if len(changed) else None
    return UnitTick(delta, {**known, **statuses}, latest, latest_id)
