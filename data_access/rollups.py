"""Rollups rebuilt from the raw cases: day × district counts and month × district latency sketches, and both again
per insurer (day × district × insurer, month × district × insurer) for the views of one insurer's cases; and the
alerts per month × district × weekday × hour that the hour-of-week heat map reads.

Pages read these instead of the raw table (2 million cases read into pandas take seconds; the rollups take
milliseconds). Every writer calls `rebuild_rollups` for the days it touched, so rollups never lag the raw data; the
per-insurer tables are built by the same statements, grouped by the insurer as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
from sqlalchemy import Table, and_, case, delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from data_access import sketch
from data_access.bulk import insert_frame, span_where
from data_access.db import Database, bump_data_version
from data_access.demand_rollup import cases_within, rebuild_demand_months
from data_access.models import (
    ALERT_CHANNELS,
    AccidentCase,
    DailyStat,
    DayCounts,
    HandledBy,
    HourWeekStat,
    InsurerDailyStat,
    InsurerLatencySketch,
    InsurerMonthlyStat,
    LatencySketch,
    MonthlyStat,
    StageMode,
)
from data_access.sqlfuncs import month_of, seconds_between
from data_access.station_rollup import rebuild_station_months
from data_access.timeutil import month_end, month_start

REMOTE_LIABILITY_SLA_S = 5 * 60
# Latency sketches are also kept summed over the whole city under this district code: a city-wide window then
# reads one sketch a month instead of one per district.
WHOLE_CITY = "*"
# Each kind of rollup and its per-insurer twin, which has an insurer_id key and holds the cases naming an insurer.
DAY_ROLLUPS: tuple[Table, ...] = (DailyStat.__table__, InsurerDailyStat.__table__)
SKETCH_ROLLUPS: tuple[Table, ...] = (LatencySketch.__table__, InsurerLatencySketch.__table__)
# Each day rollup's sums per calendar month (the same keys with `month` for `local_day`)
MONTH_ROLLUPS: dict[Table, Table] = {DailyStat.__table__: MonthlyStat.__table__,
                                     InsurerDailyStat.__table__: InsurerMonthlyStat.__table__}
LATENCY_ROWS_PER_FETCH = 200_000

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


def _delete_span(session: Session, table, day_column: str, city: str | None, start: dt.date | None,
                 end: dt.date | None) -> None:
    """Delete a rollup's rows of `city` (all when None) from `start` to `end` (open when None)."""
    session.execute(delete(table).where(*span_where(table, day_column, city, start, end)))


def by_insurer(table: Table) -> bool:
    """Whether a rollup is the per-insurer twin (its rows are keyed by insurer too)."""
    return "insurer_id" in table.c


def rebuild_daily_stats(session: Session, city: str | None, start: dt.date | None, end: dt.date | None,
                        tables: Iterable[Table] = DAY_ROLLUPS) -> None:
    """Recompute the day rollups `tables` (default both) of `city` (all when None) for local days start..end."""
    for table in tables:
        _delete_span(session, table, "local_day", city, start, end)
        keys = [C.city_adcode, C.district_adcode, C.local_day]
        where = [cases_within(city, start, end)]
        if by_insurer(table):
            keys.append(C.insurer_id)
            where.append(C.insurer_id.is_not(None))
        query = select(*keys, *daily_stat_columns()).where(*where).group_by(*keys)
        names = [key.name for key in keys] + [col.name for col in daily_stat_columns()]
        session.execute(insert(table).from_select(names, query))


def rebuild_month_stats(session: Session, city: str | None, start: dt.date | None, end: dt.date | None) -> None:
    """Recompute the month rollups of `city` (all when None) for the months of start..end from the day rollups
    (which must be current for those days): a partial range is widened to whole months."""
    start = month_start(start) if start else None
    end = month_end(end) if end else None
    for days, months in MONTH_ROLLUPS.items():
        _delete_span(session, months, "month", city, start, end)
        where = span_where(days, "local_day", city, start, end)
        keys = [days.c[c.name] if c.name != "month" else month_of(days.c.local_day).label("month")
                for c in months.primary_key.columns]
        sums = [func.sum(days.c[name]).label(name) for name in DayCounts.__annotations__]
        query = select(*keys, *sums).where(*where).group_by(*keys)
        session.execute(insert(months).from_select([c.name for c in months.primary_key.columns]
                                                   + list(DayCounts.__annotations__), query))


