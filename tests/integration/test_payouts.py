"""The payouts page (快赔) in a real browser: KPIs equal to the metric functions, the charts and the insurer grid,
CSV downloads of the rows behind a chart, a district bar drilling into the district view, English."""

from __future__ import annotations

import csv
import importlib
import io
import json

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from components.formatting import format_count, format_duration, format_ratio, format_yuan
from components.kpi import kpi_value_text
from data_access import metrics, payouts, registry
from data_access.filters import parse_filters
from data_access.timeutil import local_today
from tests.integration.conftest import console_errors, screenshot, scroll_through, scroll_to
from tests.integration.test_overview import graphs_fit, overflowing
from tests.signin import signed_in_client

pytestmark = pytest.mark.browser

ZHANGZHOU = "350600"


def page_module():
    """pages.payouts, imported by the app factory (a page module registers itself, so only after the app exists)."""
    return importlib.import_module("pages.payouts")


def filters_of(db, query: dict):
    return parse_filters(query, metrics.catalogue(db), local_today(), ZHANGZHOU).filters


def kpi_text(dash_duo, key: str) -> str:
    return dash_duo.find_element(f'[data-kpi="{key}"] .kpi-value').text.replace("\n", " ").strip()


def duration(minutes: float | None) -> str:
    """Minutes as a card writes them: "12.5 分钟", or "2 小时 05 分" from two hours on."""
    return " ".join(part for part in format_duration(minutes, "zh") if part)


def expected_kpis(db, query: dict) -> dict[str, str]:
    """Each KPI card's text, computed from the metric functions themselves."""
    filters = filters_of(db, query)
    payout = metrics.payout_latency_percentiles(db, filters)
    one_click = metrics.one_click_claims(db, filters)
    return {
        "paid": f"{format_count(metrics.case_totals(db, filters)['paid'])} 起",
        "payout_p50": duration(payout.p50),
        "payout_p90": duration(payout.p90),
        "payout_fastest": duration(payout.fastest),
        "remote_sla_share": format_ratio(metrics.remote_liability_sla_share(db, filters)),
        "online_share": format_ratio(metrics.online_share(db, filters)),
        "one_click": f"{format_count(one_click.cases)} 起",
        "one_click_amount": " ".join(format_yuan(one_click.amount_yuan, "zh")),
        "paid_amount": " ".join(format_yuan(metrics.paid_amount_yuan(db, filters), "zh")),
    }


def test_pay_page_shows_kpis_charts_and_the_insurer_grid(dash_duo, dashboard_app, dashboard_db):
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/payouts")
    expected = expected_kpis(dashboard_db, {})
    dash_duo.wait_for_text_to_equal('[data-kpi="paid"] .kpi-number', expected["paid"].split()[0], timeout=20)
    assert expected["paid"] != "0 起"
    assert {key: kpi_text(dash_duo, key) for key in expected} == expected

    assert dash_duo.find_element(".app-nav-link.active").text == "快赔"
    assert "漳州市" in dash_duo.find_element("#payouts-heading").text
    scroll_through(dash_duo)                 # the charts and the grid below the window come as they are near
    for graph, title in (("payouts-stages", "各环节用时"), ("payouts-within", "报警后赔付到账占比"),
                         ("payouts-districts", "各区县赔付时长 P90")):
        dash_duo.wait_for_contains_text(f"#{graph} .gtitle", title, timeout=10)
        assert "至" in dash_duo.find_element(f"#{graph} .g-gtitle").text        # the window as subtitle
    assert len(dash_duo.find_elements("#payouts-stages .bars path")) == 10        # p50 and p90 of five stages
    assert len(dash_duo.find_elements("#payouts-districts .bars path")) == 11
    assert len(dash_duo.find_elements(".download-csv")) == 4

    insurers = payouts.insurer_payouts(dashboard_db, filters_of(dashboard_db, {}))
    dash_duo.wait_for_element("#payouts-insurers .ag-center-cols-container .ag-row", timeout=10)
    names = [cell.text for cell in dash_duo.find_elements('#payouts-insurers .ag-center-cols-container '
                                                          '.ag-row [col-id="name_zh"]')]
    assert sorted(names) == sorted(insurers["name_zh"]) and len(names) == 12
    headers = [h.text for h in dash_duo.find_elements("#payouts-insurers .ag-header-cell-text")]
    assert "赔付时长 P90（分钟）" in headers and "保险公司" in headers
    first = dash_duo.find_element('#payouts-insurers .ag-row[row-index="0"] [col-id="name_zh"]').text
    assert first == insurers.iloc[0]["name_zh"]                                   # ranked by p90, fastest first

    wait_for_graphs(dash_duo)
    assert overflowing(dash_duo) == []
    screenshot(dash_duo, "payouts_zh")
    height = dash_duo.driver.execute_script("return document.documentElement.scrollHeight")
    dash_duo.driver.set_window_size(1600, height + 140)
    wait_for_graphs(dash_duo)
    assert overflowing(dash_duo) == []
    screenshot(dash_duo, "payouts_zh_full")

    # A real click goes through the app's guard on callback requests (a refused request would log a 400).
    requests = callback_requests(dash_duo)
    dash_duo.find_element("#payouts-download-stages-button").click()
    WebDriverWait(dash_duo.driver, 10, poll_frequency=0.2).until(lambda _: callback_requests(dash_duo) > requests)
    assert console_errors(dash_duo) == []


