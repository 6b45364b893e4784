"""The analytics pages (快处, 调解, 空地救援, 劝导站与车驾管, 反欺诈) and the district view in a real browser: each
loads in Chinese and English with its KPIs equal to the metric functions, its charts titled and nothing spilling;
a district bar drills into the district view with the filters kept; the district view agrees with the overview
filtered to that district."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import WebDriverWait

from base.i18n import t
from components.kpi import kpi_value_text
from data_access import fraud, ingest, metrics, registry, rescue, stations, throughput
from data_access.filters import parse_filters
from data_access.timeutil import local_today, utcnow
from tests.integration.conftest import console_errors, screenshot, scroll_through, scroll_to
from tests.integration.test_overview import overflowing
from tests.integration.test_payouts import wait_for_graphs
from tests.signin import signed_in_client

pytestmark = pytest.mark.browser

ZHANGZHOU = "350600"
CHONGQING = "500000"

# path, KPI keys, the graphs' ids, the heading in Chinese and English
PAGES = {
    "throughput": ("/throughput", registry.THROUGHPUT, ("counts", "latency", "heat", "districts"),
                   ("快处", "Throughput")),
    "mediation": ("/mediation", registry.MEDIATION, ("backlog", "rates", "duration", "outcomes"),
                  ("调解", "Mediation")),
    "rescue": ("/rescue", registry.RESCUE, ("timeline", "routes"), ("空地救援", "Rescue")),
    "stations": ("/stations", registry.STATIONS, ("districts", "kinds", "ebike", "services"),
                 ("劝导站与车驾管", "Stations")),
    "fraud": ("/fraud", registry.FRAUD, ("months", "districts"), ("反欺诈", "Anti-fraud")),
    "teams": ("/teams", registry.TEAMS, ("patrols", "share", "districts"), ("快骑队", "Teams")),
}


@pytest.fixture(scope="module")
def rescues(dashboard_db):
    """Two helicopter missions in Chongqing ten days ago, stored through the ingest path like any feed (the small
    demo database may hold none: there are a handful a year)."""
    district = metrics.district_names(dashboard_db, CHONGQING)["district_adcode"].iloc[0]
    requested = utcnow().replace(microsecond=0) - dt.timedelta(days=10)

    def at(minutes: int) -> str:
        return (requested + dt.timedelta(minutes=minutes)).isoformat() + "Z"

    rows = [{"mission_id": f"BROWSER-{n}", "city": CHONGQING, "district": district, "requested_at": at(n * 600),
             "takeoff_at": at(n * 600 + 6), "on_scene_at": at(n * 600 + 25),
             "hospital_at": at(n * 600 + hospital), "outcome": "survived"}
            for n, hospital in ((0, 48), (1, 75))]
    result = ingest.store(dashboard_db, "rescues", "browser-test", rows)
    assert not result.problems
    return rows


def card_text(kpi, lang: str) -> str:
    return " ".join(part for part in kpi_value_text(kpi, lang) if part)


def shown_kpis(dash_duo) -> dict[str, str]:
    """Each KPI card's value as read on screen (one script, so that a redraw cannot leave stale elements)."""
    return dash_duo.driver.execute_script("""
        const out = {};
        for (const card of document.querySelectorAll(".kpi-card")) {
            out[card.dataset.kpi] = card.querySelector(".kpi-value").innerText.replace(/\\s+/g, " ").trim();
        }
        return out;
    """)


