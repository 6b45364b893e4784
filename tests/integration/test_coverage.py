"""The coverage planning page (覆盖规划) in a real browser: shares equal to data_access.coverage, a click on the map
adds a candidate and the before/after table follows, three recommended sites, the plan downloaded; English and a
malformed link; the exports and the URL writer through the Flask test client."""

from __future__ import annotations

import csv
import importlib
import io
import json
from pathlib import Path
from urllib.parse import urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from components.coverage_map import UNCOVERED, share_text
from components.urlstate import parse_search
from data_access import coverage as cv
from data_access import metrics
from data_access.filters import parse_filters
from data_access.timeutil import local_today
from tests.integration.conftest import (
    console_errors,
    screenshot,
    wait_for,
    wait_for_attribute,
    wait_for_count,
    wait_for_text,
    wait_for_text_in,
    wait_for_texts,
    wait_for_value,
)
from tests.integration.test_overview import overflowing
from tests.signin import signed_in_client

pytestmark = pytest.mark.browser

ZHANGZHOU = "350600"


def page_module():
    """pages.coverage, imported by the app factory (a page module registers itself, so only after the app exists)."""
    return importlib.import_module("pages.coverage")


def expected_plan(db, search: str) -> cv.Plan:
    query = parse_search(search)
    filters = parse_filters(query, metrics.catalogue(db), local_today(), ZHANGZHOU).filters
    scenario, _ = cv.parse_scenario(query)
    return cv.evaluate_plan(db, filters, scenario, cv.city_centre(db, filters.city))


def kpi_selector(key: str) -> str:
    return f'#coverage-kpis [data-kpi="{key}"] .kpi-value'


def table_after(dash_duo) -> dict[str, tuple[str, str]]:
    """District adcode (or "city") -> (share now, share with the plan) as the table shows them."""
    rows = {}
    for row in dash_duo.find_elements("#coverage-table tbody tr"):
        cells = [c.text for c in row.find_elements("css selector", "td")]
        if len(cells) >= 3:
            rows[row.get_attribute("data-district")] = (cells[1], cells[2])
    return rows


def expected_table(plan: cv.Plan) -> dict[str, tuple[str, str]]:
    rows = {r.district_adcode: (share_text(r.share_before), share_text(r.share_after))
            for r in plan.districts.itertuples()}
    rows["city"] = (share_text(plan.before.share), share_text(plan.after.share))
    return rows


def current_search(dash_duo) -> str:
    return "?" + (urlparse(dash_duo.driver.current_url).query or "")


def wait_for_table(dash_duo, expected: dict[str, tuple[str, str]]) -> None:
    wait_for_value(dash_duo, lambda: table_after(dash_duo), expected, "the before/after table of the plan")


def wait_for_search(dash_duo, part: str) -> str:
    """Wait until the address holds `part`; returns its query string."""
    wait_for(dash_duo, lambda: part in dash_duo.driver.current_url, f"{part} in the address")
    return current_search(dash_duo)


def uncovered_hexagon(dash_duo):
    """The most opaque (most demand) uncovered hexagon lying wholly inside the map."""
    return dash_duo.driver.execute_script(f"""
        const box = document.querySelector('#coverage-map').getBoundingClientRect();
        let best = null, bestOpacity = -1;
        for (const path of document.querySelectorAll('#coverage-map path[stroke="{UNCOVERED}"]')) {{
            const r = path.getBoundingClientRect();
            const inside = r.left > box.left + 10 && r.right < box.right - 10 && r.top > box.top + 10
                           && r.bottom < box.bottom - 40 && r.width > 4;
            const opacity = parseFloat(path.getAttribute('fill-opacity'));
            if (inside && opacity > bestOpacity) {{ best = path; bestOpacity = opacity; }}
        }}
        return best;
    """)


def click(dash_duo, selector: str) -> None:
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)


