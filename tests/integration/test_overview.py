"""The overview page in a real browser: KPIs equal to the metric functions, trend, map drill-down, English."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from components.formatting import format_count
from data_access import metrics
from data_access.filters import parse_filters
from data_access.timeutil import local_today
from tests.integration.conftest import (
    WAIT_S,
    console_errors,
    screenshot,
    wait_for,
    wait_for_count,
    wait_for_text,
    wait_for_text_in,
)

pytestmark = pytest.mark.browser

ZHANGZHOU = "350600"


def expected_alerts(db, query: dict) -> str:
    filters = parse_filters(query, metrics.catalogue(db), local_today(), ZHANGZHOU).filters
    return format_count(metrics.accident_alerts(db, filters))


@pytest.mark.both_backends
def test_overview_shows_kpis_trend_and_map(dash_duo, dashboard_app, dashboard_db):
    dash_duo.start_server(dashboard_app)
    alerts = expected_alerts(dashboard_db, {})
    dash_duo.wait_for_text_to_equal('[data-kpi="alerts"] .kpi-number', alerts, timeout=WAIT_S)
    assert alerts not in ("—", "0")

    wait_for_text(dash_duo, ".app-nav-link.active", "总览")
    wait_for_text_in(dash_duo, "#app-as-of", "截至")           # 数据截至 HH:MM, or 数据延迟 · 截至 HH:MM when old
    wait_for_count(dash_duo, ".kpi-card", 9)
    dash_duo.wait_for_contains_text("#overview-trend .gtitle", "每日警情与快处", timeout=WAIT_S)
    wait_for_count(dash_duo, "#overview-map .choroplethlayer path", 11)
    wait_for_text_in(dash_duo, "#overview-heading", "漳州市")
    screenshot(dash_duo, "overview_zh")

    for name, width, height in (("overview_laptop", 1366, 768), ("overview_wall", 1920, 1080)):
        dash_duo.driver.set_window_size(width, height)
        # Plotly redraws responsive graphs a moment after a resize: wait until they fill their panels again.
        wait_for(dash_duo, lambda: graphs_fit(dash_duo), f"{name}: the graphs to fill their panels after the resize")
        assert overflowing(dash_duo) == [], f"{name}: content wider than its box"
        screenshot(dash_duo, name)
    assert console_errors(dash_duo) == []


def graphs_fit(dash_duo) -> bool:
    return dash_duo.driver.execute_script("""
        return [...document.querySelectorAll(".panel .js-plotly-plot")].every(graph => {
            const svg = graph.querySelector(".main-svg");
            return svg && Math.abs(svg.getBoundingClientRect().width - graph.getBoundingClientRect().width) < 2;
        });
    """)


def overflowing(dash_duo) -> list[str]:
    """Elements of the header, the KPI cards and the panels whose content spills out of them, and the page itself
    when it scrolls sideways."""
    return dash_duo.driver.execute_script("""
        const spilled = [];
        const root = document.documentElement;
        if (root.scrollWidth > root.clientWidth + 1) { spilled.push("page"); }
        for (const el of document.querySelectorAll(".app-topbar, .filter-bar, .kpi-card, .kpi-value, .panel")) {
            if (el.scrollWidth > el.clientWidth + 1) { spilled.push(el.className + " " + el.textContent); }
        }
        return spilled;
    """)


def test_clicking_a_district_focuses_the_page_and_a_second_click_returns(dash_duo, dashboard_app, dashboard_db):
    dash_duo.start_server(dashboard_app)
    whole_city = expected_alerts(dashboard_db, {})
    dash_duo.wait_for_text_to_equal('[data-kpi="alerts"] .kpi-number', whole_city, timeout=WAIT_S)
    district = dash_duo.wait_for_element("#overview-map .choroplethlayer path", timeout=WAIT_S)
    ActionChains(dash_duo.driver).move_to_element(district).click().perform()

    url = wait_for(dash_duo, lambda: "districts=" in dash_duo.driver.current_url and dash_duo.driver.current_url,
                   "the clicked district in the address")
    adcode = url.split("districts=")[1].split("&")[0]
    focused = expected_alerts(dashboard_db, {"districts": adcode})
    assert focused != whole_city
    dash_duo.wait_for_text_to_equal('[data-kpi="alerts"] .kpi-number', focused, timeout=WAIT_S)
    dash_duo.wait_for_contains_text("#overview-heading", "·", timeout=WAIT_S)
    dash_duo.wait_for_element(".district-breadcrumb .crumb-clear", timeout=WAIT_S)
    screenshot(dash_duo, "overview_district")

    dash_duo.find_element(".crumb-clear").click()
    dash_duo.wait_for_text_to_equal('[data-kpi="alerts"] .kpi-number', whole_city, timeout=WAIT_S)
    wait_for(dash_duo, lambda: "districts=" not in dash_duo.driver.current_url, "the district gone from the address")
    assert console_errors(dash_duo) == []


def test_english_switch_translates_the_page(dash_duo, dashboard_app):
    dash_duo.start_server(dashboard_app)
    wait_for_text(dash_duo, '[data-kpi="alerts"] .kpi-number', lambda text: text not in ("", "—"))
    dash_duo.driver.find_element(By.XPATH, "//*[@id='app-language']//label[normalize-space()='English']").click()
    dash_duo.wait_for_text_to_equal(".app-nav-link.active", "Overview", timeout=WAIT_S)
    dash_duo.wait_for_contains_text('[data-kpi="alerts"] .kpi-name', "Accident alerts", timeout=WAIT_S)
    dash_duo.wait_for_contains_text("#overview-trend .gtitle", "Daily accident alerts", timeout=WAIT_S)
    wait_for(dash_duo, lambda: "lang=en" in dash_duo.driver.current_url, "lang=en in the address")
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script("return document.documentElement.lang") == "en",
             '<html lang="en">')
    screenshot(dash_duo, "overview_en")
    assert console_errors(dash_duo) == []
