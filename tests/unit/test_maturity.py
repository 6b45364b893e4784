"""Figures that do not mislead: a latency of a window whose cases are not yet mature (fewer than 90% of those that
will be paid are paid) is marked with its share matured and never compared, on KPI cards and in the briefing; the
share matches a raw SQL computation over the demo cases; each card carries its definition and what it counts."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from sqlalchemy import select, text

from components import briefing as sheet
from components.kpi import kpi_card
from data_access import maturity, registry
from data_access.briefing import daily_briefing
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.filters import Filters
from data_access.models import AccidentCase
from data_access.timeutil import local_midnight_utc
from tests.servers import fresh_database_url

ZZ = "350600"
TODAY = dt.date(2020, 6, 1)                      # the data stand as they did at 01:00 of this (local) day
YESTERDAY = TODAY - dt.timedelta(days=1)
OLD = (dt.date(2020, 3, 1), dt.date(2020, 3, 31))


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    """Zhangzhou's demo cases of five months at a tenth of the volume, built up to 01:00 on TODAY: the later stages
    of the last days' cases are not reached yet, as on a live system."""
    db = Database(fresh_database_url(tmp_path_factory.mktemp("maturity"), "demo.db"), QueryCache.from_url("simple"))
    build_demo(db, scale=0.1, cities=(ZZ,), start=dt.date(2020, 1, 1),
               end=local_midnight_utc(TODAY) + dt.timedelta(hours=1))
    return db


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """The maturity of a window is judged against today: TODAY here, whatever day the test runs on."""
    monkeypatch.setattr(maturity, "local_today", lambda: TODAY)


def window(start: dt.date, end: dt.date, comparison: str = "pop") -> Filters:
    return Filters(city=ZZ, start=start, end=end, comparison=comparison)


