"""实时地图 Live map: district boundaries (the offline base map), patrol grids, booths, rider units by vehicle and
status, claim points, stations, incidents of the window by stage (clustered when many), accident density, helicopter
rescue routes; units refresh every 10–15 s by patching only the units that moved.

The URL holds the state as on every page (city, window, districts, lang) plus `mission=<rescue id>` to focus a
rescue route."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

import dash
import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html, no_update
from shapely.geometry import Point, shape

from base.i18n import normalize_language, t
from components import ids
from components import live_map as lm
from components.messages import database_unavailable_message, empty_message
from components.urlstate import parse_search, toggle_district
from data_access import live
from data_access.boundaries import BoundariesMissing, city_center, load_city_boundaries
from data_access.cache import cached_query
from data_access.db import DatabaseUnavailable
from data_access.filters import Filters
from data_access.geo import gcj02_to_wgs84
from data_access.timeutil import local_midnight_utc, utcnow
from services.runtime import get_db, get_settings
from services.view import open_view

dash.register_page(__name__, path="/map", title="实时地图 · 警保联动", name="map", title_key="nav.map", order=10)

PROBLEMS = "map-problems"
HEADING = "map-heading"
WINDOW = "map-window"
STATUS = "map-status"
CRUMBS = "map-breadcrumb"
MAP = "map-map"
LIVE = "map-live"
UNIT_STATE = "map-unit-state"
UNIT_DELTA = "map-unit-delta"
PLAYBACK_BAR = "map-playback-bar"
PLAY = "map-play"
CLOCK = "map-clock"
CLOCK_LABEL = "map-clock-label"
PLAYBACK = "map-playback"
PLAYBACK_MS = 1_000          # one real second is one minute of the day: ×60
LAYER_ID = "map-layer-{layer}"
TICK_MIN_MS, TICK_JITTER_MS = 10_000, 5_000
DENSITY_HEX_DEG = {"350600": 0.012, "500000": 0.03}
ZOOM = {"350600": 11, "500000": 9}
OFF_BY_DEFAULT = {"density"}

GRID_STYLE = {"color": "#1f5fa8", "weight": 2, "fillColor": "#1f5fa8", "fillOpacity": 0.08, "dashArray": "4 3"}
DISTRICT_STYLE = {"color": "#5b6675", "weight": 1.2, "fillColor": "#f4f1ea", "fillOpacity": 0.55}
RESCUE_STYLE = {"color": "#e65100", "weight": 3, "dashArray": "8 6"}


def layer_id(layer: str) -> str:
    return LAYER_ID.format(layer=layer)


def _city(query: dict) -> str:
    city = query.get("city") or get_settings().default_city
    try:
        city_center(city)
    except (BoundariesMissing, KeyError, OSError):
        city = get_settings().default_city
    return city


def _layers(lang: str) -> list[dl.Overlay]:
    """Every overlay, empty until the callback fills it; ids stay the same so a tick can patch one of them."""
    empty = {"type": "FeatureCollection", "features": []}
    gj = lm.geojson_layer
    layers = {
        "districts": gj(layer_id("districts"), empty, lang, each="districtTooltip", style=DISTRICT_STYLE),
        "grids": gj(layer_id("grids"), empty, lang, each="gridTooltip", style=GRID_STYLE),
        "booths": gj(layer_id("booths"), empty, lang, point="station", each="stationPopup"),
        "units": gj(layer_id("units"), empty, lang, point="unit", each="unitPopup", filter_fn="unitFilter"),
        "claim_points": gj(layer_id("claim_points"), empty, lang, point="station", each="stationPopup"),
        "vehicle_admin": gj(layer_id("vehicle_admin"), empty, lang, point="station", each="stationPopup"),
        "persuasion": gj(layer_id("persuasion"), empty, lang, point="station", each="stationPopup", cluster=True,
                         cluster_kind="persuasion"),
        "incidents": gj(layer_id("incidents"), empty, lang, point="incident", each="incidentPopup",
                        filter_fn="playbackFilter"),
        "density": gj(layer_id("density"), empty, lang, style_fn="hexStyle", each="hexTooltip"),
        "rescue": [gj(layer_id("rescue"), empty, lang, each="rescuePopup", style=RESCUE_STYLE),
                   gj(layer_id("rescue-sites"), empty, lang, point="station", each="stationPopup")],
    }
    return [lm.overlay(t(f"live_map.layer.{name}", lang), layers[name], checked=name not in OFF_BY_DEFAULT)
            for name in lm.LAYERS]


def playback_day(raw: str | None) -> dt.date | None:
    """The local day `date=YYYY-MM-DD` names, or None (live)."""
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except (TypeError, ValueError):
        return None


def playback_bar(lang: str, day: dt.date | None) -> html.Div:
    """Play/pause and a time slider over the day (minutes from local midnight); hidden when live."""
    marks = {m: f"{m // 60:02d}:00" for m in range(0, 1440, 180)}
    return html.Div(
        [html.Button(t("live_map.play", lang), id=PLAY, n_clicks=0, className="btn btn-sm btn-primary lm-play",
                     **{"aria-label": t("live_map.play.label", lang)}),
         html.Span("00:00", id=CLOCK_LABEL, className="lm-clock"),
         html.Div(dcc.Slider(id=CLOCK, min=0, max=1439, step=1, value=0, marks=marks, updatemode="drag",
                             tooltip={"always_visible": False}), className="lm-slider",
                  **{"aria-label": t("live_map.clock.label", lang)})],
        id=PLAYBACK_BAR, className="lm-playback", style=None if day else {"display": "none"},
    )


def layout(**query) -> html.Div:
    settings = get_settings()
    lang = normalize_language(query.get("lang"), settings.language)
    city = _city(query)
    day = playback_day(query.get("date"))
    lon, lat = city_center(city)
    leaflet = dl.Map(
        [*lm.base_layers(settings.tile_url, settings.tile_attribution),
         dl.LayersControl(_layers(lang), collapsed=False, id="map-layers",
                          overlays=[t(f"live_map.layer.{n}", lang) for n in lm.LAYERS if n not in OFF_BY_DEFAULT]),
         dl.ScaleControl(position="bottomleft", imperial=False)],
        id=MAP, center=[lat, lon], zoom=ZOOM.get(city, 10), minZoom=6, maxZoom=18, preferCanvas=False,
        attributionControl=bool(settings.tile_url), className="lm-map",
    )
    return html.Div(
        [
            html.Div(id=PROBLEMS),
            html.Div([html.H1(t("nav.map", lang), id=HEADING, className="page-title"),
                      html.P(id=WINDOW, className="page-window"),
                      html.P(id=STATUS, className="page-window lm-status", **{"aria-live": "polite"}),
                      html.Div(id=CRUMBS)], className="page-head"),
            playback_bar(lang, day),
            html.Div([leaflet, lm.legend(lang)], className="lm-frame", role="region",
                     **{"aria-label": t("live_map.label", lang)}),
            html.P(t("live_map.district.hint", lang), className="figure-hint"),
            dcc.Interval(id=LIVE, interval=TICK_MIN_MS + random.randrange(TICK_JITTER_MS), disabled=day is not None),
            dcc.Interval(id=PLAYBACK, interval=PLAYBACK_MS, disabled=True),
            dcc.Store(id=UNIT_STATE),
            dcc.Store(id=UNIT_DELTA),
        ],
        className="page page-live-map",
    )


# ------------------------------------------------------------------------------------------------ callbacks
OUTPUTS = ("districts", "grids", "booths", "units", "claim_points", "vehicle_admin", "persuasion", "incidents",
           "density", "rescue", "rescue-sites")


@callback(
    Output(PROBLEMS, "children"), Output(HEADING, "children"), Output(WINDOW, "children"),
    Output(STATUS, "children"), Output(CRUMBS, "children"),
    *[Output(layer_id(name), "data") for name in OUTPUTS],
    Output(layer_id("incidents"), "cluster"), Output(layer_id("density"), "hideout"),
    Output(layer_id("incidents"), "hideout"),
    Output(MAP, "viewport"), Output(UNIT_STATE, "data"),
    Input(ids.URL, "search"), Input(ids.REFRESH, "n_intervals"),
)
def show_map(search, _refresh):
    settings = get_settings()
    datum = settings.tile_datum
    query = parse_search(search)
    try:
        view = open_view(search)
        lang = view.lang
        if view.filters is None:
            return (empty_message(lang), t("nav.map", lang), "", "", None, *[no_update] * len(OUTPUTS),
                    *[no_update] * 5)
        db, filters = view.db, view.filters
        now = utcnow().replace(second=0, microsecond=0)
        day = playback_day(query.get("date"))
        at = None
        if day is not None:
            filters = replace(filters, start=day, end=day)
            view = replace(view, filters=filters)
            at = local_midnight_utc(day)
            now = min(now, at + dt.timedelta(days=1))          # stages as the day ended; the clock shows each
        elif query.get("date"):
            view = replace(view, problems=(*view.problems, f"bad_date:{query.get('date')}"))
        layers = map_layers(db, filters, lang, datum, now, query.get("mission") or "")
        if at is None:
            units = live.unit_states(db, filters.city)
        else:        # playback: every unit seen by the end of the day, where it was at midnight (or hidden)
            units = live.unit_states(db, filters.city, at=at + dt.timedelta(days=1))
        busy_cases = [int(c) for c in units["case_id"].dropna()]
        unit_data = lm.units_geojson(units, live.cases(db, busy_cases), lang, datum)
    except DatabaseUnavailable:
        lang = normalize_language(query.get("lang"), settings.language)
        return (database_unavailable_message(lang), *[no_update] * (4 + len(OUTPUTS) + 5))

    placed = units[units["lon"].notna()]
    statuses = lm.status_keys(placed)
    if at is not None and len(placed):
        order = [int(u) for u in placed["unit_id"]]
        delta, _, _ = tick_delta(db, {"city": filters.city, "lang": lang, "order": order, "statuses": statuses},
                                 datum, at=at)
        unit_data = lm.apply_delta(unit_data, delta)
        statuses = delta["statuses"]
    data = {**layers.data, "units": unit_data}
    messages = [m for m in [view.problems_alert(), *[_note(n) for n in layers.notes]] if m is not None]
    on_duty = int((placed["status"] != "off_duty").sum())
    latest = placed["at"].max() if len(placed) else None
    first = lm.time_label(latest, lang) if day is None else t("live_map.playback", lang, day=day.isoformat())
    status = " · ".join([first,
                         t("live_map.counts", lang, busy=on_duty, units=len(units), incidents=f"{layers.total:,}")])
    state = {"city": filters.city, "lang": lang, "districts": list(filters.districts),
             "order": [int(u) for u in placed["unit_id"]],
             "since": None if latest is None else str(latest),
             "statuses": statuses, "day": None if day is None else day.isoformat(),
             "units": len(units), "incidents": f"{layers.total:,}"}
    heading = f"{t('nav.map', lang)} · {view.place}" + (f" · {layers.heading}" if layers.heading else "")
    return (messages or None, heading, view.window, status, view.breadcrumb("/map"),
            *[data[name] for name in OUTPUTS], layers.cluster, layers.density_hideout,
            lm.hideout(lang, until=None if at is None else int((at - dt.datetime(1970, 1, 1)).total_seconds() // 60)),
            layers.viewport or no_update, state)


@cached_query
def map_layers(db, filters: Filters, lang: str, datum: str, now: dt.datetime, mission_raw: str) -> lm.MapLayers:
    city = filters.city
    grids = live.grids(db, city)
    stations = live.stations(db, city)
    incidents = live.incidents(db, filters, now)
    rescues = live.rescues(db, city, filters.start, filters.end)
    mission = _mission(db, city, mission_raw)
    notes = []
    boundaries = load_city_boundaries(city)
    if filters.districts:
        chosen = set(filters.districts)
        boundaries["features"] = [f for f in boundaries["features"] if f["properties"]["adcode"] in chosen]
        grids = grids[grids["district_adcode"].isin(chosen)]
        stations = stations[stations["district_adcode"].isin(chosen)]
        rescues = rescues[rescues["district_adcode"].isin(chosen)]
    heading, viewport = "", None
    if mission is not None:
        if mission.empty:
            notes.append(t("live_map.mission.missing", lang, mission=mission_raw))
        else:
            rescues = mission
            heading = t("live_map.mission", lang, mission=int(mission.iloc[0]["mission_id"]))
            route = mission.iloc[0]["route"]
            if route:
                lons, lats = lm.shifted([p[0] for p in route], [p[1] for p in route], datum)
                viewport = {"bounds": [[float(lats.min()), float(lons.min())], [float(lats.max()), float(lons.max())]],
                            "transition": "fitBounds", "options": {"padding": [40, 40]}}
    kinds = stations["kind"]
    size = DENSITY_HEX_DEG.get(city, 0.02)
    cells = live.hexbins(incidents.frame["lon"], incidents.frame["lat"], size)
    data = {
        "districts": lm.districts_geojson(boundaries, lang, datum),
        "grids": lm.grids_geojson(grids, lang, datum),
        "booths": lm.stations_geojson(stations[kinds == "police_booth"], lang, datum),
        "claim_points": lm.stations_geojson(stations[kinds.isin(["claim_point", "quick_centre"])], lang, datum),
        "vehicle_admin": lm.stations_geojson(stations[kinds == "vehicle_admin"], lang, datum),
        "persuasion": lm.stations_geojson(stations[kinds == "persuasion"], lang, datum),
        "incidents": lm.incidents_geojson(incidents.frame, datum),
        "density": lm.density_geojson(cells, size, datum),
        "rescue": lm.rescues_geojson(rescues, datum),
        "rescue-sites": lm.stations_geojson(stations[kinds.isin(["helipad", "hospital"])], lang, datum),
    }
    shown = len(incidents.frame)
    if incidents.total > shown:
        notes.append(t("live_map.capped", lang, total=f"{incidents.total:,}", shown=f"{shown:,}"))
    return lm.MapLayers(data, tuple(notes), incidents.total, shown > lm.CLUSTER_ABOVE,
                     lm.hideout(lang, max=int(cells["count"].max()) if len(cells) else 1), viewport, heading)


def _note(text: str) -> html.Div:
    return html.Div(text, className="alert alert-info py-2 mb-2", role="status")


def _mission(db, city: str, raw: str | None):
    """The rescue mission the URL names (a frame of 0 or 1 rows), or None when it names none."""
    if not raw:
        return None
    try:
        mission = int(raw)
    except ValueError:
        return live.rescues(db, city, mission=-1)
    return live.rescues(db, city, mission=mission)


@callback(
    Output(UNIT_DELTA, "data"), Output(UNIT_STATE, "data", allow_duplicate=True),
    Output(STATUS, "children", allow_duplicate=True),
    Input(LIVE, "n_intervals"), State(UNIT_STATE, "data"),
    prevent_initial_call=True,
)
def live_tick(_n, state):
    """Send only the units whose position or status changed since the last tick (see `tick_delta`)."""
    if not state or not state.get("order"):
        return no_update, no_update, no_update
    try:
        return tick_delta(get_db(), state, get_settings().tile_datum)
    except DatabaseUnavailable:
        return no_update, no_update, no_update


def tick_delta(db, state: dict, datum: str, at: dt.datetime | None = None) -> tuple:
    """(delta, new state, status text) for one live tick, or three no_updates when nothing changed.

    The delta is compact: indexes into the units layer's features with new coordinates, and whole features only
    for the units whose status or case changed (their popups change). assets/live_map.js applies it in the
    browser, so the boundaries, stations and clustered layers are never sent again. With `at` (playback) every
    unit is placed where it was at `at`, and the units not seen yet are hidden."""
    lang = state.get("lang", "zh")
    index = {unit: i for i, unit in enumerate(state["order"])}
    if at is None:
        since = dt.datetime.fromisoformat(state["since"]) if state.get("since") else None
        changed = live.unit_states(db, state["city"], since=since)
    else:
        changed = live.unit_states(db, state["city"], at=at)
    changed = changed[changed["unit_id"].isin(index)].reset_index(drop=True)
    gone = changed[changed["lon"].isna()]
    changed = changed[changed["lon"].notna()].reset_index(drop=True)
    if changed.empty and gone.empty:
        return no_update, no_update, no_update
    lon, lat = lm.shifted(changed["lon"], changed["lat"], datum)
    known = state.get("statuses") or {}
    statuses = {**lm.status_keys(changed), **{str(int(u)): "gone" for u in gone["unit_id"]}}
    turned = changed.loc[[known.get(str(u)) != statuses[str(u)] for u in changed["unit_id"]]]
    cases = live.cases(db, [int(c) for c in turned["case_id"].dropna()])
    full = {str(index[f["properties"]["uid"]]): f for f in lm.units_geojson(turned, cases, lang, datum)["features"]}
    full.update({str(index[int(u)]): lm.hidden_unit(int(u)) for u in gone["unit_id"]
                 if known.get(str(int(u))) != "gone"})
    delta = {"i": [index[int(u)] for u in changed["unit_id"]], "x": [round(float(v), 5) for v in lon],
             "y": [round(float(v), 5) for v in lat], "full": full}
    new_state = {**state, "statuses": {**known, **statuses}}
    if at is not None:
        return {**delta, "statuses": new_state["statuses"]}, new_state, no_update
    latest = changed["at"].max()
    return delta, {**new_state, "since": str(latest)}, status_line(new_state, latest, lang)


def status_line(state: dict, latest, lang: str) -> str:
    """"单元位置更新于 … · 在岗单元 75/83 · 窗口内事故 73 起", the on-duty count from the units' latest statuses."""
    on_duty = sum(1 for key in state["statuses"].values() if key.split(":")[0] not in ("off_duty", "gone"))
    counts = t("live_map.counts", lang, busy=on_duty, units=state.get("units", len(state["order"])),
               incidents=state.get("incidents", "—"))
    return " · ".join([lm.time_label(latest, lang), counts])


