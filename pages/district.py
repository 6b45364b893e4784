"""区县 District drill-down (/district/<adcode>): the overview KPIs for one district with its rank among the city's
districts for each, and the key chart of each page for that district; a breadcrumb back to the city and links to
every page focused on the district. The window, comparison and language of the link are kept."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, callback, dcc, html, no_update

from base.i18n import normalize_language, t
from base.texts.analytics import grid_locale
from components import ids
from components.charts import Context, backlog_figure, heat_figure
from components.formatting import metric_value_text
from components.kpi import kpi_grid, kpi_placeholders
from components.layout import district_breadcrumb
from components.messages import database_unavailable_message, empty_message, out_of_scope_message
from components.payout_figures import STAGES_HEIGHT, stages_figure
from components.theme import BRAND, GRAPH_CONFIG, message_figure
from components.trend import TREND_HEIGHT, trend_figure
from components.urlstate import parse_search, with_params
from data_access import district, mediation, metrics, payouts, registry, throughput
from data_access.cache import cached_query
from data_access.db import Database, DatabaseUnavailable
from data_access.filters import Filters
from pages._kit import empty_state_of, grid_rows
from services.runtime import get_settings
from services.view import open_view

PATH = "/district"
dash.register_page(__name__, path_template="/district/<adcode>", path=PATH, title="区县 · 警保联动",
                   name="district", title_key="district.title", nav=False)

PROBLEMS = "district-problems"
HEADING = "district-heading"
WINDOW = "district-window"
CRUMBS = "district-breadcrumb"
LINKS = "district-links"
KPIS = "district-kpis"
RANKS = "district-ranks"
TREND = "district-trend"
STAGES = "district-stages"
HEAT = "district-heat"
BACKLOG = "district-backlog"
FIGURES = ((TREND, TREND_HEIGHT), (STAGES, STAGES_HEIGHT), (HEAT, 380), (BACKLOG, 400))
PAGES_FOCUSED = ("/", "/throughput", "/payouts", "/mediation", "/rescue", "/stations", "/fraud")
PAGE_TITLES = {"/": "nav.overview", "/throughput": "nav.throughput", "/payouts": "nav.payouts",
               "/mediation": "nav.mediation", "/rescue": "nav.rescue", "/stations": "nav.stations",
               "/fraud": "nav.fraud"}


def adcode_of(pathname: str | None) -> str:
    return (pathname or "").rstrip("/").rpartition("/")[2]


def rank_note(row: pd.Series, lang: str) -> str | None:
    if row["rank"] is None or pd.isna(row["rank"]):
        return None
    return t("district.rank", lang, rank=int(row["rank"]), of=int(row["ranked"]))


def rank_columns(lang: str) -> list[dict]:
    return [
        {"field": "name", "headerName": t("district.col.kpi", lang), "minWidth": 160},
        {"field": "value_text", "headerName": t("district.col.value", lang), "type": "rightAligned"},
        {"field": "rank_text", "headerName": t("district.col.rank", lang), "type": "rightAligned"},
        {"field": "median_text", "headerName": t("district.col.median", lang), "type": "rightAligned"},
        {"field": "direction", "headerName": t("district.col.direction", lang)},
    ]


def rank_rows(ranks: pd.DataFrame, lang: str) -> list[dict]:
    rows = []
    for row in ranks.itertuples():
        def text(value, key=row.kpi):
            return " ".join(p for p in metric_value_text(key, value, lang) if p)
        direction = {True: "district.direction.high", False: "district.direction.low",
                     None: "district.direction.none"}[row.higher_is_better]
        rows.append({"kpi": row.kpi, "name": registry.label(row.kpi, lang), "value_text": text(row.value),
                     "rank_text": "—" if row.rank is None or pd.isna(row.rank) else f"{int(row.rank)} / {row.ranked}",
                     "median_text": text(row.city_median), "direction": t(direction, lang)})
    return rows


@cached_query
def district_figures(db: Database, filters: Filters, lang: str, subtitle: str) -> tuple[dict, ...]:
    """The key chart of each page, for the district of `filters`."""
    duty = metrics.duty_periods(db, filters)
    context = Context(lang, subtitle, filters, (("grain", "day"),), duty)
    return (
        trend_figure(metrics.daily_trend(db, filters), duty, lang, subtitle,
                     throughput.resolved_grain(filters, "auto")).to_dict(),
        stages_figure(payouts.stage_clocks(db, filters), lang, subtitle).to_dict(),
        heat_figure(throughput.hour_weekday(db, filters), context).to_dict(),
        backlog_figure(mediation.backlog(db, filters), context).to_dict(),
    )


def layout(adcode: str | None = None, **query) -> html.Div:
    lang = normalize_language(query.get("lang"), get_settings().language)
    panels = [html.Section(html.Div(dcc.Graph(id=graph_id, config=GRAPH_CONFIG, className="chart", responsive=True,
                                              style={"height": f"{height}px"}),
                                    className="chart-box", style={"--chart-height": f"{height}px"}), className="panel")
              for graph_id, height in FIGURES]
    ranks = html.Section(
        [html.H2(t("district.ranks.title", lang), className="table-title", style={"padding": "4px 8px 8px"}),
         dag.AgGrid(id=RANKS, columnDefs=rank_columns(lang), rowData=[],
                    defaultColDef={"sortable": True, "resizable": True, "flex": 1, "minWidth": 100},
                    dashGridOptions={"domLayout": "autoHeight", "animateRows": False,
                                     "localeText": grid_locale(lang)}, style={"height": None})],
        className="panel panel-wide", **{"aria-label": t("district.ranks.title", lang)})
    return html.Div(
        [
            html.Div(id=PROBLEMS),
            html.Div([html.H1(t("district.title", lang), id=HEADING, className="page-title"),
                      html.P(id=WINDOW, className="page-window"), html.Div(id=CRUMBS),
                      html.Nav(id=LINKS, className="district-links", **{"aria-label": t("district.links", lang)})],
                     className="page-head"),
            dcc.Loading([html.Section(kpi_placeholders(registry.OVERVIEW, lang, noted=True), id=KPIS,
                                      className="kpi-grid",
                                      **{"aria-label": t("kpi.section", lang)}),
                         html.Div([panels[0], panels[1], ranks, panels[2], panels[3]], className="analytics-grid")],
                        delay_show=400, overlay_style={"visibility": "visible", "opacity": 0.6}, type="dot",
                        color=BRAND, parent_className="district-body"),
        ],
        className="page page-district",
    )


OUTPUTS = (
    Output(PROBLEMS, "children"), Output(HEADING, "children"), Output(WINDOW, "children"),
    Output(CRUMBS, "children"), Output(LINKS, "children"), Output(KPIS, "children"), Output(RANKS, "rowData"),
    Output(RANKS, "columnDefs"), Output(TREND, "figure"), Output(STAGES, "figure"), Output(HEAT, "figure"),
    Output(BACKLOG, "figure"),
)


@callback(*OUTPUTS, Input(ids.URL, "pathname"), Input(ids.URL, "search"), Input(ids.REFRESH, "n_intervals"))
def show_district(pathname, search, _tick):
    if not (pathname or "").startswith("/district"):
        return (no_update,) * len(OUTPUTS)
    code = adcode_of(pathname)
    try:
        view = open_view(with_params(search, districts=None, district=None), f"{PATH}/{code}")
        lang = view.lang
        if view.blocked:
            return _unknown(code, view, lang, out_of_scope_message(view.blocked, lang))
        if view.filters is None or code not in view.catalogue.city(view.filters.city).districts:
            outside = view.filters is not None and not view.filters.scope.allows_district(code)
            return _unknown(code, view, lang, out_of_scope_message("district", lang) if outside
                            else empty_state_of(view))
        if (empty := empty_state_of(view)) is not None:
            return _unknown(code, view, lang, empty)
        db = view.db
        filters = view.filters.with_districts((code,))
        names = metrics.district_names(db, filters.city).set_index("district_adcode")
        name = names.at[code, "name_zh" if lang == "zh" else "name_en"]
        kpis = registry.kpis(db, filters, registry.OVERVIEW)
        ranks = district.district_ranks(db, filters, code)
        subtitle = f"{view.city_name} · {name} · {view.window}"
        figures = district_figures(db, filters, lang, subtitle)
    except DatabaseUnavailable:
        lang = normalize_language(parse_search(search).get("lang"), get_settings().language)
        return (database_unavailable_message(lang), *[no_update] * (len(OUTPUTS) - 1))
    notes = {row["kpi"]: rank_note(row, lang) for _, row in ranks.iterrows()}
    kept = with_params(search, districts=None, district=None)
    focused = with_params(kept, districts=code)
    links = [html.Span(t("district.links", lang), className="district-links-label")] + [
        dcc.Link(t(PAGE_TITLES[path], lang), href=path + focused, className="district-link") for path in PAGES_FOCUSED
        if view.viewer is None or view.viewer.may_open(path)]
    messages = [view.problems_alert()]
    if not kpis.get("alerts").value and not kpis.get("quick").value:
        messages.append(empty_message(lang))
    return (
        [m for m in messages if m is not None] or None,
        f"{name} · {t('district.title', lang)}",
        view.window_compared(kpis.comparison),
        district_breadcrumb(view.city_name, [name], lang, "/" + kept),
        links,
        kpi_grid(kpis, lang, notes),
        grid_rows(pd.DataFrame(rank_rows(ranks, lang))),
        rank_columns(lang),
        *figures,
    )


def _unknown(code: str, view, lang: str, message: html.Div | None = None) -> tuple:
    """Placeholders and a message: the district is not one of the city's, or (with `message`) not the viewer's."""
    message = message or html.Div(t("district.unknown", lang, code=code),
                                  className="alert alert-warning page-message", role="alert")
    empty = [message_figure("", "", t("district.unknown", lang, code=code), height) for _, height in FIGURES]
    return (message, t("district.title", lang), "", None, None, kpi_placeholders(registry.OVERVIEW, lang), [],
            rank_columns(lang), *empty)
