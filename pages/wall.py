"""指挥大屏 Wall display: an unattended, dark, large-type screen for the command centre that rotates through a
playlist of views (`?playlist=overview:30,map:60,payouts:20`, optional `&rush=map:90,overview:30` for rush hours),
refreshes itself, says when its data is late, and gives the whole screen to a new rescue or major accident.

Rotation, the clock, the staleness badge and the interrupt run in the browser (assets/wall.js), so they keep going
when the server does not answer; the server only fills the views' figures and reports the priority events.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from dataclasses import replace

import dash
from dash import Input, Output, Patch, callback, dcc, html, no_update

from base.i18n import normalize_language, t
from components import ids, theme
from components import wall as w
from components.formatting import format_window
from components.trend import trend_figure
from data_access import live, metrics, now, payouts, registry
from data_access.briefing import priority_events
from data_access.cache import cached_query
from data_access.db import Database, DatabaseUnavailable
from data_access.filters import Filters, resolve_range
from data_access.timeutil import local_day, to_local, utcnow
from pages._kit import empty_state_of
from services.runtime import get_settings
from services.view import open_view

# Not in the navigation: the wall is set up once on the command-centre screen by its URL (see docs/wall.md).
PATH = "/wall"
dash.register_page(__name__, path=PATH, title="指挥大屏 · 警保联动", name="wall", title_key="nav.wall", order=90,
                   nav=False)

ROOT = "wall-root"
PLACE = "wall-place"
CLOCK = "wall-clock"
AS_OF = "wall-as-of"
STALE = "wall-stale"
PROBLEMS = "wall-problems"
NOW = "wall-now"
KPIS = "wall-kpis"
TREND = "wall-trend"
STAGES = "wall-stages"
DISTRICTS = "wall-districts"
MAP = "wall-map"
INTERRUPT = "wall-interrupt"
INTERRUPT_BODY = "wall-interrupt-body"
INTERRUPT_MAP = "wall-interrupt-map"
EVENT_IDS = "wall-event-ids"
CHARTS_TICK = "wall-charts-tick"
LIVE_TICK = "wall-live-tick"

CHARTS_MS = 30_000            # charts at most twice a minute
LIVE_MS = 10_000              # priority events and the as-of poll every 10–15 s
JITTER_MS = 5_000             # so that many screens do not ask at the same moment
INTERRUPT_S = 45             # default seconds a priority event holds the screen; ?interrupt=N sets it (5–600)
INTERRUPT_RANGE_S = (5, 600)
INTERRUPT_LOOKBACK = dt.timedelta(minutes=30)
WINDOW = "30d"                # the wall's window is the product's "近30天": resolve_range's 30 days to yesterday


def graph_config() -> dict:
    """No mode bar on an unattended screen; maps read their base topojson from the app's assets (offline)."""
    return {**theme.map_config(), "displayModeBar": False}


def view_filters(city: str, at: dt.datetime | None = None) -> tuple[Filters, Filters]:
    """The product's "近30天" (the 30 days to yesterday, as on `/`) against a year before, and today alone (the day
    of `at`, naive UTC, default now)."""
    today = local_day(at or utcnow())
    start, end = resolve_range(WINDOW, today, today)
    window = Filters(city=city, start=start, end=end, comparison="yoy", range_key=WINDOW)
    return window, replace(window, start=today, end=today, comparison="none", range_key="custom")


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, config=graph_config(), className="wall-graph", responsive=True)


def _view(name: str, lang: str, body) -> html.Section:
    return html.Section(body, id=f"wall-view-{name}", className=f"wall-view wall-view-{name}",
                        **{"data-view": name, "aria-label": t(f"wall.view.{name}", lang)})


def _chips(items: tuple[tuple[str, int], ...], lang: str, which: str) -> html.Ol:
    return html.Ol([html.Li(f"{t(f'wall.view.{name}', lang)} · {seconds}s", className="wall-chip",
                            **{"data-index": str(i)}) for i, (name, seconds) in enumerate(items)],
                   className="wall-chips", **{"data-list": which})


