"""The figures of the payouts page on hand-built data whose answers are known by construction."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from components import theme
from components.charts import Context
from components.payout_figures import districts_figure, within_figure
from data_access import metrics, payouts, registry
from data_access.filters import Filters
from data_access.models import Insurer
from data_access.rollups import rebuild_rollups
from tests.unit.handmade import CITY, D1, D2, ON_SITE, REMOTE, case, empty_city, local, minutes

JUNE_1 = dt.date(2020, 6, 1)
ALPHA, BETA, GAMMA = 11, 12, 13


@pytest.fixture()
def db(database_url):
    db = empty_city(database_url)
    with db.transaction() as s:
        s.add_all([
            Insurer(id=ALPHA, city_adcode=CITY, code="A01", name_zh="甲保险", name_en="Alpha"),
            Insurer(id=BETA, city_adcode=CITY, code="B01", name_zh="乙保险", name_en="Beta"),
            Insurer(id=GAMMA, city_adcode=CITY, code="C01", name_zh="丙保险", name_en="Gamma"),
        ])
        s.flush()
        s.add_all([
            case(local(JUNE_1, 8), insurer_id=ALPHA, on_scene_at=minutes(4), cleared_at=minutes(6),
                 liability_at=minutes(3), liability_mode=REMOTE, assessed_at=minutes(6), paid_at=minutes(10),
                 paid_amount_yuan=1000.0),
            case(local(JUNE_1, 9), insurer_id=ALPHA, on_scene_at=minutes(8), cleared_at=minutes(20),
                 liability_at=minutes(7), liability_mode=REMOTE, assessed_at=minutes(25), paid_at=minutes(40),
                 paid_amount_yuan=2000.0),
            case(local(JUNE_1, 10), district=D2, insurer_id=BETA, on_scene_at=minutes(12), cleared_at=minutes(30),
                 liability_at=minutes(4), liability_mode=REMOTE, paid_at=minutes(180), paid_amount_yuan=500.0),
            case(local(JUNE_1, 11), insurer_id=BETA, liability_at=minutes(60), liability_mode=ON_SITE,
                 paid_at=minutes(2 * 24 * 60), paid_amount_yuan=1500.0),
            case(local(JUNE_1, 12), on_scene_at=minutes(5), cleared_at=minutes(15)),   # never paid
        ])
    rebuild_rollups(db)
    return db


def june(**kw) -> Filters:
    """The whole month (latencies from the monthly sketches)."""
    return Filters(city=CITY, start=JUNE_1, end=dt.date(2020, 6, 30), **kw)


def early_june(**kw) -> Filters:
    """A partial month (latencies from the raw cases)."""
    return Filters(city=CITY, start=JUNE_1, end=dt.date(2020, 6, 15), **kw)


def nothing(**kw) -> Filters:
    return Filters(city=CITY, start=dt.date(2021, 6, 1), end=dt.date(2021, 6, 30), **kw)


@pytest.mark.parametrize("window", [june, early_june])
def test_pay001_stage_clocks_are_each_stage_percentiles(db, window):
    clocks = payouts.stage_clocks(db, window()).set_index("stage")
    assert list(clocks.index) == ["to_scene", "clearance", "liability", "assessment", "payout"]
    expected = {   # count, p50, p90, p99, fastest (inverted-CDF percentiles of the values above, in minutes)
        "to_scene": (4, 5, 12, 12, 4),          # 4, 5, 8, 12
        "clearance": (4, 10, 18, 18, 2),        # 2, 10, 12, 18
        "liability": (4, 4, 60, 60, 3),         # 3, 4, 7, 60
        "assessment": (2, 6, 25, 25, 6),        # 6, 25
        "payout": (4, 40, 2880, 2880, 10),      # 10, 40, 180, 2880
    }
    for stage, (count, p50, p90, p99, fastest) in expected.items():
        row = clocks.loc[stage]
        assert row["count"] == count
        assert row["p50"] == pytest.approx(p50, rel=0.01)
        assert row["p90"] == pytest.approx(p90, rel=0.01)
        assert row["p99"] == pytest.approx(p99, rel=0.01)
        assert row["fastest"] == pytest.approx(fastest)


def test_pay002_stage_clocks_agree_with_the_metric_functions(db):
    clocks = payouts.stage_clocks(db, june()).set_index("stage")
    payout = metrics.payout_latency_percentiles(db, june())
    assert (clocks.loc["payout", "p50"], clocks.loc["payout", "p90"]) == (payout.p50, payout.p90)
    assert clocks.loc["to_scene", "p90"] == metrics.time_to_scene(db, june()).p90


@pytest.mark.parametrize("window", [june, early_june])
def test_pay003_share_paid_within_15_minutes_an_hour_and_a_day(db, window):
    shares = payouts.payout_within(db, window())
    assert shares == {"15m": pytest.approx(1 / 4), "1h": pytest.approx(2 / 4), "1d": pytest.approx(3 / 4)}


def test_pay004_insurers_ranked_by_p90_with_their_amounts_and_sla(db):
    table = payouts.insurer_payouts(db, june())
    assert list(table["code"]) == ["A01", "B01", "C01"]
    alpha, beta, gamma = (table.iloc[i] for i in range(3))
    assert (alpha["paid"], alpha["amount_yuan"]) == (2, 3000.0)
    assert alpha["p50"] == pytest.approx(10, rel=0.01)
    assert alpha["p90"] == pytest.approx(40, rel=0.01)
    assert alpha["remote_sla_share"] == pytest.approx(0.5)       # remote at 3 min (in) and 7 min (out)
    assert (beta["paid"], beta["amount_yuan"]) == (2, 2000.0)
    assert beta["p50"] == pytest.approx(180, rel=0.01)
    assert beta["p90"] == pytest.approx(2880, rel=0.01)
    assert beta["remote_sla_share"] == pytest.approx(1.0)        # the on-site decision is not remote
    assert (gamma["paid"], gamma["amount_yuan"]) == (0, 0.0)
    assert math.isnan(gamma["p90"]) and math.isnan(gamma["remote_sla_share"])


def test_pay005_insurer_table_follows_the_district_filter(db):
    table = payouts.insurer_payouts(db, june(districts=(D2,)))
    assert list(table["code"]) == ["B01", "A01", "C01"]          # only Beta paid in D2; the rest rank last by code
    assert table.iloc[0]["paid"] == 1
    assert table.iloc[0]["p90"] == pytest.approx(180, rel=0.01)


def test_pay006_payouts_by_district_cover_the_whole_city(db):
    for filters in (june(), june(districts=(D2,))):     # the district filter does not hide the other districts
        table = payouts.payouts_by_district(db, filters).set_index("district_adcode")
        assert list(table.index) == [D1, D2]
        assert (table.loc[D1, "paid"], table.loc[D1, "amount_yuan"]) == (3, 4500.0)
        assert table.loc[D1, "p50"] == pytest.approx(40, rel=0.01)
        assert table.loc[D1, "p90"] == pytest.approx(2880, rel=0.01)
        assert (table.loc[D2, "paid"], table.loc[D2, "amount_yuan"]) == (1, 500.0)
        assert table.loc[D2, "p90"] == pytest.approx(180, rel=0.01)


def test_pay007_district_rows_follow_an_insurer_filter(db):
    table = payouts.payouts_by_district(db, june(insurer=ALPHA)).set_index("district_adcode")
    assert (table.loc[D1, "paid"], table.loc[D2, "paid"]) == (2, 0)
    assert math.isnan(table.loc[D2, "p90"])


def test_pay008_kpis_equal_the_metric_functions(db):
    kpis = registry.kpis(db, june(), registry.PAYOUTS).as_dict()
    assert kpis["paid"] == 4
    assert kpis["paid_amount"] == 5000.0
    assert kpis["payout_p50"] == metrics.payout_latency_percentiles(db, june()).p50
    assert kpis["payout_fastest"] == pytest.approx(10)
    assert kpis["remote_sla_share"] == pytest.approx(2 / 3)
    assert kpis["online_share"] == metrics.online_share(db, june())
    assert (kpis["one_click"], kpis["one_click_amount"]) == (0, 0.0)


def test_pay009_an_empty_window_gives_empty_figures_not_errors(db):
    clocks = payouts.stage_clocks(db, nothing())
    assert list(clocks["count"]) == [0, 0, 0, 0, 0]
    assert clocks["p50"].isna().all()
    assert payouts.payout_within(db, nothing()) == {"15m": None, "1h": None, "1d": None}
    assert list(payouts.insurer_payouts(db, nothing())["paid"]) == [0, 0, 0]
    assert list(payouts.payouts_by_district(db, nothing())["paid"]) == [0, 0]


def test_pay010_each_insurer_row_equals_the_metric_functions_for_that_insurer(db):
    table = payouts.insurer_payouts(db, june()).set_index("insurer_id")
    for insurer_id in (ALPHA, BETA, GAMMA):
        one = june(insurer=insurer_id)
        latency = metrics.payout_latency_percentiles(db, one)
        row = table.loc[insurer_id]
        assert row["paid"] == metrics.case_totals(db, one)["paid"]
        assert row["amount_yuan"] == metrics.paid_amount_yuan(db, one)
        for mine, theirs in ((row["p50"], latency.p50), (row["p90"], latency.p90),
                             (row["remote_sla_share"], metrics.remote_liability_sla_share(db, one))):
            assert (pd.isna(mine) and theirs is None) or mine == pytest.approx(theirs)


def test_pay011_district_bars_carry_the_adcode_a_click_drills_into(db):
    frame = payouts.payouts_by_district(db, june()).sort_values("p90", ascending=False)
    figure = districts_figure(frame, Context("en", "June", june(districts=(D2,))))
    bars = figure.data[0]
    assert [row[0] for row in bars.customdata] == [D1, D2]        # customdata[0]: the district a click opens
    assert list(bars.y) == pytest.approx([2880, 180], rel=0.01)
    assert list(bars.marker.line.color) == [theme.RATE, theme.INK]   # the district in focus is outlined
    empty = districts_figure(payouts.payouts_by_district(db, nothing()), Context("en", "", nothing()))
    assert not empty.data and empty.layout.annotations[0].text == "No data in the chosen window"


def test_pay012_within_bars_are_the_shares_in_percent(db):
    shares = payouts.payout_within(db, june())
    frame = pd.DataFrame({"within": list(shares), "share": list(shares.values())})
    bars = within_figure(frame, Context("zh", "", june())).data[0]
    assert list(bars.x) == ["15 分钟内", "1 小时内", "1 天内"]
    assert list(bars.y) == pytest.approx([25, 50, 75])
