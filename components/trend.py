"""The trend: accident alerts and quick-handled cases per day (per week or month on long windows), the quick-handling
rate, duty periods shaded."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from base.i18n import t
from components import periods, theme
from components.charts import Series, over_time
from data_access.metrics import share

TREND_HEIGHT = 400


def _has_data(frame: pd.DataFrame) -> bool:
    return not frame.empty and bool(frame["alerts"].sum() or frame["quick"].sum() or frame["cases"].sum())


def trend_figure(frame: pd.DataFrame, duty: pd.DataFrame, lang: str, window: str,
                 grain: str | None = None) -> go.Figure:
    """`frame` as `daily_trend` returns it (a row per day of the window); `duty` as `duty_periods`; `window` the
    subtitle naming the dates. The days are summed per `grain` (default: days while they fit in MAX_POINTS bars),
    coarser still if that would draw more than MAX_POINTS bars; periods cut by the window are hatched."""
    if not _has_data(frame):
        return theme.message_figure(t("trend.title", lang), window, t("message.empty", lang), TREND_HEIGHT)
    days = pd.to_datetime(frame["day"])
    first, last = days.min().date(), days.max().date()
    grain = periods.fitting_grain(first, last, grain or "day")
    if grain != "day":
        frame = periods.coarsen(frame, "day", grain, sums=("alerts", "quick", "cases"))
        frame = frame.assign(quick_rate=share(frame["quick"], frame["alerts"]))
    cases = t("unit.cases", lang)
    return over_time(
        frame, "day",
        [Series("alerts", t("trend.alerts", lang), theme.ALERTS, unit=cases, fmt=",d"),
         Series("quick", t("trend.quick", lang), theme.QUICK, unit=cases, fmt=",d"),
         Series("quick_rate", t("trend.quick_rate", lang), theme.RATE, kind="line", secondary=True)],
        t("trend.title" if grain == "day" else f"trend.title.{grain}", lang), window, TREND_HEIGHT, lang,
        t("trend.axis_count" if grain == "day" else f"throughput.axis.per_{grain}", lang), t("trend.axis_rate", lang),
        duty, barmode="overlay", grain=grain, window=(first, last))
