"""The faster paths of the payouts, mediation and overview figures give exactly what the slower ones gave, on a small
demo database: a latency's histogram and fastest value with the cut months at the window's edges read once for every
latency (and filtered or grouped by insurer and district afterwards) equal one raw read per latency, insurer and
breakdown, whether a cut month is read from its raw days or as its sketch minus its other days; the mediation
outcomes of every month from one grouped pass equal each month's own, and the duration sample read once equals the
raw durations; the data's first and last day from two index steps equal the min and max of the day rollup."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest
from sqlalchemy import func, select, update

from data_access import mediation, metrics, sketch
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.filters import Filters
from data_access.models import AccidentCase, DailyStat, LatencySketch, MediationCase
from data_access.rollups import LATENCIES, WHOLE_CITY, latency_values, latency_values_by
from data_access.sqlfuncs import seconds_between
from data_access.throughput import month_windows
from data_access.timeutil import local_midnight_utc
from tests.servers import fresh_database_url

ZZ = "350600"
FIRST_DAY, LAST_DAY = dt.date(2025, 10, 1), dt.date(2026, 5, 10)
WINDOWS = {
    "whole months": (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
    "cut months": (dt.date(2026, 1, 15), dt.date(2026, 4, 10)),
    "months cut by a few days": (dt.date(2026, 1, 3), dt.date(2026, 3, 28)),
    "inside one month": (dt.date(2026, 3, 3), dt.date(2026, 3, 20)),
    "one day": (dt.date(2026, 2, 1), dt.date(2026, 2, 1)),
    "past both ends of the data": (dt.date(2025, 9, 10), dt.date(2026, 6, 20)),
}
DISTRICTS = {"whole city": (), "one district": ("350602",), "two districts": ("350602", "350603")}


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    db = Database(fresh_database_url(tmp_path_factory.mktemp("speed_paths"), "demo.db"))
    build_demo(db, scale=0.05, cities=(ZZ,), start=FIRST_DAY, end=local_midnight_utc(LAST_DAY + dt.timedelta(days=1)))
    return db


@pytest.fixture(scope="module")
def insurer(db) -> int:
    with db.session() as session:
        return int(session.execute(select(AccidentCase.insurer_id).where(AccidentCase.insurer_id.is_not(None))
                                   .group_by(AccidentCase.insurer_id).limit(1)).scalar())


def window(name: str, districts: tuple[str, ...] = (), insurer: int | None = None) -> Filters:
    start, end = WINDOWS[name]
    return Filters(city=ZZ, start=start, end=end, districts=districts, insurer=insurer, comparison="none")


# ------------------------------------------------------------------------------------- the slower computations
def one_read_per_latency(db: Database, filters: Filters, metric: str, by: str | None = None) -> dict:
    """A latency's histogram and fastest value as computed before the edges' shared read: the whole months from the
    sketches, each cut month read from the raw cases for this latency alone, filtered and grouped in SQL."""
    sums: dict = {}

    def add(key, hist, fastest):
        total, low = sums.get(key, (np.zeros(sketch.N_BINS, dtype=np.int64), None))
        sums[key] = (total + hist, fastest if low is None else min(low, fastest))

    span, edges = metrics.months_and_edges(db, filters)
    with db.session() as session:
        if span is not None:
            table, conditions = metrics.sketch_where(filters, metric, *span, per_insurer=by == "insurer_id",
                                                     per_district=by == "district_adcode")
            keys = [table.c[by]] if by else []
            stored: dict = {}
            for blob, low, *key in session.execute(select(table.c.bins, table.c.min_seconds, *keys)
                                                   .where(*conditions)).all():
                stored.setdefault(key[0] if key else None, []).append((blob, low))
            for key, parts in stored.items():
                add(key, sketch.decode_many([blob for blob, _ in parts]), min(low for _, low in parts))
        for lo, hi in edges:
            edge = metrics.case_where(replace(filters, start=lo, end=hi, comparison="none"))
            if by:
                for key, group in latency_values_by(session, edge, metric, by).groupby(by):
                    values = group["seconds"].to_numpy()
                    add(int(key) if by == "insurer_id" else str(key), sketch.histogram(values), float(values.min()))
                continue
            values = latency_values(session, edge, metric)
            values = values[~np.isnan(values)]
            if values.size:
                add(None, sketch.histogram(values), float(values.min()))
    return sums


def assert_same_latencies(fast: dict, slow: dict) -> None:
    assert set(fast) == set(slow)
    for key, (hist, fastest) in slow.items():
        np.testing.assert_array_equal(fast[key][0], hist, err_msg=f"histogram of {key}")
        assert fast[key][1] == fastest, f"fastest of {key}"


# ------------------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("name", list(WINDOWS))
@pytest.mark.parametrize("districts", list(DISTRICTS))
def test_speed001_a_latency_with_the_edges_read_once_for_all_equals_one_read_per_latency(db, name, districts):
    filters = window(name, DISTRICTS[districts])
    for metric in LATENCIES:
        fast = {None: metrics.latency_histogram.uncached(db, filters, metric)}
        slow = one_read_per_latency(db, filters, metric)
        assert_same_latencies(fast, slow or {None: metrics.no_latency()})
    assert metrics.latency_histogram.uncached(db, filters, "payout")[0].sum() > 0


@pytest.mark.parametrize("name", list(WINDOWS))
def test_speed002_an_insurers_latencies_filtered_from_the_shared_edges_equal_its_own_raw_read(db, insurer, name):
    for districts in DISTRICTS.values():
        filters = window(name, districts, insurer)
        for metric in LATENCIES:
            fast = {None: metrics.latency_histogram.uncached(db, filters, metric)}
            assert_same_latencies(fast, one_read_per_latency(db, filters, metric) or {None: metrics.no_latency()})


@pytest.mark.parametrize("name", list(WINDOWS))
@pytest.mark.parametrize("districts", ["whole city", "two districts"])
def test_speed003_latencies_by_insurer_and_by_district_grouped_from_the_shared_edges_equal_grouping_in_sql(
        db, name, districts):
    filters = window(name, DISTRICTS[districts])
    for metric in ("payout", "liability_remote", "to_scene"):
        by_insurer = metrics.latency_histograms_by_insurer.uncached(db, filters, metric)
        assert_same_latencies(by_insurer, one_read_per_latency(db, filters, metric, "insurer_id"))
        by_district = metrics.latency_histograms_by_district.uncached(db, filters, metric)
        assert_same_latencies(by_district, one_read_per_latency(db, filters, metric, "district_adcode"))
        assert all(isinstance(key, int) for key in by_insurer) and all(isinstance(k, str) for k in by_district)
    assert len(metrics.latency_histograms_by_insurer.uncached(db, filters, "payout")) > (0 if name == "one day" else 1)


def test_speed004_the_edges_of_a_window_hold_each_case_with_the_latency_once(db):
    start, end = dt.date(2026, 1, 15), dt.date(2026, 1, 31)
    for metric, (later, earlier, extra) in LATENCIES.items():
        cut = metrics.edge_latency.uncached(db, ZZ, (), start, end, metric)
        conditions = [AccidentCase.city_adcode == ZZ, AccidentCase.local_day >= start, AccidentCase.local_day <= end,
                      later.is_not(None), earlier.is_not(None)] + ([] if extra is None else [extra])
        with db.session() as session:
            cases = session.execute(select(AccidentCase.id).where(*conditions)).all()
        assert len(cut.district_adcode) == len(cut.insurer_id) == len(cut.seconds) == len(cases) > 0, metric
        assert not np.isnan(cut.seconds).any(), metric
    empty = metrics.edge_latency.uncached(db, ZZ, (), dt.date(2030, 1, 1), dt.date(2030, 1, 31), "payout")
    assert len(empty.district_adcode) == len(empty.seconds) == 0


@pytest.mark.parametrize("name", list(WINDOWS))
@pytest.mark.parametrize("districts", list(DISTRICTS))
def test_speed005_mediation_outcomes_of_every_month_from_one_pass_equal_each_months_own(db, name, districts):
    filters = window(name, DISTRICTS[districts])
    by_month = metrics.mediation_outcomes_by_month.uncached(db, filters)
    months = month_windows(filters)
    assert set(by_month) <= {month.start for month in months}
    for month in months:
        assert by_month.get(month.start, metrics.mediation_stats(0, 0, 0, 0, 0.0)) == \
            metrics.mediation_outcomes.uncached(db, month), month.start
    frame = mediation.outcomes_by_month.uncached(db, filters)
    assert len(frame) == len(months)
    if districts == "whole city" and name in ("whole months", "cut months"):
        assert frame["opened"].sum() > 0 and frame["closed"].sum() > 0 and frame["amount_yuan"].sum() > 0


def test_speed006_an_insurers_mediation_months_equal_each_months_own(db, insurer):
    filters = window("cut months", insurer=insurer)
    by_month = metrics.mediation_outcomes_by_month.uncached(db, filters)
    for month in month_windows(filters):
        assert by_month.get(month.start, metrics.mediation_stats(0, 0, 0, 0, 0.0)) == \
            metrics.mediation_outcomes.uncached(db, month)


def test_speed007_the_datas_first_and_last_day_equal_the_min_and_max_of_the_day_rollup(db):
    with db.session() as session:
        first, last = session.execute(select(func.min(DailyStat.local_day), func.max(DailyStat.local_day))
                                      .where(DailyStat.city_adcode == ZZ)).one()
    assert metrics.data_days.uncached(db, ZZ) == (first, last)
    assert first <= FIRST_DAY + dt.timedelta(days=1) and last >= LAST_DAY - dt.timedelta(days=1)
    assert metrics.data_days.uncached(db, "999999") is None


@pytest.mark.parametrize("name", ["whole months", "cut months"])
def test_speed008_the_mediation_duration_and_its_bands_read_one_sample_equal_to_the_raw_durations(db, name):
    filters = window(name)
    m = MediationCase.__table__.c
    with db.session() as session:
        rows = session.execute(select(seconds_between(m.closed_at, m.opened_at))
                               .where(*metrics.mediations_closed_where(filters))).cursor.fetchall()
    assert len(rows) > 0
    assert metrics.mediation_duration_days(db, filters) == float(np.median([row[0] for row in rows])) / 86400
    np.testing.assert_array_equal(mediation.durations_days.uncached(db, filters),
                                  np.array([row[0] for row in rows], dtype=float) / 86400.0)


def test_speed009_a_cut_months_sketch_that_disagrees_with_its_cases_gives_way_to_the_raw_cases(db):
    """The month's sketch minus its other days is trusted only while it holds them: a sketch that lost counts (stale,
    or of the first format) would give negative bins, and the cut days are then read raw."""
    filters = window("months cut by a few days")          # January cut at the 3rd: the sketch-minus-days path
    table = LatencySketch.__table__
    where = (table.c.city_adcode == ZZ, table.c.district_adcode == WHOLE_CITY, table.c.metric == "payout",
             table.c.month == dt.date(2026, 1, 1))
    with db.session() as session:
        blob = session.execute(select(table.c.bins).where(*where)).scalar_one()
    try:
        with db.transaction() as session:
            session.execute(update(table).where(*where).values(bins=sketch.encode(np.zeros(sketch.N_BINS, int))))
        assert metrics._days_outside(db, ZZ, dt.date(2026, 1, 3), dt.date(2026, 1, 31)) is not None
        fast = {None: metrics.latency_histogram.uncached(db, filters, "payout")}
        assert_same_latencies(fast, one_read_per_latency(db, filters, "payout"))
    finally:
        with db.transaction() as session:
            session.execute(update(table).where(*where).values(bins=blob))
