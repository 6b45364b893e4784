"""The wall display (指挥大屏) in a real browser at 1920×1080: kiosk layout without scroll bars, a 3-view playlist
rotating with its dwell times, the "数据延迟" badge while the database is away and gone when it returns, and a new
rescue taking over the screen, then the playlist resuming."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import time

import pytest
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import delete

from base.settings import load_settings
from components.formatting import format_count
from components.wall import DEFAULT_PLAYLIST, parse_playlist
from dashboard.app import create_app
from data_access import metrics
from data_access.db import DatabaseUnavailable
from data_access.models import RescueMission, RescueOutcome
from data_access.timeutil import local_day, utcnow
from tests.integration.conftest import console_errors, screenshot

pytestmark = pytest.mark.browser

ZHANGZHOU = "350600"


def wall_app(db, **settings):
    return create_app(load_settings({}, database_url=db.url, demo=False, **settings), db, refresh_ms=3_600_000)


def current_view(dash_duo) -> str | None:
    return dash_duo.driver.execute_script(
        "var r = document.querySelector('.page-wall'); return r && r.getAttribute('data-wall-view');")


def scroll_bars(dash_duo) -> dict:
    return dash_duo.driver.execute_script("""
        const root = document.documentElement, wall = document.querySelector('.page-wall').getBoundingClientRect();
        return {vertical: root.scrollHeight > window.innerHeight, horizontal: root.scrollWidth > window.innerWidth,
                wall_outside: wall.right > window.innerWidth + 1 || wall.bottom > window.innerHeight + 1};
    """)


def wait_until(dash_duo, condition, timeout: float):
    return WebDriverWait(dash_duo.driver, timeout, poll_frequency=0.2).until(lambda _: condition())


def open_wall(dash_duo, app, query: str) -> None:
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/wall?{query}")
    dash_duo.wait_for_element("#wall-kpis .wall-kpi", timeout=30)
    inner = dash_duo.driver.execute_script("return [window.innerWidth, window.innerHeight]")
    dash_duo.driver.set_window_size(1920 + 1920 - inner[0], 1080 + 1080 - inner[1])   # the screen inside: 1920×1080


def test_wall_rotates_a_three_view_playlist_without_scroll_bars(dash_duo, dashboard_db):
    open_wall(dash_duo, wall_app(dashboard_db), f"city={ZHANGZHOU}&playlist=overview:6,payouts:4,districts:4")
    assert dash_duo.driver.execute_script("return [window.innerWidth, window.innerHeight]") == [1920, 1080]
    assert not dash_duo.find_element(".app-header").is_displayed()          # kiosk: no navigation chrome
    assert len(dash_duo.find_elements("#wall-kpis .wall-kpi")) == 6
    window, _ = importlib.import_module("pages.wall").view_filters(ZHANGZHOU)
    overview = metrics.overview_kpis(dashboard_db, window)
    for key in ("alerts", "quick"):                    # the tiles are the overview's own figures
        assert dash_duo.find_element(f'[data-kpi="{key}"] .wall-kpi-number').text == format_count(
            overview.get(key).value)
    assert dash_duo.find_element(".wall-place").text == "漳州市"
    wait_until(dash_duo, lambda: dash_duo.find_element("#wall-as-of").text.startswith("数据截至"), 20)
    clock = dash_duo.find_element("#wall-clock").text
    assert len(clock) == 19 and clock[4] == "-" and clock[13] == ":"

    # Watch the rotation for two rounds of 14 s: the views in order, each shown for its dwell time.
    wait_until(dash_duo, lambda: current_view(dash_duo) == "payouts", 10)
    changes, last, end = [], "payouts", time.monotonic() + 24
    while time.monotonic() < end:
        view = current_view(dash_duo)
        if view != last:
            changes.append((view, time.monotonic()))
            last = view
        if view == "overview" and len(changes) == 2:
            dash_duo.wait_for_element("#wall-trend .main-svg")
            assert scroll_bars(dash_duo) == {"vertical": False, "horizontal": False, "wall_outside": False}
            screenshot(dash_duo, "wall_overview_zh")
        time.sleep(0.1)
    assert [view for view, _ in changes[:4]] == ["districts", "overview", "payouts", "districts"]
    dwell = [round(b[1] - a[1], 1) for a, b in zip(changes, changes[1:], strict=False)][:3]
    assert dwell == pytest.approx([4, 6, 4], abs=0.8)
    chips = [c.text for c in dash_duo.find_elements(".wall-chips[data-list='playlist'] .wall-chip")]
    assert chips == ["总体态势 · 6s", "快赔时效 · 4s", "区县排名 · 4s"]
    wait_until(dash_duo, lambda: current_view(dash_duo) == "districts", 15)
    dash_duo.wait_for_element("#wall-districts .main-svg")
    time.sleep(0.5)
    titles = dash_duo.driver.execute_script("""
        const box = s => document.querySelector('#wall-districts ' + s).getBoundingClientRect();
        return [box('.gtitle').bottom, box('.gtitle-subtitle').top];""")
    assert titles[0] <= titles[1]                       # the subtitle sits under the title, not on it
    assert scroll_bars(dash_duo) == {"vertical": False, "horizontal": False, "wall_outside": False}
    screenshot(dash_duo, "wall_districts_zh")
    assert console_errors(dash_duo) == []


def test_wall_in_english_with_a_bad_view_named(dash_duo, dashboard_db):
    open_wall(dash_duo, wall_app(dashboard_db), f"city={ZHANGZHOU}&playlist=map:20,radar:5&lang=en")
    dash_duo.wait_for_contains_text("#wall-problems", "“radar” in the playlist is not a view", timeout=10)
    wait_until(dash_duo, lambda: current_view(dash_duo) == "map", 10)
    dash_duo.wait_for_element("#wall-map .main-svg", timeout=20)
    assert dash_duo.find_element(".wall-title").text == "Police–insurance command wall"
    spilled = dash_duo.driver.execute_script("""
        return [...document.querySelectorAll('.page-wall, .wall-top, .wall-stage, .wall-foot')]
            .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.className);""")
    assert spilled == []
    clock = dash_duo.driver.execute_script("return document.getElementById('wall-clock').getBoundingClientRect().right")
    assert clock <= 1920 - 16                          # the clock is whole on screen, inside the padding
    time.sleep(1)
    screenshot(dash_duo, "wall_map_en")
    assert console_errors(dash_duo) == []


def test_wall_marks_itself_stale_while_the_database_is_away_and_recovers(dash_duo, dashboard_db, monkeypatch):
    open_wall(dash_duo, wall_app(dashboard_db, stale_after_minutes=10**6), f"city={ZHANGZHOU}&playlist=overview:60")
    wait_until(dash_duo, lambda: dash_duo.find_element("#wall-as-of").text.startswith("数据截至"), 20)
    assert not dash_duo.find_element("#wall-stale").is_displayed()
    dash_duo.wait_for_element("#wall-trend .main-svg")
    tiles = [e.text for e in dash_duo.find_elements("#wall-kpis .wall-kpi-number")]

    def away():
        raise DatabaseUnavailable("connection refused (test)")

    monkeypatch.setattr(dashboard_db, "data_version", away)
    wait_until(dash_duo, lambda: dash_duo.find_element("#wall-stale").is_displayed(), 25)
    assert dash_duo.find_element("#wall-stale").text.startswith("数据延迟 · 自 ")
    # the last good figures stay on screen
    assert [e.text for e in dash_duo.find_elements("#wall-kpis .wall-kpi-number")] == tiles
    assert dash_duo.find_elements("#wall-trend .main-svg")
    screenshot(dash_duo, "wall_stale_zh")

    monkeypatch.undo()
    wait_until(dash_duo, lambda: not dash_duo.find_element("#wall-stale").is_displayed(), 25)
    assert console_errors(dash_duo) == []


def test_wall_as_of_endpoint_reports_old_data_and_an_absent_database(dashboard_db, monkeypatch):
    client = wall_app(dashboard_db, stale_after_minutes=0).server.test_client()
    body = client.get(f"/api/v1/as-of?city={ZHANGZHOU}").get_json()
    assert body["database"] == "ok" and body["stale"] is True and body["stale_after_minutes"] == 0
    assert len(body["as_of_local"]) == 5
    assert client.get("/api/v1/as-of?city=999999").status_code == 400

    def away():
        raise DatabaseUnavailable("connection refused (test)")

    monkeypatch.setattr(dashboard_db, "data_version", away)
    response = client.get(f"/api/v1/as-of?city={ZHANGZHOU}")
    assert response.status_code == 200
    assert response.get_json()["database"] == "unavailable" and response.get_json()["stale"] is True


def test_wall_new_rescue_interrupts_then_the_playlist_resumes(dash_duo, dashboard_db):
    open_wall(dash_duo, wall_app(dashboard_db), f"city={ZHANGZHOU}&playlist=overview:40,payouts:40&interrupt=6")
    wait_until(dash_duo, lambda: dash_duo.find_element("#wall-event-ids").get_attribute("textContent"), 20)
    wait_until(dash_duo, lambda: current_view(dash_duo) == "overview", 15)   # any older event has had its turn
    requested = utcnow() - dt.timedelta(minutes=1)
    with dashboard_db.transaction() as session:
        mission = RescueMission(source="wall-test", external_id="W1", city_adcode=ZHANGZHOU, district_adcode="350602",
                                requested_at=requested, local_day=local_day(requested),
                                takeoff_at=requested + dt.timedelta(seconds=30), outcome=RescueOutcome.UNKNOWN)
        session.add(mission)
        session.flush()
        mission_id = mission.id
    try:
        wait_until(dash_duo, lambda: current_view(dash_duo) == "interrupt", 25)
        assert f"rescue-{mission_id}" in json.loads(dash_duo.find_element("#wall-event-ids")
                                                    .get_attribute("textContent"))
        assert dash_duo.find_element(".wall-interrupt-kind").text == "空地救援 · 新任务"
        assert dash_duo.find_element(".wall-interrupt-where").text.startswith("芗城区")
        steps = [e.text.split("\n") for e in dash_duo.find_elements(".wall-step")]
        assert [s[0] for s in steps] == ["请求救援", "直升机起飞", "到达现场", "送达医院"]
        assert steps[2][1] == "进行中"
        assert not dash_duo.find_element("#wall-view-overview").is_displayed()
        dash_duo.wait_for_element("#wall-interrupt-map .main-svg")
        screenshot(dash_duo, "wall_interrupt_zh")
        wait_until(dash_duo, lambda: current_view(dash_duo) == "overview", 12)        # resumes where it was
    finally:
        with dashboard_db.transaction() as session:
            session.execute(delete(RescueMission).where(RescueMission.source == "wall-test"))
    assert console_errors(dash_duo) == []


def test_wall_playlist_from_the_url():
    assert parse_playlist("overview:30,map:60,payouts:20", "zh").items == (
        ("overview", 30), ("map", 60), ("payouts", 20))
    assert parse_playlist(None, "zh").items == DEFAULT_PLAYLIST
    mixed = parse_playlist("Map:90, radar:5, payouts:1, districts:x, overview", "en")
    assert mixed.items == (("map", 90), ("payouts", 30), ("districts", 30), ("overview", 30))
    assert len(mixed.problems) == 3 and "“radar”" in mixed.problems[0]
    assert parse_playlist("radar:5", "en").items == DEFAULT_PLAYLIST          # nothing usable: the default


def test_wall_at_3840_by_2160_fills_the_screen_without_scroll_bars(dash_duo, dashboard_db):
    dash_duo.driver.set_window_size(3840, 2160)
    dash_duo.start_server(wall_app(dashboard_db))
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/wall?city={ZHANGZHOU}&playlist=payouts:60")
    dash_duo.wait_for_element("#wall-stages .main-svg", timeout=30)
    inner = dash_duo.driver.execute_script("return [window.innerWidth, window.innerHeight]")
    dash_duo.driver.set_window_size(3840 + 3840 - inner[0], 2160 + 2160 - inner[1])
    wait_until(dash_duo, lambda: dash_duo.driver.execute_script(
        "return document.querySelector('.page-wall').getBoundingClientRect().width") == 3840, 10)
    assert scroll_bars(dash_duo) == {"vertical": False, "horizontal": False, "wall_outside": False}
    assert dash_duo.driver.execute_script(
        "return document.querySelector('.page-wall').getBoundingClientRect().height") == 2160
    time.sleep(1)
    screenshot(dash_duo, "wall_payouts_4k_zh")
    assert console_errors(dash_duo) == []


def test_wall_map_moves_the_rider_units_every_few_seconds(dash_duo, dashboard_db):
    from data_access import live
    from data_access.simulator import Simulator

    sim = Simulator(dashboard_db, ZHANGZHOU, seed=5, start=utcnow() - dt.timedelta(minutes=2), incidents=False)
    sim.run(120, step_s=15)

    def on_map() -> list:
        return dash_duo.driver.execute_script("""
            const gd = document.querySelector('#wall-map .js-plotly-plot');
            const units = gd && gd.data && gd.data[2];
            return units ? Array.from(units.lon, (lon, i) => [lon, units.lat[i]]) : null;
        """)

    def expected() -> list:
        states = live.unit_states(dashboard_db, ZHANGZHOU)
        on_duty = states[states["lon"].notna() & (states["status"] != "off_duty")]
        return on_duty[["lon", "lat"]].to_numpy().tolist()

    def same(shown: list | None, positions: list) -> bool:      # rounded to 5 decimals (about a metre) on the wire
        return shown is not None and len(shown) == len(positions) and all(
            abs(a - b) <= 1e-5 for pair, want in zip(shown, positions, strict=True) for a, b in zip(pair, want,
                                                                                                   strict=True))

    open_wall(dash_duo, wall_app(dashboard_db), "playlist=map:60")
    first = expected()
    assert len(first) > 10
    wait_until(dash_duo, lambda: same(on_map(), first), 30)
    sim.step(60)                                              # the units patrol on
    moved = expected()
    assert moved != first
    wait_until(dash_duo, lambda: same(on_map(), moved), 25)  # the next live tick (10–15 s) redraws only them
    assert console_errors(dash_duo) == []
