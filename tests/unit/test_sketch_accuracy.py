"""Percentiles read from the latency sketches are within 0.5% of the exact ones (numpy's inverted-CDF rule over the
raw cases) on demo data: every latency stage of the rollups, p50 / p90 / p99, for the whole city, every district
and every month of the window, cut months at its edges included; and sketches stored in the first format still
read within their old bound until `rebuild_rollups` writes them in the current one."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, update

from data_access import metrics, rollups, sketch
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.filters import Filters
from data_access.models import LatencySketch
from data_access.rollups import LATENCIES, latency_frame
from data_access.timeutil import local_midnight_utc
from tests.servers import fresh_database_url

ZZ, CQ = "350600", "500000"
FIRST_DAY, LAST_DAY = dt.date(2025, 9, 1), dt.date(2026, 4, 30)
# Cut months at both ends: the edges are read from raw cases and summed with whole months from the sketches.
WINDOW = (dt.date(2025, 9, 20), dt.date(2026, 4, 12))
QUANTILES = (50, 90, 99)
TARGET = 0.005


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    db = Database(fresh_database_url(tmp_path_factory.mktemp("sketch_accuracy"), "demo.db"))
    build_demo(db, scale=0.05, cities=(ZZ, CQ), start=FIRST_DAY,
               end=local_midnight_utc(LAST_DAY + dt.timedelta(days=1)))
    return db


def window(city: str, start: dt.date = WINDOW[0], end: dt.date = WINDOW[1]) -> Filters:
    return Filters(city=city, start=start, end=end, comparison="none")


def raw_latencies(db: Database, filters: Filters) -> pd.DataFrame:
    """Every latency (seconds) of the window's raw cases, with district and local day."""
    with db.session() as session:
        frame = latency_frame(session, metrics.case_where(filters))
    frame["month"] = pd.to_datetime(frame["local_day"]).dt.to_period("M").dt.start_time.dt.date
    return frame


def relative_error(sketched: float | None, exact: float) -> float:
    assert sketched is not None
    return abs(sketched - exact) if exact == 0 else abs(sketched / exact - 1)


def compare(hist: np.ndarray, values: np.ndarray, where: str) -> list[tuple[float, str]]:
    """(relative error, where) of each quantile of one sketch against the exact values it summarises."""
    values = values[~np.isnan(values)]
    assert int(hist.sum()) == values.size, where
    if not values.size:
        return []
    return [(relative_error(sketch.percentile(hist, q), float(np.percentile(values, q, method="inverted_cdf"))),
             f"{where} p{q}") for q in QUANTILES]


def worst_errors(db: Database, city: str) -> tuple[list[tuple[float, str]], set[str]]:
    """Errors of every stage × quantile for the whole city, each district and each month of the window; and the
    set of (stage, place) kinds compared (to check every part had cases)."""
    filters = window(city)
    raw = raw_latencies(db, filters)
    errors: list[tuple[float, str]] = []
    covered: set[str] = set()
    for stage in LATENCIES:
        values = raw[stage].to_numpy()
        errors += compare(metrics.latency_histogram(db, filters, stage)[0], values, f"{city} {stage} whole city")
        by_district = metrics.latency_histograms_by_district(db, filters, stage)
        for district, group in raw[raw[stage].notna()].groupby("district_adcode"):
            errors += compare(by_district[str(district)][0], group[stage].to_numpy(), f"{city} {stage} {district}")
            covered.add(f"{stage} district")
        for month, hist in metrics.monthly_latency_histograms(db, filters, stage):
            errors += compare(hist, raw.loc[raw["month"] == month, stage].to_numpy(), f"{city} {stage} {month:%Y-%m}")
            covered.add(f"{stage} month")
    return errors, covered


@pytest.mark.parametrize("city", [ZZ, CQ])
def test_sketch001_every_stage_percentile_within_half_a_percent_of_exact(db, city):
    errors, covered = worst_errors(db, city)
    assert covered == {f"{stage} {place}" for stage in LATENCIES for place in ("district", "month")}
    months = len(metrics.monthly_latency_histograms(db, window(city), "payout"))
    assert months == 8
    assert len(errors) > len(LATENCIES) * len(QUANTILES) * months
    worst = max(errors)
    assert worst[0] < TARGET, f"worst: {worst[1]} off by {worst[0]:.3%}"
    # the bound of the bins holds too: a percentile is never further than half a bin from the exact value
    assert worst[0] <= sketch.RELATIVE_ERROR + 1e-12


def test_sketch002_first_format_sketches_read_within_their_bound_until_rebuilt(db):
    """Sketches written before the finer bins (γ = 1.02, no header) are still read right, and `is_current` finds
    them; `rebuild_rollups` writes them again in the current format, within 0.5% once more."""
    filters = window(ZZ, dt.date(2025, 10, 1), dt.date(2026, 3, 31))
    exact = raw_latencies(db, filters)["payout"].dropna().to_numpy()
    table = LatencySketch.__table__
    where = [table.c.city_adcode == ZZ, table.c.metric == "payout"]
    with db.sessions.begin() as session:
        rows = session.execute(select(table.c.district_adcode, table.c.month, table.c.bins).where(*where)).all()
        for district, month, blob in rows:
            session.execute(update(table).where(*where, table.c.district_adcode == district, table.c.month == month)
                            .values(bins=_as_first_format(sketch.decode(blob))))
    with db.session() as session:
        assert not any(sketch.is_current(blob) for blob in session.scalars(select(table.c.bins).where(*where)))
    # written from current bins here, so twice the current half-bin beside the old one
    old_bound = 1.001 * ((sketch.LEGACY_GAMMA - 1) / (sketch.LEGACY_GAMMA + 1) + 2 * sketch.RELATIVE_ERROR)
    hist = metrics.latency_histogram(db, filters, "payout")[0]
    assert max(error for error, _ in compare(hist, exact, "first format")) < old_bound

    rollups.rebuild_rollups(db, ZZ)
    with db.session() as session:
        assert all(sketch.is_current(blob) for blob in session.scalars(select(table.c.bins)))
    hist = metrics.latency_histogram(db, filters, "payout")[0]
    assert max(error for error, _ in compare(hist, exact, "rebuilt")) < TARGET


def _as_first_format(hist: np.ndarray) -> bytes:
    """A current histogram written as the first format would have stored it: each bin's value in a γ = 1.02 bin."""
    nonzero = np.flatnonzero(hist)
    values = sketch.bin_value(nonzero)
    old = np.where(values == 0, 0, 1 + np.floor(np.log(np.clip(values, 1.0, None)) / np.log(sketch.LEGACY_GAMMA)))
    bins, where = np.unique(old.astype(np.int64), return_inverse=True)
    counts = np.bincount(where, weights=hist[nonzero]).astype(np.int64)
    return bins.astype("<i2").tobytes() + counts.astype("<i4").tobytes()
