"""快处 Throughput: accident alerts against quick-handled cases per day, week or month with the quick-handling rate
and the patrol-found share; time to scene and clearance by month; the hour × weekday pattern; districts (a click
drills in). Duty periods are shaded on every time axis."""

from __future__ import annotations

import dash
import pandas as pd

from base.i18n import t
from components import charts, periods, theme
from components.charts import Series, heat_figure
from data_access import registry, throughput
from data_access.db import Database
from data_access.filters import Filters
from pages._kit import AnalyticsPage, Chart, Choice, Context, build, with_context

dash.register_page(__name__, path="/throughput", title="快处 · 警保联动", name="throughput",
                   title_key="nav.throughput", order=15)

COLOURS = theme.METRIC_COLOURS


def drawn_grain(filters: Filters, grain: str) -> str:
    """The grain chosen (auto: by the window's length), coarser when it would draw more than MAX_POINTS bars."""
    return periods.fitting_grain(filters.start, filters.end, throughput.resolved_grain(filters, grain))


def counts_rows(db: Database, filters: Filters, grain: str = "auto") -> pd.DataFrame:
    """Alerts and quick-handled cases per period of the drawn grain; by month on a short window, the last 12
    months with those before the window marked as context."""
    drawn = drawn_grain(filters, grain)
    if drawn == "month":
        return with_context(throughput.counts_over_time, "month", "period_start")(db, filters, grain="month")
    return periods.mark(throughput.counts_over_time(db, filters, drawn), "period_start", drawn, filters.start,
                        filters.end)


def counts_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    grain = drawn_grain(ctx.filters, ctx.param("grain"))
    return charts.over_time(
        frame, "period_start",
        [Series("alerts", t("trend.alerts", lang), COLOURS["alerts"], unit=t("unit.cases", lang)),
         Series("quick", t("trend.quick", lang), COLOURS["quick"], unit=t("unit.cases", lang)),
         Series("quick_rate", t("trend.quick_rate", lang), COLOURS["quick_rate"], kind="line", secondary=True),
         Series("patrol_share", registry.label("patrol_share", lang), COLOURS["patrol_share"], kind="line",
                secondary=True)],
        t("throughput.counts.title", lang, grain=t(f"throughput.grain.{grain}", lang)), ctx.subtitle,
        420, lang, t(f"throughput.axis.per_{grain}", lang), t("throughput.axis_share", lang), ctx.duty,
        barmode="overlay", grain=grain, window=(ctx.filters.start, ctx.filters.end))


def latency_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    wide = frame[frame["metric"].isin(throughput.LATENCY_METRICS)].pivot(index="month", columns="metric",
                                                                        values=["p50", "p90"])
    wide.columns = [f"{metric}_{q}" for q, metric in wide.columns]
    marks = frame.groupby("month")[["context", "partial"]].first() if "context" in frame else None
    wide = (wide.join(marks) if marks is not None else wide).reset_index()
    series = []
    for metric in throughput.LATENCY_METRICS:
        for q in ("p50", "p90"):
            if f"{metric}_{q}" in wide:
                series.append(Series(f"{metric}_{q}", f"{t(f'throughput.{metric}', lang)} {q.upper()}",
                                     COLOURS[metric], kind="line", unit=t("unit.minutes", lang), fmt=",.1f"))
    figure = charts.over_time(wide, "month", series, t("throughput.latency.title", lang), ctx.subtitle, 380, lang,
                              t("throughput.latency.axis", lang), duty=ctx.duty, grain="month",
                              window=(ctx.filters.start, ctx.filters.end))
    for trace in figure.data:
        if str(trace.name).endswith("P90"):
            trace.line.dash = "dot"
    return figure


def districts_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    return charts.by_district(
        frame,
        [Series("alerts_by_patrol", t("throughput.found_by_patrol", lang), COLOURS["alerts_by_patrol"],
                unit=t("unit.cases", lang)),
         Series("alerts_reported", t("throughput.reported", lang), COLOURS["alerts_reported"],
                unit=t("unit.cases", lang)),
         Series("quick_rate", t("trend.quick_rate", lang), COLOURS["quick_rate"], kind="line", secondary=True)],
        t("throughput.districts.title", lang), ctx.subtitle, 400, lang, t("throughput.axis.alerts", lang),
        ctx.filters.districts, sort_by="alerts", y2_title=t("trend.axis_rate", lang))


PAGE = AnalyticsPage(
    name="throughput", path="/throughput", title_key="nav.throughput",
    kpis=registry.THROUGHPUT,
    charts=(
        Chart("counts", "throughput.counts.chart", counts_rows, counts_figure, height=420, wide=True,
              metrics=("alerts", "quick", "quick_rate", "patrol_share")),
        Chart("latency", "throughput.latency.title",
              with_context(lambda db, f: throughput.latency_by_month(db, f), "month", "month"), latency_figure,
              metrics=("to_scene_p50", "to_scene_p90", "clearance_p50", "cleared_within_3m")),
        Chart("heat", "throughput.heat.title", lambda db, f: throughput.hour_weekday(db, f), heat_figure,
              definition_key="throughput.heat.definition"),
        Chart("districts", "throughput.districts.title", lambda db, f: throughput.by_district(db, f),
              districts_figure, height=400, drill=True, wide=True, hint_key="drill.hint",
              metrics=("alerts", "patrol_share", "quick_rate")),
    ),
    choices=(Choice("grain", throughput.GRAINS, "throughput.grain.label", ("counts",)),),
)

layout = build(PAGE)
