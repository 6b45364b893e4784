"""The per-insurer rollups (day × district × insurer counts, month × district × insurer latency sketches): every figure
of an insurer's view read through them equals the same figure computed from the raw cases, for several insurers,
windows and districts; an ingest of an insurer's cases moves its figures at once; the migration that creates the
tables fills them exactly as a rebuild does."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from alembic import command
from sqlalchemy import func, select

from data_access import ingest, metrics, payouts, registry, sketch
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.filters import Filters
from data_access.models import AccidentCase, DailyStat, Insurer, InsurerDailyStat, InsurerLatencySketch
from data_access.rollups import LATENCIES, WHOLE_CITY, daily_stat_columns, latency_values
from data_access.schema import alembic_config, current_revision, head_revision
from data_access.timeutil import local_midnight_utc
from tests.servers import fresh_database_url

ZZ = "350600"
FIRST_DAY, LAST_DAY = dt.date(2025, 10, 1), dt.date(2026, 5, 10)
WINDOWS = {
    "whole months": (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
    "cut months": (dt.date(2026, 1, 15), dt.date(2026, 4, 10)),
    "inside one month": (dt.date(2026, 3, 3), dt.date(2026, 3, 20)),
    "one day": (dt.date(2026, 2, 14), dt.date(2026, 2, 14)),
    "past both ends of the data": (dt.date(2025, 9, 10), dt.date(2026, 6, 20)),
}
DISTRICTS = {"whole city": (), "one district": ("350602",), "two districts": ("350602", "350603")}
CASE_KEYS = tuple(sorted(set(registry.PAYOUTS) | set(registry.OVERVIEW)))
COLUMNS = {col.name: col for col in daily_stat_columns()}
C = AccidentCase.__table__.c


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    db = Database(fresh_database_url(tmp_path_factory.mktemp("insurer_rollups"), "demo.db"))
    build_demo(db, scale=0.05, cities=(ZZ,), start=FIRST_DAY, end=local_midnight_utc(LAST_DAY + dt.timedelta(days=1)))
    return db


@pytest.fixture(scope="module")
def insurers(db) -> list[tuple[str, int]]:
    """Three insurers of Zhangzhou, (code, id): the first, one in the middle and the last by code."""
    with db.session() as session:
        rows = session.execute(select(Insurer.code, Insurer.id).where(Insurer.city_adcode == ZZ)
                               .order_by(Insurer.code)).all()
    assert len(rows) >= 3
    return [tuple(rows[0]), tuple(rows[len(rows) // 2]), tuple(rows[-1])]


def window(name: str, districts: tuple[str, ...] = (), insurer: int | None = None) -> Filters:
    start, end = WINDOWS[name]
    return Filters(city=ZZ, start=start, end=end, districts=districts, insurer=insurer, comparison="none")


# ------------------------------------------------------------------------------ the same figures from raw cases
def raw_case_totals(db: Database, filters: Filters) -> dict[str, float]:
    """`metrics.case_totals` computed from the raw cases with the rollups' own aggregate expressions."""
    with db.session() as session:
        row = session.execute(select(*daily_stat_columns()).where(metrics.case_where(filters))).one()
    return {name: float(value or 0) for name, value in zip(metrics.STAT_FIELDS, row, strict=True)}


def raw_latency_histogram(db: Database, filters: Filters, metric: str) -> tuple[np.ndarray, float | None]:
    """`metrics.latency_histogram` computed from every raw case of the window."""
    with db.session() as session:
        values = latency_values(session, metrics.case_where(filters), metric)
    values = values[~np.isnan(values)]
    return sketch.histogram(values), (float(values.min()) if values.size else None)


@pytest.fixture
def raw_path(monkeypatch):
    """Within `with raw_path():` every metric function reads the raw cases instead of the rollups."""

    @contextmanager
    def use():
        with monkeypatch.context() as patch:
            patch.setattr(metrics, "case_totals", raw_case_totals)
            patch.setattr(metrics, "latency_histogram", raw_latency_histogram)
            yield

    return use


def test_ins001_the_tables_hold_every_case_that_names_an_insurer_and_no_other(db):
    with db.session() as session:
        with_insurer, without = session.execute(
            select(func.count(C.insurer_id), func.count() - func.count(C.insurer_id))
            .where(C.city_adcode == ZZ)).one()
        counted = session.execute(select(func.sum(InsurerDailyStat.cases))).scalar()
        everyone = session.execute(select(func.sum(DailyStat.cases))).scalar()
        sketched = session.execute(
            select(func.sum(InsurerLatencySketch.count))
            .where(InsurerLatencySketch.metric == "payout", InsurerLatencySketch.district_adcode == WHOLE_CITY)
        ).scalar()
        paid = session.execute(select(func.count()).where(C.paid_at.is_not(None), C.insurer_id.is_not(None))).scalar()
    assert with_insurer > 1000 and without > 0       # the demo data has both kinds
    assert counted == with_insurer and everyone == with_insurer + without
    assert sketched == paid