def layout(**query) -> html.Div:
    lang = normalize_language(query.get("lang"), get_settings().language)
    playlist = w.parse_playlist(query.get("playlist") or get_settings().wall_playlist, lang)
    rush = w.parse_playlist(query.get("rush"), lang, default=()) if query.get("rush") else None
    problems = list(playlist.problems) + (list(rush.problems) if rush else [])
    interrupt_s = INTERRUPT_S
    if query.get("interrupt"):
        raw = str(query["interrupt"])[:12]
        low, high = INTERRUPT_RANGE_S
        if raw.isdigit() and low <= int(raw) <= high:
            interrupt_s = int(raw)
        else:
            problems.append(t("wall.bad_interrupt", lang, value=raw, low=low, high=high, default=INTERRUPT_S))
    config = {
        "city": str(query.get("city") or get_settings().default_city)[:6],
        "playlist": [{"view": v, "dwell": s} for v, s in playlist.items],
        "rush": [{"view": v, "dwell": s} for v, s in rush.items] if rush and rush.items else None,
        "rush_hours": w.RUSH_HOURS, "interrupt_s": interrupt_s,
        "poll_ms": LIVE_MS + random.randrange(JITTER_MS),
        "texts": {key: t(f"wall.{key}", lang, time="{time}") for key in ("as_of", "stale", "checking")},
    }
    views = [
        _view("overview", lang, [html.Div(id=KPIS, className="wall-kpis"), _graph(TREND)]),
        _view("payouts", lang, _graph(STAGES)),
        _view("districts", lang, _graph(DISTRICTS)),
        _view("map", lang, _graph(MAP)),
    ]
    interrupt = html.Section([html.Div(id=INTERRUPT_BODY, className="wall-interrupt-body"),
                              dcc.Graph(id=INTERRUPT_MAP, config=graph_config(), className="wall-interrupt-map",
                                        responsive=True)],
                             id=INTERRUPT, className="wall-interrupt", role="alert")
    return html.Div(
        [
            html.Header([html.H1(t("wall.title", lang), className="wall-title"),
                         html.Span(id=PLACE, className="wall-place"),
                         html.Span(id=STALE, className="wall-stale", role="status"),
                         html.Span(id=AS_OF, className="wall-as-of"),
                         html.Span(id=CLOCK, className="wall-clock")], className="wall-top"),
            html.Div([html.Div(p, className="wall-problem") for p in problems], id=PROBLEMS,
                     className="wall-problems"),
            html.Div(id=NOW, className="wall-now", role="status"),
            html.Div([*views, interrupt], className="wall-stage"),
            html.Footer([_chips(playlist.items, lang, "playlist")]
                        + ([_chips(rush.items, lang, "rush")] if rush and rush.items else []), className="wall-foot"),
            dcc.Interval(id=CHARTS_TICK, interval=CHARTS_MS + random.randrange(JITTER_MS)),
            dcc.Interval(id=LIVE_TICK, interval=LIVE_MS + random.randrange(JITTER_MS)),
            html.Span(id=EVENT_IDS, className="wall-event-ids", hidden=True),
        ],
        id=ROOT, className="page page-wall", lang="zh-CN" if lang == "zh" else "en",
        **{"data-wall": json.dumps(config, ensure_ascii=False)},
    )


@callback(
    Output(PLACE, "children"), Output(NOW, "children"), Output(KPIS, "children"), Output(TREND, "figure"),
    Output(STAGES, "figure"), Output(DISTRICTS, "figure"), Output(MAP, "figure"),
    Input(ids.URL, "search"), Input(CHARTS_TICK, "n_intervals"),
    running=[(Output(CHARTS_TICK, "disabled"), True, False)],     # never fires again while an update runs
)
def show_views(search, _tick):
    """Every view's figures; when the database is away nothing changes (the badge says the data is late)."""
    try:
        view = open_view(search, PATH)
        if view.filters is None:
            no_city = empty_state_of(view) is not None
            return (t("empty.no_city", view.lang) if no_city else no_update, *(no_update,) * 6)
        lang, city, at = view.lang, view.filters.city, now.minute_of(utcnow())
        window, today = view_filters(city, at)
        overview = registry.kpis(view.db, window, registry.OVERVIEW)
        trend, stages, districts = wall_figures(view.db, window, lang)
        states, units = live_units(view.db, city, lang)
        strip = now_strip(view.db, today, at, states, lang)
        incidents = wall_map(view.db, today, at, lang)
    except DatabaseUnavailable:
        return (no_update,) * 7
    incidents = {**incidents, "data": [*incidents["data"], units]}
    return view.city_name, strip, w.kpi_tiles(overview, lang), trend, stages, districts, incidents


@cached_query
def wall_figures(db: Database, window: Filters, lang: str) -> tuple[dict, ...]:
    """The wall's window figures as plain dicts: the same for every screen of a city, so 50 walls cost one drawing
    per data version instead of 50 (restyling a figure for the wall is most of its cost)."""
    span = t("wall.window.30d", lang, window=format_window(window.start, window.end, lang))
    trend = trend_figure(metrics.daily_trend(db, window), metrics.duty_periods(db, window), lang, span)
    stages = w.stages_figure(payouts.stage_clocks(db, window), lang, span)
    districts = w.districts_figure(metrics.district_summary(db, window), lang, span)
    return w.darken(trend).to_dict(), stages.to_dict(), districts.to_dict()