def latency_frame(session: Session, condition, names: Iterable[str] = LATENCIES) -> pd.DataFrame:
    """Raw latencies in seconds of the cases matching `condition` (plus city, district, day and insurer), NaN where
    unknown (the insurer NaN where the case names none)."""
    keys = ["city_adcode", "district_adcode", "local_day", "insurer_id"]
    columns = [C[key] for key in keys]
    names = list(names)
    for name in names:
        later, earlier, extra = LATENCIES[name]
        expr = seconds_between(later, earlier)
        if extra is not None:
            expr = case((extra, expr), else_=None)
        columns.append(expr.label(name))
    # The DBAPI rows as they come (plain tuples; the day as the driver gives it, which pd.to_datetime reads):
    # turning a million SQLAlchemy Rows into tuples for pandas costs seconds. Read in chunks, each turned into
    # columns at once, so that a city's million rows are never held as tuples all together.
    cursor = session.execute(select(*columns).where(condition)).cursor
    parts = []
    while rows := cursor.fetchmany(LATENCY_ROWS_PER_FETCH):
        part = pd.DataFrame.from_records(rows, columns=[*keys, *names])
        for key in keys[:3]:      # a few distinct codes and days: one string object each instead of one per row
            part[key] = part[key].astype("category").astype(object)
        for name in ["insurer_id", *names]:
            part[name] = pd.to_numeric(part[name], errors="coerce").astype(float)
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=[*keys, *names]).astype({name: float for name in ["insurer_id", *names]})
    return pd.concat(parts, ignore_index=True)


def _latency_query(name: str, condition, *keys):
    """SELECT keys and one latency (seconds) of the cases matching `condition` that reached both of its stages."""
    later, earlier, extra = LATENCIES[name]
    where = [condition, later.is_not(None), earlier.is_not(None)]
    if extra is not None:
        where.append(extra)
    return select(*keys, seconds_between(later, earlier)).where(*where)


def latency_values(session: Session, condition, name: str) -> np.ndarray:
    """The known values (seconds) of one latency over the cases matching `condition`, as a float array."""
    rows = session.execute(_latency_query(name, condition)).cursor.fetchall()
    return np.fromiter((row[0] for row in rows), dtype=float, count=len(rows))


def latency_values_by(session: Session, condition, name: str, key: str) -> pd.DataFrame:
    """`latency_values` of the cases matching `condition` with their `key` column (insurer_id or district_adcode),
    of the cases that have one: columns `key`, seconds."""
    column = C[key]
    rows = session.execute(_latency_query(name, and_(condition, column.is_not(None)), column)).cursor.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=[key, "seconds"])
    return frame.astype({key: "int64" if key == "insurer_id" else object, "seconds": float})


def rebuild_latency_sketches(session: Session, city: str | None, start: dt.date | None, end: dt.date | None,
                             tables: Iterable[Table] = SKETCH_ROLLUPS) -> None:
    """Recompute the sketch rollups `tables` (default both) of `city` (all when None) for the months of start..end:
    sketches are per month, so a partial range is widened to whole months. The cases are read once for all."""
    tables = list(tables)
    start = month_start(start) if start else None
    end = month_end(end) if end else None
    for table in tables:
        _delete_span(session, table, "month", city, start, end)
    frame = latency_frame(session, cases_within(city, start, end))
    if frame.empty:
        return
    frame["month"] = pd.to_datetime(frame.pop("local_day")).dt.to_period("M").dt.start_time
    for table in tables:
        keys = ["city_adcode", "district_adcode", "month"]
        cases = frame
        if by_insurer(table):
            keys.append("insurer_id")
            cases = frame[frame["insurer_id"].notna()].astype({"insurer_id": "int64"})
        for whole_city in (False, True):
            for rows in _sketch_rows(cases, keys, whole_city):
                insert_frame(session, table, rows)


