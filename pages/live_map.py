"""实时地图 Live map: district boundaries (the offline base map), patrol grids, booths, rider units by vehicle and
status, claim points, stations, incidents of the window by stage (clustered when many), accident density, helicopter
rescue routes; units refresh every 10–15 s by patching only the units that moved.

The URL holds the state as on every page (city, window, districts, lang) plus `mission=<rescue id>` to focus a
rescue route. A URL that names no window shows today: the map is live; the filter bar's window widens it."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

import dash
import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from base.i18n import normalize_language, t
from components import ids
from components import live_map as lm
from components.messages import database_unavailable_message
from components.theme import BRAND
from components.urlstate import page_address, parse_search, toggle_district
from data_access import live_layers
from data_access.db import DatabaseUnavailable
from data_access.timeutil import local_midnight_utc, utcnow
from pages._kit import empty_state_of
from services.runtime import get_db, get_settings
from services.view import may_see_city, open_view

PATH = "/map"
dash.register_page(__name__, path=PATH, title="实时地图 · 警保联动", name="map", title_key="nav.map", order=10,
                   default_range="today",      # the live map: now, unless the URL names a window
                   libraries=("dash_leaflet",))  # fetched as the page starts (dashboard/frontend.py, ON_DEMAND)

PROBLEMS = "map-problems"
HEADING = "map-heading"
WINDOW = "map-window"
STATUS = "map-status"
CRUMBS = "map-breadcrumb"
ADDRESS = "map-url"
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
OFF_BY_DEFAULT = {"density"}

GRID_STYLE = {"color": BRAND, "weight": 2, "fillColor": BRAND, "fillOpacity": 0.08, "dashArray": "4 3"}
DISTRICT_STYLE = {"color": "#5b6675", "weight": 1.2, "fillColor": "#f4f1ea", "fillOpacity": 0.55}
RESCUE_STYLE = {"color": "#e65100", "weight": 3, "dashArray": "8 6"}


def layer_id(layer: str) -> str:
    return LAYER_ID.format(layer=layer)


CHINA_CENTRE = (104.2, 35.9)        # where the map opens while the database holds no city yet
def _city(query: dict) -> str | None:
    return live_layers.map_city(get_db(), query.get("city"), get_settings().default_city)


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
    try:
        city = _city(query)
        lon, lat = live_layers.city_centres(get_db()).get(city, CHINA_CENTRE)
    except DatabaseUnavailable:
        city, (lon, lat) = None, CHINA_CENTRE
    day = playback_day(query.get("date"))
    leaflet = dl.Map(
        [*lm.base_layers(settings.tile_url, settings.tile_attribution),
         dl.LayersControl(_layers(lang), collapsed=True, id="map-layers", position="topright",
                          overlays=[t(f"live_map.layer.{n}", lang) for n in lm.LAYERS if n not in OFF_BY_DEFAULT]),
         dl.ScaleControl(position="bottomleft", imperial=False)],
        id=MAP, center=[lat, lon], zoom=live_layers.tuning(city or "").zoom, minZoom=6, maxZoom=18, preferCanvas=False,
        attributionControl=bool(settings.tile_url), className="lm-map",
    )
    return html.Div(
        [
            page_address(ADDRESS),
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
LAYER_OUTPUTS = ("districts", "grids", "booths", "units", "claim_points", "vehicle_admin", "persuasion", "incidents",
                 "density", "rescue", "rescue-sites")
MAP_OUTPUTS = (
    Output(PROBLEMS, "children"), Output(HEADING, "children"), Output(WINDOW, "children"),
    Output(STATUS, "children"), Output(CRUMBS, "children"),
    *[Output(layer_id(name), "data") for name in LAYER_OUTPUTS],
    Output(layer_id("incidents"), "cluster"), Output(layer_id("density"), "hideout"),
    Output(layer_id("incidents"), "hideout"),
    Output(MAP, "viewport"), Output(UNIT_STATE, "data"),
)


@callback(*MAP_OUTPUTS, Input(ids.URL, "search"), Input(ids.REFRESH, "n_intervals"))
def show_map(search, _refresh):
    settings = get_settings()
    datum = settings.tile_datum
    query = parse_search(search)
    try:
        view = open_view(search, PATH)
        lang = view.lang
        if view.filters is None:
            head = (empty_state_of(view) or view.unavailable_message(), t("nav.map", lang), "", "", None)
            return (*head, *[no_update] * (len(MAP_OUTPUTS) - len(head)))
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
        live_today = day is None and filters.range_key == "today"
        mission_raw = query.get("mission") or ""
        layers = live_layers.map_layers(db, filters, lang, datum, now, mission_raw)
        units = live_layers.unit_layer(db, filters.city, lang, datum, day_start=at)
    except DatabaseUnavailable:
        lang = normalize_language(query.get("lang"), settings.language)
        return (database_unavailable_message(lang), *[no_update] * (len(MAP_OUTPUTS) - 1))

    data = {**layers.data, "units": units.data}
    notes = [_note(n) for n in lm.layer_notes(layers, mission_raw, lang)]
    messages = [m for m in [view.problems_alert(), *notes] if m is not None]
    clock = utcnow()
    if day is None:
        first, stale = lm.time_label(units.latest, lang, now=clock), lm.positions_stale(units.latest, clock)
    else:
        first, stale = t("live_map.playback", lang, day=day.isoformat()), False
    incidents = lm.incidents_text(layers.total, layers.alerts, lang)
    state = {"city": filters.city, "lang": lang, "districts": list(filters.districts), "order": units.order,
             "since": None if units.latest is None else str(units.latest), "since_id": units.latest_id,
             "statuses": units.statuses, "day": None if day is None else day.isoformat(),
             "units": units.units, "incidents": incidents}
    heading = f"{t('nav.map', lang)} · {view.place}"
    if layers.mission is not None:
        heading += f" · {t('live_map.mission', lang, mission=layers.mission)}"
    window = t("live_map.window.today", lang, day=view.window) if live_today else view.window
    # open on the mission's route, else on the patrol grids and the units; a refresh keeps where the reader is
    viewport = layers.viewport or live_layers.fit_viewport(data["grids"], data["units"])
    if ctx.triggered_id == ids.REFRESH and layers.viewport is None:
        viewport = None
    return (messages or None, heading, window,
            lm.status_line(first, units.on_duty, units.units, incidents, lang, stale=stale),
            view.breadcrumb("/map"),
            *[data[name] for name in LAYER_OUTPUTS], layers.cluster, lm.hideout(lang, max=layers.density_max),
            lm.incidents_hideout(lang, until=at), viewport or no_update, state)


def _note(text: str) -> html.Div:
    return html.Div(text, className="alert alert-info py-2 mb-2", role="status")


TICK_OUTPUTS = (Output(UNIT_DELTA, "data"), Output(UNIT_STATE, "data", allow_duplicate=True),
                Output(STATUS, "children", allow_duplicate=True))


@callback(*TICK_OUTPUTS, Input(LIVE, "n_intervals"), State(UNIT_STATE, "data"), prevent_initial_call=True)
def live_tick(_n, state):
    """Send only the units whose latest position was stored after the last one sent (`live_layers.unit_tick`), and
    the status line with the positions' age (stale or not) even when nothing moved."""
    unchanged = (no_update,) * len(TICK_OUTPUTS)
    if not isinstance(state, dict) or not state.get("order") or not may_see_city(state.get("city"), PATH):
        return unchanged
    since_id = state.get("since_id")
    if since_id is not None and not isinstance(since_id, int):
        return unchanged                 # not what the page stored: a forged request
    lang = state.get("lang", "zh")
    try:
        tick = live_layers.unit_tick(get_db(), state["city"], state["order"], state.get("statuses") or {}, lang,
                                     get_settings().tile_datum, after_id=since_id)
    except DatabaseUnavailable:
        return unchanged
    try:
        latest = dt.datetime.fromisoformat(state["since"]) if state.get("since") else None
    except (TypeError, ValueError):
        latest = None
    delta, new_state, statuses = no_update, no_update, state.get("statuses") or {}
    if tick is not None:
        latest = latest if tick.latest is None else max(filter(None, (latest, tick.latest)))
        new_state = {**state, "statuses": tick.statuses, "since": None if latest is None else str(latest),
                     "since_id": tick.latest_id if tick.latest_id is not None else since_id}
        delta, statuses = tick.delta, tick.statuses
    clock = utcnow()
    status = lm.status_line(lm.time_label(latest, lang, now=clock), live_layers.on_duty(statuses),
                            state.get("units", len(state["order"])), str(state.get("incidents", "—")), lang,
                            stale=lm.positions_stale(latest, clock))
    return delta, new_state, status


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
    if minute is not None and not (isinstance(minute, int | float) and 0 <= minute < 1440):
        raise PreventUpdate              # not a minute of the day: a forged request, not the slider
    nxt = int(minute or 0) + 1
    return (1439, True) if nxt >= 1439 else (nxt, no_update)


