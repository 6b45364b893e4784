"""The wall's "now" strip and its builders: today's alerts so far, the same clock time yesterday and a week before,
today's open alerts, the units and the latest rescue, each against a raw SQL count of the demo database; deltas that
say what they compare with; durations in hours and minutes; the map zoomed to the units; the product's "近30天"."""

from __future__ import annotations

import datetime as dt
import importlib

import pandas as pd
import plotly.graph_objects as go
import pytest
from sqlalchemy import delete, text

from base.settings import load_settings
from components import wall as w
from dashboard.app import create_app
from data_access import live, metrics, now
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.filters import Filters, resolve_range
from data_access.models import RescueMission, RescueOutcome
from data_access.timeutil import local_day, local_midnight_utc, local_today, utcnow
from tests.servers import fresh_database_url

ZHANGZHOU, CHONGQING = "350600", "500000"
ALERTS_SQL = """SELECT COUNT(*) FROM accident_case WHERE city_adcode = :city AND channel IN ('police_call', 'patrol')
                AND local_day = :day AND reported_at <= :at"""


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    """Both demo cities for the last 10 days up to now at a fifth of the volume; no cache, so every call is SQL."""
    db = Database(fresh_database_url(tmp_path_factory.mktemp("wallnow")), QueryCache.from_url("null"))
    build_demo(db, scale=0.2, start=local_today() - dt.timedelta(days=10), end=utcnow())
    return db


def raw(db: Database, sql: str, **params) -> int:
    """A count by hand-written SQL; times compared as the stored text on SQLite, as timestamps on PostgreSQL."""
    params = {k: (v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, dt.datetime)
                  and db.engine.dialect.name == "sqlite" else v) for k, v in params.items()}
    with db.engine.connect() as connection:
        return int(connection.execute(text(sql), params).scalar())


def raw_alerts(db: Database, city: str, at: dt.datetime) -> int:
    return raw(db, ALERTS_SQL, city=city, day=local_day(at), at=at)


def city_window(city: str) -> Filters:
    return Filters(city=city, start=local_today(), end=local_today(), comparison="none")


# an evening (plenty of alerts so far) and now, both cut to the minute as the wall asks
MOMENTS = {"evening": lambda: local_midnight_utc(local_today()) - dt.timedelta(hours=4),
           "now": lambda: now.minute_of(utcnow())}


@pytest.mark.parametrize("city", [ZHANGZHOU, CHONGQING])
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_wall_now001_alerts_so_far_match_raw_counts(db, city, moment):
    at = MOMENTS[moment]()
    figures = now.alerts_now(db, city_window(city), at)
    assert figures.today == raw_alerts(db, city, at)
    assert figures.yesterday == raw_alerts(db, city, at - dt.timedelta(days=1))
    assert figures.last_week == raw_alerts(db, city, at - dt.timedelta(days=7))
    if moment == "evening":
        assert min(figures.today, figures.yesterday, figures.last_week) > 0


def test_wall_now002_a_whole_day_so_far_is_the_days_alerts_metric(db):
    """One definition: cut at the day's last instant, "so far" is the alerts metric of that day (the rollup)."""
    day = local_today() - dt.timedelta(days=2)
    last_instant = local_midnight_utc(day + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)
    whole_day = Filters(city=CHONGQING, start=day, end=day, comparison="none")
    assert now.alerts_so_far(db, whole_day, last_instant) == metrics.accident_alerts(db, whole_day) > 0


def test_wall_now003_open_alerts_by_stage_match_raw_counts(db):
    at = MOMENTS["evening"]()
    figures = now.alerts_now(db, city_window(CHONGQING), at)
    common = ("city_adcode = :city AND channel IN ('police_call', 'patrol') AND local_day = :day "
              "AND reported_at <= :at")
    on_scene = raw(db, f"""SELECT COUNT(*) FROM accident_case WHERE {common} AND on_scene_at <= :at
                           AND (cleared_at IS NULL OR cleared_at > :at)""", city=CHONGQING, day=local_day(at), at=at)
    awaiting = raw(db, f"""SELECT COUNT(*) FROM accident_case WHERE {common}
                           AND (on_scene_at IS NULL OR on_scene_at > :at) AND (cleared_at IS NULL OR cleared_at > :at)
                           AND (liability_at IS NULL OR liability_at > :at)""",
                   city=CHONGQING, day=local_day(at), at=at)
    assert figures.open == {"awaiting": awaiting, "on_scene": on_scene}
    frame = now.today_alerts(db, city_window(CHONGQING), at)
    assert len(frame) == figures.today and set(frame["stage"]) <= {"awaiting", "on_scene", "closed"}


