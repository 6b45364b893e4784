"""The daily briefing page (每日简报) in a real browser: yesterday by default, the narrative and KPI comparisons equal
to the briefing functions, the three charts, a one-click PNG/PDF download that disables its buttons while it renders,
a chosen day and city in the URL, English, no shell city/period bar; and the overview's payout cards marked while
their window's cases are immature, every card's definition one hover away."""

from __future__ import annotations

import datetime as dt
import sys
import threading

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import Select

from components import briefing as sheet
from components.kpi import immature_text
from data_access import registry
from data_access.briefing import daily_briefing
from data_access.filters import Filters
from data_access.timeutil import local_today
from services.briefing_render import RenderError
from tests.integration.conftest import (
    WAIT_S,
    console_errors,
    screenshot,
    scroll_through,
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
    scroll_through(dash_duo)                      # the charts below the window are drawn as they come near
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


def immature_day(db) -> dt.date:
    """Yesterday when its payouts are not yet mature in Zhangzhou (the usual case), else today (early in the morning
    yesterday's cases may be nearly all paid; today's never are after its first hours)."""
    for day in (local_today() - dt.timedelta(days=1), local_today()):
        window = Filters(city=ZHANGZHOU, start=day, end=day)
        if registry.kpis(db, window, registry.OVERVIEW).get("payout_p90").immature:
            return day
    raise AssertionError("neither yesterday nor today is immature for payouts: the maturity rule is not applied")


def test_brf_overview_payout_card_marks_immature_data_and_every_card_has_its_definition(dash_duo, dashboard_app,
                                                                                          dashboard_db):
    day = immature_day(dashboard_db)
    window = Filters(city=ZHANGZHOU, start=day, end=day)
    kpi = registry.kpis(dashboard_db, window, registry.OVERVIEW).get("payout_p90")
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/?city={ZHANGZHOU}&start={day}&end={day}")
    mark = wait_for_text(dash_duo, '[data-kpi="payout_p90"] .kpi-change', immature_text(kpi, "zh"))
    assert mark.startswith("数据未成熟（已完成 ") and "▲" not in mark and "▼" not in mark
    wait_for_text(dash_duo, '[data-kpi="payout_p50"] .kpi-change', immature_text(kpi, "zh"))
    # every card: an info button named by its definition, and the definition shown on hover
    wait_for_count(dash_duo, ".kpi-card .kpi-info", len(registry.OVERVIEW))
    for key in registry.OVERVIEW:
        label = dash_duo.find_element(f'[data-kpi="{key}"] .kpi-info').get_attribute("aria-label")
        assert registry.METRICS[key].definition("zh") in label, key
    button = dash_duo.find_element('[data-kpi="payout_p90"] .kpi-info')
    tip = dash_duo.find_element('[data-kpi="payout_p90"] .kpi-tip')
    assert not tip.is_displayed()
    ActionChains(dash_duo.driver).move_to_element(button).perform()
    wait_for(dash_duo, tip.is_displayed, "the definition shown on hover")
    assert tip.text == registry.METRICS["payout_p90"].definition("zh")
    # what each count takes in, where alerts, handled cases and remote liability differ
    wait_for_text(dash_duo, '[data-kpi="alerts"] .kpi-counts', registry.METRICS["alerts"].counts_what("zh"))
    wait_for_text(dash_duo, '[data-kpi="remote_liability"] .kpi-counts',
                  registry.METRICS["remote_liability"].counts_what("zh"))
    screenshot(dash_duo, "overview_immature_1920")
    ActionChains(dash_duo.driver).move_by_offset(0, 400).perform()
    assert console_errors(dash_duo) == []


def test_brf_page_has_no_city_bar_and_the_file_buttons_wait_for_the_file(dash_duo, dashboard_app, dashboard_db,
                                                                       monkeypatch):
    """The briefing has its own day and city: the shell's city/period bar is hidden. While a file renders both
    buttons are disabled and the progress line shows; after a failure they are enabled again and the reason shown."""
    release = threading.Event()

    def slow_failing_render(*args, **kwargs):
        release.wait(WAIT_S)
        raise RenderError("Chromium made no file (exit 1)")

    monkeypatch.setattr(sys.modules["pages.briefing"], "render", slow_failing_render)   # the module the app loaded
    yesterday = local_today() - dt.timedelta(days=1)
    expected = daily_briefing(dashboard_db, ZHANGZHOU, yesterday)
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(dashboard_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/briefing")
    wait_for_briefing(dash_duo, sheet.narrative(expected, "zh")[0])
    wait_for_attribute(dash_duo, "#app-filter-bar", "hidden", lambda hidden: hidden is not None)
    wait_for_attribute(dash_duo, "#briefing-city", "value", ZHANGZHOU)
    wait_for_texts(dash_duo, "#briefing-events li", sheet.events(expected, "zh") or ["无"])
    screenshot(dash_duo, "briefing_1920")

    dash_duo.find_element("#briefing-download-pdf").click()
    wait_for_attribute(dash_duo, "#briefing-download-pdf", "disabled", "true")
    wait_for_attribute(dash_duo, "#briefing-download-png", "disabled", "true")
    wait_for(dash_duo, lambda: dash_duo.find_element("#briefing-progress").is_displayed(), "the progress line")
    assert "正在生成" in dash_duo.find_element("#briefing-progress").text
    release.set()
    dash_duo.wait_for_contains_text("#briefing-status", "简报文件生成失败", timeout=WAIT_S)
    wait_for_attribute(dash_duo, "#briefing-download-pdf", "disabled", None)
    wait_for_attribute(dash_duo, "#briefing-download-png", "disabled", None)
    assert not dash_duo.find_element("#briefing-progress").is_displayed()

    # another city picked on the page is the URL's city
    Select(dash_duo.find_element("#briefing-city")).select_by_value("500000")
    wait_for_text(dash_duo, "#briefing-heading", lambda text: text.startswith("重庆市"))
    assert "city=500000" in dash_duo.driver.current_url
    assert console_errors(dash_duo) == []
