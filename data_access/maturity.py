"""How far a window's cases have got: the share of the cases that will reach a latency's later stage (paid, on
scene, liability decided …) that have reached it already. Recent cases are not all paid yet and the slow ones are
the ones missing, so a latency of an immature window looks fast: such a figure is marked and never compared.

The share reads rollups and count queries only: the day rollup's `cases` and `paid` columns for payouts; for the
other stages a count over the window's recent days (at most SETTLED_AFTER_DAYS of cases), the count of the window's
latency histogram (read by the figure itself) and the month sketches' counts of the settled months before.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from data_access.cache import cached_query
from data_access.db import Database
from data_access.filters import Filters
from data_access.metrics import case_totals, case_where, latency_histogram, part_window, percentile_minutes
from data_access.rollups import LATENCIES
from data_access.timeutil import local_today

MATURE_SHARE = 0.90          # below this share of its cases past the stage, a window's latency is immature
SETTLED_AFTER_DAYS = 30      # a case reported this many days ago has reached every stage it ever will
REFERENCE_MONTHS = 3         # the settled months whose reach rate says how many recent cases will reach a stage
SETTLING_PERCENTILE = 99     # a stage's days settle once this percentile of its latency has passed
STAGES = ("to_scene", "clearance", "liability", "assessment", "payout")


@dataclass(frozen=True)
class Maturity:
    """The window's cases past a latency's later stage (`reached`) against those expected to pass it in the end
    (`expected`: the settled days' own count, plus the recent days' cases × the reach rate of settled months)."""

    stage: str
    reached: int
    expected: float

    @property
    def share(self) -> float | None:
        """Share matured, 0..1; None when the window has no case expected to reach the stage."""
        if self.expected <= 0:
            return None
        return min(1.0, self.reached / self.expected)

    @property
    def mature(self) -> bool:
        return self.share is None or self.share >= MATURE_SHARE


def reference_window(filters: Filters, today: dt.date) -> Filters:
    """The REFERENCE_MONTHS whole months ending SETTLED_AFTER_DAYS or more before `today`, of the window's place."""
    settled = today - dt.timedelta(days=SETTLED_AFTER_DAYS)
    last = (settled + dt.timedelta(days=1)).replace(day=1) - dt.timedelta(days=1)      # the end of a whole month
    first = last.replace(day=1)
    for _ in range(REFERENCE_MONTHS - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return part_window(filters, first, last)


def _counts(db: Database, filters: Filters, stage: str) -> tuple[int, int]:
    """(cases, cases past the stage) of a window: the day rollup for payouts, a count query otherwise."""
    if stage == "payout":
        totals = case_totals(db, filters)             # the KPIs' own sums, usually cached already
        return int(totals["cases"]), int(totals["paid"])
    later, earlier, _ = LATENCIES[stage]
    timed = case((and_(later.is_not(None), earlier.is_not(None)), 1), else_=0)     # as the stage's sketch counts
    with db.reading() as connection:
        cases, reached = connection.execute(select(func.count(), func.coalesce(func.sum(timed), 0))
                                            .select_from(later.table).where(case_where(filters))).one()
    return int(cases), int(reached or 0)


def _reached(db: Database, filters: Filters, stage: str) -> int:
    """The cases of a window past the stage, from rollups: the day rollup's `paid`, or the count of the latency's
    histogram (which the latency figure itself reads, so it is usually cached already)."""
    if stage == "payout":
        return _counts(db, filters, stage)[1]
    return int(latency_histogram(db, filters, stage)[0].sum())


def _cases(db: Database, filters: Filters) -> int:
    return int(case_totals(db, filters)["cases"])


def settling_days(db: Database, reference: Filters, stage: str) -> int:
    """How many days a stage takes to settle: the SETTLING_PERCENTILE of its latency over the reference months, in
    whole days (at least one, at most SETTLED_AFTER_DAYS). A case reported that many days before today is done."""
    minutes = percentile_minutes(latency_histogram(db, reference, stage)[0], SETTLING_PERCENTILE)
    if minutes is None:
        return SETTLED_AFTER_DAYS
    return min(SETTLED_AFTER_DAYS, max(1, math.ceil(minutes / (24 * 60))))


@cached_query
def _stage_maturity(db: Database, filters: Filters, stage: str, today: dt.date) -> Maturity:
    reference = reference_window(filters, today)
    settled = today - dt.timedelta(days=settling_days(db, reference, stage))     # the last settled day
    if filters.end <= settled:
        return Maturity(stage, 1, 1.0)                    # every day of the window is settled
    reference_cases = _cases(db, reference)
    if not reference_cases:                               # no settled history to expect anything from
        return Maturity(stage, 0, 0.0)
    rate = _reached(db, reference, stage) / reference_cases
    recent = part_window(filters, max(filters.start, settled + dt.timedelta(days=1)), filters.end)
    recent_cases, recent_reached = _counts(db, recent, stage)
    settled_reached = _reached(db, filters, stage) - recent_reached if filters.start <= settled else 0
    expected = settled_reached + max(float(recent_reached), recent_cases * rate)
    return Maturity(stage, settled_reached + recent_reached, expected)
def stage_maturity(db: Database, filters: Filters, stage: str, today: dt.date | None = None) -> Maturity:
    """How far the cases of the window have got past `stage` (a key of STAGES), as of `today` (local; default now)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    return _stage_maturity(db, filters, stage, today or local_today())
