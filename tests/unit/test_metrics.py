"""Each metric function of DESIGN.md on hand-built data whose answers are known by construction."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from data_access import metrics, registry
from data_access.cache import QueryCache
from data_access.filters import Filters
from data_access.models import Channel, MediationOutcome
from data_access.rollups import rebuild_rollups
from tests.unit.handmade import (
    CITY,
    D1,
    D2,
    ONLINE,
    REMOTE,
    RIDER,
    case,
    empty_city,
    local,
    mediation,
    minutes,
    rescue,
)

JUNE_1 = dt.date(2020, 6, 1)


@pytest.fixture()
def db(database_url):
    db = empty_city(database_url)
    with db.transaction() as s:
        s.add_all([
            # four alerts in D1 on 1 June: three phoned in, one found by a patrol
            case(local(JUNE_1, 8), quick_handled=True, handled_by=RIDER, on_scene_at=minutes(4),
                 cleared_at=minutes(6), liability_at=minutes(3), liability_mode=REMOTE, paid_at=minutes(20),
                 paid_amount_yuan=800.0, handled_online=True),
            case(local(JUNE_1, 9), quick_handled=True, on_scene_at=minutes(10), cleared_at=minutes(30),
                 liability_at=minutes(7), liability_mode=REMOTE, paid_at=minutes(40), paid_amount_yuan=1200.0),
            case(local(JUNE_1, 18), on_scene_at=minutes(15), paid_at=minutes(60), paid_amount_yuan=3000.0),
            case(local(JUNE_1, 19), channel=Channel.PATROL, paid_at=minutes(120), paid_amount_yuan=500.0,
                 one_click_claim=True),
            # an insurer-only case: handled, online, but not a police alert
            case(local(JUNE_1, 12), channel=Channel.INSURER, handled_online=True, assessed_at=minutes(30),
                 assessment_mode=ONLINE),
            # one alert in D2 on 2 June
            case(local(JUNE_1 + dt.timedelta(days=1), 7), district=D2),
            # a year before: two alerts, one quick
            case(local(dt.date(2019, 6, 1), 8), quick_handled=True),
            case(local(dt.date(2019, 6, 1), 9)),
        ])
        s.add_all([
            mediation(local(JUNE_1), local(JUNE_1, 17), MediationOutcome.SETTLED, pre=True, amount=10_000),
            mediation(local(JUNE_1), local(JUNE_1 + dt.timedelta(days=2)), MediationOutcome.SETTLED, pre=True,
                      amount=20_000),
            mediation(local(JUNE_1), local(JUNE_1 + dt.timedelta(days=4)), MediationOutcome.SETTLED, amount=5_000),
            mediation(local(JUNE_1), local(JUNE_1 + dt.timedelta(days=6)), MediationOutcome.FAILED),
            mediation(local(JUNE_1), None, MediationOutcome.OPEN),
            rescue(local(JUNE_1, 10), minutes(50)),
            rescue(local(JUNE_1, 11), minutes(70)),
        ])
    rebuild_rollups(db)
    return db


def june(**kw) -> Filters:
    return Filters(city=CITY, start=JUNE_1, end=dt.date(2020, 6, 30), **kw)


def test_accident_alerts_count_police_channels_only(db):
    assert metrics.accident_alerts(db, june()) == 5
    assert metrics.handled_cases(db, june()) == 6


def test_quick_handling_rate_is_quick_over_alerts(db):
    assert metrics.quick_handled_cases(db, june()) == 2
    assert metrics.rider_team_quick_handled(db, june()) == 1
    assert metrics.quick_handling_rate(db, june()) == pytest.approx(2 / 5)


def test_district_filter_restricts_every_count(db):
    only_d2 = june(districts=(D2,))
    assert metrics.accident_alerts(db, only_d2) == 1
    assert metrics.quick_handling_rate(db, only_d2) == 0


def test_remote_liability_and_its_five_minute_sla(db):
    assert metrics.remote_liability_cases(db, june()) == 2
    assert metrics.rider_team_remote_liability(db, june()) == 1
    assert metrics.remote_liability_sla_share(db, june()) == pytest.approx(0.5)


def test_online_share_is_online_over_all_handled(db):
    assert metrics.online_share(db, june()) == pytest.approx(2 / 6)
    assert metrics.online_assessments(db, june()) == 1


def test_payout_latency_percentiles_within_one_percent(db):
    stats = metrics.payout_latency_percentiles(db, june())
    assert stats.count == 4
    assert stats.p50 == pytest.approx(40, rel=0.01)
    assert stats.p90 == pytest.approx(120, rel=0.01)
    assert stats.fastest == pytest.approx(20)


def test_time_to_scene_is_zero_for_patrol_found(db):
    stats = metrics.time_to_scene(db, june())
    assert stats.count == 4
    assert stats.fastest == 0
    assert stats.p50 == pytest.approx(4, rel=0.01)


def test_clearance_time_from_on_scene(db):
    stats = metrics.clearance_time(db, june())
    assert stats.count == 2
    assert stats.fastest == pytest.approx(2)   # on scene at 4 min, cleared at 6


def test_paid_amounts_and_one_click(db):
    assert metrics.paid_amount_yuan(db, june()) == 5500.0
    assert metrics.one_click_claims(db, june()) == metrics.ClaimTotals(1, 500.0)


def test_mediation_success_and_pre_litigation_rates(db):
    stats = metrics.mediation_outcomes(db, june())
    assert (stats.opened, stats.closed, stats.settled) == (5, 4, 3)
    assert stats.success_rate == pytest.approx(0.75)
    assert stats.pre_litigation_rate == pytest.approx(0.5)
    assert stats.amount_yuan == 35_000
    assert metrics.mediation_duration_days(db, june()) == pytest.approx(3.0)   # durations 8 h, 2 d, 4 d, 6 d


def test_rescue_share_reaching_hospital_within_sixty_minutes(db):
    stats = metrics.rescue_summary(db, june())
    assert (stats.missions, stats.survived, stats.hospital_within_60_min) == (2, 2, 1)
    assert stats.share_within_60_min == pytest.approx(0.5)


def test_overview_compares_year_on_year_and_marks_small_bases(db):
    overview = registry.kpis(db, june(comparison="yoy"), registry.OVERVIEW)
    alerts = overview.get("alerts")
    assert (alerts.value, alerts.previous) == (5, 2)
    assert alerts.too_small and alerts.change is None
    assert overview.comparison.start == dt.date(2019, 6, 1)


def test_compare_gives_relative_change_for_counts_and_points_for_rates():
    assert registry.compare("alerts", 110, 100, 100).change == pytest.approx(0.10)
    rate = registry.compare("quick_rate", 0.3634, 0.30, 500)
    assert rate.change == pytest.approx(0.0634)
    assert registry.compare("alerts", 5, 2, 2).too_small


def test_daily_trend_fills_every_day_of_the_window(db):
    trend = metrics.daily_trend(db, june())
    assert len(trend) == 30
    first = trend.iloc[0]
    assert (first["alerts"], first["quick"], first["cases"]) == (4, 2, 5)
    assert first["quick_rate"] == pytest.approx(0.5)
    assert trend["alerts"].sum() == 5


def test_district_summary_lists_every_district(db):
    summary = metrics.district_summary(db, june(districts=(D2,))).set_index("district_adcode")
    assert summary.loc[D1, "alerts"] == 4 and summary.loc[D2, "alerts"] == 1
    assert summary.loc[D1, "name_zh"] == "芗城区"


def test_insurer_filter_reads_raw_cases_with_the_same_definitions(db, tmp_path):
    # no case has an insurer, so an insurer filter sees nothing, through the raw path
    assert metrics.accident_alerts(db, june(insurer=1)) == 0
    assert metrics.quick_handling_rate(db, june(insurer=1)) is None


def test_percentiles_across_months_and_edges_match_numpy(database_url):
    db = empty_city(database_url)
    rng = np.random.default_rng(7)
    start = dt.date(2020, 3, 17)
    payouts = rng.lognormal(np.log(90), 1.0, size=3000)
    days = rng.integers(0, 100, size=3000)
    with db.transaction() as s:
        s.add_all([case(local(start + dt.timedelta(days=int(d)), 10), paid_at=minutes(float(p)))
                   for d, p in zip(days, payouts, strict=True)])
    rebuild_rollups(db)
    window = Filters(city=CITY, start=dt.date(2020, 3, 25), end=dt.date(2020, 6, 10))
    inside = (days >= 8) & (days <= 8 + (window.end - window.start).days)
    stats = metrics.payout_latency_percentiles(db, window)
    assert stats.count == int(inside.sum())
    for q, got in ((50, stats.p50), (90, stats.p90), (99, stats.p99)):
        exact = np.percentile(payouts[inside], q, method="inverted_cdf")
        assert got == pytest.approx(exact, rel=0.01)
    assert stats.fastest == pytest.approx(payouts[inside].min(), abs=1 / 60)   # SQLite julianday: sub-ms


def test_cached_queries_see_new_data_at_once(database_url):
    db = empty_city(database_url)
    db.cache = QueryCache.from_url("simple")
    assert metrics.accident_alerts(db, june()) == 0
    with db.transaction() as s:
        s.add(case(local(JUNE_1, 8)))
    rebuild_rollups(db)
    assert metrics.accident_alerts(db, june()) == 1


def test_concurrent_misses_of_one_cached_query_compute_it_once(database_url):
    """Fifty wall screens whose per-minute figures expire together: one computation per process, the others wait
    for its value; a different argument is computed on its own meanwhile."""
    import threading
    import time

    from data_access.cache import cached_query

    db = empty_city(database_url)
    db.cache = QueryCache.from_url("simple")
    calls: list[int] = []

    @cached_query
    def slow(db, n: int) -> int:
        calls.append(n)
        time.sleep(0.3)
        return n * 2

    answers: list[int] = []
    threads = [threading.Thread(target=lambda n=n: answers.append(slow(db, 1 if n < 8 else 2))) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [2] * 8 + [4] * 2
    assert sorted(calls) == [1, 2]
