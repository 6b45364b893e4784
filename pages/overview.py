"""总览 Overview: the KPIs of the window against the comparison window, the daily trend and the district map.

Everything on the page follows the URL (city, window, comparison, districts, language); a click on a district
writes `districts=` into the URL, and a second click on it goes back to the whole city.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from base.i18n import normalize_language, t
from components import ids
from components.district_map import MAP_HEIGHT, clicked_district, district_map_figure
from components.empty_state import ONBOARDING_PATH, empty_figure_text
from components.kpi import kpi_grid, kpi_placeholders
from components.messages import database_unavailable_message, empty_message
from components.theme import BRAND, GRAPH_CONFIG, map_config, message_figure
from components.trend import TREND_HEIGHT, trend_figure
from components.urlstate import page_address, parse_search, toggle_district
from data_access import metrics, registry, throughput
from data_access.cache import cached_query
from data_access.db import Database, DatabaseUnavailable
from data_access.filters import Filters
from pages._kit import definition_info, definition_text, empty_state_of
from services.identity import current_viewer
from services.runtime import get_db, get_settings
from services.view import open_view

PATH = "/"
dash.register_page(__name__, path=PATH, title="总览 · 警保联动", name="overview", title_key="nav.overview", order=0)

PROBLEMS = "overview-problems"
CRUMBS = "overview-breadcrumb"
HEADING = "overview-heading"
WINDOW = "overview-window"
KPIS = "overview-kpis"
TREND = "overview-trend"
MAP = "overview-map"
MAP_HINT = "overview-map-hint"
TO_ONBOARDING = "overview-to-onboarding"
TREND_INFO = "overview-trend-info"
ADDRESS = "overview-url"
TREND_METRICS = ("alerts", "quick", "quick_rate")


def _no_city_yet() -> bool:
    viewer = current_viewer()
    try:
        return (viewer is not None and viewer.may_open(ONBOARDING_PATH)
                and not metrics.catalogue(get_db()).cities)
    except DatabaseUnavailable:
        return False


def layout(**query) -> html.Div:
    """A static skeleton in the link's language; `show_overview` fills it from the URL. While the database holds no
    city, the page sends whoever may open the onboarding page there."""
    lang = normalize_language(query.get("lang"), get_settings().language)
    redirect = (dcc.Location(id=TO_ONBOARDING, href=ONBOARDING_PATH + ("?lang=en" if lang == "en" else ""),
                             refresh=True) if _no_city_yet() else None)
    figures = html.Div(
        [
            html.Section([dcc.Graph(id=TREND, config=GRAPH_CONFIG, className="chart", responsive=True,
                                    style={"height": f"{TREND_HEIGHT}px"}),
                          html.Div(definition_info(TREND_INFO, t("trend.title", lang),
                                                   definition_text(TREND_METRICS, None, lang), lang),
                                   style={"display": "flex", "justifyContent": "flex-end", "padding": "0 8px"})],
                         className="panel panel-trend", style={"--chart-height": f"{TREND_HEIGHT}px"}),
            html.Section([dcc.Graph(id=MAP, config=map_config(), className="chart", responsive=True,
                                    style={"height": f"{MAP_HEIGHT}px"}),
                          html.P(id=MAP_HINT, className="figure-hint")], className="panel panel-map",
                         style={"--chart-height": f"{MAP_HEIGHT}px"}),
        ],
        className="overview-figures",
    )
    return html.Div(
        [
            redirect,
            page_address(ADDRESS),
            html.Div(id=PROBLEMS),
            html.Div([html.H1(t("nav.overview", lang), id=HEADING, className="page-title"),
                      html.P(id=WINDOW, className="page-window"), html.Div(id=CRUMBS)], className="page-head"),
            # The last figures stay visible, dimmed, while a slow refresh runs (fast ones never show it).
            dcc.Loading(
                [html.Section(kpi_placeholders(registry.OVERVIEW, lang), id=KPIS, className="kpi-grid",
                              **{"aria-label": t("kpi.section", lang)}), figures],
                delay_show=400, overlay_style={"visibility": "visible", "opacity": 0.6}, type="dot",
                color=BRAND, parent_className="overview-body",
            ),
        ],
        className="page page-overview",
    )


@callback(
    Output(PROBLEMS, "children"), Output(HEADING, "children"), Output(WINDOW, "children"),
    Output(CRUMBS, "children"), Output(KPIS, "children"), Output(TREND, "figure"), Output(MAP, "figure"),
    Output(MAP_HINT, "children"),
    Input(ids.URL, "search"), Input(ids.REFRESH, "n_intervals"),
)
def show_overview(search, _tick):
    try:
        view = open_view(search, PATH)
        lang = view.lang
        hint = t("map.hint", lang)
        empty = empty_state_of(view)
        if view.filters is None or empty is not None:
            nothing = empty_figure_text(lang) if empty else t("message.empty", lang)
            return (empty or view.unavailable_message(),
                    t("nav.overview", lang) + (f" · {view.place}" if view.filters else ""), "", None,
                    kpi_placeholders(registry.OVERVIEW, lang),
                    message_figure(t("trend.title", lang), "", nothing, TREND_HEIGHT),
                    message_figure(t("map.title", lang), "", nothing, MAP_HEIGHT), hint)
        db, filters = view.db, view.filters
        overview = registry.kpis(db, filters, registry.OVERVIEW)
        trend = metrics.daily_trend(db, filters)
        trend_dict, map_dict = overview_figures(db, filters, lang, view.place, view.window)
    except DatabaseUnavailable:
        return database_away(normalize_language(parse_search(search).get("lang"), get_settings().language))

    messages = [view.problems_alert()]
    if overview.get("alerts").value == 0 and int(trend["cases"].sum()) == 0:
        messages.append(empty_message(lang))
    return (
        [m for m in messages if m is not None] or None,
        f"{t('nav.overview', lang)} · {view.place}",
        view.window_compared(overview.comparison),
        view.breadcrumb("/"),
        kpi_grid(overview, lang),
        trend_dict,
        map_dict,
        hint,
    )


def database_away(lang: str) -> tuple:
    """The database is unreachable: say so, and leave the last good heading, KPIs and figures where they are
    (the header marks them stale); on a first load the skeleton's empty cards hold their places."""
    return (database_unavailable_message(lang), no_update, no_update, no_update, no_update, no_update, no_update,
            t("map.hint", lang))


@cached_query
def overview_figures(db: Database, filters: Filters, lang: str, place: str, window: str) -> tuple[dict, dict]:
    """The trend and the map as plain figure dicts, memoized like the queries: building a figure around a city's
    boundaries costs more than every query of the page."""
    trend = trend_figure(metrics.daily_trend(db, filters), metrics.duty_periods(db, filters), lang,
                         f"{place} · {window}", throughput.resolved_grain(filters, "auto"))
    district_map = district_map_figure(metrics.district_summary(db, filters),
                                       metrics.district_geojson(db, filters.city), lang, window,
                                       () if filters.districts == filters.scope.districts else filters.districts)
    return trend.to_dict(), district_map.to_dict()


@callback(
    Output(ADDRESS, "search"),
    Input(MAP, "clickData"), State(ids.URL, "search"),
    prevent_initial_call=True,
)
def focus_district(click_data, search):
    """A click on a district focuses the page on it; a click on the focused district goes back to the city."""
    adcode = clicked_district(click_data)
    if adcode is None:
        return no_update
    return toggle_district(search, adcode)