FRAME_OUTPUTS = (Output(UNIT_DELTA, "data", allow_duplicate=True), Output(UNIT_STATE, "data", allow_duplicate=True),
                 Output(CLOCK_LABEL, "children"), Output(layer_id("incidents"), "hideout", allow_duplicate=True))


@callback(*FRAME_OUTPUTS, Input(CLOCK, "value"), State(UNIT_STATE, "data"), prevent_initial_call=True)
def playback_frame(minute, state):
    """Units where they were at the slider's minute; incidents reported by then, coloured by their stage then."""
    if not isinstance(state, dict) or not state.get("day") or not may_see_city(state.get("city"), PATH):
        return (no_update,) * len(FRAME_OUTPUTS)
    minute = int(minute or 0)
    at = local_midnight_utc(dt.date.fromisoformat(state["day"])) + dt.timedelta(minutes=minute)
    label = f"{minute // 60:02d}:{minute % 60:02d}"
    lang = state.get("lang", "zh")
    hideout = lm.incidents_hideout(lang, until=at)
    try:
        tick = live_layers.unit_tick(get_db(), state["city"], state["order"], state.get("statuses") or {}, lang,
                                     get_settings().tile_datum, at=at)
    except DatabaseUnavailable:
        tick = None
    if tick is None:
        return no_update, no_update, label, hideout
    return tick.delta, {**state, "statuses": tick.statuses}, label, hideout


clientside_callback(
    ClientsideFunction(namespace="jingbaoLiveMap", function_name="applyTick"),
    Output(layer_id("units"), "data", allow_duplicate=True),
    Input(UNIT_DELTA, "data"), State(layer_id("units"), "data"),
    prevent_initial_call=True,
)


@callback(
    Output(ADDRESS, "search"),
    Input(layer_id("districts"), "clickData"), State(ids.URL, "search"),
    prevent_initial_call=True,
)
def focus_district(click, search):
    """A click on a district focuses the map on it (other filters kept); on the focused district, back to the city."""
    latlng = (click or {}).get("latlng")
    if not latlng:
        return no_update
    lat, lon = (latlng["lat"], latlng["lng"]) if isinstance(latlng, dict) else latlng
    try:
        city = _city(parse_search(search))
        district = city and live_layers.district_at(get_db(), city, lon, lat, get_settings().tile_datum)
    except DatabaseUnavailable:
        return no_update
    return toggle_district(search, district) if district else no_update
