"""The live map as a "now" screen: it opens on today and says it counts every channel, units and incidents share no
shape and no colour, the positions' age is shown and marked stale, the map opens on the patrol grids and the units,
and a live tick never misses a position stored within the second of the last one sent."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from sqlalchemy import func, select

from base.settings import load_settings
from components import live_map as lm
from dashboard.app import create_app
from data_access import live, live_layers
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.models import ALERT_CHANNELS, AccidentCase, UnitPosition
from data_access.simulator import Simulator
from data_access.timeutil import local_today, utcnow
from tests.servers import fresh_database_url
from tests.signin import signed_in_client

ZHANGZHOU = "350600"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    db = Database(fresh_database_url(tmp_path_factory.mktemp("livenow")), QueryCache.from_url("null"))
    now = utcnow().replace(microsecond=0)
    build_demo(db, scale=0.01, start=local_today() - dt.timedelta(days=3), end=now - dt.timedelta(minutes=10),
               cities=(ZHANGZHOU,))
    Simulator(db, ZHANGZHOU, seed=3, start=now - dt.timedelta(minutes=10), rate_scale=20).run(300, step_s=15)
    return db


def test_live009_a_position_stored_after_the_tick_within_the_same_second_is_sent(db):
    layer = live_layers.unit_layer(db, ZHANGZHOU, "zh", "wgs84")
    units = live.unit_states(db, ZHANGZHOU)
    newest = units[units["at"] == units["at"].max()].iloc[0]
    moved_lon = round(float(newest["lon"]) + 0.002, 5)
    with db.session() as session:          # the feed stores a second report of the unit in the same second
        session.add(UnitPosition(unit_id=int(newest["unit_id"]), at=pd.Timestamp(newest["at"]).to_pydatetime(),
                                 lon=moved_lon, lat=float(newest["lat"]), status=newest["status"], case_id=None))
        session.commit()
    after = live.unit_states(db, ZHANGZHOU)
    by_time = after[pd.to_datetime(after["at"]) > pd.Timestamp(layer.latest)]
    assert by_time.empty                   # compared by time (as ticks were) the report waits for the unit's next one
    tick = live_layers.unit_tick(db, ZHANGZHOU, layer.order, layer.statuses, "zh", "wgs84", after_id=layer.latest_id)
    index = layer.order.index(int(newest["unit_id"]))
    assert tick.delta["i"] == [index] and tick.delta["x"] == [moved_lon]
    assert tick.latest_id == layer.latest_id + 1
    assert live_layers.unit_tick(db, ZHANGZHOU, layer.order, tick.statuses, "zh", "wgs84",
                                 after_id=tick.latest_id) is None          # and it is sent once


def test_live010_units_and_incidents_share_no_colour_and_no_shape():
    assert not set(lm.STATUS_COLOURS.values()) & set(lm.STAGE_COLOURS.values())
    assert lm.STATUS_COLOURS["patrolling"] != lm.STAGE_COLOURS["paid"]
    legend = json.dumps(lm.legend("zh").to_plotly_json(), default=lambda o: o.to_plotly_json(), ensure_ascii=False)
    assert legend.count("lm-swatch lm-tri") == len(lm.STATUS_COLOURS)            # units: triangles
    assert legend.count("lm-swatch lm-ring") == len(lm.STAGE_COLOURS)            # incidents: circles
    assert "全部事件（含非警情，按环节）" in legend
    script = open("assets/live_map.js", encoding="utf-8").read()
    unit_fn = script[script.index("function unit("):script.index("function unitPopup(")]
    assert "L.divIcon" in unit_fn and "GLYPHS" in unit_fn and "circleMarker" not in unit_fn
    incident_fn = script[script.index("function incident("):script.index("function playbackFilter(")]
    assert "L.circleMarker" in incident_fn


def test_live011_positions_show_their_age_and_are_marked_stale():
    at = dt.datetime(2026, 11, 30, 13, 1, 29)                                    # 21:01:29 in Shanghai
    late = at + dt.timedelta(minutes=28, seconds=10)
    assert lm.time_label(at, "zh", now=late) == "单元位置更新于 21:01:29（28 分钟前） · 已超过 5 分钟未更新"
    assert lm.positions_stale(at, late) and not lm.positions_stale(at, at + dt.timedelta(minutes=4))
    assert lm.time_label(at, "zh", now=at + dt.timedelta(seconds=20)) == "单元位置更新于 21:01:29（刚刚）"
    assert lm.time_label(at, "en", now=at + dt.timedelta(hours=2, minutes=5)) == (
        "Units as of 21:01:29 (2 h 5 min ago) · no report for over 5 min")
    assert lm.time_label(at, "zh", now=at + dt.timedelta(days=3)) == (
        "单元位置更新于 11-30 21:01:29（3 天前） · 已超过 5 分钟未更新")                   # another day: with the date
    line = json.dumps(lm.status_line("x", 3, 5, "y", "zh", stale=True), default=lambda o: o.to_plotly_json(),
                      ensure_ascii=False)
    assert "lm-age lm-stale" in line and "在岗单元 3/5" in line


def test_live012_the_map_opens_on_the_patrol_grids_and_the_units(db):
    grids = live_layers.grids_geojson(live.grids(db, ZHANGZHOU), "zh", "wgs84")
    layer = live_layers.unit_layer(db, ZHANGZHOU, "zh", "wgs84")
    hidden = {**layer.data, "features": [*layer.data["features"], live_layers.hidden_unit(-1)]}    # at [0, 0]
    view = live_layers.fit_viewport(grids, hidden)
    (south, west), (north, east) = view["bounds"]
    vertices = [p for f in grids["features"] for ring in f["geometry"]["coordinates"] for p in ring]
    points = [f["geometry"]["coordinates"] for f in layer.data["features"] if not f["properties"].get("gone")]
    assert all(west <= lon <= east and south <= lat <= north for lon, lat in vertices + points)
    assert min(lon for lon, _ in vertices + points) == west and max(lat for _, lat in vertices + points) == north
    city_box = live_layers.fit_viewport(live_layers.city_boundaries(db, ZHANGZHOU))["bounds"]
    assert (east - west) < (city_box[1][1] - city_box[0][1]) / 2         # the grids, not the whole prefecture
    assert live_layers.fit_viewport({"features": []}) is None


def map_callback(client, app, search: str) -> dict:
    key = next(k for k, cb in app.callback_map.items()
               if any(i["id"] == "app-url" for i in cb["inputs"]) and "map-heading.children" in k)
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]} for o in key[2:-2].split("...")]
    body = {"output": key, "outputs": outputs, "changedPropIds": ["app-url.search"],
            "inputs": [{"id": "app-url", "property": "search", "value": search},
                       {"id": "app-refresh", "property": "n_intervals", "value": 0}]}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    return response.get_json()["response"]


def counts(db, start: dt.date, end: dt.date) -> tuple[int, int]:
    c = AccidentCase.__table__.c
    where = [c.city_adcode == ZHANGZHOU, c.local_day >= start, c.local_day <= end, c.lon.is_not(None),
             c.reported_at <= utcnow()]
    with db.session() as session:
        total = session.execute(select(func.count()).where(*where)).scalar()
        alerts = session.execute(select(func.count()).where(*where, c.channel.in_(ALERT_CHANNELS))).scalar()
    return total, alerts


def test_live013_the_map_opens_on_today_and_says_it_counts_every_channel(db):
    app = create_app(load_settings({}, database_url=db.url, demo=False), db)
    client = signed_in_client(app)
    today = local_today()
    response = map_callback(client, app, "")
    assert response["map-window"]["children"] == f"今日 {today.isoformat()}（实时）"
    total, alerts = counts(db, today, today)
    assert 0 < alerts <= total
    status = json.dumps(response["map-status"]["children"], ensure_ascii=False)
    assert f"全部事件 {total:,} 起，含非警情（警情 {alerts:,} 起）" in status
    assert len(response["map-layer-incidents"]["data"]["features"]) == total
    assert response["map-map"]["viewport"]["transition"] == "fitBounds"
    # the window the URL names wins: the window selector widens the map
    start, end = today - dt.timedelta(days=3), today
    wide = map_callback(client, app, f"?start={start}&end={end}")
    total7, alerts7 = counts(db, start, end)
    assert total7 > total and f"全部事件 {total7:,} 起，含非警情（警情 {alerts7:,} 起）" in json.dumps(
        wide["map-status"]["children"], ensure_ascii=False)
    assert "今日" not in wide["map-window"]["children"]
