"""The live map (实时地图) in a real browser: every layer in the layer control and toggling, a unit's and an incident's
popups read against the database, a rescue mission focused from the URL, both cities in Chinese and English."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from base.i18n import t
from base.settings import load_settings
from components import live_map as lm
from dashboard.app import create_app
from data_access import live
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.models import RescueMission, RescueOutcome
from data_access.simulator import Simulator
from data_access.timeutil import LOCAL_OFFSET, local_day, local_midnight_utc, local_today, utcnow
from tests.integration.conftest import console_errors, screenshot
from tests.integration.test_overview import overflowing
from tests.servers import fresh_database_url

pytestmark = pytest.mark.browser

ZHANGZHOU, CHONGQING = "350600", "500000"


@pytest.fixture(scope="module")
def live_db(tmp_path_factory) -> Database:
    """Three weeks of both cities at a small scale, then five simulated minutes of the live feed up to now."""
    db = Database(fresh_database_url(tmp_path_factory.mktemp("live"), "live.db"), QueryCache.from_url("simple"))
    build_demo(db, scale=0.02, start=local_today() - dt.timedelta(days=20), end=utcnow())
    for city in (ZHANGZHOU, CHONGQING):
        Simulator(db, city, seed=11, start=utcnow() - dt.timedelta(minutes=5), rate_scale=20).run(300, step_s=15)
    return db


@pytest.fixture
def live_app(live_db):
    settings = load_settings({}, database_url=live_db.url, demo=False)
    return create_app(settings, live_db, refresh_ms=3_600_000)


def overlay_labels(dash_duo) -> list[str]:
    return [e.text.strip() for e in dash_duo.find_elements(".leaflet-control-layers-overlays label")]


def toggle(dash_duo, name: str) -> None:
    for label in dash_duo.find_elements(".leaflet-control-layers-overlays label"):
        if label.text.strip() == name:
            label.find_element("css selector", "input").click()
            return
    raise AssertionError(f"no layer {name}")


def fire_click(dash_duo, element) -> None:
    dash_duo.driver.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true}));", element)


def wait_count(dash_duo, selector: str, test, timeout: float = 20) -> int:
    WebDriverWait(dash_duo.driver, timeout).until(lambda d: test(len(d.find_elements("css selector", selector))))
    return len(dash_duo.find_elements(selector))


def local(value) -> str:
    return (value + LOCAL_OFFSET).strftime("%m-%d %H:%M")


def test_map001_layers_popups_and_toggles(dash_duo, live_app, live_db):
    dash_duo.start_server(live_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/map")
    dash_duo.wait_for_contains_text("#map-heading", "漳州市", timeout=20)
    assert overlay_labels(dash_duo) == [t(f"live_map.layer.{name}", "zh") for name in lm.LAYERS]
    assert dash_duo.find_element(".app-nav-link.active").text == "实时地图"

    units = live.unit_states(live_db, ZHANGZHOU)
    placed = units[units["lon"].notna()]
    assert len(placed) == 83
    wait_count(dash_duo, ".lm-unit", lambda n: n == len(placed))
    for status in ("patrolling", "en_route", "on_scene", "off_duty"):
        assert len(dash_duo.find_elements(f".lm-unit.lm-{status}")) == int((placed["status"] == status).sum())
    assert len(dash_duo.find_elements(".lm-unit.lm-car")) == 13
    assert "83" in dash_duo.find_element("#map-status").text

    # layers on and off
    assert dash_duo.find_elements(".lm-station.lm-police_booth")
    assert len(dash_duo.find_elements(".lm-station.lm-claim_point")) == 18
    toggle(dash_duo, "快骑队单元")
    wait_count(dash_duo, ".lm-unit", lambda n: n == 0)
    toggle(dash_duo, "快骑队单元")
    wait_count(dash_duo, ".lm-unit", lambda n: n == len(placed))
    toggle(dash_duo, "理赔点与快处快赔中心")
    wait_count(dash_duo, ".lm-station.lm-claim_point", lambda n: n == 0)
    toggle(dash_duo, "理赔点与快处快赔中心")
    toggle(dash_duo, "事故密度")
    assert wait_count(dash_duo, ".leaflet-overlay-pane path", lambda n: n > 0)

    # a busy unit: team, vehicle, status, current case and its stage times
    busy = placed[placed["status"] == "on_scene"].iloc[0]
    case = live.cases(live_db, [int(busy["case_id"])]).iloc[0]
    index = [int(u) for u in placed[placed["status"] == "on_scene"]["unit_id"]].index(int(busy["unit_id"]))
    marker = dash_duo.find_elements(".lm-unit.lm-on_scene")[index]
    fire_click(dash_duo, marker)
    dash_duo.wait_for_element(".lm-popup", timeout=10)
    text = dash_duo.find_element(".lm-popup").text
    assert busy["callsign"] in text and busy["team_zh"] in text
    assert "现场处置" in text and f"#{int(busy['case_id'])}" in text
    assert f"报警\n{local(case['reported_at'])}" in text and f"到场\n{local(case['on_scene_at'])}" in text
    dash_duo.driver.execute_script("document.querySelector('.leaflet-popup-close-button').click()")

    # an incident: its timeline from report to payout
    paid = dash_duo.find_elements("path.lm-incident.lm-stage-paid")
    assert paid
    fire_click(dash_duo, paid[0])
    dash_duo.wait_for_contains_text(".lm-popup-title", "事故 #", timeout=10)
    text = dash_duo.find_element(".lm-popup").text
    case_id = int(text.split("#")[1].split()[0])
    row = live.cases(live_db, [case_id]).iloc[0]
    assert "已赔付" in text and f"报警\n{local(row['reported_at'])}" in text
    assert f"赔付到账\n{local(row['paid_at'])}" in text
    assert overflowing(dash_duo) == []
    screenshot(dash_duo, "live_map_zhangzhou_zh")
    assert console_errors(dash_duo) == []


def test_map002_chongqing_in_english_with_clusters(dash_duo, live_app, live_db):
    dash_duo.start_server(live_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + f"/map?city={CHONGQING}&lang=en")
    dash_duo.wait_for_contains_text("#map-heading", "Chongqing", timeout=20)
    assert overlay_labels(dash_duo) == [t(f"live_map.layer.{name}", "en") for name in lm.LAYERS]
    wait_count(dash_duo, ".lm-unit", lambda n: n == 404, timeout=30)
    clusters = wait_count(dash_duo, ".lm-cluster-persuasion", lambda n: n > 0)
    assert clusters < 1105                                   # 1,105 persuasion stations drawn as clusters
    assert dash_duo.find_element(".lm-legend").text.startswith("Rider units")
    assert overflowing(dash_duo) == []
    screenshot(dash_duo, "live_map_chongqing_en")
    assert console_errors(dash_duo) == []


def test_map003_mission_link_focuses_its_route(dash_duo, live_app, live_db):
    requested = utcnow().replace(microsecond=0) - dt.timedelta(hours=3)
    route = {"type": "LineString", "coordinates": [[106.55, 29.57], [107.40, 29.95], [106.57, 29.55]]}
    with live_db.transaction() as session:
        session.add(RescueMission(source="test", external_id="map003", city_adcode=CHONGQING,
                                  district_adcode="500102", requested_at=requested, local_day=local_day(requested),
                                  takeoff_at=requested + dt.timedelta(minutes=9),
                                  on_scene_at=requested + dt.timedelta(minutes=31),
                                  hospital_at=requested + dt.timedelta(minutes=52), outcome=RescueOutcome.SURVIVED,
                                  route_geojson=json.dumps(route)))
    mission = live.rescues(live_db, CHONGQING).iloc[-1]
    assert mission["route"] == route["coordinates"]
    start = (mission["requested_at"] + LOCAL_OFFSET).date()
    dash_duo.start_server(live_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + f"/map?city={CHONGQING}&mission={int(mission['mission_id'])}"
                                                    f"&start={start}&end={start}")
    dash_duo.wait_for_contains_text("#map-heading", f"救援任务 #{int(mission['mission_id'])}", timeout=20)
    route = wait_count(dash_duo, ".leaflet-overlay-pane path[stroke='#e65100']", lambda n: n == 1)
    assert route == 1
    screenshot(dash_duo, "live_map_mission_zh")
    fire_click(dash_duo, dash_duo.find_element(".leaflet-overlay-pane path[stroke='#e65100']"))
    dash_duo.wait_for_contains_text(".lm-popup-title", f"救援任务 #{int(mission['mission_id'])}", timeout=10)
    text = dash_duo.find_element(".lm-popup").text
    assert f"起飞\n{local(mission['takeoff_at'])}" in text and f"送达医院\n{local(mission['hospital_at'])}" in text
    dash_duo.wait_for_page(url=dash_duo.server_url + f"/map?city={CHONGQING}&mission=abc")
    dash_duo.wait_for_contains_text("#map-problems", "找不到救援任务 abc", timeout=20)
    assert console_errors(dash_duo) == []


def test_map004_live_tick_moves_units_in_the_browser(dash_duo, live_app, live_db):
    dash_duo.start_server(live_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/map")
    wait_count(dash_duo, ".lm-unit", lambda n: n == 83)
    before_status = dash_duo.find_element("#map-status").text
    before = [m.get_attribute("style") for m in dash_duo.find_elements(".lm-unit")]
    latest = live.unit_states(live_db, ZHANGZHOU)["at"].max()
    Simulator(live_db, ZHANGZHOU, seed=12, start=latest).step(15)
    WebDriverWait(dash_duo.driver, 25).until(lambda d: dash_duo.find_element("#map-status").text != before_status)
    WebDriverWait(dash_duo.driver, 5).until(
        lambda d: sum(a != b for a, b in zip(before, [m.get_attribute("style") for m in
                                                      dash_duo.find_elements(".lm-unit")], strict=False)) > 30)
    assert len(dash_duo.find_elements(".lm-unit")) == 83
    expected = lm.time_label(latest + dt.timedelta(seconds=15), "zh")
    assert expected in dash_duo.find_element("#map-status").text
    assert console_errors(dash_duo) == []


def test_map005_playback_of_a_day(dash_duo, live_app, live_db):
    """A simulated morning yesterday replayed: units hidden before their first report, placed as at the slider's
    minute afterwards; incidents appear once reported, with their stage at that minute."""
    day = local_today() - dt.timedelta(days=1)
    start = local_midnight_utc(day) + dt.timedelta(hours=8)
    Simulator(live_db, ZHANGZHOU, seed=21, start=start, rate_scale=10).run(1800, step_s=30)
    dash_duo.start_server(live_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + f"/map?date={day}")
    dash_duo.wait_for_contains_text("#map-status", f"{day} 回放", timeout=20)
    assert dash_duo.find_element("#map-playback-bar").is_displayed()
    assert dash_duo.find_elements(".lm-unit") == []                      # nobody on the map at midnight
    play = dash_duo.find_element("#map-play")
    assert play.text == "▶ 回放"
    # type 08:20 (minute 500) into the slider's number box
    box = dash_duo.find_element("#map-clock input[type=number]")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("500", Keys.ENTER)
    WebDriverWait(dash_duo.driver, 20).until(lambda d: dash_duo.find_element("#map-clock-label").text >= "08:15")
    minute = dash_duo.find_element("#map-clock-label").text
    at = local_midnight_utc(day) + dt.timedelta(hours=int(minute[:2]), minutes=int(minute[3:]))
    expected = live.unit_states(live_db, ZHANGZHOU, at=at)
    expected = expected[expected["lon"].notna()]
    assert len(expected) > 50
    wait_count(dash_duo, ".lm-unit", lambda n: n == len(expected))
    play.click()
    dash_duo.wait_for_text_to_equal("#map-play", "⏸ 暂停", timeout=10)
    WebDriverWait(dash_duo.driver, 10).until(lambda d: dash_duo.find_element("#map-clock-label").text > minute)
    play.click()
    dash_duo.wait_for_text_to_equal("#map-play", "▶ 回放", timeout=10)
    screenshot(dash_duo, "live_map_playback_zh")
    assert console_errors(dash_duo) == []