@pytest.mark.parametrize("districts", DISTRICTS.values(), ids=DISTRICTS.keys())
@pytest.mark.parametrize("name", WINDOWS)
def test_ins002_every_payouts_and_overview_metric_equals_the_raw_computation(db, insurers, raw_path, name, districts):
    for _, insurer_id in insurers:
        filters = window(name, districts, insurer_id)
        rolled = registry.values(db, filters, CASE_KEYS)
        clocks = payouts.stage_clocks(db, filters)
        within = payouts.payout_within(db, filters)
        totals = metrics.case_totals(db, filters)
        histograms = {metric: metrics.latency_histogram(db, filters, metric) for metric in LATENCIES}
        with raw_path():
            assert rolled == registry.values(db, filters, CASE_KEYS), (name, districts, insurer_id)
            pd.testing.assert_frame_equal(clocks, payouts.stage_clocks(db, filters), check_exact=True)
            assert within == payouts.payout_within(db, filters)
        assert totals == pytest.approx(raw_case_totals(db, filters), rel=1e-12)
        for metric, (hist, fastest) in histograms.items():
            raw_hist, raw_fastest = raw_latency_histogram(db, filters, metric)
            assert np.array_equal(hist, raw_hist) and fastest == raw_fastest, (name, districts, insurer_id, metric)
    # not vacuous: the busiest window has figures, and they are the insurer's own, not the city's
    if name == "whole months" and not districts:
        own = registry.values(db, window(name, insurer=insurers[0][1]), ("paid", "payout_p90"))
        city = registry.values(db, window(name), ("paid", "payout_p90"))
        assert 0 < own["paid"] < city["paid"] and own["payout_p90"] is not None


@pytest.mark.parametrize("name", ["whole months", "cut months"])
def test_ins003_month_histograms_days_and_districts_of_an_insurer_equal_the_raw_cases(db, insurers, name):
    _, insurer_id = insurers[1]
    filters = window(name, insurer=insurer_id)
    for month, hist in metrics.monthly_latency_histograms(db, filters, "payout"):
        cut = replace(filters, start=max(month, filters.start),
                      end=min((month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1), filters.end))
        assert np.array_equal(hist, raw_latency_histogram(db, cut, "payout")[0]), month

    with db.session() as session:
        rows = session.execute(select(C.local_day, COLUMNS["alerts"], COLUMNS["quick"], COLUMNS["cases"])
                               .where(metrics.case_where(filters)).group_by(C.local_day)).all()
    raw = {pd.Timestamp(day): (alerts, quick, cases) for day, alerts, quick, cases in rows}
    trend = metrics.daily_trend(db, filters)
    assert len(trend) == filters.days and trend["cases"].sum() == sum(c for _, _, c in raw.values()) > 0
    for day, alerts, quick, cases in trend[["day", "alerts", "quick", "cases"]].itertuples(index=False):
        assert (alerts, quick, cases) == raw.get(day, (0, 0, 0)), day

    summary = metrics.district_summary(db, filters).set_index("district_adcode")
    for code, row in summary.iterrows():
        raw_totals = raw_case_totals(db, replace(filters, districts=(code,)))
        assert (row["alerts"], row["quick"], row["cases"]) == (raw_totals["alerts"], raw_totals["quick"],
                                                               raw_totals["cases"]), code
    assert summary["cases"].sum() == raw_case_totals(db, filters)["cases"]


@pytest.mark.parametrize("name", ["whole months", "cut months", "one day"])
@pytest.mark.parametrize("districts", [(), ("350602", "350603")], ids=["whole city", "two districts"])
def test_ins004_insurers_ranked_by_p90_equal_each_insurers_raw_figures(db, raw_path, name, districts):
    frame = payouts.insurer_payouts(db, window(name, districts))
    assert frame["paid"].sum() > 0
    with raw_path():
        for row in frame.itertuples(index=False):
            filters = window(name, districts, int(row.insurer_id))
            payout = metrics.payout_latency_percentiles(db, filters)
            assert row.paid == metrics.paid_cases(db, filters), row.code
            assert row.amount_yuan == metrics.paid_amount_yuan(db, filters), row.code
            assert _same(row.p50, payout.p50) and _same(row.p90, payout.p90), row.code
            assert _same(row.remote_sla_share, metrics.remote_liability_sla_share(db, filters)), row.code
    ranked = frame[frame["rank"].notna()]
    assert list(ranked["p90"]) == sorted(ranked["p90"]) and list(ranked["rank"]) == list(range(1, len(ranked) + 1))