def raw_payout_share(db: Database, start: dt.date, end: dt.date) -> tuple[float, int]:
    """The share matured of payouts, from the raw cases alone: the reach rate (paid ÷ cases) and the 99th percentile
    payout time of the three whole months ending 30+ days before today; days older than that percentile are done,
    the window's newer days are expected to reach the rate. Returns (share, settling days)."""
    last = (TODAY - dt.timedelta(days=30) + dt.timedelta(days=1)).replace(day=1) - dt.timedelta(days=1)
    first = ((last.replace(day=1) - dt.timedelta(days=1)).replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assert (first, last) == (dt.date(2020, 2, 1), dt.date(2020, 4, 30))
    with db.session() as session:
        def scalar(sql: str, **params) -> float:
            return session.execute(text(sql), dict(city=ZZ, **params)).scalar()

        c = AccidentCase.__table__.c
        seconds = [(paid - reported).total_seconds() for reported, paid in session.execute(
            select(c.reported_at, c.paid_at).where(c.city_adcode == ZZ, c.local_day.between(first, last),
                                                   c.paid_at.is_not(None)))]
        cases = scalar("SELECT count(*) FROM accident_case WHERE city_adcode = :city AND local_day BETWEEN :a AND :b",
                       a=first, b=last)
        settling = min(30, max(1, math.ceil(np.percentile(seconds, 99, method="inverted_cdf") / 86400)))
        settled = TODAY - dt.timedelta(days=settling)
        recent = max(start, settled + dt.timedelta(days=1))
        count = ("SELECT count(*), count(paid_at) FROM accident_case WHERE city_adcode = :city "
                 "AND local_day BETWEEN :a AND :b")
        recent_cases, recent_paid = session.execute(text(count), dict(city=ZZ, a=recent, b=end)).one()
        settled_paid = session.execute(text(count), dict(city=ZZ, a=start, b=min(end, settled))).one()[1]
    if end <= settled:
        return 1.0, settling
    expected = settled_paid + max(recent_paid, recent_cases * len(seconds) / cases)
    return min(1.0, (settled_paid + recent_paid) / expected), settling


def test_mat001_a_window_ending_yesterday_is_immature_for_payouts_as_raw_sql_says(db):
    for start in (YESTERDAY, TODAY - dt.timedelta(days=3)):
        found = maturity.stage_maturity(db, window(start, YESTERDAY), "payout")
        share, settling = raw_payout_share(db, start, YESTERDAY)
        assert maturity.settling_days(db, maturity.reference_window(window(start, YESTERDAY), TODAY),
                                      "payout") == settling
        assert found.share == pytest.approx(share, rel=1e-9)
        assert found.share < maturity.MATURE_SHARE and not found.mature
    # yesterday's paid share against the settled months' is what is left to come
    with db.session() as session:
        cases, paid = session.execute(text("SELECT count(*), count(paid_at) FROM accident_case WHERE local_day = :d"),
                                      dict(d=YESTERDAY)).one()
    assert 0 < paid < cases


def test_mat002_an_old_window_is_mature_and_a_month_ending_yesterday_nearly_so(db):
    old = maturity.stage_maturity(db, window(*OLD), "payout")
    assert old.share == 1.0 == raw_payout_share(db, *OLD)[0] and old.mature
    month = maturity.stage_maturity(db, window(YESTERDAY - dt.timedelta(days=29), YESTERDAY), "payout")
    assert month.share == pytest.approx(raw_payout_share(db, YESTERDAY - dt.timedelta(days=29), YESTERDAY)[0])
    assert month.share > maturity.stage_maturity(db, window(YESTERDAY, YESTERDAY), "payout").share


def test_mat003_stage_clocks_of_minutes_settle_within_a_day(db):
    """Reaching the scene takes minutes: yesterday is settled for it while its payouts are not."""
    for stage in ("to_scene", "clearance"):
        assert maturity.stage_maturity(db, window(YESTERDAY, YESTERDAY), stage).share == 1.0


def test_mat004_immature_kpis_carry_their_share_and_no_change(db):
    day = window(YESTERDAY, YESTERDAY)
    share = maturity.stage_maturity(db, day, "payout").share
    kpis = registry.kpis(db, day, registry.OVERVIEW)
    for key in ("payout_p50", "payout_p90"):
        kpi = kpis.get(key)
        assert kpi.matured == share and kpi.immature
        assert kpi.previous is not None and kpi.change is None and not kpi.too_small
    assert kpis.get("alerts").matured is None and not kpis.get("alerts").immature
    old = registry.kpis(db, window(*OLD), registry.OVERVIEW).get("payout_p90")
    assert old.matured == 1.0 and not old.immature and old.change is not None
    # the rule itself: the same numbers are compared once the window is mature
    assert registry.compare("payout_p90", 300.0, 3000.0, 500, matured=0.63).change is None
    assert registry.compare("payout_p90", 300.0, 3000.0, 500, matured=0.95).change == pytest.approx(-0.9)


def test_mat005_the_card_of_an_immature_figure_says_so_instead_of_a_change(db):
    kpi = registry.Kpi("payout_p90", 304.2, 3086.0, "minutes", None, False, 0.637)
    card = str(kpi_card(kpi, "zh", "pop").to_plotly_json())
    assert "数据未成熟（已完成 63%）" in card and "▲" not in card and "▼" not in card
    assert "immature data (63% complete)" in str(kpi_card(kpi, "en", None).to_plotly_json())
    mature = str(kpi_card(registry.compare("payout_p90", 304.2, 3086.0, 500, 0.95), "zh", "pop").to_plotly_json())
    assert "数据未成熟" not in mature and "▼" in mature


def test_mat006_each_card_has_its_definition_and_says_what_it_counts():
    alerts = kpi_card(registry.Kpi("alerts", 3532, None, "count", None, False), "zh", None)
    button = next(c for c in alerts.children[0].children if getattr(c, "className", "") == "kpi-info")
    assert registry.METRICS["alerts"].definition("zh") in button.to_plotly_json()["props"]["aria-label"]
    assert button.type == "button"
    words = {key: str(kpi_card(registry.Kpi(key, 1, None, "count", None, False), "zh", None).to_plotly_json())
             for key in ("alerts", "remote_liability", "paid")}
    assert "不含保险报案" in words["alerts"]
    assert "含保险报案" in words["remote_liability"] and "含保险报案" in words["paid"]


def test_mat007_the_briefing_of_yesterday_marks_payout_times_and_compares_nothing_of_them(db):
    briefing = daily_briefing(db, ZZ, YESTERDAY)
    p90 = briefing.kpi("payout_p90")
    assert p90.immature and p90.matured == maturity.stage_maturity(db, window(YESTERDAY, YESTERDAY), "payout").share
    assert all(sheet.comparison_text(p90.against(c), "zh") == "不作比较" for c in ("day_before", "year_before",
                                                                              "week_average"))
    assert all(p90.against(c).change is None for c in ("day_before", "year_before", "week_average"))
    mark = f"数据未成熟（已完成 {math.floor(p90.matured * 100)}%）"
    assert sheet.value_cell_text(p90, "zh").endswith(mark)
    assert any(mark in sentence and "不作比较" in sentence for sentence in sheet.narrative(briefing, "zh"))
    assert briefing.stage_matured["payout"] == p90.matured
    assert "赔付到账 已完成" in sheet.stages_subtitle(briefing, "zh")
    assert not briefing.kpi("alerts").immature