@pytest.mark.both_backends                 # every page's figures against the metric functions, on PostgreSQL too
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_with_kpis_equal_to_the_metric_functions(dash_duo, dashboard_app, dashboard_db, rescues, name,
                                                          lang):
    path, kpi_keys, graphs, headings = PAGES[name]
    city = CHONGQING if name == "rescue" else ZHANGZHOU
    query = {"city": city, "range": "all" if name == "rescue" else "12m", "lang": lang}
    search = "?" + "&".join(f"{k}={v}" for k, v in query.items())
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + path + search)
    filters = parse_filters(query, metrics.catalogue(dashboard_db), local_today(), ZHANGZHOU).filters
    expected = {kpi.key: card_text(kpi, lang) for kpi in registry.kpis(dashboard_db, filters, kpi_keys).kpis}
    first = next(iter(expected))
    WebDriverWait(dash_duo.driver, 30, poll_frequency=0.3).until(
        lambda _: shown_kpis(dash_duo).get(first) == expected[first])
    assert shown_kpis(dash_duo) == expected
    assert any(value not in ("0 起", "— ", "—", "0 cases") for value in expected.values())

    heading = headings[0 if lang == "zh" else 1]
    assert dash_duo.find_element(f"#{name}-heading").text.startswith(heading)
    assert dash_duo.find_element(".app-nav-link.active").text == heading
    scroll_through(dash_duo)                        # the charts below the window are drawn as they come near
    for graph in graphs:
        dash_duo.wait_for_element(f"#{name}-{graph} .gtitle", timeout=15)
        assert dash_duo.find_element(f"#{name}-{graph} .gtitle").text
    assert len(dash_duo.find_elements(".download-csv")) >= len(graphs)
    wait_for_graphs(dash_duo)
    assert overflowing(dash_duo) == []
    height = dash_duo.driver.execute_script("return document.documentElement.scrollHeight")
    dash_duo.driver.set_window_size(1600, height + 140)
    wait_for_graphs(dash_duo)
    screenshot(dash_duo, f"{name}_{lang}")
    assert console_errors(dash_duo) == []


def test_rescue_list_links_each_mission_to_the_live_map(dash_duo, dashboard_app, dashboard_db, rescues):
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + f"/rescue?city={CHONGQING}&range=all")
    query = {"city": CHONGQING, "range": "all"}
    filters = parse_filters(query, metrics.catalogue(dashboard_db), local_today(), ZHANGZHOU).filters
    missions = rescue.missions(dashboard_db, filters)
    assert len(missions) >= 2
    assert {48.0, 75.0} <= set(missions["hospital_min"].round())          # the stored missions' timelines
    # the grid's first page lists the missions newest first, each linking to its own route on the live map
    expected = [f"/map?city={CHONGQING}&mission={m}" for m in missions["mission_id"].head(MISSIONS_PER_PAGE)]
    scroll_to(dash_duo, "#rescue-missions")         # the grid is fetched as it comes near
    WebDriverWait(dash_duo.driver, 20, poll_frequency=0.3).until(lambda _: mission_links(dash_duo) == expected)
    assert console_errors(dash_duo) == []


MISSIONS_PER_PAGE = 12      # the grid's page size (pages/_kit.py)


def mission_links(dash_duo) -> list[str | None]:
    """The map link of each row of the missions grid, in the order of the rows on screen."""
    return dash_duo.driver.execute_script("""
        const rows = [...document.querySelectorAll("#rescue-missions .ag-center-cols-container .ag-row")];
        rows.sort((a, b) => Number(a.getAttribute("row-index")) - Number(b.getAttribute("row-index")));
        return rows.map(row => {
            const link = row.querySelector('[col-id="map_link"] a');
            return link ? link.getAttribute("href") : null;
        });
    """)


DRILLS = {   # page -> (the chart that drills, the frame behind it, the column its bars are sorted by)
    "throughput": ("districts", throughput.by_district, "alerts"),
    "stations": ("districts", stations.persuasion_by_district, "violations"),
    "fraud": ("districts", fraud.fraud_by_district, "leads"),
}