def test_wall_now004_units_by_status_match_the_latest_positions(db):
    states = live.unit_states(db, ZHANGZHOU)
    units = now.units_now(states)
    latest = """SELECT p.status, COUNT(*) FROM unit_position p JOIN rider_unit u ON u.id = p.unit_id
                JOIN (SELECT unit_id, MAX(at) AS at FROM unit_position GROUP BY unit_id) l
                  ON l.unit_id = p.unit_id AND l.at = p.at
                WHERE u.city_adcode = :city GROUP BY p.status"""
    with db.engine.connect() as connection:
        by_status = {str(s).lower(): int(n) for s, n in connection.execute(text(latest), {"city": ZHANGZHOU})}
    assert units.patrolling == by_status.get("patrolling", 0)
    assert units.busy == by_status.get("en_route", 0) + by_status.get("on_scene", 0)
    assert units.on_duty == units.patrolling + units.busy == sum(by_status.values()) - by_status.get("off_duty", 0)


def test_wall_now005_latest_rescue_is_the_newest_request(db):
    at = now.minute_of(utcnow())
    requested = at - dt.timedelta(minutes=20)
    with db.transaction() as session:
        session.add(RescueMission(source="wall-now-test", external_id="N1", city_adcode=CHONGQING,
                                  district_adcode="500103", requested_at=requested, local_day=local_day(requested),
                                  takeoff_at=requested + dt.timedelta(minutes=4),
                                  on_scene_at=requested + dt.timedelta(minutes=30), outcome=RescueOutcome.UNKNOWN))
    try:
        latest = now.latest_rescue(db, CHONGQING, at)
        newest = raw(db, "SELECT id FROM rescue_mission WHERE city_adcode = :city AND requested_at <= :at "
                         "ORDER BY requested_at DESC, id DESC LIMIT 1", city=CHONGQING, at=at)
        assert latest["id"] == newest
        assert latest["requested_at"] == requested and latest["name_zh"] == "渝中区"
        assert latest["stage"] == "takeoff_at"            # on scene in ten minutes: not yet
    finally:
        with db.transaction() as session:
            session.execute(delete(RescueMission).where(RescueMission.source == "wall-now-test"))
    assert now.latest_rescue(db, CHONGQING, dt.datetime(2000, 1, 1)) is None


