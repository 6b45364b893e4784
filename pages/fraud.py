"""反欺诈 Anti-fraud: leads from trajectory analysis, the suspected-fraud cases they became and the amounts involved,
by month, by district (a click drills in) and by insurer."""

from __future__ import annotations

import dash
import pandas as pd

from base.i18n import t
from components import charts, theme
from components.charts import Series
from data_access import fraud, registry
from pages._kit import AnalyticsPage, Chart, Context, build, number_column, with_context

dash.register_page(__name__, path="/fraud", title="反欺诈 · 警保联动", name="fraud", title_key="nav.fraud", order=25)

COLOURS = theme.METRIC_COLOURS


def months_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    return charts.over_time(
        frame, "month",
        [Series("leads", registry.label("fraud_leads", lang), COLOURS["leads"], unit=t("unit.leads", lang)),
         Series("suspected", registry.label("fraud_suspected", lang), COLOURS["suspected"], unit=t("unit.cases", lang)),
         Series("suspected_share", registry.label("fraud_suspected_share", lang), theme.RATE, kind="line",
                secondary=True)],
        t("fraud.months.title", lang), ctx.subtitle, 380, lang, t("fraud.axis.count", lang),
        t("fraud.axis.share", lang), ctx.duty, barmode="overlay", grain="month",
        window=(ctx.filters.start, ctx.filters.end))


def districts_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    return charts.by_district(
        frame,
        [Series("leads", registry.label("fraud_leads", lang), COLOURS["leads"], unit=t("unit.leads", lang)),
         Series("suspected", registry.label("fraud_suspected", lang), COLOURS["suspected"],
                unit=t("unit.cases", lang))],
        t("fraud.districts.title", lang), ctx.subtitle, 380, lang, t("fraud.axis.count", lang),
        ctx.filters.districts, barmode="overlay", sort_by="leads")


def insurer_columns(lang: str) -> list[dict]:
    return [
        {"field": "name_zh" if lang == "zh" else "name_en", "headerName": t("payouts.col.insurer", lang),
         "minWidth": 160, "filter": True},
        number_column("leads", registry.label("fraud_leads", lang), ",d"),
        number_column("suspected", registry.label("fraud_suspected", lang), ",d", sort="desc"),
        number_column("suspected_share", registry.label("fraud_suspected_share", lang), ".1%"),
        number_column("amount_yuan", f"{registry.label('fraud_amount', lang)} ({t('unit.yuan', lang)})", ",.0f"),
    ]


PAGE = AnalyticsPage(
    name="fraud", path="/fraud", title_key="nav.fraud", intro_key="fraud.intro",
    kpis=registry.FRAUD,
    charts=(
        Chart("months", "fraud.months.title", with_context(fraud.fraud_by_month, "month", "month"), months_figure,
              metrics=("fraud_leads", "fraud_suspected", "fraud_suspected_share")),
        Chart("districts", "fraud.districts.title", fraud.fraud_by_district, districts_figure, drill=True,
              hint_key="drill.hint", metrics=("fraud_leads", "fraud_suspected")),
        Chart("insurers", "fraud.insurers.title", fraud.fraud_by_insurer, columns=insurer_columns, wide=True,
              metrics=("fraud_leads", "fraud_suspected", "fraud_suspected_share", "fraud_amount")),
    ),
)

layout = build(PAGE)