@pytest.mark.parametrize("name", list(DRILLS))
def test_a_district_bar_drills_into_the_district_view_with_filters_kept(dash_duo, dashboard_app, dashboard_db,
                                                                        name):
    chart, frame_of, column = DRILLS[name]
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + f"/{name}?compare=pop&range=90d&lang=en")
    scroll_to(dash_duo, f"#{name}-{chart}")
    dash_duo.wait_for_element(f"#{name}-{chart} .bars path", timeout=30)
    filters = parse_filters({"compare": "pop", "range": "90d"}, metrics.catalogue(dashboard_db), local_today(),
                            ZHANGZHOU).filters
    first = frame_of(dashboard_db, filters).sort_values(column, ascending=False, kind="stable").iloc[0]
    bar = dash_duo.find_elements(f"#{name}-{chart} .bars path")[0]
    ActionChains(dash_duo.driver).move_to_element(bar).click().perform()
    WebDriverWait(dash_duo.driver, 10).until(lambda d: "/district/" in d.current_url)
    url = dash_duo.driver.current_url
    assert f"/district/{first['district_adcode']}?" in url
    assert "range=90d" in url and "compare=pop" in url and "lang=en" in url
    dash_duo.wait_for_contains_text("#district-heading", first["name_en"], timeout=20)
    dash_duo.wait_for_element(".kpi-note", timeout=10)
    assert dash_duo.find_element(".district-breadcrumb").text.startswith("Zhangzhou")
    wait_for_graphs(dash_duo)
    assert overflowing(dash_duo) == []
    if name == "throughput":
        height = dash_duo.driver.execute_script("return document.documentElement.scrollHeight")
        dash_duo.driver.set_window_size(1600, height + 140)
        wait_for_graphs(dash_duo)
        screenshot(dash_duo, "district_en")
    assert console_errors(dash_duo) == []


def test_the_district_view_agrees_with_the_overview_filtered_to_that_district(dash_duo, dashboard_app,
                                                                              dashboard_db):
    code = "350602"
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + f"/district/{code}?range=12m&compare=yoy")
    # ranks: the note under each card is the district's rank among the city's districts, 1 for the best value (the
    # placeholders hold an empty note line: the figures are read once the ranks are shown)
    filters = parse_filters({"range": "12m", "compare": "yoy"}, metrics.catalogue(dashboard_db), local_today(),
                            ZHANGZHOU).filters
    ranks = expected_rank_notes(dashboard_db, filters, code)
    assert len(ranks) >= 5
    try:
        WebDriverWait(dash_duo.driver, 30, poll_frequency=0.3).until(lambda _: rank_notes(dash_duo) == ranks)
    except TimeoutException:
        raise AssertionError(f"rank notes shown {rank_notes(dash_duo)}, expected {ranks}") from None
    district_view = shown_kpis(dash_duo)
    assert district_view.get("alerts") not in (None, "— 起")
    WebDriverWait(dash_duo.driver, 10).until(lambda d: d.title == "区县视图 · 警保联动")   # not "page not found"
    dash_duo.wait_for_page(url=dash_duo.server_url + f"/?range=12m&compare=yoy&districts={code}")
    dash_duo.wait_for_element(".district-breadcrumb", timeout=30)
    WebDriverWait(dash_duo.driver, 20).until(lambda _: shown_kpis(dash_duo).get("alerts") not in (None, "— 起"))
    assert shown_kpis(dash_duo) == district_view
    profile = dash_duo.find_element(".crumb-profile").get_attribute("href")        # and back to the district view
    assert profile.endswith(f"/district/{code}?range=12m&compare=yoy")
    assert len(district_view) == len(registry.OVERVIEW)
    assert console_errors(dash_duo) == []


def expected_rank_notes(db, filters, code: str) -> dict[str, str]:
    """The rank note of each overview KPI for district `code`, ranked here from each district's own value as the
    metric's function computes it (the best value ranks 1, ties share a rank, districts without a value are left
    out; a KPI with no good direction, such as rescues, has no rank)."""
    districts = metrics.district_names(db, filters.city)["district_adcode"]
    notes = {}
    for key in registry.OVERVIEW:
        metric = registry.METRICS[key]
        if metric.higher_is_better is None:
            continue
        values = {d: metric.value(db, filters.with_districts((d,))) for d in districts}
        known = {d: float(v) for d, v in values.items() if v is not None and not math.isnan(v)}
        if code not in known:
            continue
        sign = 1 if metric.higher_is_better else -1
        rank = 1 + sum(sign * value > sign * known[code] for value in known.values())
        notes[key] = t("district.rank", "zh", rank=rank, of=len(known))
    return notes


