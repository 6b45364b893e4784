"""The live map (实时地图) in a real browser: every layer in the layer control and toggling, a unit's and an incident's
popups read against the database, a rescue mission focused from the URL, both cities in Chinese and English."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from base.i18n import t
from base.settings import load_settings
from components import ids
from components import live_map as lm
from dashboard.app import create_app
from data_access import live
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.models import RescueMission, RescueOutcome
from data_access.simulator import Simulator
from data_access.timeutil import LOCAL_OFFSET, local_day, local_midnight_utc, local_today, utcnow
from tests.integration.conftest import (
    WAIT_S,
    console_errors,
    count_of,
    screenshot,
    texts_of,
    wait_for,
    wait_for_count,
    wait_for_text,
    wait_for_text_in,
    wait_for_texts,
)
from tests.integration.test_overview import overflowing
from tests.servers import fresh_database_url

pytestmark = pytest.mark.browser

ZHANGZHOU, CHONGQING = "350600", "500000"


def busy_moment() -> dt.datetime:
    """Now, or outside 08:05–21:00 local the last 20:55 (UTC, naive): at night the simulated shifts keep one unit in
    three on duty and incidents are rare, and these tests need a busy street at whatever hour they run."""
    now = utcnow()
    local = now + LOCAL_OFFSET
    if dt.time(8, 5) <= local.time() < dt.time(21):
        return now
    day = local.date() if local.time() >= dt.time(21) else local.date() - dt.timedelta(days=1)
    return local_midnight_utc(day) + dt.timedelta(hours=20, minutes=55)


@pytest.fixture(scope="module")
def live_db(tmp_path_factory) -> Database:
    """Three weeks of both cities at a small scale, then five simulated minutes of the live feed up to now (at night
    up to the last busy evening: the map shows each unit's latest report, however old)."""
    db = Database(fresh_database_url(tmp_path_factory.mktemp("live"), "live.db"), QueryCache.from_url("simple"))
    build_demo(db, scale=0.02, start=local_today() - dt.timedelta(days=20), end=utcnow())
    for city in (ZHANGZHOU, CHONGQING):
        Simulator(db, city, seed=11, start=busy_moment() - dt.timedelta(minutes=5), rate_scale=20).run(300, step_s=15)
    return db


@pytest.fixture
def live_app(live_db):
    settings = load_settings({}, database_url=live_db.url, demo=False)
    return create_app(settings, live_db, refresh_ms=3_600_000)


OVERLAYS = ".leaflet-control-layers-overlays label"


def wait_for_overlays(dash_duo, lang: str) -> None:
    """The layer control (collapsed: opened as a hover would) lists every layer, in order."""
    wait_for_count(dash_duo, ".leaflet-control-layers", 1)
    dash_duo.driver.execute_script(
        "document.querySelector('.leaflet-control-layers').classList.add('leaflet-control-layers-expanded')")
    wait_for_texts(dash_duo, OVERLAYS, [t(f"live_map.layer.{name}", lang) for name in lm.LAYERS])


def toggle(dash_duo, name: str) -> None:
    """Tick or untick the layer `name` in the layer control, opened first by hovering it (it starts collapsed)."""
    ActionChains(dash_duo.driver).move_to_element(dash_duo.find_element(".leaflet-control-layers")).perform()
    wait_for_count(dash_duo, ".leaflet-control-layers-expanded", 1)
    for label in dash_duo.find_elements(".leaflet-control-layers-overlays label"):
        if label.text.strip() == name:
            box = label.find_element("css selector", "input")
            checked = box.is_selected()
            box.click()
            wait_for(dash_duo, lambda box=box, checked=checked: box.is_selected() != checked,
                     f"the layer {name} switched")
            return
    raise AssertionError(f"no layer {name}")


def fire_click(dash_duo, element) -> None:
    dash_duo.driver.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true}));", element)


def clock_of(value) -> str:
    """The local clock time of a UTC moment as the map's status line gives it: the time alone for today, with its
    month and day before it for an earlier day (after local midnight the busy moment is yesterday's 20:55)."""
    moment = value + LOCAL_OFFSET
    return moment.strftime("%H:%M:%S" if moment.date() == local_today() else "%m-%d %H:%M:%S")


def local(value) -> str:
    return (value + LOCAL_OFFSET).strftime("%m-%d %H:%M")


