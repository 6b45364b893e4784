"""Figures of the throughput page (快处): alerts against quick-handled cases over time, patrol-found share, time to
scene and clearance by month, and the hour-of-day × weekday pattern.

Counts come from the day × district rollups, latencies from the month sketches through the metric functions of
`metrics`, the hour-of-week pattern from its month rollup; nothing here defines a metric of its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, select

from data_access import metrics, rollups, sketch
from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Filters
from data_access.metrics import share
from data_access.models import AccidentCase, HourWeekStat

GRAINS = ("auto", "day", "week", "month")


def resolved_grain(filters: Filters, grain: str) -> str:
    """`auto` is days for up to a quarter, weeks for up to two years, months beyond."""
    if grain != "auto":
        return grain
    return "day" if filters.days <= 92 else "week" if filters.days <= 731 else "month"
LATENCY_METRICS = ("to_scene", "clearance")


@cached_query
def counts_over_time(db: Database, filters: Filters, grain: str = "auto") -> pd.DataFrame:
    """Alerts, alerts found by patrol and quick-handled cases per day, week (from Monday) or month of the window
    (`auto`: see resolved_grain), with the quick-handling rate and the patrol-found share of each period. A period
    cut by the window counts only the window's days; `period_start`/`period_end` say which."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    grain = resolved_grain(filters, grain)
    # an insurer's window reads the per-insurer rollups; by month, the window's whole months are read from the month
    # rollup (each month's sums on its first day) and only its cut months' days from the day rollup
    if grain == "month":
        parts = metrics.stat_parts(db, filters)
    else:
        table = metrics.stat_table(filters)
        parts = [(table, metrics.stat_where(filters, table))]
    rows = []
    with db.reading() as connection:
        for table, where in parts:
            day = table.c["local_day" if "local_day" in table.c else "month"]
            rows += connection.execute(select(day, func.sum(table.c.alerts), func.sum(table.c.alerts_by_patrol),
                                           func.sum(table.c.quick)).where(where).group_by(day)).all()
    daily = rows_frame(rows, ["day", "alerts", "alerts_by_patrol", "quick"])
    # a month read whole when the window reaches past the city's first case starts before the window: same month
    daily["day"] = pd.to_datetime(daily["day"]).clip(lower=pd.Timestamp(filters.start))
    daily = daily.groupby("day", as_index=False).sum()
    days = pd.DataFrame({"day": pd.date_range(filters.start, filters.end, freq="D")})
    daily = days.merge(daily, on="day", how="left").fillna(0)
    if grain == "day":
        frame = daily.assign(period=daily["day"])
    else:
        period = daily["day"].dt.to_period("W-SUN" if grain == "week" else "M").dt.start_time
        frame = daily.assign(period=period)
    frame = frame.groupby("period", as_index=False).agg(
        period_start=("day", "min"), period_end=("day", "max"), alerts=("alerts", "sum"),
        alerts_by_patrol=("alerts_by_patrol", "sum"), quick=("quick", "sum"))
    for column in ("alerts", "alerts_by_patrol", "quick"):
        frame[column] = frame[column].astype(int)
    frame["quick_rate"] = share(frame["quick"], frame["alerts"])
    frame["patrol_share"] = share(frame["alerts_by_patrol"], frame["alerts"])
    return frame.drop(columns="period")


def month_windows(filters: Filters) -> list[Filters]:
    """The window cut at month edges: one Filters per calendar month it touches."""
    windows, start = [], filters.start
    while start <= filters.end:
        next_month = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        end = min(filters.end, next_month - dt.timedelta(days=1))
        windows.append(replace(filters, start=start, end=end, comparison="none"))
        start = next_month
    return windows