def rank_notes(dash_duo) -> dict[str, str]:
    """The note under each KPI card that has one, by the card's KPI key."""
    return dash_duo.driver.execute_script("""
        const out = {};
        for (const card of document.querySelectorAll(".kpi-card")) {
            const note = card.querySelector(".kpi-note");
            if (note) { out[card.dataset.kpi] = note.innerText.trim(); }
        }
        return out;
    """)


def post(app, body: dict):
    client = signed_in_client(app)
    assert client.get("/throughput").status_code == 200          # the page answers, as a browser asks first
    return client.post("/_dash-update-component", json=body)


def download_rows(app, page: str, chart: str, search: str) -> tuple[str, list[dict]]:
    target, button = f"{page}-download-{chart}", f"{page}-download-{chart}-button"
    response = post(app, {
        "output": f"{target}.data", "outputs": {"id": target, "property": "data"},
        "inputs": [{"id": button, "property": "n_clicks", "value": 1}],
        "state": [{"id": "app-url", "property": "search", "value": search}],
        "changedPropIds": [f"{button}.n_clicks"],
    })
    assert response.status_code == 200
    data = response.get_json()["response"][target]["data"]
    assert data["content"].startswith("\ufeff")
    return data["filename"], list(csv.DictReader(io.StringIO(data["content"][1:])))


@pytest.mark.parametrize(("page", "chart", "frame_of"), [
    ("throughput", "counts", lambda db, f: throughput.counts_over_time(db, f, "week")),
    ("throughput", "districts", throughput.by_district),
    ("mediation", "backlog", None),                    # summed per week of the window: only the chart's own rows
    ("stations", "services", stations.services_by_quarter),
    ("fraud", "insurers", fraud.fraud_by_insurer),
])
def test_each_csv_holds_exactly_the_rows_behind_its_chart(dashboard_app, dashboard_db, page, chart, frame_of):
    from pages._kit import PAGES, chart_data, choice_values, csv_frame

    search = "?city=350600&range=12m&grain=week"
    name, rows = download_rows(dashboard_app, page, chart, search)
    filters = parse_filters({"city": ZHANGZHOU, "range": "12m"}, metrics.catalogue(dashboard_db), local_today(),
                            ZHANGZHOU).filters
    drawn = chart_data(PAGES[page], dashboard_db, filters, PAGES[page].chart(chart),
                       choice_values(PAGES[page], search)[0])
    if frame_of is not None:     # what the chart draws is the data function's rows (and its context/partial marks)
        source = frame_of(dashboard_db, filters)
        assert drawn[list(source.columns)].equals(source)
    drawn = drawn.drop(columns=[c for c in ("route",) if c in drawn.columns])
    expected = csv_frame(drawn, PAGES[page].chart(chart), "zh")
    assert name == f"{page}_{chart}_{ZHANGZHOU}_{filters.start}_{filters.end}.csv"
    assert len(rows) == len(expected) > 0
    assert list(rows[0]) == list(expected.columns)     # the headers in the page's language
    assert not any(header.isascii() and "_" in header for header in rows[0]), list(rows[0])
    numeric = [c for c, original in zip(expected.columns, drawn.columns, strict=True)
               if original not in ("name_zh", "name_en", "district_adcode") and drawn[original].dtype.kind in "iu"]
    assert numeric, "the file has counts to compare"
    for column in numeric:
        assert [int(row[column]) for row in rows] == expected[column].tolist()


def test_a_bad_grain_is_named_on_the_page_and_the_default_is_used(dashboard_app):
    signed_in_client(dashboard_app).get("/throughput")          # the page answers first, as a browser asks
    key = next(k for k in dashboard_app.callback_map if "throughput-problems.children" in k)
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in key[2:-2].split("...")]
    response = post(dashboard_app, {
        "output": key, "outputs": outputs, "changedPropIds": ["app-url.search"],
        "inputs": [{"id": "app-url", "property": "search", "value": "?grain=fortnight"},
                   {"id": "app-refresh", "property": "n_intervals", "value": None}]})
    assert response.status_code == 200
    answer = response.get_json()["response"]
    assert "fortnight" in json.dumps(answer["throughput-problems"], ensure_ascii=False)
    assert answer["throughput-choice-grain"]["value"] == "auto"
