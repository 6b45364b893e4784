"""The wall display (指挥大屏) in a real browser at 1920×1080: kiosk layout without scroll bars, a 3-view playlist
rotating with its dwell times, the "数据延迟" badge when the data is old, while the database is away and while the
server is away (the page reloading when it is back), and a new rescue taking over the screen, then the playlist
resuming."""

from __future__ import annotations

import datetime as dt
import importlib
import json

import pytest
from sqlalchemy import delete

from base.settings import load_settings
from components.formatting import format_count
from components.wall import DEFAULT_PLAYLIST, MIN_FONT, UNITS_TRACE, parse_playlist
from dashboard.app import create_app
from data_access import live, metrics, now, registry
from data_access.filters import Filters
from data_access.models import RescueMission, RescueOutcome
from data_access.timeutil import LOCAL_OFFSET, local_day, to_local, utcnow
from tests.integration.conftest import (
    WAIT_S,
    console_errors,
    database_away,
    screenshot,
    wait_for,
    wait_for_count,
    wait_for_text,
    wait_for_text_in,
    wait_for_texts,
)
from tests.signin import signed_in_client

pytestmark = pytest.mark.browser

ZHANGZHOU = "350600"
BADGE = "#wall-stale"
TILES = "#wall-kpis .wall-kpi-number"


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


def wait_for_view(dash_duo, view: str, timeout: float = WAIT_S) -> None:
    wait_for(dash_duo, lambda: current_view(dash_duo) == view, f"the wall to show its {view} view", timeout)


def wait_for_laid_out(dash_duo, selector: str) -> None:
    """Wait until every graph in `selector` is drawn at the width of its box: a graph drawn while its view was
    hidden lays itself out again once shown."""
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script("""
        const graphs = [...document.querySelectorAll(arguments[0] + ' .js-plotly-plot')];
        return graphs.length > 0 && graphs.every(graph => {
            const svg = graph.querySelector('.main-svg'), width = graph.getBoundingClientRect().width;
            return svg && width > 0 && Math.abs(svg.getBoundingClientRect().width - width) < 2;
        });""", selector), f"the graphs of {selector} to fill their boxes")


def badge_shown(dash_duo) -> bool:
    return dash_duo.driver.execute_script(f"return getComputedStyle(document.querySelector('{BADGE}')).display") \
        != "none"


def local_minutes(first: dt.datetime, last: dt.datetime) -> list[str]:
    """Every Asia/Shanghai HH:MM from the UTC instant `first` to `last`, both included."""
    minute = to_local(first).replace(second=0, microsecond=0)
    minutes = []
    while minute <= to_local(last):
        minutes.append(minute.strftime("%H:%M"))
        minute += dt.timedelta(minutes=1)
    return minutes


def since_of(badge: str) -> str:
    """The HH:MM of "数据延迟 · 自 HH:MM 起"."""
    return badge.removeprefix("数据延迟 · 自 ").removesuffix(" 起")


def open_wall(dash_duo, app, query: str) -> None:
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/wall?{query}")
    dash_duo.wait_for_element("#wall-kpis .wall-kpi", timeout=WAIT_S)
    inner = dash_duo.driver.execute_script("return [window.innerWidth, window.innerHeight]")
    dash_duo.driver.set_window_size(1920 + 1920 - inner[0], 1080 + 1080 - inner[1])   # the screen inside: 1920×1080


def record_views(dash_duo) -> None:
    """From now on the browser notes each view the wall shows, with the moment it changed (ms), so that dwell times
    are measured where they happen rather than by polling from here."""
    dash_duo.driver.execute_script("""
        const root = document.querySelector('.page-wall');
        const log = window.wallViews = [[root.getAttribute('data-wall-view'), performance.now()]];
        new MutationObserver(() => {
            const view = root.getAttribute('data-wall-view');
            if (view !== log[log.length - 1][0]) { log.push([view, performance.now()]); }
        }).observe(root, {attributes: true, attributeFilter: ['data-wall-view']});
    """)