def _sketch_rows(frame: pd.DataFrame, keys: list[str], whole_city: bool) -> Iterator[pd.DataFrame]:
    """The sketch rows of each latency (one frame per latency): one row per group of `keys` (with `whole_city`, every
    district summed as WHOLE_CITY), all groups at once, (group, bin) pairs counted with np.unique."""
    if frame.empty:
        return
    if whole_city:
        keys = [key for key in keys if key != "district_adcode"]
    group_id = frame.groupby(keys, sort=False).ngroup().to_numpy()
    labels = frame[keys].iloc[np.unique(group_id, return_index=True)[1]].reset_index(drop=True)   # row g: group g
    labels["month"] = labels["month"].dt.date
    if whole_city:
        labels["district_adcode"] = WHOLE_CITY
    for name in LATENCIES:
        values = frame[name].to_numpy()
        known = ~np.isnan(values)
        if not known.any():
            continue
        gid, values = group_id[known], values[known]
        pairs, counts = np.unique(gid.astype(np.int64) * sketch.N_BINS + sketch.bin_index(values),
                                  return_counts=True)
        pair_group, pair_bin = pairs // sketch.N_BINS, pairs % sketch.N_BINS
        starts = np.flatnonzero(np.r_[True, pair_group[1:] != pair_group[:-1]])
        ends = np.r_[starts[1:], len(pairs)]
        lowest = pd.Series(values).groupby(gid).min()          # ascending group ids, as pair_group[starts]
        yield labels.iloc[pair_group[starts]].reset_index(drop=True).assign(
            metric=name, count=np.add.reduceat(counts, starts), min_seconds=lowest.to_numpy(),
            bins=[sketch.encode_sparse(pair_bin[lo:hi], counts[lo:hi]) for lo, hi in zip(starts, ends, strict=True)])


def hour_week_counts(session: Session | Connection, condition) -> pd.DataFrame:
    """Accident alerts of the cases matching `condition` per city, district, local day and hour, with the day's
    weekday (0 = Monday) and month (its first day): what the hour-of-week rollup sums, and the heat map reads for
    the cut months at a window's edges."""
    keys = [C.city_adcode, C.district_adcode, C.local_day, C.local_hour]
    rows = session.execute(
        select(*keys, func.count()).where(condition, C.channel.in_([c.value for c in ALERT_CHANNELS])).group_by(*keys)
    ).all()
    frame = pd.DataFrame.from_records([tuple(row) for row in rows],
                                      columns=["city_adcode", "district_adcode", "local_day", "local_hour", "alerts"])
    days = pd.to_datetime(frame["local_day"])
    return frame.assign(weekday=days.dt.day_of_week.astype(int), month=days.dt.to_period("M").dt.start_time.dt.date,
                        local_hour=frame["local_hour"].astype(int), alerts=frame["alerts"].astype(int))


def rebuild_hour_week_stats(session: Session, city: str | None, start: dt.date | None, end: dt.date | None) -> None:
    """Recompute the hour-of-week rollup of `city` (all when None) for the months of start..end: its rows are per
    month, so a partial range is widened to whole months."""
    table = HourWeekStat.__table__
    start = month_start(start) if start else None
    end = month_end(end) if end else None
    _delete_span(session, table, "month", city, start, end)
    counts = hour_week_counts(session, cases_within(city, start, end))
    if counts.empty:
        return
    keys = ["city_adcode", "month", "district_adcode", "weekday", "local_hour"]
    insert_frame(session, table, counts.groupby(keys, as_index=False)["alerts"].sum())
    insert_frame(session, table, whole_city_hour_week(counts))


def whole_city_hour_week(counts: pd.DataFrame) -> pd.DataFrame:
    """The hour-of-week counts of every district together, as rows of the district WHOLE_CITY: a city's heat map
    reads 168 rows a month instead of 168 per district (70 ms for Zhangzhou's whole history, now a tenth)."""
    keys = ["city_adcode", "month", "weekday", "local_hour"]
    return counts.groupby(keys, as_index=False)["alerts"].sum().assign(district_adcode=WHOLE_CITY)


def rebuild_rollups(db: Database, city: str | None = None, start: dt.date | None = None,
                    end: dt.date | None = None) -> None:
    """Recompute every rollup of `city` (all when None) for local days start..end (all when None)."""
    with db.sessions.begin() as session:
        rebuild_daily_stats(session, city, start, end)
        rebuild_month_stats(session, city, start, end)
        rebuild_latency_sketches(session, city, start, end)
        rebuild_hour_week_stats(session, city, start, end)
        rebuild_demand_months(session, city, start, end)
        rebuild_station_months(session, city, start, end)
        bump_data_version(session)


def refresh_days(db: Database, touched: Iterable[tuple[str, dt.date]]) -> None:
    """Refresh the rollups of the (city, local day) pairs a write touched, one contiguous span per city."""
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    for city, day in touched:
        lo, hi = spans.get(city, (day, day))
        spans[city] = (min(lo, day), max(hi, day))
    for city, (lo, hi) in spans.items():
        rebuild_rollups(db, city, lo, hi)