@cached_query
def latency_by_month(db: Database, filters: Filters) -> pd.DataFrame:
    """Time to scene and clearance time per month of the window: p50, p90 (minutes) and the number of cases, with
    the share cleared within 3 minutes (in the p50 column of its rows). Each month reads the same histograms as
    `metrics.time_to_scene`, `metrics.clearance_time` and `metrics.cleared_within_share` for that month."""
    rows = []
    by_metric = {metric: metrics.monthly_latency_histograms(db, filters, metric) for metric in LATENCY_METRICS}
    for i, (month, _) in enumerate(by_metric["to_scene"]):
        for metric in LATENCY_METRICS:
            hist = by_metric[metric][i][1]
            rows.append((pd.Timestamp(month), metric, int(hist.sum()), metrics.percentile_minutes(hist, 50),
                         metrics.percentile_minutes(hist, 90)))
        clearance = by_metric["clearance"][i][1]
        rows.append((pd.Timestamp(month), "cleared_within_3m", int(clearance.sum()),
                     sketch.share_at_most(clearance, metrics.CLEARED_WITHIN_S), None))
    frame = pd.DataFrame.from_records(rows, columns=["month", "metric", "count", "p50", "p90"])
    frame["count"] = frame["count"].astype(int)
    return frame


@cached_query
def hour_weekday(db: Database, filters: Filters) -> pd.DataFrame:
    """Accident alerts by local hour (0–23) and weekday (0 = Monday), as the average per such day of the window:
    the 24 × 7 grid of the heat map, with the total count of each cell. The whole months of the window come from the
    month × district × weekday × hour rollup (the whole city's own rows when no district is chosen), the cut months
    at its edges from the raw cases."""
    span, edges = metrics.months_and_edges(db, filters)
    parts = []
    with db.reading() as connection:
        if span is not None:
            h = HourWeekStat.__table__.c
            conditions = [h.city_adcode == filters.city, h.month >= span[0], h.month <= span[1],
                          h.district_adcode.in_(filters.districts) if filters.districts
                          else h.district_adcode == rollups.WHOLE_CITY]
            rows = connection.execute(select(h.weekday, h.local_hour, func.sum(h.alerts)).where(*conditions)
                                      .group_by(h.weekday, h.local_hour)).all()
            parts.append(rows_frame(rows, ["weekday", "local_hour", "alerts"]))
        for lo, hi in edges:
            c = AccidentCase.__table__.c
            conditions = [c.city_adcode == filters.city, c.local_day >= lo, c.local_day <= hi]
            if filters.districts:
                conditions.append(c.district_adcode.in_(filters.districts))
            parts.append(rollups.hour_week_counts(connection, and_(*conditions))[["weekday", "local_hour", "alerts"]])
    # weekday as pandas' day_of_week gives it (int32), the type the grid's weekday column has always had
    counts = pd.concat(parts, ignore_index=True).astype({"weekday": "int32", "local_hour": int, "alerts": int})
    grid = pd.MultiIndex.from_product([range(7), range(24)], names=["weekday", "hour"])
    total = counts.rename(columns={"local_hour": "hour"}).groupby(["weekday", "hour"])["alerts"].sum()
    total = total.reindex(grid, fill_value=0)
    weekdays = pd.Series(pd.date_range(filters.start, filters.end, freq="D").day_of_week).value_counts()
    days = np.array([weekdays.get(day, 0) for day, _ in grid], dtype=float)
    frame = total.reset_index()
    frame["alerts"] = frame["alerts"].astype(int)
    frame["per_day"] = np.where(days > 0, frame["alerts"] / np.where(days > 0, days, 1), np.nan)
    return frame


def by_district(db: Database, filters: Filters) -> pd.DataFrame:
    """Alerts per district of the whole city, split into patrol-found and reported, with the quick-handling rate."""
    frame = metrics.district_summary(db, filters)
    return frame.assign(alerts_reported=frame["alerts"] - frame["alerts_by_patrol"])[
        ["district_adcode", "name_zh", "name_en", "alerts", "alerts_by_patrol", "alerts_reported", "quick",
         "quick_rate", "patrol_share"]]
