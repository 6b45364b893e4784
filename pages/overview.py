"""总览 Overview: the KPIs of the window against the comparison window, the daily trend and the district map.

Everything on the page follows the URL (city, window, comparison, districts, language); a click on a district
writes `districts=` into the URL, and a second click on it goes back to the whole city.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from components import ids
from components.district_map import MAP_HEIGHT, clicked_district, district_map_figure
from components.formatting import format_window, format_window_compared
from components.kpi import kpi_grid, kpi_placeholders
from components.layout import district_breadcrumb
from components.messages import database_unavailable_message, empty_message, problems_alert
from components.theme import GRAPH_CONFIG, map_config, message_figure
from components.trend import TREND_HEIGHT, trend_figure
from components.urlstate import parse_search, toggle_district, with_params
from dashboard.i18n import normalize_language, t
from dashboard.runtime import get_db, get_settings
from data_access import metrics
from data_access.cache import cached_query
from data_access.db import Database, DatabaseUnavailable
from data_access.filters import Filters, parse_filters
from data_access.timeutil import local_today

dash.register_page(__name__, path="/", title="总览 · 警保联动", name="overview", title_key="nav.overview", order=0)

PROBLEMS = "overview-problems"
CRUMBS = "overview-breadcrumb"
HEADING = "overview-heading"
WINDOW = "overview-window"
KPIS = "overview-kpis"
TREND = "overview-trend"
MAP = "overview-map"
MAP_HINT = "overview-map-hint"


def layout(**query) -> html.Div:
    """A static skeleton in the link's language; `show_overview` fills it from the URL."""
    lang = normalize_language(query.get("lang"), get_settings().language)
    figures = html.Div(
        [
            html.Section(dcc.Graph(id=TREND, config=GRAPH_CONFIG, className="chart", responsive=True,
                                   style={"height": f"{TREND_HEIGHT}px"}),
                         className="panel panel-trend"),
            html.Section([dcc.Graph(id=MAP, config=map_config(), className="chart", responsive=True,
                                    style={"height": f"{MAP_HEIGHT}px"}),
                          html.P(id=MAP_HINT, className="figure-hint")], className="panel panel-map"),
        ],
        className="overview-figures",
    )
    return html.Div(
        [
            html.Div(id=PROBLEMS),
            html.Div([html.H1(t("nav.overview", lang), id=HEADING, className="page-title"),
                      html.P(id=WINDOW, className="page-window"), html.Div(id=CRUMBS)], className="page-head"),
            # The last figures stay visible, dimmed, while a slow refresh runs (fast ones never show it).
            dcc.Loading(
                [html.Section(kpi_placeholders(lang), id=KPIS, className="kpi-grid",
                              **{"aria-label": t("kpi.section", lang)}), figures],
                delay_show=400, overlay_style={"visibility": "visible", "opacity": 0.6}, type="dot",
                color="#1f5fa8", parent_className="overview-body",
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
    settings = get_settings()
    query = parse_search(search)
    lang = normalize_language(query.get("lang"), settings.language)
    hint = t("map.hint", lang)
    try:
        db = get_db()
        catalogue = metrics.catalogue(db)
        if not catalogue.cities:
            empty = empty_message(lang)
            nothing = t("message.empty", lang)
            return (empty, t("nav.overview", lang), "", None, kpi_placeholders(lang),
                    message_figure(t("trend.title", lang), "", nothing, TREND_HEIGHT),
                    message_figure(t("map.title", lang), "", nothing, MAP_HEIGHT), hint)
        parsed = parse_filters(query, catalogue, local_today(), settings.default_city)
        filters = parsed.filters
        overview = metrics.overview_kpis(db, filters)
        trend = metrics.daily_trend(db, filters)
        summary = metrics.district_summary(db, filters)
    except DatabaseUnavailable:
        return database_away(lang)

    city = catalogue.city(filters.city)
    city_name = city.name_zh if lang == "zh" else city.name_en
    names = summary.set_index("district_adcode")["name_zh" if lang == "zh" else "name_en"]
    chosen = [names.get(code, code) for code in filters.districts]
    place = city_name + (" · " + ("、" if lang == "zh" else ", ").join(chosen) if chosen else "")
    comparison = overview.comparison
    window_text = format_window_compared(
        filters.start, filters.end, (comparison.start, comparison.end) if comparison else None, lang)
    window = format_window(filters.start, filters.end, lang)

    messages = [problems_alert(parsed.problems, lang)]
    if overview.get("alerts").value == 0 and int(trend["cases"].sum()) == 0:
        messages.append(empty_message(lang))
    crumbs = None
    if filters.districts:
        crumbs = district_breadcrumb(city_name, chosen, lang, "/" + with_params(search, districts=None, district=None))
    try:
        trend_dict, map_dict = overview_figures(db, filters, lang, place, window)
    except DatabaseUnavailable:
        return database_away(lang)
    return (
        [m for m in messages if m is not None] or None,
        f"{t('nav.overview', lang)} · {place}",
        window_text,
        crumbs,
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
                         f"{place} · {window}")
    district_map = district_map_figure(metrics.district_summary(db, filters),
                                       metrics.district_geojson(db, filters.city), lang, window,
                                       tuple(filters.districts))
    return trend.to_dict(), district_map.to_dict()


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(MAP, "clickData"), State(ids.URL, "search"),
    prevent_initial_call=True,
)
def focus_district(click_data, search):
    """A click on a district focuses the page on it; a click on the focused district goes back to the city."""
    adcode = clicked_district(click_data)
    if adcode is None:
        return no_update
    return toggle_district(search, adcode)
