"""接入向导 Onboarding: what the deployment does not hold yet — a city, its insurers, stations, grids, units and
cases — and the command or API that loads each. Read-only; the admin and leader roles open it."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, html

from base.i18n import normalize_language, t
from components import ids
from components.empty_state import ONBOARDING_PATH, checklist
from components.messages import database_unavailable_message, out_of_scope_message
from components.urlstate import parse_search
from data_access import cities
from data_access.db import DatabaseUnavailable
from services.identity import current_viewer
from services.runtime import get_db, get_settings

PATH = ONBOARDING_PATH
dash.register_page(__name__, path=PATH, title="接入向导 · 警保联动", name="onboarding", title_key="nav.onboarding",
                   order=90, filter_bar=False)

HEADING = "onboarding-heading"
BODY = "onboarding-body"


def layout(**query) -> html.Div:
    lang = normalize_language(query.get("lang"), get_settings().language)
    return html.Div([
        html.Div([html.H1(t("nav.onboarding", lang), id=HEADING, className="page-title"),
                  html.P(t("onboarding.intro", lang), className="page-window")], className="page-head"),
        html.Div(id=BODY, className="onboarding-body"),
    ], className="page page-onboarding")


def city_section(city: cities.CityHoldings, lang: str) -> html.Section:
    counts = [("city", city.count("districts")), *[(kind, city.count(kind))
                                                   for kind in (*cities.KINDS, *cities.OPTIONAL_KINDS)]]
    name = city.name_zh if lang == "zh" else city.name_en
    return html.Section([
        html.H2(t("onboarding.city_heading", lang, city=name, adcode=city.adcode), className="table-title"),
        html.P(t("onboarding.ready", lang), className="onboarding-ready") if not city.missing else None,
        checklist(counts, lang, optional=cities.OPTIONAL_KINDS),
    ], className="panel onboarding-city", id=f"onboarding-city-{city.adcode}")


def no_city_section(lang: str) -> html.Section:
    counts = [(kind, 0) for kind in ("city", *cities.KINDS, *cities.OPTIONAL_KINDS)]
    return html.Section([
        html.P(t("onboarding.no_city", lang), className="alert alert-warning page-message onboarding-no-city",
               role="status"),
        checklist(counts, lang, optional=cities.OPTIONAL_KINDS),
    ], className="panel onboarding-city")


@callback(Output(BODY, "children"), Input(ids.URL, "search"), Input(ids.REFRESH, "n_intervals"))
def show(search, _tick):
    lang = normalize_language(parse_search(search).get("lang"), get_settings().language)
    viewer = current_viewer()
    if viewer is None or not viewer.may_open(PATH):
        return out_of_scope_message("page", lang)
    try:
        held = [c for c in cities.readiness(get_db()) if viewer.scope.allows_city(c.adcode)]
    except DatabaseUnavailable:
        return database_unavailable_message(lang)
    return [city_section(city, lang) for city in held] or no_city_section(lang)
