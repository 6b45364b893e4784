"""The daily briefing page (每日简报) in a real browser: yesterday by default, the narrative and KPI comparisons equal
to the briefing functions, the three charts, a one-click PNG/PDF download, a chosen day in the URL, English."""

from __future__ import annotations

import datetime as dt

import pytest

from components import briefing as sheet
from data_access.briefing import daily_briefing
from data_access.timeutil import local_today
from tests.integration.conftest import (
    WAIT_S,
    console_errors,
    screenshot,
    wait_for,
    wait_for_attribute,
    wait_for_count,
    wait_for_text,
    wait_for_texts,
)
from tests.integration.test_overview import overflowing

pytestmark = pytest.mark.browser

ZHANGZHOU = "350600"


def wait_for_briefing(dash_duo, first_sentence: str) -> None:
    dash_duo.wait_for_text_to_equal("#briefing-narrative li:first-child", first_sentence, timeout=WAIT_S)
    for graph in ("briefing-trend", "briefing-stages", "briefing-mediation"):
        dash_duo.wait_for_element(f"#{graph} .main-svg", timeout=WAIT_S)


def test_brf_page_shows_yesterday_and_downloads_png(dash_duo, dashboard_app, dashboard_db):
    yesterday = local_today() - dt.timedelta(days=1)
    expected = daily_briefing(dashboard_db, ZHANGZHOU, yesterday)
    narrative = sheet.narrative(expected, "zh")
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/briefing")
    wait_for_briefing(dash_duo, narrative[0])

    wait_for_texts(dash_duo, "#briefing-narrative li", narrative)
    wait_for_text(dash_duo, "#briefing-heading", "漳州市 警保联动每日简报")
    wait_for_attribute(dash_duo, "#briefing-date", "value", yesterday.isoformat())
    assert len(expected.kpis) == 9
    wait_for_count(dash_duo, "#briefing-kpis tbody tr", 9)
    alerts = expected.kpi("alerts")
    wait_for_texts(dash_duo, "#briefing-kpis tbody tr:first-child td", [
        sheet.value_text(alerts, "zh"),
        *[sheet.comparison_text(alerts.against(c), "zh") for c in ("day_before", "year_before", "week_average")]])
    wait_for_text(dash_duo, ".app-nav-link.active", "每日简报")
    dash_duo.wait_for_contains_text("#briefing-trend .gtitle", "每日警情与快处", timeout=WAIT_S)
    wait_for(dash_duo, lambda: overflowing(dash_duo) == [], "nothing spilling out of its box")
    screenshot(dash_duo, "briefing_zh")
    height = dash_duo.driver.execute_script("return document.documentElement.scrollHeight")
    dash_duo.driver.set_window_size(1600, height + 140)
    screenshot(dash_duo, "briefing_zh_full")

    dash_duo.find_element("#briefing-download-png").click()
    dash_duo.wait_for_contains_text("#briefing-status", f"briefing_{ZHANGZHOU}_{yesterday.isoformat()}.png",
                                    timeout=120)
    assert console_errors(dash_duo) == []


def test_brf_page_for_a_chosen_day_and_district_in_english(dash_duo, dashboard_app, dashboard_db):
    day = local_today() - dt.timedelta(days=3)
    expected = daily_briefing(dashboard_db, ZHANGZHOU, day, ("350602",))
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/briefing?city={ZHANGZHOU}&districts=350602"
                               f"&date={day.isoformat()}&lang=en")
    wait_for_briefing(dash_duo, sheet.narrative(expected, "en")[0])
    wait_for_text(dash_duo, "#briefing-heading", "Zhangzhou · Xiangcheng police–insurance daily briefing")
    wait_for_text(dash_duo, "#briefing-date-line", lambda text: text.startswith(day.isoformat()))
    wait_for_texts(dash_duo, "#briefing-events li", sheet.events(expected, "en") or ["None"])
    wait_for(dash_duo, lambda: overflowing(dash_duo) == [], "nothing spilling out of its box")
    screenshot(dash_duo, "briefing_en")

    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/briefing?city={ZHANGZHOU}&date=June&lang=en")
    dash_duo.wait_for_contains_text("#briefing-problems", "“June” is not a date", timeout=WAIT_S)
    assert console_errors(dash_duo) == []