def test_cov_page_what_if_recommend_and_download(dash_duo, dashboard_app, dashboard_db):
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/coverage")
    plan = expected_plan(dashboard_db, "")
    assert plan.demand_points > 100 and 0 < plan.before.share < 1
    wait_for_text(dash_duo, kpi_selector("before"), share_text(plan.before.share))
    wait_for_text(dash_duo, kpi_selector("after"), share_text(plan.after.share))
    wait_for_text(dash_duo, kpi_selector("demand"), f"{plan.demand_points:,}")
    wait_for_text(dash_duo, ".app-nav-link.active", "覆盖规划")
    wait_for_text_in(dash_duo, "#coverage-heading", "漳州市")
    assert len(expected_table(plan)) == 12                                         # 11 districts and the city
    wait_for_table(dash_duo, expected_table(plan))
    wait_for_text_in(dash_duo, "#coverage-routing", "直线距离模型")
    stations = len(plan.stations)
    assert stations > 10
    wait_for_count(dash_duo, '#coverage-map path[fill="#1d2733"]', stations)
    wait_for_count(dash_duo, f'#coverage-map path[stroke="{UNCOVERED}"]', lambda n: n > 0)
    worst = plan.districts.sort_values("uncovered_after", ascending=False).iloc[0]
    wait_for_text_in(dash_duo, "#coverage-gaps", worst["name_zh"])
    wait_for(dash_duo, lambda: overflowing(dash_duo) == [], "nothing spilling out of its box")
    screenshot(dash_duo, "coverage_zh")

    # what-if: a click on the map in the middle of the most-demand uncovered hexagon adds a candidate there
    hexagon = wait_for(dash_duo, lambda: uncovered_hexagon(dash_duo), "an uncovered hexagon wholly inside the map")
    ActionChains(dash_duo.driver).move_to_element(hexagon).click().perform()
    search = wait_for_search(dash_duo, "add=")
    assert len(cv.parse_scenario(parse_search(search))[0].added) == 1
    after = expected_plan(dashboard_db, search)
    assert after.after.share > after.before.share == plan.before.share
    wait_for_text(dash_duo, kpi_selector("after"), share_text(after.after.share))
    assert expected_table(after)["city"][0] != expected_table(after)["city"][1]
    wait_for_table(dash_duo, expected_table(after))
    wait_for_text(dash_duo, kpi_selector("stations"), f"{stations:,} / 1")
    wait_for_count(dash_duo, '#coverage-map path[fill="#2e7d32"]', 1)             # the added candidate

    # recommend three sites
    k_input = dash_duo.find_element("#coverage-k")
    k_input.send_keys(Keys.CONTROL, "a")
    k_input.send_keys("3", Keys.TAB)
    click(dash_duo, "#coverage-recommend")
    search = wait_for_search(dash_duo, "rec=1")
    recommended = expected_plan(dashboard_db, search).recommended
    assert len(recommended) == 3 and recommended["gain"].is_monotonic_decreasing

    def recommended_rows() -> list[tuple[str, str]]:
        return [tuple(c.text for c in r.find_elements("css selector", "td")[1:3])
                for r in dash_duo.find_elements(".coverage-recommended-table tbody tr")]

    def district_at(lon: float, lat: float) -> str:
        from shapely.geometry import Point, shape

        features = metrics.district_geojson(dashboard_db, "350600")["features"]
        return next(f["properties"]["name_zh"] for f in features if shape(f["geometry"]).contains(Point(lon, lat)))

    listed = [(f"{district_at(lon, lat)} · 新增站点 {n}", f"{lon:.5f}, {lat:.5f}") for n, (lon, lat) in
              enumerate(zip(recommended["lon"], recommended["lat"], strict=True), start=1)]
    wait_for_value(dash_duo, recommended_rows, listed, "the three recommended sites listed, by district and number")
    wait_for_texts(dash_duo, "#coverage-map .coverage-step", ["1", "2", "3"])     # numbered on the map as listed
    screenshot(dash_duo, "coverage_zh_recommended")
    height = dash_duo.driver.execute_script("return document.documentElement.scrollHeight")
    dash_duo.driver.set_window_size(1600, height + 140)
    wait_for(dash_duo, lambda: overflowing(dash_duo) == [], "nothing spilling out of its box")
    screenshot(dash_duo, "coverage_zh_full")

    # the plan as CSV, downloaded by the browser
    click(dash_duo, "#coverage-export-csv-button")
    folder = Path(dash_duo.download_path)
    files = wait_for(dash_duo, lambda: list(folder.glob("coverage_plan_*.csv")), "the plan downloaded as CSV")
    assert len(files) == 1
    plan_rows = list(csv.DictReader(io.StringIO(files[0].read_text(encoding="utf-8-sig"))))
    statuses = [r["status"] for r in plan_rows]
    assert statuses.count("existing") == stations and statuses.count("added") == 1
    assert statuses.count("recommended") == 3
    assert console_errors(dash_duo) == []


def test_cov_page_in_english_with_a_malformed_link(dash_duo, dashboard_app, dashboard_db):
    # a station whose switching-off leaves a gap (many stations overlap)
    base = "?t=15&weight=severity"
    station = next(int(i) for i in expected_plan(dashboard_db, base).stations["id"]
                   if expected_plan(dashboard_db, f"{base}&off={i}").after.share
                   < expected_plan(dashboard_db, base).after.share)
    search = f"?lang=en&t=15&weight=severity&off={station}&k=abc&speeds=1,2"
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/coverage" + search)
    plan = expected_plan(dashboard_db, search)
    assert plan.scenario.minutes == 15 and plan.scenario.off == (station,) and plan.scenario.k == cv.DEFAULT_K
    assert plan.after.share < plan.before.share                       # the switched-off station leaves a gap
    wait_for_text(dash_duo, kpi_selector("after"), share_text(plan.after.share))
    wait_for_text_in(dash_duo, ".coverage-problems", "fell back to defaults", "k", "speeds")
    wait_for_text_in(dash_duo, "#coverage-heading", "Coverage planning")
    wait_for_count(dash_duo, '#coverage-map path[fill="#9aa5b1"]', lambda n: n > 0)   # the switched-off station
    wait_for_table(dash_duo, expected_table(plan))
    wait_for_attribute(dash_duo, "#coverage-k", "value", str(cv.DEFAULT_K))
    wait_for(dash_duo, lambda: overflowing(dash_duo) == [], "nothing spilling out of its box")
    screenshot(dash_duo, "coverage_en")
    assert console_errors(dash_duo) == []


