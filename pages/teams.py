"""快骑队 Rider teams: the teams' strength now, their patrols (person-times and km) by month, patrols, safety
persuasion and good deeds by district (a click drills in), and the share of quick handling they settle."""

from __future__ import annotations

import dash
import pandas as pd

from base.i18n import t
from components import charts, theme
from components.charts import Series
from data_access import registry, teams
from pages._kit import AnalyticsPage, Chart, Context, build, with_context

dash.register_page(__name__, path="/teams", title="快骑队 · 警保联动", name="teams", title_key="nav.teams", order=17)

COLOURS = theme.METRIC_COLOURS


def patrols_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    return charts.over_time(
        frame, "month",
        [Series("person_times", t("teams.person_times", lang), COLOURS["quick"], unit=t("unit.person_times", lang)),
         Series("km", t("teams.km", lang), COLOURS["to_scene"], kind="line", secondary=True,
                unit=t("unit.km", lang), fmt=",.0f")],
        t("teams.patrols.title", lang), ctx.subtitle, 380, lang, t("teams.patrols.axis", lang),
        t("teams.patrols.axis_km", lang), ctx.duty, percent_y2=False, grain="month",
        window=(ctx.filters.start, ctx.filters.end))


def districts_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    people = t("unit.person_times", lang)
    return charts.by_district(
        frame,
        [Series("person_times", t("teams.person_times", lang), COLOURS["quick"], unit=people),
         Series("persuaded", t("teams.persuaded", lang), COLOURS["patrol_share"], unit=people),
         Series("good_deeds", t("teams.good_deeds", lang), COLOURS["hazards"], unit=t("unit.times", lang))],
        t("teams.districts.title", lang), ctx.subtitle, 400, lang, t("teams.districts.axis", lang),
        ctx.filters.districts, barmode="group", sort_by="person_times")


def share_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    cases = t("unit.cases", lang)
    return charts.over_time(
        frame, "month",
        [Series("quick", t("teams.quick", lang), COLOURS["alerts"], unit=cases),
         Series("quick_rider", t("teams.quick_rider", lang), COLOURS["quick"], unit=cases),
         Series("rider_share", t("teams.rider_share", lang), COLOURS["quick_rate"], kind="line", secondary=True)],
        t("teams.share.title", lang), ctx.subtitle, 380, lang, t("teams.share.axis", lang),
        t("teams.share.axis_share", lang), ctx.duty, barmode="overlay", grain="month",
        window=(ctx.filters.start, ctx.filters.end))


PAGE = AnalyticsPage(
    name="teams", path="/teams", title_key="nav.teams", intro_key="teams.intro",
    kpis=registry.TEAMS, needs=("units",),
    charts=(
        Chart("patrols", "teams.patrols.title", with_context(teams.patrols_by_month, "month", "month"),
              patrols_figure, metrics=("patrol_person_times", "patrol_km")),
        Chart("share", "teams.share.title", with_context(teams.rider_share_by_month, "month", "month"), share_figure,
              metrics=("quick", "rider_quick")),
        Chart("districts", "teams.districts.title", teams.patrols_by_district, districts_figure, height=400,
              drill=True, wide=True, hint_key="drill.hint",
              metrics=("patrol_person_times", "safety_persuasion", "good_deeds")),
    ),
)

layout = build(PAGE)