def test_wall_rotates_a_three_view_playlist_without_scroll_bars(dash_duo, dashboard_db):
    open_wall(dash_duo, wall_app(dashboard_db), f"city={ZHANGZHOU}&playlist=overview:6,payouts:4,districts:4")
    record_views(dash_duo)
    assert dash_duo.driver.execute_script("return [window.innerWidth, window.innerHeight]") == [1920, 1080]
    wait_for(dash_duo, lambda: not dash_duo.find_element(".app-header").is_displayed(),
             "the navigation chrome to be hidden (kiosk)")
    wait_for_count(dash_duo, "#wall-kpis .wall-kpi", 6)
    window, _ = importlib.import_module("pages.wall").view_filters(ZHANGZHOU)
    overview = registry.kpis(dashboard_db, window, registry.OVERVIEW)
    for key in ("alerts", "quick"):                    # the tiles are the overview's own figures
        wait_for_text(dash_duo, f'[data-kpi="{key}"] .wall-kpi-number', format_count(overview.get(key).value))
    wait_for_text(dash_duo, ".wall-place", "漳州市")
    wait_for_text(dash_duo, "#wall-as-of", lambda text: text.startswith("数据截至"))
    clock = wait_for_text(dash_duo, "#wall-clock", lambda text: len(text) == 19)
    assert clock[4] == "-" and clock[13] == ":"
    wait_for_texts(dash_duo, ".wall-chips[data-list='playlist'] .wall-chip", ["总体态势 · 6s", "快赔时效 · 4s",
                                                                             "区县排名 · 4s"])

    # Two rounds of 14 s: each view follows the one before in the playlist and is shown for its dwell time.
    log = wait_for(dash_duo, lambda: (views := dash_duo.driver.execute_script("return window.wallViews"))
                   and len(views) >= 5 and views, "four changes of the shown view", timeout=60)
    dwell, following = {"overview": 6, "payouts": 4, "districts": 4}, {
        "overview": "payouts", "payouts": "districts", "districts": "overview"}
    changes = log[1:5]
    assert [view for view, _ in changes[1:]] == [following[view] for view, _ in changes[:-1]]
    shown = [round((b[1] - a[1]) / 1000, 1) for a, b in zip(changes, changes[1:], strict=False)]
    assert shown == pytest.approx([dwell[view] for view, _ in changes[:-1]], abs=0.8)

    wait_for_view(dash_duo, "overview")
    wait_for_laid_out(dash_duo, "#wall-view-overview")
    assert scroll_bars(dash_duo) == {"vertical": False, "horizontal": False, "wall_outside": False}
    screenshot(dash_duo, "wall_overview_zh")

    def districts_titles() -> list[float] | None:
        """The bottom of the districts chart's title and the top of its subtitle, while that view is shown."""
        return dash_duo.driver.execute_script("""
            if (document.querySelector('.page-wall').getAttribute('data-wall-view') !== 'districts') { return null; }
            const title = document.querySelector('#wall-districts .gtitle');
            const subtitle = document.querySelector('#wall-districts .gtitle-subtitle');
            if (!title || !subtitle) { return null; }
            const a = title.getBoundingClientRect(), b = subtitle.getBoundingClientRect();
            return a.height > 0 && b.height > 0 ? [a.bottom, b.top] : null;""")

    titles = wait_for(dash_duo, districts_titles, "the districts view with its chart's titles drawn")
    assert titles[0] <= titles[1]                       # the subtitle sits under the title, not on it
    assert scroll_bars(dash_duo) == {"vertical": False, "horizontal": False, "wall_outside": False}
    screenshot(dash_duo, "wall_districts_zh")
    assert console_errors(dash_duo) == []


def test_wall_in_english_with_a_bad_view_named(dash_duo, dashboard_db):
    open_wall(dash_duo, wall_app(dashboard_db), f"city={ZHANGZHOU}&playlist=map:20,radar:5&lang=en")
    wait_for_text_in(dash_duo, "#wall-problems", "“radar” in the playlist is not a view")
    wait_for_view(dash_duo, "map")
    wait_for_text(dash_duo, ".wall-title", "Police–insurance command wall")
    wait_for(dash_duo, lambda: dash_duo.driver.title.startswith("Wall display · "), "the wall's tab title")
    wait_for_text(dash_duo, "#wall-clock", lambda text: len(text) == 19)
    wait_for_laid_out(dash_duo, "#wall-view-map")
    spilled = dash_duo.driver.execute_script("""
        return [...document.querySelectorAll('.page-wall, .wall-top, .wall-stage, .wall-foot')]
            .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.className);""")
    assert spilled == []
    clock = dash_duo.driver.execute_script("return document.getElementById('wall-clock').getBoundingClientRect().right")
    assert clock <= 1920 - 16                          # the clock is whole on screen, inside the padding
    screenshot(dash_duo, "wall_map_en")
    assert console_errors(dash_duo) == []