def callback_requests(dash_duo) -> int:
    return dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('_dash-update-component'))"
        ".length")


def wait_for_graphs(dash_duo) -> None:
    """Scroll through the page (the charts below the window are drawn as they come near), then wait until every
    graph fills its box."""
    scroll_through(dash_duo)
    WebDriverWait(dash_duo.driver, 30, poll_frequency=0.25).until(
        lambda _: graphs_fit(dash_duo), "the payout graphs never filled their boxes")


def download(app, chart: str, search: str) -> tuple[str, list[dict]]:
    """Press the download button of `chart` through the Flask test client: the file name and the CSV's rows."""
    page = page_module()
    client = signed_in_client(app)
    assert client.get("/payouts").status_code == 200              # the page answers, as a browser asks first
    target, button = page.PAGE.id(f"download-{chart}"), page.PAGE.id(f"download-{chart}-button")
    body = {
        "output": f"{target}.data",
        "outputs": {"id": target, "property": "data"},
        "inputs": [{"id": button, "property": "n_clicks", "value": 1}],
        "state": [{"id": "app-url", "property": "search", "value": search}],
        "changedPropIds": [f"{button}.n_clicks"],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.data[:500]
    data = response.get_json()["response"][target]["data"]
    assert data["type"] == "text/csv"
    return data["filename"], list(csv.DictReader(io.StringIO(data["content"].lstrip("\ufeff"))))


def csv_header(chart: str, column: str, lang: str = "zh") -> str:
    """The header the CSV of the payouts page's `chart` gives `column` in `lang`."""
    import pandas as pd

    from pages._kit import csv_frame

    return csv_frame(pd.DataFrame(columns=[column]), page_module().PAGE.chart(chart), lang).columns[0]


def test_pay_csv_downloads_are_the_rows_behind_each_chart(dashboard_app, dashboard_db):
    filters = filters_of(dashboard_db, {"range": "90d"})
    page = page_module()
    name, rows = download(dashboard_app, "insurers", "?city=350600&range=90d")
    assert name == f"payouts_insurers_350600_{filters.start}_{filters.end}.csv"
    code, paid, p90 = (csv_header("insurers", c) for c in ("code", "paid", "p90"))
    assert not any(header.isascii() for header in (code, paid, p90))           # Chinese headers on the Chinese page
    table = page.insurer_rows(dashboard_db, filters)
    assert [row[code] for row in rows] == list(table["code"])
    assert [int(row[paid]) for row in rows] == list(table["paid"])
    assert [float(row[p90]) for row in rows if row[p90]] == pytest.approx(list(table["p90"].dropna()), abs=0.05)

    _, rows = download(dashboard_app, "stages", "?city=350600&range=90d")
    clocks = payouts.stage_clocks(dashboard_db, filters)
    stage, p90, count = (csv_header("stages", c) for c in ("stage", "p90", "count"))
    assert [row[stage] for row in rows] == ["to_scene", "clearance", "liability", "assessment", "payout"]
    assert float(rows[4][p90]) == pytest.approx(metrics.payout_latency_percentiles(dashboard_db, filters).p90,
                                                abs=0.05)            # minutes to one decimal
    assert [int(row[count]) for row in rows] == list(clocks["count"])

    _, rows = download(dashboard_app, "within", "?city=350600&range=90d")
    shares = payouts.payout_within(dashboard_db, filters)
    within, share = csv_header("within", "within"), csv_header("within", "share")
    expected = {k: pytest.approx(v, abs=5e-5) for k, v in shares.items()}      # shares to four decimals
    assert {row[within]: float(row[share]) for row in rows} == expected

    _, rows = download(dashboard_app, "districts", "?city=350600&range=90d&districts=350602")
    p90 = csv_header("districts", "p90")
    assert len(rows) == 11                                      # every district, the focused one among them
    assert [float(r[p90]) for r in rows] == sorted((float(r[p90]) for r in rows), reverse=True)


def test_pay_a_district_bar_opens_the_district_view_with_the_filters_kept(dash_duo, dashboard_app, dashboard_db):
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/payouts?range=90d&compare=pop&lang=en")
    query = {"range": "90d", "compare": "pop"}
    longest = page_module().district_rows(dashboard_db, filters_of(dashboard_db, query)).iloc[0]
    dash_duo.wait_for_text_to_equal("#payouts-districts-hint",
                                    "Click a district's bar to open its district view (period and comparison kept)")
    scroll_to(dash_duo, "#payouts-districts")
    bar = dash_duo.wait_for_element("#payouts-districts .bars path", timeout=20)   # the longest p90 comes first
    ActionChains(dash_duo.driver).move_to_element(bar).click().perform()

    code = longest["district_adcode"]
    WebDriverWait(dash_duo.driver, 10).until(lambda d: f"/district/{code}?" in d.current_url)
    url = dash_duo.driver.current_url
    assert "range=90d" in url and "compare=pop" in url and "lang=en" in url and "districts=" not in url
    dash_duo.wait_for_contains_text("#district-heading", longest["name_en"], timeout=20)
    district = filters_of(dashboard_db, {**query, "districts": code})
    alerts = registry.kpis(dashboard_db, district, registry.OVERVIEW).get("alerts")
    dash_duo.wait_for_text_to_equal('[data-kpi="alerts"] .kpi-number', kpi_value_text(alerts, "en")[0], timeout=20)
    assert kpi_text(dash_duo, "alerts") == card_text(alerts, "en")
    assert dash_duo.find_element(".district-breadcrumb").text.startswith("Zhangzhou")

    # and back through the district view's link to payouts, now focused on that district, the filters still kept
    link = dash_duo.driver.find_element(By.XPATH, "//*[@id='district-links']//a[normalize-space()='Payouts']")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", link)
    link.click()
    dash_duo.wait_for_contains_text("#payouts-heading", longest["name_en"], timeout=20)
    url = dash_duo.driver.current_url
    assert "/payouts?" in url and f"districts={code}" in url and "compare=pop" in url and "lang=en" in url
    focused = registry.kpis(dashboard_db, district, registry.PAYOUTS)
    dash_duo.wait_for_text_to_equal('[data-kpi="paid"] .kpi-number', kpi_value_text(focused.get("paid"), "en")[0],
                                    timeout=20)
    assert {kpi.key: kpi_text(dash_duo, kpi.key) for kpi in focused.kpis} == {
        kpi.key: card_text(kpi, "en") for kpi in focused.kpis}
    dash_duo.wait_for_element(".district-breadcrumb", timeout=5)
    dash_duo.driver.execute_script("document.querySelector('.page-head').scrollIntoView({block: 'end'})")
    WebDriverWait(dash_duo.driver, 5).until(
        lambda d: d.execute_script("return document.querySelector('.district-breadcrumb')"
                                   ".getBoundingClientRect().top > 100"))
    screenshot(dash_duo, "payouts_district")
    assert console_errors(dash_duo) == []


def card_text(kpi, lang: str) -> str:
    """A KPI card's value as the card writes it (number and unit)."""
    return " ".join(part for part in kpi_value_text(kpi, lang) if part)


def test_pay_english_switch_translates_the_page(dash_duo, dashboard_app):
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/payouts")
    dash_duo.wait_for_element('[data-kpi="paid"] .kpi-number', timeout=20)
    dash_duo.driver.find_element(By.XPATH, "//*[@id='app-language']//label[normalize-space()='English']").click()
    dash_duo.wait_for_text_to_equal(".app-nav-link.active", "Payouts", timeout=10)
    dash_duo.wait_for_contains_text('[data-kpi="paid"] .kpi-name', "Cases paid", timeout=10)
    dash_duo.wait_for_contains_text("#payouts-stages .gtitle", "Time of each stage", timeout=10)
    scroll_to(dash_duo, "#payouts-insurers")
    dash_duo.wait_for_contains_text("#payouts-insurers .ag-header", "Payout p90 (min)", timeout=10)
    dash_duo.wait_for_contains_text("#payouts-insurers-title", "Insurers ranked", timeout=10)
    assert [b.text for b in dash_duo.find_elements(".download-csv")] == ["Download CSV"] * 4
    assert "lang=en" in dash_duo.driver.current_url
    wait_for_graphs(dash_duo)
    assert overflowing(dash_duo) == []
    screenshot(dash_duo, "payouts_en")
    assert console_errors(dash_duo) == []


def test_pay_an_empty_window_shows_messages_in_place(dashboard_app):
    """Through the Flask test client: a window without cases gives message figures and a note, never an error."""
    client = signed_in_client(dashboard_app)
    assert client.get("/payouts").status_code == 200
    key = next(k for k in dashboard_app.callback_map if "payouts-stages.figure" in k)
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key[2:-2].split("...")]
    body = {"output": key, "outputs": outputs, "changedPropIds": ["app-url.search"],
            "inputs": [{"id": "app-url", "property": "search", "value": "?city=350600&start=2001-01-01&end=2001-01-31"},
                       {"id": "app-refresh", "property": "n_intervals", "value": None}]}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    answer = response.get_json()["response"]
    assert "empty-message" in json.dumps(answer["payouts-problems"])
    for graph in ("payouts-stages", "payouts-within", "payouts-districts"):
        layout = answer[graph]["figure"]["layout"]
        assert layout["title"]["text"] and "2001-01-01" in layout["title"]["subtitle"]["text"]
        assert layout["annotations"][0]["text"] == "所选时间段内没有数据"
    assert all(row["paid"] == 0 for row in answer["payouts-insurers"]["rowData"])
