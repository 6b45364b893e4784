"""Rollups rebuilt from the raw cases: day × district counts and month × district latency sketches.

Pages read these instead of the raw table (2 million cases read into pandas take seconds; the rollups take
milliseconds). Every writer calls `rebuild_rollups` for the days it touched, so rollups never lag the raw data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from data_access import sketch
from data_access.db import Database, bump_data_version
from data_access.models import (
    ALERT_CHANNELS,
    AccidentCase,
    DailyStat,
    HandledBy,
    LatencySketch,
    StageMode,
)
from data_access.sqlfuncs import seconds_between

REMOTE_LIABILITY_SLA_S = 5 * 60
# Latency sketches are also kept summed over the whole city under this district code: a city-wide window then
# reads one sketch a month instead of one per district.
WHOLE_CITY = "*"

# latency name -> (later stage, earlier stage, extra condition); one definition used by rollups and raw edges alike
C = AccidentCase.__table__.c
LATENCIES = {
    "to_scene": (C.on_scene_at, C.reported_at, None),
    "clearance": (C.cleared_at, C.on_scene_at, None),
    "liability": (C.liability_at, C.reported_at, None),
    "liability_remote": (C.liability_at, C.reported_at, C.liability_mode == StageMode.REMOTE.value),
    "assessment": (C.assessed_at, C.reported_at, None),
    "payout": (C.paid_at, C.reported_at, None),
}


def _flag(condition) -> object:
    return func.sum(case((condition, 1), else_=0))


def daily_stat_columns() -> list:
    """The aggregate expressions of one daily_stat row, in the column order of DailyStat (after the keys)."""
    is_alert = C.channel.in_([c.value for c in ALERT_CHANNELS])
    rider = C.handled_by == HandledBy.RIDER_TEAM.value
    remote = C.liability_mode == StageMode.REMOTE.value
    return [
        func.count().label("cases"),
        _flag(is_alert).label("alerts"),
        _flag(and_(is_alert, C.found_by_patrol)).label("alerts_by_patrol"),
        _flag(and_(is_alert, C.quick_handled)).label("quick"),
        _flag(and_(is_alert, C.quick_handled, rider)).label("quick_rider"),
        _flag(C.handled_online).label("handled_online"),
        _flag(remote).label("remote_liability"),
        _flag(and_(remote, rider)).label("remote_liability_rider"),
        _flag(and_(remote, seconds_between(C.liability_at, C.reported_at) <= REMOTE_LIABILITY_SLA_S))
        .label("remote_liability_in_sla"),
        _flag(C.assessment_mode == StageMode.ONLINE.value).label("online_assessed"),
        _flag(C.paid_at.is_not(None)).label("paid"),
        func.coalesce(func.sum(C.paid_amount_yuan), 0.0).label("paid_amount_yuan"),
        _flag(C.one_click_claim).label("one_click"),
        func.coalesce(func.sum(case((C.one_click_claim, C.paid_amount_yuan), else_=0.0)), 0.0)
        .label("one_click_amount_yuan"),
    ]


def _window_condition(city: str | None, start: dt.date | None, end: dt.date | None):
    conditions = []
    if city:
        conditions.append(C.city_adcode == city)
    if start:
        conditions.append(C.local_day >= start)
    if end:
        conditions.append(C.local_day <= end)
    return and_(*conditions) if conditions else literal(True)


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _month_end(day: dt.date) -> dt.date:
    nxt = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def _delete_span(session: Session, table, day_column: str, city: str | None, start: dt.date | None,
                 end: dt.date | None) -> None:
    """Delete a rollup's rows of `city` (all when None) from `start` to `end` (open when None)."""
    where = []
    if city:
        where.append(table.c.city_adcode == city)
    if start:
        where.append(table.c[day_column] >= start)
    if end:
        where.append(table.c[day_column] <= end)
    session.execute(delete(table).where(*where))


def rebuild_daily_stats(session: Session, city: str | None, start: dt.date | None, end: dt.date | None) -> None:
    stat = DailyStat.__table__
    _delete_span(session, stat, "local_day", city, start, end)
    query = (
        select(C.city_adcode, C.district_adcode, C.local_day, *daily_stat_columns())
        .where(_window_condition(city, start, end))
        .group_by(C.city_adcode, C.district_adcode, C.local_day)
    )
    names = ["city_adcode", "district_adcode", "local_day"] + [col.name for col in daily_stat_columns()]
    session.execute(insert(stat).from_select(names, query))