def test_wall_badge_says_the_data_is_old(dash_duo, old_db):
    """The demo built up to three hours ago, JINGBAO_STALE_AFTER_MINUTES at its default 30: the badge names the time
    of the newest data, and the figures of that data are shown."""
    newest = to_local(metrics.data_as_of(old_db, ZHANGZHOU)).strftime("%H:%M")
    open_wall(dash_duo, wall_app(old_db), f"city={ZHANGZHOU}&playlist=overview:60")
    wait_for_text(dash_duo, BADGE, f"数据延迟 · 自 {newest} 起")
    wait_for_text(dash_duo, "#wall-as-of", f"数据截至 {newest}")
    wait_for_texts(dash_duo, TILES, lambda tiles: len(tiles) == 6 and "—" not in tiles[:2])
    wait_for_laid_out(dash_duo, "#wall-view-overview")
    screenshot(dash_duo, "wall_data_old_zh")
    assert console_errors(dash_duo) == []


def test_wall_marks_itself_stale_while_the_database_is_away_and_recovers(dash_duo, dashboard_db):
    opened = utcnow()
    open_wall(dash_duo, wall_app(dashboard_db, stale_after_minutes=10**6), f"city={ZHANGZHOU}&playlist=overview:60")
    wait_for_text(dash_duo, "#wall-as-of", lambda text: text.startswith("数据截至"))
    assert not badge_shown(dash_duo)
    dash_duo.wait_for_element("#wall-trend .main-svg", timeout=WAIT_S)
    tiles = wait_for_texts(dash_duo, TILES, lambda found: len(found) == 6 and "—" not in found[:2])

    with database_away(dashboard_db):
        away = utcnow()
        badge = wait_for_text(dash_duo, BADGE, lambda text: text.startswith("数据延迟 · 自 "))
        assert since_of(badge) in local_minutes(opened, away)        # the last good answer, before it went away
        wait_for_texts(dash_duo, TILES, tiles)                        # the last good figures stay on screen
        assert dash_duo.find_elements("#wall-trend .main-svg")
        screenshot(dash_duo, "wall_stale_zh")

    wait_for(dash_duo, lambda: not badge_shown(dash_duo), "the badge to go once the database is back")
    assert console_errors(dash_duo) == []


def refused_connections_only(entries: list[dict], server_url: str) -> list[dict]:
    """The console entries other than requests to `server_url` that failed because nothing listened there (plotly
    says so in its own words when the map's topojson file is what it could not fetch)."""
    return [e for e in entries if not (server_url in e.get("message", "") and (
        "ERR_CONNECTION_REFUSED" in e["message"] or "while fetching topojson file" in e["message"]))]


