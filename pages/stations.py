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
from pages._kit import AnalyticsPage, Chart, Context, build, with_context

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
         # hazards are a few beside hundreds of violations: they get the right-hand axis, so they stay visible
         Series("hazards", registry.label("hazards", lang), COLOURS["hazards"], unit=t("unit.items", lang),
                secondary=True)],
        t("stations.districts.title", lang), ctx.subtitle, 400, lang, t("stations.violations", lang),
        ctx.filters.districts, barmode="group", sort_by="violations", y2_title=registry.label("hazards", lang),
        percent_y2=False)


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
    marks = frame.drop_duplicates("quarter").set_index("quarter").reindex(quarters)
    series = [(t(f"stations.service.{kind}", lang), frame.loc[frame["kind"] == kind, "count"].to_numpy(),
               SERVICE_COLOURS[kind]) for kind in stations.SERVICE_KINDS]
    figure = charts.categories(quarters, series, t("stations.services.title", lang), ctx.subtitle, 400, lang,
                               t("stations.axis.services", lang), unit=t("unit.services", lang), text=False)
    for trace, kind in zip(figure.data, stations.SERVICE_KINDS, strict=False):
        change = frame.loc[frame["kind"] == kind, "qoq_change"].to_numpy(dtype=float) * 100
        trace.customdata = change
        trace.hovertemplate = (f"%{{x}} · %{{fullData.name}}: %{{y:,}} {t('unit.services', lang)}<br>"
                               f"{t('stations.qoq', lang)}: %{{customdata:+.1f}}%<extra></extra>")
        if "context" in marks:
            trace.marker = charts.marked_bar(trace.marker.color, list(marks["context"]), list(marks["partial"]))
    if figure.data and "context" in marks:
        charts.add_notes(figure, [t(key, lang) for key, column in (("chart.note.context_quarters", "context"),
                                                                   ("chart.note.partial", "partial"))
                                  if marks[column].any()])
    return figure


def ebike_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    return charts.over_time(frame, "month", [Series("registrations", registry.label("ebike_registrations", lang),
                                                    COLOURS["registrations"], unit=t("unit.vehicles", lang))],
                            t("stations.ebike.title", lang), ctx.subtitle, 380, lang, t("stations.axis.vehicles", lang),
                            duty=ctx.duty, grain="month", window=(ctx.filters.start, ctx.filters.end))


PAGE = AnalyticsPage(
    name="stations", path="/stations", title_key="nav.stations",
    kpis=registry.STATIONS, needs=("stations",),
    charts=(
        Chart("districts", "stations.districts.title", stations.persuasion_by_district, districts_figure, height=400,
              drill=True, wide=True, hint_key="drill.hint", station_kinds=("persuasion",),
              metrics=("violations_stopped", "hazards")),
        Chart("kinds", "stations.kinds.title", stations.persuasion_by_kind, kinds_figure,
              station_kinds=("persuasion",), metrics=("violations_stopped", "drunk_driving", "hazards")),
        Chart("ebike", "stations.ebike.title", with_context(stations.ebike_by_month, "month", "month"), ebike_figure,
              station_kinds=("vehicle_admin",), metrics=("ebike_registrations",)),
        Chart("services", "stations.services.title", with_context(stations.services_by_quarter, "quarter", "quarter"),
              services_figure, height=400, wide=True, hint_key="stations.services.hint",
              station_kinds=("vehicle_admin",), metrics=("vehicle_services", "vehicle_services_qoq")),
    ),
)

layout = build(PAGE)
