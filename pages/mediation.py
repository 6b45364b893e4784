"""调解 Mediation: cases opened and closed and the open backlog day by day, success and pre-litigation rates by
month, how long cases took against the comparison window (the published claim: 20%+ shorter), and outcomes."""

from __future__ import annotations

import dash
import pandas as pd

from base.i18n import t
from components import charts, periods, theme
from components.charts import Series, backlog_figure, backlog_rows
from data_access import mediation, registry, throughput
from data_access.db import Database
from data_access.filters import Filters
from pages._kit import AnalyticsPage, Chart, Context, build, with_context

dash.register_page(__name__, path="/mediation", title="调解 · 警保联动", name="mediation",
                   title_key="nav.mediation", order=30)

COLOURS = theme.METRIC_COLOURS


def backlog_by_period(db: Database, filters: Filters) -> pd.DataFrame:
    """Opened, closed and the open backlog per day, or per week or month on a long window (the rows drawn)."""
    grain = periods.fitting_grain(filters.start, filters.end, throughput.resolved_grain(filters, "auto"))
    return backlog_rows(mediation.backlog(db, filters), grain)


def rates_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    cases = t("unit.cases", lang)
    return charts.over_time(
        frame, "month",
        [Series("closed", t("mediation.closed", lang), COLOURS["closed"], unit=cases),
         Series("settled", t("mediation.settled", lang), COLOURS["settled"], unit=cases),
         Series("success_rate", registry.label("mediation_success_rate", lang), COLOURS["success_rate"], kind="line",
                secondary=True),
         Series("pre_litigation_rate", registry.label("pre_litigation_rate", lang), COLOURS["pre_litigation_rate"],
                kind="line", secondary=True)],
        t("mediation.rates.title", lang), ctx.subtitle, 380, lang, t("mediation.axis.per_month", lang),
        t("mediation.axis.rate", lang), ctx.duty, grain="month", window=(ctx.filters.start, ctx.filters.end))


def duration_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    series = [(t("mediation.duration.current", lang), frame["current_share"], COLOURS["current"])]
    if ctx.filters.comparison != "none" and frame["previous_share"].notna().any():
        series.append((t(f"compare.{ctx.filters.comparison}.long", lang), frame["previous_share"],
                       COLOURS["previous"]))
    series.reverse()                     # the comparison first, so the current window sits on the right
    labels = [f"{band}{t('unit.days', lang)}" if lang == "zh" else f"{band} d" for band in frame["band"]]
    return charts.categories(labels, series, t("mediation.duration.title", lang), ctx.subtitle, 380, lang,
                             t("mediation.duration.axis", lang), percent=True, text=False)


def outcomes_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    labels = [t(f"mediation.outcome.{o}", lang) for o in frame["outcome"]]
    figure = charts.categories(labels, [(t("mediation.closed", lang), frame["cases"], COLOURS["closed"])],
                               t("mediation.outcomes.title", lang), ctx.subtitle, 380, lang,
                               t("mediation.axis.cases", lang), unit=t("unit.cases", lang), horizontal=True)
    if figure.data:
        figure.data[0].marker.color = [COLOURS[o] for o in frame["outcome"]]
        amounts = frame["amount_yuan"].to_numpy()
        figure.data[0].customdata = amounts
        figure.data[0].hovertemplate = (f"%{{y}}: %{{x:,}} {t('unit.cases', lang)}<br>"
                                        f"{t('mediation.amount', lang)}: %{{customdata:,.0f}} {t('unit.yuan', lang)}"
                                        "<extra></extra>")
    return figure


PAGE = AnalyticsPage(
    name="mediation", path="/mediation", title_key="nav.mediation",
    kpis=registry.MEDIATION, needs=("mediations",),
    charts=(
        Chart("backlog", "mediation.backlog.title", backlog_by_period, backlog_figure, height=400, wide=True,
              metrics=("mediation_opened", "mediation_closed", "mediation_backlog")),
        Chart("rates", "mediation.rates.title", with_context(mediation.outcomes_by_month, "month", "month"),
              rates_figure, wide=True, metrics=("mediation_success_rate", "pre_litigation_rate")),
        Chart("duration", "mediation.duration.title", mediation.duration_distribution, duration_figure,
              hint_key="mediation.duration.hint", metrics=("mediation_duration",)),
        Chart("outcomes", "mediation.outcomes.title", mediation.outcome_counts, outcomes_figure,
              metrics=("mediation_closed", "mediation_amount")),
    ),
)

layout = build(PAGE)