def strip_text(component) -> str:
    """Every string in a Dash component tree, joined."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(strip_text(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else strip_text(children)


def test_wall_now006_every_delta_says_what_it_compares_with():
    at = dt.datetime(2026, 6, 1, 6, 30)            # 14:30 in Shanghai
    alerts = now.AlertsNow(at, today=43, yesterday=31, last_week=50, open={"awaiting": 3, "on_scene": 5})
    units = now.UnitsNow(on_duty=70, patrolling=61, busy=9)
    rescue = {"id": 1, "district_adcode": "500103", "name_zh": "渝中区", "name_en": "Yuzhong",
              "requested_at": dt.datetime(2026, 5, 30, 1, 5), "stage": "hospital_at"}
    zh = strip_text(w.now_strip(alerts, units, rescue, "zh"))
    assert "今日警情 · 截至 14:30" in zh
    assert "较昨日同时段 +12 起（+38.7%）" in zh
    assert "较上周同日同时段 -7 起（-14.0%）" in zh
    assert "待到场" in zh and "现场处置" in zh and "在岗" in zh and "巡逻" in zh and "出警" in zh
    assert "05-30 09:05" in zh and "渝中区 · 送达医院" in zh
    small = now.AlertsNow(at, today=4, yesterday=7, last_week=0, open={"awaiting": 0, "on_scene": 0})
    en = strip_text(w.now_strip(small, units, None, "en"))
    assert "vs same time yesterday -3" in en and "%" not in en         # too small a base for a percentage
    assert "vs same time last week +4 Open" in en and "none yet" in en


def test_wall_now007_durations_read_in_hours_and_minutes_past_two_hours():
    assert w.duration_text(2634, "zh") == "43 小时 54 分"
    assert w.duration_text(2634, "en") == "43 h 54 min"
    assert w.duration_text(95.5, "zh") == "95.5 分钟"
    frame = pd.DataFrame({"stage": ["to_scene", "payout"], "count": [10, 10], "p50": [8.0, 300.0],
                          "p90": [15.0, 2634.0], "p99": [30.0, 5000.0], "fastest": [1.0, 20.0]})
    figure = w.stages_figure(frame, "zh", "近 30 日")
    labels = [label for bar in figure.data for label in bar.text]
    assert "43 小时 54 分" in labels and not any("2,634" in label for label in labels)
    ticks = list(figure.layout.xaxis.ticktext)
    assert "1 时" in ticks and "1 天" in ticks and not any("," in tick for tick in ticks)


def font_sizes(figure: go.Figure) -> list[float]:
    """Every font size a figure sets for text a person reads (ticks, titles, legend, bars, annotations)."""
    layout = figure.layout
    sizes = [layout.font.size, layout.title.font.size, layout.title.subtitle.font.size, layout.legend.font.size,
             layout.xaxis.tickfont.size, layout.yaxis.tickfont.size]
    sizes += [a.font.size for a in layout.annotations]
    sizes += [trace.textfont.size for trace in figure.data if getattr(trace, "textfont", None) is not None
              and trace.textfont.size is not None]
    return sizes


def test_wall_now008_no_figure_text_under_24_px_at_1080p():
    frame = pd.DataFrame({"stage": ["to_scene"], "count": [5], "p50": [8.0], "p90": [15.0], "p99": [30.0],
                          "fastest": [1.0]})
    summary = pd.DataFrame({"district_adcode": ["1"], "name_zh": ["芗城区"], "name_en": ["Xiangcheng"],
                            "alerts": [10], "quick_rate": [0.5]})
    for figure in (w.stages_figure(frame, "zh", "x"), w.districts_figure(summary, "zh", "x"),
                   w.darken(go.Figure(go.Bar(x=[1], y=[2], text=["2"])).add_annotation(text="a"))):
        sizes = font_sizes(figure)
        assert sizes and min(sizes) >= w.MIN_FONT


def test_wall_now009_map_fills_its_panel_zoomed_to_the_units(db):
    grids = live.grids(db, CHONGQING)
    states = live.unit_states(db, CHONGQING)
    placed = states[states["lon"].notna()]
    alerts = now.today_alerts(db, city_window(CHONGQING), MOMENTS["evening"]())
    figure = w.map_figure(metrics.district_geojson(db, CHONGQING), grids, alerts, placed["lon"].tolist(),
                          placed["lat"].tolist(), "zh", "今日")
    assert len(figure.data) == w.UNITS_TRACE
    (west, east), (south, north) = figure.layout.geo.lonaxis.range, figure.layout.geo.lataxis.range
    points = [p for polygon in grids["polygon"] for ring in polygon["coordinates"] for p in ring]
    points += placed[["lon", "lat"]].to_numpy().tolist()
    assert all(west <= x <= east and south <= y <= north for x, y in points)         # every unit and grid shows
    assert east - west < 2.0                    # the units' area, not the whole municipality (about 5.5° wide)
    width = (east - west) * 3.141592653589793 / 180
    height = w._mercator_y(north) - w._mercator_y(south)
    assert width / height == pytest.approx(w.MAP_ASPECT, rel=0.01)                   # fills the panel
    units = w.units_trace(states, "zh")
    symbols = {trace.marker.symbol for trace in figure.data[:w.UNITS_TRACE - 4] if trace.mode == "markers"}
    assert units.marker.symbol == w.UNIT_SYMBOL and symbols == {w.INCIDENT_SYMBOL}    # units differ in shape
    assert not set(w.UNIT_COLOURS.values()) & set(w.INCIDENT_COLOURS.values())      # and in colour


def test_wall_now010_the_walls_30_days_are_the_products_30_days(db):
    create_app(load_settings({}, database_url=db.url, demo=False), db)      # registers the pages
    today = local_today()
    window, day = importlib.import_module("pages.wall").view_filters(ZHANGZHOU)
    assert (window.start, window.end) == resolve_range("30d", today, today)
    assert window.end == today - dt.timedelta(days=1) and window.days == 30
    assert day.start == day.end == today


def test_wall_now014_the_minutes_alerts_over_a_base_map_equal_the_whole_drawing(db):
    """The wall redraws only the alerts and the subtitle each minute, over a base map drawn once per data version:
    the result is the figure drawn whole."""
    grids = live.grids(db, CHONGQING)
    placed = live.unit_states(db, CHONGQING)
    placed = placed[placed["lon"].notna()]
    alerts = now.today_alerts(db, city_window(CHONGQING), MOMENTS["evening"]())
    assert len(alerts) > 0
    args = (metrics.district_geojson(db, CHONGQING), grids)
    units = (placed["lon"].tolist(), placed["lat"].tolist(), "zh")
    whole = w.map_figure(*args, alerts, *units, "今日 18:00").to_dict()
    base = w.map_figure(*args, None, *units, "")
    assert base.to_dict() != whole
    assert w.with_alerts(base.to_dict(), alerts, "zh", "今日 18:00") == whole