def _same(a, b) -> bool:
    return (b is None and pd.isna(a)) or a == b


# ------------------------------------------------------------------------------------------------------ writes
def case_row(case_id: str, insurer: str, district: str, reported: str, paid_after_s: int) -> dict:
    """A complete case as an insurer's feed sends it: every stage reached, paid `paid_after_s` after the report."""
    at = dt.datetime.fromisoformat(reported)

    def after(seconds: int) -> str:
        return (at + dt.timedelta(seconds=seconds)).isoformat()

    return {"case_id": case_id, "city": ZZ, "district": district, "reported_at": at.isoformat(),
            "channel": "police_call", "handled_by": "rider_team", "on_scene_at": after(120), "cleared_at": after(240),
            "quick_handled": True, "liability_at": after(paid_after_s // 3), "liability_mode": "remote",
            "assessed_at": after(paid_after_s // 2), "assessment_mode": "online", "handled_online": True,
            "insurer": insurer, "paid_at": after(paid_after_s), "paid_amount_yuan": 1000.25}


def test_ins005_an_ingest_of_an_insurers_cases_moves_its_figures_at_once(db, insurers, raw_path):
    (code, insurer_id), (_, other_id) = insurers[0], insurers[2]
    day = window("one day", ("350602",), insurer_id)
    month = window("whole months", insurer=insurer_id)
    keys = ("handled", "paid", "paid_amount", "payout_fastest")
    before = {f: registry.values(db, f, keys) for f in (day, month)}
    count_before = int(metrics.latency_histogram(db, month, "payout")[0].sum())
    others = registry.values(db, window("whole months", insurer=other_id), keys)
    rows = [case_row(f"INS-ROLLUP-{i}", code, "350602", f"2026-02-14T09:0{i}:00+08:00", paid_after_s=60)
            for i in range(3)]

    result = ingest.store(db, "cases", "insurer-rollup-test", rows, insurer=code)

    assert result.inserted == 3
    for filters in (day, month):
        after = registry.values(db, filters, keys)
        assert after["handled"] == before[filters]["handled"] + 3
        assert after["paid"] == before[filters]["paid"] + 3
        assert after["paid_amount"] == pytest.approx(before[filters]["paid_amount"] + 3 * 1000.25)
        assert after["payout_fastest"] == pytest.approx(min(before[filters]["payout_fastest"] or 1.0, 1.0), abs=1e-4)
        with raw_path():
            assert after == registry.values(db, filters, keys)
    assert int(metrics.latency_histogram(db, month, "payout")[0].sum()) == count_before + 3
    assert registry.values(db, window("whole months", insurer=other_id), keys) == others

    # the same cases now named by another insurer's feed move out of the first insurer's figures
    moved = [dict(row, insurer=insurers[2][0]) for row in rows]
    assert ingest.store(db, "cases", "insurer-rollup-test", moved).updated == 3
    assert registry.values(db, month, keys)["handled"] == before[month]["handled"]
    assert registry.values(db, window("whole months", insurer=other_id), keys)["handled"] == others["handled"] + 3


# --------------------------------------------------------------------------------------------------- migration
def _contents(db: Database) -> tuple[list, list]:
    with db.session() as session:
        days = session.execute(select(InsurerDailyStat.__table__).order_by(
            *InsurerDailyStat.__table__.primary_key.columns)).all()
        sketches = session.execute(select(InsurerLatencySketch.__table__).order_by(
            *InsurerLatencySketch.__table__.primary_key.columns)).all()
    return [tuple(row) for row in days], [tuple(row) for row in sketches]


def _migrate(db: Database, revision: str, down: bool = False) -> None:
    config = alembic_config(db.engine.url.render_as_string(hide_password=False))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_ins006_the_migration_fills_the_tables_from_the_stored_cases_as_a_rebuild_does(db):
    built = _contents(db)
    assert len(built[0]) > 1000 and len(built[1]) > 1000
    _migrate(db, "0004", down=True)
    assert current_revision(db.engine) == "0004"
    _migrate(db, "head")
    assert current_revision(db.engine) == head_revision()
    days, sketches = _contents(db)
    assert _rows_equal(days, built[0])
    assert sketches == built[1]


def _rows_equal(left: list[tuple], right: list[tuple]) -> bool:
    """Rows equal field by field, sums of amounts to a cent (a year at a time sums in another order)."""
    if len(left) != len(right):
        return False
    for a, b in zip(left, right, strict=True):
        for x, y in zip(a, b, strict=True):
            if isinstance(x, float) or isinstance(y, float):
                if abs(x - y) > 0.005:
                    return False
            elif x != y:
                return False
    return True
