"""The periods of a time axis: the grain a window is drawn at (never more than MAX_POINTS periods, as Grafana's
`$__interval` does), periods cut by the window's edges, the trailing context of month and quarter charts on short
windows, and one tick label per period. Pure: dates and frames in, dates, flags and labels out."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

MAX_POINTS = 120                 # bars, or points of a trace, a chart draws at most
MAX_LABELS = 12                  # tick labels on a time axis at most
GRAINS = ("day", "week", "month", "quarter")
FREQ = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q"}
CONTEXT_PERIODS = {"day": 30, "week": 12, "month": 12, "quarter": 4}    # the last 12 months, in periods
# a window shorter than two periods of its chart's grain shows trailing context instead of one slab
TYPICAL_DAYS = {"day": 1, "week": 7, "month": 30, "quarter": 91}
NICE_STEPS = {"day": (1, 2, 7, 14, 28), "week": (1, 2, 4, 8, 13, 26, 52), "month": (1, 2, 3, 6, 12, 24),
              "quarter": (1, 2, 4, 8)}
AXIS_PERIOD = {"week": 7 * 86_400_000, "month": "M1", "quarter": "M3"}  # plotly's xperiod of a grain


def period_index(start: dt.date | pd.Timestamp, end: dt.date | pd.Timestamp, grain: str) -> pd.PeriodIndex:
    return pd.period_range(pd.Timestamp(start), pd.Timestamp(end), freq=FREQ[grain])


def period_count(start: dt.date, end: dt.date, grain: str) -> int:
    return len(period_index(start, end, grain))


def fitting_grain(start: dt.date, end: dt.date, grain: str = "day") -> str:
    """`grain`, or the first coarser grain that draws the window in at most MAX_POINTS periods."""
    for candidate in GRAINS[GRAINS.index(grain):]:
        if period_count(start, end, candidate) <= MAX_POINTS:
            return candidate
    return GRAINS[-1]


def natural_span(value: object, grain: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last day of the whole period that `value` (its first day, or a label like 2026Q3) names."""
    period = pd.Period(value, freq=FREQ[grain]) if isinstance(value, str) else pd.Timestamp(value).to_period(
        FREQ[grain])
    return period.start_time.normalize(), period.end_time.normalize()


def needs_context(start: dt.date, end: dt.date, grain: str) -> bool:
    """A window shorter than two periods of `grain` (a 30-day window of a monthly chart)."""
    return grain in ("month", "quarter") and (end - start).days + 1 < 2 * TYPICAL_DAYS[grain]


def context_start(end: dt.date, grain: str) -> dt.date:
    """The first day of the trailing context: the period of `end` and the periods before it, 12 months in all."""
    period = pd.Timestamp(end).to_period(FREQ[grain]) - (CONTEXT_PERIODS[grain] - 1)
    return period.start_time.date()


def mark(frame: pd.DataFrame, x: str, grain: str, window_start: dt.date, window_end: dt.date,
         fetched_start: dt.date | None = None) -> pd.DataFrame:
    """`frame` with two more columns: `context` (the period lies wholly before the window: trailing context) and
    `partial` (the data holds only part of the period: it is cut by the window or by the context's start)."""
    first = pd.Timestamp(fetched_start or window_start)
    spans = [natural_span(value, grain) for value in frame[x]]
    return frame.assign(
        context=[end < pd.Timestamp(window_start) for _, end in spans],
        partial=[start < first or end > pd.Timestamp(window_end) for start, end in spans],
    )


def coarsen(frame: pd.DataFrame, x: str, grain: str, sums: tuple[str, ...] = (),
            lasts: tuple[str, ...] = ()) -> pd.DataFrame:
    """Day rows summed (or, for stocks such as a backlog, taken at the period's last day) per period of `grain`;
    `x` becomes the period's first day, `period_start`/`period_end` the first and last day the rows held."""
    if grain == "day":
        return frame
    days = pd.to_datetime(frame[x])
    grouped = frame.assign(**{x: days.dt.to_period(FREQ[grain]).dt.start_time, "_day": days}).sort_values("_day")
    aggregations = {"period_start": ("_day", "min"), "period_end": ("_day", "max"),
                    **{c: (c, "sum") for c in sums}, **{c: (c, "last") for c in lasts}}
    return grouped.groupby(x, as_index=False).agg(**aggregations)


def label(value: object, grain: str, years: bool = True) -> str:
    """One period's tick label: 06-01 (or 2026-06-01 when the axis crosses years), 2026-06, 2026Q3."""
    if grain == "quarter":
        return str(pd.Period(value, freq="Q")) if isinstance(value, str) else str(pd.Timestamp(value).to_period("Q"))
    stamp = pd.Timestamp(value)
    if grain == "month":
        return stamp.strftime("%Y-%m")
    return stamp.strftime("%Y-%m-%d" if years else "%m-%d")


def tick_step(n: int, grain: str, max_labels: int = MAX_LABELS) -> int:
    wanted = max(1, math.ceil(n / max_labels))
    return next((step for step in NICE_STEPS[grain] if step >= wanted), wanted)


def ticks(xs: list, grain: str, max_labels: int = MAX_LABELS) -> tuple[list, list[str]]:
    """Tick positions and labels of a time axis: at most `max_labels`, one label per period, none repeated. On
    a week or month axis the bars sit in the middle of their period, and so do the labels."""
    starts = sorted({pd.Timestamp(v) for v in xs})
    if not starts:
        return [], []
    years = starts[0].year != starts[-1].year
    step = tick_step(len(starts), grain, max_labels)
    chosen = starts[::step]
    positions = [middle(s, grain) for s in chosen]
    return positions, [label(s, grain, years) for s in chosen]


def middle(start: pd.Timestamp, grain: str) -> pd.Timestamp:
    if grain == "day":
        return start
    first, last = natural_span(start, grain)
    return first + (last + pd.Timedelta(days=1) - first) / 2
