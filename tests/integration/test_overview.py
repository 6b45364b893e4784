"""The overview page in a real browser: KPIs equal to the metric functions, trend, map drill-down, English."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from components.formatting import format_count
from data_access import metrics
from data_access.filters import parse_filters
from data_access.timeutil import local_today
from tests.integration.conftest import console_errors, screenshot

pytestmark = pytest.mark.browser

ZHANGZHOU = "350600"


def expected_alerts(db, query: dict) -> str:
    filters = parse_filters(query, metrics.catalogue(db), local_today(), ZHANGZHOU).filters
    return format_count(metrics.accident_alerts(db, filters))


def kpi_text(dash_duo, key: str) -> str:
    return dash_duo.find_element(f'[data-kpi="{key}"] .kpi-number').text


def test_overview_shows_kpis_trend_and_map(dash_duo, dashboard_app, dashboard_db):
    dash_duo.start_server(dashboard_app)
    alerts = expected_alerts(dashboard_db, {})
    dash_duo.wait_for_text_to_equal('[data-kpi="alerts"] .kpi-number', alerts, timeout=20)
    assert alerts not in ("—", "0")

    assert dash_duo.find_element(".app-nav-link.active").text == "总览"
    dash_duo.wait_for_contains_text("#app-as-of", "截至", timeout=10)   # 数据截至 HH:MM, or 数据延迟 when old
    assert len(dash_duo.find_elements(".kpi-card")) == 9
    dash_duo.wait_for_contains_text("#overview-trend .gtitle", "每日警情与快处", timeout=10)
    dash_duo.wait_for_element("#overview-map .choroplethlayer path", timeout=10)
    assert len(dash_duo.find_elements("#overview-map .choroplethlayer path")) == 11
    assert "漳州市" in dash_duo.find_element("#overview-heading").text
    screenshot(dash_duo, "overview_zh")

    for name, width, height in (("overview_laptop", 1366, 768), ("overview_wall", 1920, 1080)):
        dash_duo.driver.set_window_size(width, height)
        # Plotly redraws responsive graphs a moment after a resize: wait until they fill their panels again.
        try:
            WebDriverWait(dash_duo.driver, 5, poll_frequency=0.25).until(lambda _: graphs_fit(dash_duo))
        except TimeoutException:
            pass
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
    dash_duo.wait_for_text_to_equal('[data-kpi="alerts"] .kpi-number', whole_city, timeout=20)
    district = dash_duo.wait_for_element("#overview-map .choroplethlayer path", timeout=10)
    ActionChains(dash_duo.driver).move_to_element(district).click().perform()

    dash_duo.wait_for_contains_text("#overview-heading", "·", timeout=10)
    url = dash_duo.driver.current_url
    assert "districts=" in url
    adcode = url.split("districts=")[1].split("&")[0]
    focused = expected_alerts(dashboard_db, {"districts": adcode})
    dash_duo.wait_for_text_to_equal('[data-kpi="alerts"] .kpi-number', focused, timeout=10)
    assert focused != whole_city
    dash_duo.wait_for_element(".district-breadcrumb", timeout=5)
    screenshot(dash_duo, "overview_district")

    dash_duo.find_element(".crumb-clear").click()
    dash_duo.wait_for_text_to_equal('[data-kpi="alerts"] .kpi-number', whole_city, timeout=10)
    assert "districts=" not in dash_duo.driver.current_url
    assert console_errors(dash_duo) == []


def test_english_switch_translates_the_page(dash_duo, dashboard_app):
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_element('[data-kpi="alerts"] .kpi-number', timeout=20)
    dash_duo.driver.find_element(By.XPATH, "//*[@id='app-language']//label[normalize-space()='English']").click()
    dash_duo.wait_for_text_to_equal(".app-nav-link.active", "Overview", timeout=10)
    dash_duo.wait_for_contains_text('[data-kpi="alerts"] .kpi-name', "Accident alerts", timeout=10)
    dash_duo.wait_for_contains_text("#overview-trend .gtitle", "Daily accident alerts", timeout=10)
    assert "lang=en" in dash_duo.driver.current_url
    assert dash_duo.driver.execute_script("return document.documentElement.lang") == "en"
    screenshot(dash_duo, "overview_en")
    assert console_errors(dash_duo) == []