def callback(app, output: str, inputs: list[dict], state: list[dict]) -> dict:
    client = signed_in_client(app)
    assert client.get("/coverage").status_code == 200              # the page answers, as a browser asks first
    target, prop = output.rsplit(".", 1)
    body = {"output": output, "outputs": {"id": target, "property": prop}, "inputs": inputs, "state": state,
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.data[:500]
    return response.get_json()["response"][target]


def test_cov_exports_are_the_plan(dashboard_app, dashboard_db):
    page = page_module()
    station = int(expected_plan(dashboard_db, "").stations["id"].iloc[0])
    search = f"?city=350600&range=90d&add=117.70000,24.45000&off={station}&k=2&rec=1"
    plan = expected_plan(dashboard_db, search)
    state = [{"id": "app-url", "property": "search", "value": search}]
    data = callback(dashboard_app, f"{page.EXPORT_CSV}.data",
                    [{"id": page.EXPORT_CSV_BUTTON, "property": "n_clicks", "value": 1}], state)["data"]
    assert data["filename"].startswith("coverage_plan_350600_") and data["type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(data["content"].lstrip("\ufeff"))))
    assert [r["status"] for r in rows].count("switched_off") == 1
    added = [r for r in rows if r["status"] == "added"]
    assert [(float(r["lon"]), float(r["lat"])) for r in added] == [(117.7, 24.45)]
    assert float(added[0]["reach_km"]) == pytest.approx(plan.added["radius_km"].iloc[0], abs=1e-3)
    assert [float(r["gain"]) for r in rows if r["status"] == "recommended"] == plan.recommended["gain"].tolist()

    data = callback(dashboard_app, f"{page.EXPORT_GEOJSON}.data",
                    [{"id": page.EXPORT_GEOJSON_BUTTON, "property": "n_clicks", "value": 1}], state)["data"]
    collection = json.loads(data["content"])
    assert data["filename"].endswith(".geojson") and collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == len(rows)
    assert collection["properties"]["coverage_after"] == pytest.approx(plan.after.share)
    assert collection["features"][0]["geometry"]["type"] == "Point"


def test_cov_url_writer_follows_the_controls(dashboard_app):
    page = page_module()
    values = {page.KINDS: ["police_booth"], page.K: 4, page.CIRCUITY: 1.5, page.WEIGHT: "equal",
              page.VEHICLE: "car", page.T_PRESET: None, page.T_TYPED: 12,
              **dict(zip(page.SPEEDS, [20, 30, 40, 50], strict=True))}
    search = "?city=350600&off=5"
    assert page.next_search(page.KINDS, search, values, {}, None) == "?city=350600&kinds=police_booth&off=5"
    assert page.next_search(page.T_TYPED, search, values, {}, None) == "?city=350600&off=5&t=12"
    assert page.next_search(page.CIRCUITY, search, values, {}, None) == \
        "?city=350600&circuity=1.5&off=5&speeds=20,30,40,50"
    assert page.next_search(page.RECOMMEND, search, values, {}, "24.5,117.6,9") == \
        "?city=350600&k=4&off=5&rec=1&view=24.5,117.6,9"
    typed = {**values, page.CANDS: "117.6,24.5\n\n117.7,24.6\n"}
    assert page.next_search(page.RECOMMEND, search, typed, {}, None) == \
        "?city=350600&cands=117.6,24.5%3B117.7,24.6&k=4&off=5&rec=1"
    clicked = {"map": {"latlng": {"lat": 24.512345678, "lng": 117.61}}}
    assert page.next_search(page.MAP_IDS["map"], search, values, clicked, None) == \
        "?city=350600&add=117.61000,24.51235&off=5"
    station = {"stations": {"properties": {"id": 5, "role": "station"}}}
    assert page.next_search(page.MAP_IDS["stations"], search, values, station, None) == "?city=350600"
    assert page.next_search(page.T_TYPED, search, {**values, page.T_TYPED: None}, {}, None) is None
    assert page.next_search(page.RESET, "?add=117.6,24.5&off=1&rec=1", values, {}, None) == ""


def test_cov_page_has_no_serious_accessibility_violation(dash_duo, dashboard_app, dashboard_db):
    from tests.integration.test_accessibility import AXE

    dash_duo.start_server(dashboard_app)
    dash_duo.driver.set_script_timeout(60)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/coverage")
    plan = expected_plan(dashboard_db, "")
    wait_for_text(dash_duo, kpi_selector("before"), share_text(plan.before.share))
    dash_duo.driver.execute_script(AXE)
    violations = dash_duo.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document.querySelector('.page-coverage'),
                {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
           .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))))
           .catch(e => done([{id: "axe-error", impact: "critical", nodes: String(e)}]));
    """)        # the page itself: the shell around it is the shell's test
    assert [v for v in violations if v["impact"] in ("serious", "critical")] == []
    assert console_errors(dash_duo) == []
