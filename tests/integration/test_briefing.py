"""The daily briefing page (每日简报) in a real browser: yesterday by default, the narrative and KPI comparisons equal
to the briefing functions, the three charts, a one-click PNG/PDF download, a chosen day in the URL, English."""

from __future__ import annotations

import datetime as dt

import pytest

from components import briefing as sheet
from data_access.briefing import daily_briefing
from data_access.timeutil import local_today
from tests.integration.conftest import console_errors, screenshot
from tests.integration.test_overview import overflowing

pytestmark = pytest.mark.browser

ZHANGZHOU = "350600"


def wait_for_briefing(dash_duo, first_sentence: str) -> None:
    dash_duo.wait_for_text_to_equal("#briefing-narrative li:first-child", first_sentence, timeout=30)
    for graph in ("briefing-trend", "briefing-stages", "briefing-mediation"):
        dash_duo.wait_for_element(f"#{graph} .main-svg", timeout=20)


def test_brf_page_shows_yesterday_and_downloads_png(dash_duo, dashboard_app, dashboard_db):
    yesterday = local_today() - dt.timedelta(days=1)
    expected = daily_briefing(dashboard_db, ZHANGZHOU, yesterday)
    narrative = sheet.narrative(expected, "zh")
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/briefing")
    wait_for_briefing(dash_duo, narrative[0])

    assert [li.text for li in dash_duo.find_elements("#briefing-narrative li")] == narrative
    assert dash_duo.find_element("#briefing-heading").text == "漳州市 警保联动每日简报"
    assert dash_duo.find_element("#briefing-date").get_attribute("value") == yesterday.isoformat()
    rows = dash_duo.find_elements("#briefing-kpis tbody tr")
    assert len(rows) == len(expected.kpis) == 9
    alerts = expected.kpi("alerts")
    cells = [td.text for td in rows[0].find_elements("css selector", "td")]
    assert cells == [sheet.value_text(alerts, "zh"), *[sheet.comparison_text(alerts.against(c), "zh")
                                                      for c in ("day_before", "year_before", "week_average")]]
    assert dash_duo.find_element(".app-nav-link.active").text == "每日简报"
    dash_duo.wait_for_contains_text("#briefing-trend .gtitle", "每日警情与快处", timeout=10)
    assert overflowing(dash_duo) == []
    screenshot(dash_duo, "briefing_zh")
    height = dash_duo.driver.execute_script("return document.documentElement.scrollHeight")
    dash_duo.driver.set_window_size(1600, height + 140)
    screenshot(dash_duo, "briefing_zh_full")

    dash_duo.find_element("#briefing-download-png").click()
    dash_duo.wait_for_contains_text("#briefing-status", f"briefing_{ZHANGZHOU}_{yesterday.isoformat()}.png",
                                    timeout=90)
    assert console_errors(dash_duo) == []


def test_brf_page_for_a_chosen_day_and_district_in_english(dash_duo, dashboard_app, dashboard_db):
    day = local_today() - dt.timedelta(days=3)
    expected = daily_briefing(dashboard_db, ZHANGZHOU, day, ("350602",))
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/briefing?city={ZHANGZHOU}&districts=350602"
                               f"&date={day.isoformat()}&lang=en")
    wait_for_briefing(dash_duo, sheet.narrative(expected, "en")[0])
    assert dash_duo.find_element("#briefing-heading").text == "Zhangzhou · Xiangcheng police–insurance daily briefing"
    assert dash_duo.find_element("#briefing-date-line").text.startswith(day.isoformat())
    events = [li.text for li in dash_duo.find_elements("#briefing-events li")]
    assert events == (sheet.events(expected, "en") or ["None"])
    assert overflowing(dash_duo) == []
    screenshot(dash_duo, "briefing_en")

    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/briefing?city={ZHANGZHOU}&date=June&lang=en")
    dash_duo.wait_for_contains_text("#briefing-problems", "“June” is not a date", timeout=20)
    assert console_errors(dash_duo) == []