def test_map001_layers_popups_and_toggles(dash_duo, live_app, live_db):
    dash_duo.start_server(live_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/map?range=30d")
    dash_duo.wait_for_contains_text("#map-heading", "漳州市", timeout=WAIT_S)
    wait_for_overlays(dash_duo, "zh")
    wait_for_text(dash_duo, ".app-nav-link.active", "实时地图")

    units = live.unit_states(live_db, ZHANGZHOU)
    placed = units[units["lon"].notna()]
    assert len(placed) == 83
    wait_for_count(dash_duo, ".lm-unit", len(placed))
    for status in ("patrolling", "en_route", "on_scene", "off_duty"):
        wait_for_count(dash_duo, f".lm-unit.lm-{status}", int((placed["status"] == status).sum()))
    wait_for_count(dash_duo, ".lm-unit.lm-car", 13)
    wait_for_text_in(dash_duo, "#map-status", "83")

    # layers on and off
    wait_for_count(dash_duo, ".lm-station.lm-police_booth", lambda n: n > 0)
    wait_for_count(dash_duo, ".lm-station.lm-claim_point", 18)
    toggle(dash_duo, "快骑队单元")
    wait_for_count(dash_duo, ".lm-unit", 0)
    toggle(dash_duo, "快骑队单元")
    wait_for_count(dash_duo, ".lm-unit", len(placed))
    toggle(dash_duo, "理赔点与快处快赔中心")
    wait_for_count(dash_duo, ".lm-station.lm-claim_point", 0)
    toggle(dash_duo, "理赔点与快处快赔中心")
    wait_for_count(dash_duo, ".lm-station.lm-claim_point", 18)
    shapes = count_of(dash_duo, ".leaflet-overlay-pane path")               # boundaries, grids, incidents
    toggle(dash_duo, "事故密度")
    wait_for_count(dash_duo, ".leaflet-overlay-pane path", lambda n: n > shapes)   # and the density hexagons

    # a busy unit: team, vehicle, status, current case and its stage times
    busy = placed[placed["status"] == "on_scene"].iloc[0]
    case = live.cases(live_db, [int(busy["case_id"])]).iloc[0]
    index = [int(u) for u in placed[placed["status"] == "on_scene"]["unit_id"]].index(int(busy["unit_id"]))
    marker = dash_duo.find_elements(".lm-unit.lm-on_scene")[index]
    fire_click(dash_duo, marker)
    # the popup fades in after it is added: its text is there to read once it is shown
    text = wait_for_text_in(dash_duo, ".lm-popup", busy["callsign"], busy["team_zh"], "现场处置",
                            f"#{int(busy['case_id'])}")
    assert f"报警\n{local(case['reported_at'])}" in text and f"到场\n{local(case['on_scene_at'])}" in text
    dash_duo.driver.execute_script("document.querySelector('.leaflet-popup-close-button').click()")
    wait_for_count(dash_duo, ".lm-popup", 0)

    # an incident: its timeline from report to payout
    wait_for_count(dash_duo, "path.lm-incident.lm-stage-paid", lambda n: n > 0)
    fire_click(dash_duo, dash_duo.find_elements("path.lm-incident.lm-stage-paid")[0])
    text = wait_for_text_in(dash_duo, ".lm-popup", "事故 #", "已赔付", "赔付到账")
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
    dash_duo.wait_for_contains_text("#map-heading", "Chongqing", timeout=WAIT_S)
    wait_for_overlays(dash_duo, "en")
    wait_for_count(dash_duo, ".lm-unit", 404)
    # 1,105 persuasion stations drawn as clusters
    wait_for_count(dash_duo, ".lm-cluster-persuasion", lambda n: 0 < n < 1105)
    wait_for_text(dash_duo, ".lm-legend", lambda text: text.startswith("Rider units"))
    wait_for(dash_duo, lambda: overflowing(dash_duo) == [], "nothing spilling out of its box")
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
    dash_duo.wait_for_contains_text("#map-heading", f"救援任务 #{int(mission['mission_id'])}", timeout=WAIT_S)
    wait_for_count(dash_duo, ".leaflet-overlay-pane path[stroke='#e65100']", 1)
    screenshot(dash_duo, "live_map_mission_zh")
    fire_click(dash_duo, dash_duo.find_element(".leaflet-overlay-pane path[stroke='#e65100']"))
    wait_for_text_in(dash_duo, ".lm-popup", f"救援任务 #{int(mission['mission_id'])}",
                     f"起飞\n{local(mission['takeoff_at'])}", f"送达医院\n{local(mission['hospital_at'])}")
    dash_duo.wait_for_page(url=dash_duo.server_url + f"/map?city={CHONGQING}&mission=abc")
    dash_duo.wait_for_contains_text("#map-problems", "找不到救援任务 abc", timeout=WAIT_S)
    assert console_errors(dash_duo) == []


def test_map004_live_tick_moves_units_in_the_browser(dash_duo, live_app, live_db):
    dash_duo.start_server(live_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/map")
    wait_for_count(dash_duo, ".lm-unit", 83)
    latest = live.unit_states(live_db, ZHANGZHOU)["at"].max()
    wait_for_text_in(dash_duo, "#map-status", "83", f"单元位置更新于 {clock_of(latest)}")
    before = [m.get_attribute("style") for m in dash_duo.find_elements(".lm-unit")]
    Simulator(live_db, ZHANGZHOU, seed=12, start=latest).step(15)
    wait_for_text_in(dash_duo, "#map-status", f"单元位置更新于 {clock_of(latest + dt.timedelta(seconds=15))}")

    def moved() -> int:
        return sum(a != b for a, b in zip(before, [m.get_attribute("style") for m in
                                                   dash_duo.find_elements(".lm-unit")], strict=False))

    wait_for(dash_duo, lambda: moved() > 30, "more than 30 rider units moved by the live tick")
    wait_for_count(dash_duo, ".lm-unit", 83)
    assert console_errors(dash_duo) == []


def test_map005_playback_of_a_day(dash_duo, live_app, live_db):
    """A simulated morning yesterday replayed: units hidden before their first report, placed as at the slider's
    minute afterwards; incidents appear once reported, with their stage at that minute."""
    day = local_today() - dt.timedelta(days=1)
    start = local_midnight_utc(day) + dt.timedelta(hours=8)
    Simulator(live_db, ZHANGZHOU, seed=21, start=start, rate_scale=10).run(1800, step_s=30)
    dash_duo.start_server(live_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + f"/map?date={day}")
    dash_duo.wait_for_contains_text("#map-status", f"{day} 回放", timeout=WAIT_S)
    wait_for(dash_duo, lambda: dash_duo.find_element("#map-playback-bar").is_displayed(), "the playback bar shown")
    wait_for_count(dash_duo, ".lm-station.lm-police_booth", lambda n: n > 0)  # the map is drawn for midnight...
    assert texts_of(dash_duo, ".lm-unit") == []                               # ...with nobody on it
    dash_duo.wait_for_text_to_equal("#map-play", "▶ 回放", timeout=WAIT_S)
    # type 08:20 (minute 500) into the slider's number box
    box = dash_duo.find_element("#map-clock input[type=number]")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("500", Keys.ENTER)
    minute = wait_for_text(dash_duo, "#map-clock-label", lambda text: text >= "08:15")
    at = local_midnight_utc(day) + dt.timedelta(hours=int(minute[:2]), minutes=int(minute[3:]))
    expected = live.unit_states(live_db, ZHANGZHOU, at=at)
    expected = expected[expected["lon"].notna()]
    assert len(expected) > 50
    wait_for_count(dash_duo, ".lm-unit", len(expected))
    dash_duo.find_element("#map-play").click()
    dash_duo.wait_for_text_to_equal("#map-play", "⏸ 暂停", timeout=WAIT_S)
    wait_for_text(dash_duo, "#map-clock-label", lambda text: text > minute)
    dash_duo.find_element("#map-play").click()
    dash_duo.wait_for_text_to_equal("#map-play", "▶ 回放", timeout=WAIT_S)
    screenshot(dash_duo, "live_map_playback_zh")
    assert console_errors(dash_duo) == []


def test_map006_opens_on_today_at_1366_without_scroll(dash_duo, live_app, live_db):
    dash_duo.driver.set_window_size(1366, 768)
    dash_duo.start_server(live_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/map")
    wait_for_text_in(dash_duo, "#map-window", "今日", local_today().isoformat())
    wait_for(dash_duo, lambda: dash_duo.find_element(f"#{ids.RANGE}").get_attribute("value") == "today",
             "the filter bar says today, as the map shows")
    units = live.unit_states(live_db, ZHANGZHOU)
    wait_for_count(dash_duo, ".lm-unit svg", int(units["lon"].notna().sum()))
    latest = units["at"].max()
    wait_for_text_in(dash_duo, "#map-status", f"单元位置更新于 {clock_of(latest)}（", "全部事件", "含非警情")
    wait_for_count(dash_duo, ".leaflet-control-layers-expanded", 0)            # the layer control starts collapsed
    inner = dash_duo.driver.execute_script("return window.innerHeight")
    height = dash_duo.driver.execute_script("return document.scrollingElement.scrollHeight")
    assert height <= inner, f"page scrolls: {height} > {inner}"
    screenshot(dash_duo, "map_1366")
    assert console_errors(dash_duo) == []
