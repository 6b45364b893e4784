"""劝导站与车驾管 Stations: rural persuasion stations and their staff by district with what they stopped (drunk
driving apart) and the hazards they found; vehicle-administration services by kind and quarter with the change on
the quarter before; e-bike registrations by month."""

from __future__ import annotations

import dash
import pandas as pd

from base.i18n import t
from components import charts, theme
from components.charts import Series
from data_access import registry, stations
from pages._kit import AnalyticsPage, Chart, Context, build

dash.register_page(__name__, path="/stations", title="劝导站与车驾管 · 警保联动", name="stations",
                   title_key="nav.stations", order=50)

COLOURS = theme.METRIC_COLOURS
SERVICE_COLOURS = dict(zip(stations.SERVICE_KINDS, theme.CATEGORY_PALETTE, strict=False))


def districts_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    times = t("unit.times", lang)
    return charts.by_district(
        frame,
        [Series("violations", t("stations.violations", lang), COLOURS["violations"], unit=times),
         Series("hazards", registry.label("hazards", lang), COLOURS["hazards"], unit=t("unit.items", lang))],
        t("stations.districts.title", lang), ctx.subtitle, 400, lang, t("stations.axis.count", lang),
        ctx.filters.districts, barmode="group", sort_by="violations")


def kinds_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    labels = [t(f"stations.kind.{k}", lang) for k in frame["kind"]]
    figure = charts.categories(labels, [(t("stations.count", lang), frame["count"], COLOURS["violations"])],
                               t("stations.kinds.title", lang), ctx.subtitle, 380, lang,
                               t("stations.axis.count", lang), unit=t("unit.times", lang), horizontal=True)
    if figure.data:
        figure.data[0].marker.color = [COLOURS["drunk_driving"] if k == "drunk_driving" else
                                       COLOURS["hazards"] if not v else COLOURS["violations"]
                                       for k, v in zip(frame["kind"], frame["violation"], strict=True)]
    return figure


def services_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    quarters = list(dict.fromkeys(frame["quarter"]))
    series = [(t(f"stations.service.{kind}", lang), frame.loc[frame["kind"] == kind, "count"].to_numpy(),
               SERVICE_COLOURS[kind]) for kind in stations.SERVICE_KINDS]
    figure = charts.categories(quarters, series, t("stations.services.title", lang), ctx.subtitle, 400, lang,
                               t("stations.axis.services", lang), unit=t("unit.services", lang), text=False)
    for trace, kind in zip(figure.data, stations.SERVICE_KINDS, strict=False):
        change = frame.loc[frame["kind"] == kind, "qoq_change"].to_numpy(dtype=float) * 100
        trace.customdata = change
        trace.hovertemplate = (f"%{{x}} · %{{fullData.name}}: %{{y:,}} {t('unit.services', lang)}<br>"
                               f"{t('stations.qoq', lang)}: %{{customdata:+.1f}}%<extra></extra>")
    return figure


def ebike_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    return charts.over_time(frame, "month", [Series("registrations", registry.label("ebike_registrations", lang),
                                                    COLOURS["registrations"], unit=t("unit.vehicles", lang))],
                            t("stations.ebike.title", lang), ctx.subtitle, 380, lang, t("stations.axis.vehicles", lang),
                            duty=ctx.duty, x_format="%Y-%m")


PAGE = AnalyticsPage(
    name="stations", path="/stations", title_key="nav.stations",
    kpis=registry.STATIONS, needs=("stations",),
    charts=(
        Chart("districts", "stations.districts.title", stations.persuasion_by_district, districts_figure, height=400,
              drill=True, wide=True, hint_key="drill.hint", station_kinds=("persuasion",)),
        Chart("kinds", "stations.kinds.title", stations.persuasion_by_kind, kinds_figure,
              station_kinds=("persuasion",)),
        Chart("ebike", "stations.ebike.title", stations.ebike_by_month, ebike_figure, station_kinds=("vehicle_admin",)),
        Chart("services", "stations.services.title", stations.services_by_quarter, services_figure, height=400,
              wide=True, hint_key="stations.services.hint", station_kinds=("vehicle_admin",)),
    ),
)

layout = build(PAGE)
