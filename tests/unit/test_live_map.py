"""Live map: the layer queries, the pure builders (hexbins, stages, GCJ-02 shift, popups' data) and one live tick
over HTTP — only the units that moved, under 50 kB with 400 units."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from base.settings import load_settings
from dashboard.app import create_app
from data_access import live, live_layers
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.geo import haversine_km, wgs84_to_gcj02_array
from data_access.simulator import Simulator
from tests.servers import fresh_database_url
from tests.signin import signed_in_client

CHONGQING = "500000"
START = dt.datetime(2026, 6, 1, 2, 0)
RUN_S = 600


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    db = Database(fresh_database_url(tmp_path_factory.mktemp("livemap")), QueryCache.from_url("null"))
    build_demo(db, scale=0.01, start=dt.date(2026, 5, 28), end=dt.datetime(2026, 5, 31, 12), cities=(CHONGQING,))
    Simulator(db, CHONGQING, seed=5, start=START, rate_scale=20).run(RUN_S, step_s=15)
    return db


def test_live001_hexbins_count_points_per_cell():
    lon = np.array([106.5, 106.5001, 106.4999, 107.2])
    lat = np.array([29.5, 29.5001, 29.5, 29.9])
    cells = live.hexbins(lon, lat, 0.02)
    assert list(cells["count"]) == [3, 1]
    assert float(haversine_km(cells["lon"][0], cells["lat"][0], 106.5, 29.5)) < 2.3      # within one cell
    assert live.hexbins(np.array([]), np.array([]), 0.02).empty


def test_live002_stage_is_the_last_reached_at_now():
    now = dt.datetime(2026, 6, 1, 8, 0)
    frame = pd.DataFrame({
        "on_scene_at": [None, now - dt.timedelta(minutes=5), now - dt.timedelta(minutes=9), now - dt.timedelta(1)],
        "cleared_at": [None, None, now - dt.timedelta(minutes=1), now - dt.timedelta(1)],
        "paid_at": [None, None, now + dt.timedelta(minutes=20), now - dt.timedelta(hours=2)],
    })
    assert list(live.stage_of(frame, now)) == ["reported", "on_scene", "cleared", "paid"]


def test_live003_gcj02_tiles_shift_every_overlay():
    lon, lat = live_layers.shifted([117.65], [24.51], "gcj02")
    expected = wgs84_to_gcj02_array(np.array([117.65]), np.array([24.51]))
    assert (lon[0], lat[0]) == (expected[0][0], expected[1][0])
    assert 0.2 < float(haversine_km(117.65, 24.51, lon[0], lat[0])) < 1.0          # a few hundred metres
    polygon = {"type": "Polygon", "coordinates": [[[117.6, 24.5], [117.7, 24.5], [117.65, 24.6], [117.6, 24.5]]]}
    moved = live_layers.shift_geometry(polygon, "gcj02")["coordinates"][0][0]
    corner = wgs84_to_gcj02_array(np.array([117.6]), np.array([24.5]))
    assert moved == [round(float(corner[0][0]), 6), round(float(corner[1][0]), 6)]
    assert live_layers.shift_geometry(polygon, "wgs84") is polygon


def test_live004_unit_states_latest_at_a_time_and_after_a_stored_position(db):
    now = live.unit_states(db, CHONGQING)
    assert len(now) == 404 and now["at"].max() == START + dt.timedelta(seconds=RUN_S)
    earlier = live.unit_states(db, CHONGQING, at=START + dt.timedelta(seconds=60))
    assert earlier["at"].max() == START + dt.timedelta(seconds=60)
    assert live.unit_states(db, CHONGQING, after_id=int(now["position_id"].max())).empty
    before_last_step = START + dt.timedelta(seconds=RUN_S - 15)
    last_id = int(live.unit_states(db, CHONGQING, at=before_last_step)["position_id"].max())
    moved = live.unit_states(db, CHONGQING, after_id=last_id)
    assert 300 < len(moved) < 404
    assert set(moved["unit_id"]) == set(now.loc[now["at"] > before_last_step, "unit_id"])


def test_live005_popup_data_has_no_markup_and_case_times(db):
    units = live.unit_states(db, CHONGQING)
    busy = units[units["case_id"].notna()]
    assert len(busy)
    cases = live.cases(db, [int(c) for c in busy["case_id"]])
    features = live_layers.units_geojson(busy, cases, "zh", "wgs84")["features"]
    first = features[0]["properties"]
    assert first["case"] == int(busy.iloc[0]["case_id"]) and first["times"][0][0] == "reported"
    assert set(first) == {"uid", "cs", "team", "vk", "st", "case", "times"}     # no names, no plates
    hostile = busy.iloc[:1].assign(team_zh="<img src=x onerror=alert(1)>")
    props = live_layers.units_geojson(hostile, cases, "zh", "wgs84")["features"][0]["properties"]
    assert props["team"] == "<img src=x onerror=alert(1)>"          # data, drawn with textContent by live_map.js
    script = open("assets/live_map.js", encoding="utf-8").read()
    assert "innerHTML" not in script and "textContent" in script


def tick_key(app) -> str:
    return next(key for key, cb in app.callback_map.items()
                if any(i["id"] == "map-live" for i in cb["inputs"]))


def post_tick(client, app, state) -> tuple[int, bytes]:
    key = tick_key(app)
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]} for o in key[2:-2].split("...")]
    body = {"output": key, "outputs": outputs, "changedPropIds": ["map-live.n_intervals"],
            "inputs": [{"id": "map-live", "property": "n_intervals", "value": 1}],
            "state": [{"id": "map-unit-state", "property": "data", "value": state}]}
    response = client.post("/_dash-update-component", json=body)
    return response.status_code, response.data


def test_live006_tick_patches_only_moved_units_under_50kb(db):
    app = create_app(load_settings({}, database_url=db.url, demo=False), db)
    client = signed_in_client(app)
    assert client.get("/map").status_code == 200
    units = live.unit_states(db, CHONGQING)
    placed = units[units["lon"].notna()]
    state = {"city": CHONGQING, "lang": "zh", "districts": [], "order": [int(u) for u in placed["unit_id"]],
             "since": str(placed["at"].max()), "since_id": int(placed["position_id"].max()),
             "statuses": live_layers.status_keys(placed)}
    status, raw = post_tick(client, app, state)
    assert status == 200
    quiet = json.loads(raw)["response"]
    assert set(quiet) == {"map-status"}                     # nothing moved: only the positions' age is sent again
    assert "分钟前" in json.dumps(quiet, ensure_ascii=False) or "天前" in json.dumps(quiet, ensure_ascii=False)
    Simulator(db, CHONGQING, seed=6, start=placed["at"].max(), rate_scale=5).step(15)
    status, raw = post_tick(client, app, state)
    assert status == 200
    assert len(raw) < 50_000
    response = json.loads(raw)["response"]
    delta = response["map-unit-delta"]["data"]
    moved = live.unit_states(db, CHONGQING, after_id=state["since_id"])
    assert 300 < len(delta["i"]) == len(moved) == len(delta["x"])    # every on-duty unit moved
    assert set(response) == {"map-unit-delta", "map-unit-state", "map-status"}     # no other layer is sent
    first = state["order"].index(int(moved.iloc[0]["unit_id"]))
    assert delta["i"][0] == first and delta["x"][0] == round(float(moved.iloc[0]["lon"]), 5)
    after = live_layers.status_keys(moved)
    turned = {str(state["order"].index(int(u))) for u in after if after[u] != state["statuses"][u]}
    assert set(delta["full"]) == turned and 0 < len(turned) < 60       # only units whose status or case changed
    assert response["map-unit-state"]["data"]["since"] == str(moved["at"].max())
    assert response["map-unit-state"]["data"]["since_id"] == int(moved["position_id"].max())
    # the status line keeps its counts: units on duty by their latest status, of all the city's units
    statuses = {**state["statuses"], **after}
    on_duty = sum(1 for key in statuses.values() if not key.startswith("off_duty"))
    assert f"{on_duty}/{len(state['order'])}" in json.dumps(response["map-status"]["children"])


def test_live007_a_click_on_a_district_focuses_it_keeping_the_other_filters(db):
    from data_access.boundaries import load_city_boundaries

    app = create_app(load_settings({}, database_url=db.url, demo=False), db)
    client = signed_in_client(app)
    assert client.get("/map").status_code == 200
    key = next(k for k, cb in app.callback_map.items()
               if any(i["id"] == "map-layer-districts" and i["property"] == "clickData" for i in cb["inputs"]))
    centre = next(f["properties"] for f in load_city_boundaries(CHONGQING)["features"]
                  if f["properties"]["adcode"] == "500103")

    def click(lat, lon, search):
        body = {"output": key, "outputs": {"id": "map-url", "property": "search"},
                "changedPropIds": ["map-layer-districts.clickData"],
                "inputs": [{"id": "map-layer-districts", "property": "clickData",
                            "value": {"latlng": {"lat": lat, "lng": lon}}}],
                "state": [{"id": "app-url", "property": "search", "value": search}]}
        return client.post("/_dash-update-component", json=body)

    response = click(centre["center_lat"], centre["center_lon"], "?city=500000&range=7d&lang=en")
    search = response.get_json()["response"]["map-url"]["search"]      # the page's own address
    assert "districts=500103" in search and "range=7d" in search and "lang=en" in search and "city=500000" in search
    outside = click(10.0, 10.0, "?city=500000")                  # far away from every district: nothing changes
    assert outside.status_code in (200, 204) and not (outside.get_json() or {}).get("response")


def test_live008_the_district_under_a_point_on_either_datum_and_the_city_drawn(db):
    from data_access.boundaries import load_city_boundaries

    centre = next(f["properties"] for f in load_city_boundaries(CHONGQING)["features"]
                  if f["properties"]["adcode"] == "500103")
    lon, lat = centre["center_lon"], centre["center_lat"]
    assert live_layers.district_at(db, CHONGQING, lon, lat, "wgs84") == "500103"
    assert live_layers.district_at(db, CHONGQING, 10.0, 10.0, "wgs84") is None
    # walk towards the border along the GCJ-02 shift until the shifted point, read as WGS-84, falls outside: only
    # shifting the click back finds the district there
    shifted_lon, shifted_lat = wgs84_to_gcj02_array(np.array([lon]), np.array([lat]))
    step = np.array([shifted_lon[0] - lon, shifted_lat[0] - lat])          # the GCJ-02 offset: a few hundred metres
    point = np.array([lon, lat])
    while live_layers.district_at(db, CHONGQING, *(point + step), "wgs84") == "500103":
        point = point + step / 4
    on_amap = wgs84_to_gcj02_array(point[:1], point[1:])
    assert live_layers.district_at(db, CHONGQING, *point, "wgs84") == "500103"
    assert live_layers.district_at(db, CHONGQING, float(on_amap[0][0]), float(on_amap[1][0]), "wgs84") != "500103"
    assert live_layers.district_at(db, CHONGQING, float(on_amap[0][0]), float(on_amap[1][0]), "gcj02") == "500103"
    # the database holds Chongqing alone: a city asked for that is not registered, or none, draws the one there is
    assert live_layers.map_city(db, CHONGQING, "350600") == CHONGQING
    assert live_layers.map_city(db, "110000", "350600") == CHONGQING
    assert live_layers.map_city(db, None, "350600") == CHONGQING