def latency_frame(session: Session, condition, names: Iterable[str] = LATENCIES) -> pd.DataFrame:
    """Raw latencies in seconds of the cases matching `condition` (plus city, district, day), NaN where unknown."""
    columns = [C.city_adcode, C.district_adcode, C.local_day]
    names = list(names)
    for name in names:
        later, earlier, extra = LATENCIES[name]
        expr = seconds_between(later, earlier)
        if extra is not None:
            expr = case((extra, expr), else_=None)
        columns.append(expr.label(name))
    # The DBAPI rows as they come (plain tuples; the day as the driver gives it, which pd.to_datetime reads):
    # turning a million SQLAlchemy Rows into tuples for pandas costs seconds.
    rows = session.execute(select(*columns).where(condition)).cursor.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=["city_adcode", "district_adcode", "local_day", *names])
    for name in names:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return frame


def latency_values(session: Session, condition, name: str) -> np.ndarray:
    """The known values (seconds) of one latency over the cases matching `condition`, as a float array."""
    later, earlier, extra = LATENCIES[name]
    expr = seconds_between(later, earlier)
    where = [condition, later.is_not(None), earlier.is_not(None)]
    if extra is not None:
        where.append(extra)
    rows = session.execute(select(expr).where(*where)).cursor.fetchall()
    return np.fromiter((row[0] for row in rows), dtype=float, count=len(rows))


def rebuild_latency_sketches(session: Session, city: str | None, start: dt.date | None, end: dt.date | None) -> None:
    # Sketches are per month, so a partial range is widened to whole months.
    start = _month_start(start) if start else None
    end = _month_end(end) if end else None
    table = LatencySketch.__table__
    _delete_span(session, table, "month", city, start, end)
    frame = latency_frame(session, _window_condition(city, start, end))
    if frame.empty:
        return
    frame["month"] = pd.to_datetime(frame["local_day"]).dt.to_period("M").dt.start_time.dt.date
    rows = _sketch_rows(frame) + _sketch_rows(frame.assign(district_adcode=WHOLE_CITY))
    if rows:
        session.execute(insert(table), rows)


def _sketch_rows(frame: pd.DataFrame) -> list[dict]:
    """One sketch row per (city, district, month, latency), all groups at once: (group, bin) pairs counted with
    np.unique."""
    keys = ["city_adcode", "district_adcode", "month"]
    group_id = frame.groupby(keys, sort=False).ngroup().to_numpy()
    groups = frame[keys].assign(g=group_id).drop_duplicates("g").sort_values("g")[keys].to_numpy()
    rows = []
    for name in LATENCIES:
        values = frame[name].to_numpy()
        known = ~np.isnan(values)
        if not known.any():
            continue
        gid, values = group_id[known], values[known]
        pairs, counts = np.unique(gid.astype(np.int64) * sketch.N_BINS + sketch.bin_index(values),
                                  return_counts=True)
        pair_group, pair_bin = pairs // sketch.N_BINS, pairs % sketch.N_BINS
        lowest = pd.Series(values).groupby(gid).min()
        starts = np.flatnonzero(np.r_[True, pair_group[1:] != pair_group[:-1]])
        ends = np.r_[starts[1:], len(pairs)]
        for lo, hi in zip(starts, ends, strict=True):
            g = int(pair_group[lo])
            city_code, district, month = groups[g]
            rows.append({
                "city_adcode": city_code, "district_adcode": district, "month": month, "metric": name,
                "count": int(counts[lo:hi].sum()), "min_seconds": float(lowest[g]),
                "bins": sketch.encode_sparse(pair_bin[lo:hi], counts[lo:hi]),
            })
    return rows


def rebuild_rollups(db: Database, city: str | None = None, start: dt.date | None = None,
                    end: dt.date | None = None) -> None:
    """Recompute every rollup of `city` (all when None) for local days start..end (all when None)."""
    with db.sessions.begin() as session:
        rebuild_daily_stats(session, city, start, end)
        rebuild_latency_sketches(session, city, start, end)
        bump_data_version(session)


def refresh_days(db: Database, touched: Iterable[tuple[str, dt.date]]) -> None:
    """Refresh the rollups of the (city, local day) pairs a write touched, one contiguous span per city."""
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    for city, day in touched:
        lo, hi = spans.get(city, (day, day))
        spans[city] = (min(lo, day), max(hi, day))
    for city, (lo, hi) in spans.items():
        rebuild_rollups(db, city, lo, hi)