@callback(
    Output(PLAYBACK, "disabled"), Output(PLAY, "children"),
    Input(PLAY, "n_clicks"), State(PLAYBACK, "disabled"), State(UNIT_STATE, "data"),
    prevent_initial_call=True,
)
def play_pause(_clicks, paused, state):
    lang = (state or {}).get("lang", "zh")
    playing = bool(paused)
    return not playing, t("live_map.pause" if playing else "live_map.play", lang)


@callback(
    Output(CLOCK, "value"), Output(PLAYBACK, "disabled", allow_duplicate=True),
    Input(PLAYBACK, "n_intervals"), State(CLOCK, "value"),
    prevent_initial_call=True,
)
def advance_clock(_n, minute):
    """×60: one minute of the day per second; stops at the end of the day."""
    nxt = int(minute or 0) + 1
    return (1439, True) if nxt >= 1439 else (nxt, no_update)


@callback(
    Output(UNIT_DELTA, "data", allow_duplicate=True), Output(UNIT_STATE, "data", allow_duplicate=True),
    Output(CLOCK_LABEL, "children"), Output(layer_id("incidents"), "hideout", allow_duplicate=True),
    Input(CLOCK, "value"), State(UNIT_STATE, "data"),
    prevent_initial_call=True,
)
def playback_frame(minute, state):
    """Units where they were at the slider's minute; incidents reported by then, coloured by their stage then."""
    if not state or not state.get("day"):
        return no_update, no_update, no_update, no_update
    minute = int(minute or 0)
    at = local_midnight_utc(dt.date.fromisoformat(state["day"])) + dt.timedelta(minutes=minute)
    label = f"{minute // 60:02d}:{minute % 60:02d}"
    hideout = lm.hideout(state.get("lang", "zh"), until=int((at - dt.datetime(1970, 1, 1)).total_seconds() // 60))
    try:
        delta, new_state, _ = tick_delta(get_db(), state, get_settings().tile_datum, at=at)
    except DatabaseUnavailable:
        return no_update, no_update, label, hideout
    return delta, new_state, label, hideout


clientside_callback(
    ClientsideFunction(namespace="jingbaoLiveMap", function_name="applyTick"),
    Output(layer_id("units"), "data", allow_duplicate=True),
    Input(UNIT_DELTA, "data"), State(layer_id("units"), "data"),
    prevent_initial_call=True,
)


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(layer_id("districts"), "clickData"), State(ids.URL, "search"),
    prevent_initial_call=True,
)
def focus_district(click, search):
    """A click on a district focuses the map on it (other filters kept); on the focused district, back to the city."""
    latlng = (click or {}).get("latlng")
    if not latlng:
        return no_update
    lat, lon = (latlng["lat"], latlng["lng"]) if isinstance(latlng, dict) else latlng
    if get_settings().tile_datum == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    city = _city(parse_search(search))
    point = Point(lon, lat)
    for feature in load_city_boundaries(city)["features"]:
        if shape(feature["geometry"]).contains(point):
            return toggle_district(search, feature["properties"]["adcode"])
    return no_update