@cached_query
def wall_map_base(db: Database, city: str, lang: str) -> dict:
    """The map view without alerts or units: the district outlines, the patrol grids and the labels, zoomed to where
    the units patrol; drawn once per data version for every wall of a city."""
    placed = live.unit_states(db, city)
    placed = placed[placed["lon"].notna()]
    return w.map_figure(metrics.district_geojson(db, city), live.grids(db, city), None, placed["lon"].tolist(),
                        placed["lat"].tolist(), lang, "").to_dict()


@cached_query
def wall_map(db: Database, today: Filters, at: dt.datetime, lang: str) -> dict:
    """The map view without its units: today's alerts up to the minute `at` over `wall_map_base`; one set of alert
    traces per data version and minute for every wall of a city."""
    subtitle = t("wall.window.today_until", lang, day=today.start.isoformat(), time=to_local(at).strftime("%H:%M"))
    return w.with_alerts(wall_map_base(db, today.city, lang), now.today_alerts(db, today, at), lang, subtitle)


def now_strip(db: Database, today: Filters, at: dt.datetime, states, lang: str) -> list:
    """The "now" strip: the alerts and the latest rescue cached per data version and minute, the units live."""
    return w.now_strip(now.alerts_now(db, today, at), now.units_now(states), now.latest_rescue(db, today.city, at),
                       lang)


UNITS_FRESH_S = 2.0           # the units' positions of a city are read at most every 2 s, however many walls ask
_units_memo: dict[tuple[str, str, str], tuple[float, tuple]] = {}
_units_lock = threading.Lock()


def live_units(db: Database, city: str, lang: str) -> tuple:
    """The city's units now (live.unit_states) and the map's units trace as a dict, shared by the walls for 2 s."""
    key = (db.identity, city, lang)
    with _units_lock:
        memo = _units_memo.get(key)
    if memo is not None and time.monotonic() - memo[0] < UNITS_FRESH_S:
        return memo[1]
    states = live.unit_states(db, city)
    value = (states, w.units_trace(states, lang).to_plotly_json())
    with _units_lock:
        _units_memo[key] = (time.monotonic(), value)
    return value


@callback(
    Output(EVENT_IDS, "children"), Output(INTERRUPT_BODY, "children"), Output(INTERRUPT_MAP, "figure"),
    Input(ids.URL, "search"), Input(LIVE_TICK, "n_intervals"),
    running=[(Output(LIVE_TICK, "disabled"), True, False)],
)
def show_priority_events(search, _tick):
    """The rescues and major accidents of the last 30 minutes; the newest fills the interrupt panel, and the
    browser shows it when its id is new."""
    try:
        view = open_view(search, PATH)
        if view.filters is None:
            return no_update, no_update, no_update
        since = (utcnow() - INTERRUPT_LOOKBACK).replace(second=0, microsecond=0)
        events = priority_events(view.db, view.filters.city, since)
        if not events:
            return "[]", no_update, no_update
        newest = events[0]
        place = w.location_figure(metrics.district_geojson(view.db, view.filters.city), newest, view.lang)
    except DatabaseUnavailable:
        return no_update, no_update, no_update
    return json.dumps([e["id"] for e in events]), w.interrupt_children(newest, view.lang), place


@callback(
    Output(MAP, "figure", allow_duplicate=True), Output(NOW, "children", allow_duplicate=True),
    Input(ids.URL, "search"), Input(LIVE_TICK, "n_intervals"),
    prevent_initial_call=True,
)
def move_units(search, _tick):
    """Every 10–15 s: the "now" strip, and of the map only the rider units' positions and colours, never the rest."""
    try:
        view = open_view(search, PATH)
        if view.filters is None:
            return no_update, no_update
        at = now.minute_of(utcnow())
        _, today = view_filters(view.filters.city, at)
        states, units = live_units(view.db, view.filters.city, view.lang)
        strip = now_strip(view.db, today, at, states, view.lang)
    except DatabaseUnavailable:
        return no_update, no_update
    patch = Patch()
    patch["data"][w.UNITS_TRACE]["lon"] = units["lon"]
    patch["data"][w.UNITS_TRACE]["lat"] = units["lat"]
    patch["data"][w.UNITS_TRACE]["text"] = units["text"]
    patch["data"][w.UNITS_TRACE]["marker"]["color"] = units["marker"]["color"]
    return patch, strip