def test_wall_badge_says_the_server_is_away_and_the_page_reloads_when_it_is_back(dash_duo, dashboard_db):
    app = wall_app(dashboard_db, stale_after_minutes=10**6)
    opened = utcnow()
    open_wall(dash_duo, app, f"city={ZHANGZHOU}&playlist=overview:60")
    as_of = wait_for_text(dash_duo, "#wall-as-of", lambda text: text.startswith("数据截至"))
    assert not badge_shown(dash_duo)
    tiles = wait_for_texts(dash_duo, TILES, lambda found: len(found) == 6 and "—" not in found[:2])
    dash_duo.driver.execute_script("window.wallVisit = 'before'")

    port = dash_duo.server.port
    dash_duo.server.stop()                              # nothing answers on the server's address any more
    stopped = utcnow()
    badge = wait_for_text(dash_duo, BADGE, lambda text: text.startswith("数据延迟 · 自 "))
    assert since_of(badge) in local_minutes(opened, stopped)      # the last good answer, before the server went
    wait_for_texts(dash_duo, TILES, tiles)                       # the last good figures stay on screen
    wait_for_text(dash_duo, "#wall-as-of", as_of)
    assert current_view(dash_duo) == "overview"                  # the playlist goes on in the browser
    screenshot(dash_duo, "wall_server_away_zh")
    assert refused_connections_only(console_errors(dash_duo), dash_duo.server_url) == []

    dash_duo.server.start(app, port=port, start_timeout=WAIT_S)   # back on the same address
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script("return window.wallVisit") is None,
             "the wall to reload itself once the server answers")
    wait_for_text(dash_duo, "#wall-as-of", lambda text: text.startswith("数据截至"))
    wait_for_texts(dash_duo, TILES, tiles)
    assert not badge_shown(dash_duo)
    assert refused_connections_only(console_errors(dash_duo), dash_duo.server_url) == []


def test_wall_as_of_endpoint_reports_old_data_and_an_absent_database(dashboard_db):
    client = signed_in_client(wall_app(dashboard_db, stale_after_minutes=0))
    body = client.get(f"/api/v1/as-of?city={ZHANGZHOU}").get_json()
    assert body["database"] == "ok" and body["stale"] is True and body["stale_after_minutes"] == 0
    assert len(body["as_of_local"]) == 5
    assert client.get("/api/v1/as-of?city=999999").status_code == 400

    with database_away(dashboard_db):
        response = client.get(f"/api/v1/as-of?city={ZHANGZHOU}")
    assert response.status_code == 200
    assert response.get_json()["database"] == "unavailable" and response.get_json()["stale"] is True


def test_wall_new_rescue_interrupts_then_the_playlist_resumes(dash_duo, dashboard_db):
    open_wall(dash_duo, wall_app(dashboard_db), f"city={ZHANGZHOU}&playlist=overview:60,payouts:60&interrupt=15")
    wait_for(dash_duo, lambda: dash_duo.find_element("#wall-event-ids").get_attribute("textContent"),
             "the first list of priority events")
    wait_for_view(dash_duo, "overview")                 # any older event has had its turn
    requested = utcnow() - dt.timedelta(minutes=1)
    with dashboard_db.transaction() as session:
        mission = RescueMission(source="wall-test", external_id="W1", city_adcode=ZHANGZHOU, district_adcode="350602",
                                requested_at=requested, local_day=local_day(requested),
                                takeoff_at=requested + dt.timedelta(seconds=30), outcome=RescueOutcome.UNKNOWN)
        session.add(mission)
        session.flush()
        mission_id = mission.id
    try:
        wait_for_view(dash_duo, "interrupt")
        wait_for(dash_duo, lambda: f"rescue-{mission_id}" in json.loads(
            dash_duo.find_element("#wall-event-ids").get_attribute("textContent")), "the new mission among the events")
        wait_for_text(dash_duo, ".wall-interrupt-kind", "空地救援 · 新任务")
        wait_for_text(dash_duo, ".wall-interrupt-where", lambda text: text.startswith("芗城区"))
        steps = [text.split("\n") for text in wait_for_texts(dash_duo, ".wall-step", lambda found: len(found) == 4)]
        assert [s[0] for s in steps] == ["请求救援", "直升机起飞", "到达现场", "送达医院"]
        assert steps[2][1] == "进行中"
        assert not dash_duo.find_element("#wall-view-overview").is_displayed()
        wait_for_laid_out(dash_duo, "#wall-interrupt")
        screenshot(dash_duo, "wall_interrupt_zh")
        wait_for_view(dash_duo, "overview")            # resumes where it was
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
    dash_duo.wait_for_element("#wall-stages .main-svg", timeout=WAIT_S)
    inner = dash_duo.driver.execute_script("return [window.innerWidth, window.innerHeight]")
    dash_duo.driver.set_window_size(3840 + 3840 - inner[0], 2160 + 2160 - inner[1])
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script(
        "return document.querySelector('.page-wall').getBoundingClientRect().width") == 3840,
        "the wall scaled to the 3840 px wide screen")
    assert scroll_bars(dash_duo) == {"vertical": False, "horizontal": False, "wall_outside": False}
    assert dash_duo.driver.execute_script(
        "return document.querySelector('.page-wall').getBoundingClientRect().height") == 2160
    wait_for_view(dash_duo, "payouts")
    wait_for_laid_out(dash_duo, "#wall-view-payouts")
    screenshot(dash_duo, "wall_payouts_4k_zh")
    assert console_errors(dash_duo) == []


