"""Figures of the mediation page (调解): cases opened and closed, the open backlog day by day, outcomes by month,
the duration distribution against the comparison window, amounts and outcomes.

Success rate, pre-litigation rate and duration keep their single definitions in `metrics`; this module only
breaks them down by month or lists their inputs. Every query reads the cases of `metrics.mediations_where`: the
window's city, districts and insurer (an insurer's viewer sees its own insurer's cases only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import func, or_, select

from data_access import metrics
from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Filters
from data_access.metrics import share
from data_access.models import MediationCase, MediationOutcome
from data_access.throughput import month_windows

M = MediationCase.__table__.c
OUTCOMES = (MediationOutcome.SETTLED.value, MediationOutcome.FAILED.value, MediationOutcome.LITIGATION.value)
DURATION_BINS_DAYS = (0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45, 60, 90, 180, 10_000)


@cached_query
def backlog(db: Database, filters: Filters) -> pd.DataFrame:
    """Per day of the window: cases opened, cases closed, and the backlog still open at the end of the day
    (opened on or before it and not closed by then, whenever they were opened)."""
    place = metrics.mediations_where(filters)
    with db.reading() as connection:
        carried = connection.execute(select(func.count()).where(
            *place, M.opened_day < filters.start,
            or_(M.closed_day.is_(None), M.closed_day >= filters.start))).scalar() or 0
        opened = connection.execute(
            select(M.opened_day, func.count()).where(*place, M.opened_day >= filters.start,
                                                      M.opened_day <= filters.end).group_by(M.opened_day)).all()
        closed = connection.execute(
            select(M.closed_day, func.count()).where(*place, M.closed_day >= filters.start,
                                                      M.closed_day <= filters.end).group_by(M.closed_day)).all()
    days = pd.date_range(filters.start, filters.end, freq="D")
    frame = pd.DataFrame({"day": days})
    for name, rows in (("opened", opened), ("closed", closed)):
        counts = rows_frame(rows, ["day", name])
        counts["day"] = pd.to_datetime(counts["day"])
        frame = frame.merge(counts, on="day", how="left")
        frame[name] = frame[name].fillna(0).astype(int)
    frame["backlog"] = (int(carried) + (frame["opened"] - frame["closed"]).cumsum()).astype(int)
    return frame


def open_backlog(db: Database, filters: Filters) -> int:
    """Mediation cases still open at the end of the window's last day."""
    frame = backlog(db, filters)
    return int(frame["backlog"].iloc[-1]) if len(frame) else 0


@cached_query
def outcomes_by_month(db: Database, filters: Filters) -> pd.DataFrame:
    """Per month: opened, closed, settled, failed, gone to court, settled before litigation, amount settled, and
    the success and pre-litigation rates — every month from one grouped pass (`metrics.mediation_outcomes_by_month`,
    each month equal to `metrics.mediation_outcomes` of that month)."""
    rows = []
    by_month = metrics.mediation_outcomes_by_month(db, filters)
    for month in month_windows(filters):
        stats = by_month.get(month.start, metrics.mediation_stats(0, 0, 0, 0, 0.0))
        rows.append((pd.Timestamp(month.start), stats.opened, stats.closed, stats.settled,
                     stats.pre_litigation_settled, stats.amount_yuan, stats.success_rate, stats.pre_litigation_rate))
    return pd.DataFrame.from_records(rows, columns=["month", "opened", "closed", "settled", "pre_litigation_settled",
                                                    "amount_yuan", "success_rate", "pre_litigation_rate"])


@cached_query
def outcome_counts(db: Database, filters: Filters) -> pd.DataFrame:
    """Closed cases of the window by outcome, with their share of all closed and the amount agreed."""
    with db.reading() as connection:
        rows = connection.execute(
            select(M.outcome, func.count(), func.coalesce(func.sum(M.amount_yuan), 0))
            .where(*metrics.mediations_closed_where(filters)).group_by(M.outcome)).all()
    found = {str(getattr(outcome, "value", outcome)): (int(n), float(amount)) for outcome, n, amount in rows}
    frame = pd.DataFrame({"outcome": list(OUTCOMES),
                          "cases": [found.get(o, (0, 0.0))[0] for o in OUTCOMES],
                          "amount_yuan": [round(found.get(o, (0, 0.0))[1], 2) for o in OUTCOMES]})
    frame["share"] = share(frame["cases"], pd.Series([frame["cases"].sum()] * len(frame)))
    return frame


@cached_query
def durations_days(db: Database, filters: Filters) -> np.ndarray:
    """closed − opened in days of every case closed in the window (the sample behind `mediation_duration_days`)."""
    return metrics.mediation_duration_seconds(db, filters) / 86400.0


@cached_query
def duration_distribution(db: Database, filters: Filters) -> pd.DataFrame:
    """Closed cases by duration band, in the window and in its comparison window, as counts and shares;
    the bands are [0, 1), [1, 2), … days (DURATION_BINS_DAYS)."""
    edges = np.array(DURATION_BINS_DAYS, dtype=float)
    labels = [f"{int(lo)}–{int(hi)}" if hi < 10_000 else f"≥{int(lo)}"
              for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    frame = pd.DataFrame({"band": labels, "from_days": edges[:-1].astype(int)})
    for name, window in (("current", filters), ("previous", filters.comparison_window())):
        values = durations_days(db, window) if window is not None else np.array([])
        counts, _ = np.histogram(values, bins=edges)
        frame[f"{name}_cases"] = counts.astype(int)
        frame[f"{name}_share"] = counts / counts.sum() if counts.sum() else np.nan
    return frame


def activity(db: Database, filters: Filters) -> int:
    """Mediation cases opened or closed in the window: what the backlog's change rests on."""
    stats = metrics.mediation_outcomes(db, filters)
    return stats.opened + stats.closed