def test_wall_map_moves_the_rider_units_every_few_seconds(dash_duo, dashboard_db):
    from data_access.simulator import Simulator

    # started five minutes back: two minutes of patrols now, and room before the clock for the minute stepped below
    # (the simulator never writes a time later than now)
    sim = Simulator(dashboard_db, ZHANGZHOU, seed=5, start=utcnow() - dt.timedelta(minutes=5), incidents=False)
    sim.run(120, step_s=15)

    def on_map() -> list:
        return dash_duo.driver.execute_script("""
            const gd = document.querySelector('#wall-map .js-plotly-plot');
            const units = gd && gd.data && gd.data[arguments[0]];
            return units ? Array.from(units.lon, (lon, i) => [lon, units.lat[i]]) : null;
        """, UNITS_TRACE)

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
    wait_for(dash_duo, lambda: same(on_map(), first), "the rider units where the database has them")
    sim.step(60)                                              # the units patrol on
    sim.flush()
    moved = expected()
    assert moved != first
    wait_for(dash_duo, lambda: same(on_map(), moved),        # the next live tick (10–15 s) redraws only them
             "the rider units at their new positions after the next live tick")
    assert console_errors(dash_duo) == []


SMALL_TEXT = """
    // every visible element with text of its own (HTML and the graphs' SVG) whose type is under the minimum
    const small = [];
    for (const el of document.querySelectorAll('.page-wall *')) {
        if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) { continue; }
        const style = getComputedStyle(el), box = el.getBoundingClientRect();
        if (style.visibility === 'hidden' || style.display === 'none' || !box.width || !box.height) { continue; }
        if (parseFloat(style.fontSize) < arguments[0]) {
            small.push([el.textContent.trim().slice(0, 30), style.fontSize]);
        }
    }
    return small;
"""

OVERFLOWING = """
    // text cut off: wider than its box, or taller than its tile (a line's glyphs may pass its own line box)
    const wide = [...document.querySelectorAll('.wall-now-tile, .wall-now-row, .wall-kpi, .wall-top')]
        .filter(el => el.scrollWidth > el.clientWidth + 1);
    const tall = [...document.querySelectorAll('.wall-now-tile, .wall-kpi')]
        .filter(el => el.scrollHeight > el.clientHeight + 1);
    return [...wide, ...tall].map(el => el.className + ': ' + el.textContent.slice(0, 40));
"""


def strip_at(label: str) -> dt.datetime:
    """The naive UTC minute the strip's counts stop at, from its label "今日警情 · 截至 HH:MM"."""
    hour, minute = (int(part) for part in label.removeprefix("今日警情 · 截至 ").split(":"))
    local = (utcnow() + LOCAL_OFFSET).replace(hour=hour, minute=minute, second=0, microsecond=0)
    if local > utcnow() + LOCAL_OFFSET:              # shown before local midnight, read after it
        local -= dt.timedelta(days=1)
    return local - LOCAL_OFFSET


def strip_figures(dash_duo) -> dict[str, str]:
    """The strip as shown, read at one moment: its label, each figure's number and each delta's text."""
    return dash_duo.driver.execute_script("""
        const out = {};
        const label = document.querySelector('.wall-now-alerts .wall-now-label');
        if (!label) { return out; }
        out.label = label.textContent;
        document.querySelectorAll('.wall-now [data-now]').forEach(el => {
            out[el.dataset.now] = (el.querySelector('.wall-now-number') || el).textContent; });
        document.querySelectorAll('.wall-now-delta').forEach((el, i) => {
            out['delta' + i] = el.textContent; out['base' + i] = el.title; });
        return out;""")


def strip_as_counted(dash_duo, db) -> tuple[dict, now.AlertsNow] | None:
    """The strip and the database's own counts at the strip's minute, when the alerts figure agrees."""
    shown = strip_figures(dash_duo)
    if not shown.get("label", "").startswith("今日警情 · 截至 "):
        return None
    at = strip_at(shown["label"])
    today = Filters(city=ZHANGZHOU, start=local_day(at), end=local_day(at), comparison="none")
    expected = now.alerts_now.uncached(db, today, at)
    assert expected.today == now.alerts_so_far(db, today, at)
    return (shown, expected) if shown.get("alerts") == format_count(expected.today) else None


def test_wall_now_strip_shows_today_so_far_on_every_view_at_1080p_and_4k(dash_duo, dashboard_db):
    open_wall(dash_duo, wall_app(dashboard_db), f"city={ZHANGZHOU}&playlist=overview:8,map:8,payouts:8")
    shown, expected = wait_for(dash_duo, lambda: strip_as_counted(dash_duo, dashboard_db),
                               "today's alerts so far, as counted in the database")
    assert shown["delta0"].startswith(f"较昨日同时段 {expected.today - expected.yesterday:+,d} 起")
    assert shown["delta1"].startswith(f"较上周同日同时段 {expected.today - expected.last_week:+,d} 起")
    assert shown["base0"] == f"较昨日同时段：{expected.yesterday:,d} 起"            # the base on hover
    assert shown["base1"] == f"较上周同日同时段：{expected.last_week:,d} 起"
    assert shown["open-awaiting"] == format_count(expected.open["awaiting"])
    assert shown["open-on_scene"] == format_count(expected.open["on_scene"])
    units = now.units_now(live.unit_states(dashboard_db, ZHANGZHOU))    # nothing moves them in this test
    assert [shown["on-duty"], shown["patrolling"], shown["busy"]] == [
        format_count(units.on_duty), format_count(units.patrolling), format_count(units.busy)]
    assert shown["rescue"]                                        # a time and a place, or "暂无任务"

    for view, name in (("overview", "wall_1080"), ("map", "wall_1080_map"), ("payouts", "wall_1080_payouts")):
        wait_for_view(dash_duo, view)
        wait_for_laid_out(dash_duo, f"#wall-view-{view}")
        screenshot(dash_duo, name)
        assert dash_duo.find_element(".wall-now").is_displayed()   # the strip stays on every view
        assert dash_duo.driver.execute_script(SMALL_TEXT, MIN_FONT) == []
        assert dash_duo.driver.execute_script(OVERFLOWING) == []
        assert scroll_bars(dash_duo) == {"vertical": False, "horizontal": False, "wall_outside": False}
    map_box = dash_duo.driver.execute_script("""
        const panel = document.querySelector('#wall-map').getBoundingClientRect();
        const geo = document.querySelector('#wall-map .geolayer, #wall-map .geo').getBoundingClientRect();
        return [geo.width / panel.width, geo.height / panel.height];""")
    assert map_box[0] > 0.9 or map_box[1] > 0.75                  # the map fills its panel

    dash_duo.driver.set_window_size(3840, 2160)
    inner = dash_duo.driver.execute_script("return [window.innerWidth, window.innerHeight]")
    dash_duo.driver.set_window_size(3840 + 3840 - inner[0], 2160 + 2160 - inner[1])
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script(
        "return document.querySelector('.page-wall').getBoundingClientRect().width") == 3840,
        "the wall scaled to the 3840 px wide screen")
    wait_for_view(dash_duo, "overview")
    wait_for_laid_out(dash_duo, "#wall-view-overview")
    strip = dash_duo.driver.execute_script(
        "return document.querySelector('.wall-now-alerts .wall-now-label').getBoundingClientRect().height")
    assert strip >= 2 * MIN_FONT                                  # the same picture, twice as large
    assert scroll_bars(dash_duo) == {"vertical": False, "horizontal": False, "wall_outside": False}
    screenshot(dash_duo, "wall_4k")
    wait_for_view(dash_duo, "map")
    wait_for_laid_out(dash_duo, "#wall-view-map")
    screenshot(dash_duo, "wall_4k_map")
    assert console_errors(dash_duo) == []
