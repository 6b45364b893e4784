"""每日简报 Daily briefing: one day (default yesterday) of a city or district against the day before, a year before and
the 7-day average, with a generated narrative, three charts and the notable events; printable on A4 and downloadable
as PDF or PNG (the same file `jingbao briefing` writes).

The URL names the day (`date=YYYY-MM-DD`), the city and districts, and the language, as everywhere else. The page
has its own day and city pickers, so the shell's city/period bar is not shown (`filter_bar=False`).
"""

from __future__ import annotations

import datetime as dt

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from base.i18n import normalize_language, t
from components import briefing as sheet
from components import ids
from components.kpi import share_text
from components.layout import city_options
from components.messages import database_unavailable_message, empty_message
from components.theme import BRAND, GRAPH_CONFIG
from components.urlstate import page_address, parse_search, with_params
from data_access import registry
from data_access.briefing import COMPARISONS, daily_briefing
from data_access.db import DatabaseUnavailable
from data_access.maturity import MATURE_SHARE
from data_access.registry import TOO_SMALL_TO_COMPARE
from data_access.scope import OutOfScope
from data_access.timeutil import local_now, local_today
from pages._kit import empty_state_of
from services.briefing_render import RenderError, render
from services.identity import record_export
from services.runtime import get_settings
from services.view import open_view

PATH = "/briefing"
dash.register_page(__name__, path=PATH, title="每日简报 · 警保联动", name="briefing", title_key="nav.briefing",
                   order=70, filter_bar=False)

PROBLEMS = "briefing-problems"
ADDRESS = "briefing-url"
HEADING = "briefing-heading"
DATE = "briefing-date"
CITY = "briefing-city"
DATE_LINE = "briefing-date-line"
NARRATIVE = "briefing-narrative"
KPIS = "briefing-kpis"
EVENTS = "briefing-events"
TREND = "briefing-trend"
STAGES = "briefing-stages"
MEDIATION = "briefing-mediation"
STATUS = "briefing-status"
PROGRESS = "briefing-progress"      # shown while a PDF/PNG renders, the buttons disabled meanwhile
PRINT = "briefing-print"
DOWNLOAD = "briefing-download"
DOWNLOAD_BUTTON = "briefing-download-{fmt}"
HEAVY_OUTPUTS = (f"{DOWNLOAD}.data",)          # the PDF/PNG renders: limited per account (dashboard/signin.py)
PRINT_SINK = "briefing-print-sink"

FILE_FORMATS = ("pdf", "png")
FIGURE_HEIGHT = 380
TREND_HEIGHT = 400


def briefing_day(search: str | None) -> tuple[dt.date, str | None]:
    """The URL's `date`, or yesterday (Asia/Shanghai) with the bad value to report."""
    return parse_day(parse_search(search).get("date"))


def parse_day(raw: object) -> tuple[dt.date, str | None]:
    yesterday = local_today() - dt.timedelta(days=1)
    if not raw:
        return yesterday, None
    try:
        day = dt.date.fromisoformat(str(raw))
    except ValueError:
        return yesterday, str(raw)[:20]
    if not dt.date(2000, 1, 1) <= day <= local_today():
        return yesterday, str(raw)[:20]
    return day, None


def kpi_table(briefing, lang: str) -> html.Table:
    head = html.Thead(html.Tr([html.Th(t("briefing.col.kpi", lang)), html.Th(t("briefing.col.value", lang))]
                              + [html.Th(t(f"briefing.col.{c}", lang)) for c in COMPARISONS]))
    rows = [html.Tr([html.Th(registry.label(k.key, lang), scope="row"),
                     html.Td([sheet.value_text(k, lang),
                              *([html.Br(), html.Span(sheet.maturity_mark(k, lang), className="immature")]
                                if k.immature else [])], className="num")]
                    + [html.Td(sheet.comparison_text(k.against(c), lang),
                               className=f"cmp {sheet.comparison_tone(k.against(c))}") for c in COMPARISONS])
            for k in briefing.kpis]
    return html.Table([head, html.Tbody(rows)], className="briefing-kpis")


def _graph(graph_id: str, height: int, class_name: str = "") -> html.Section:
    graph = dcc.Graph(id=graph_id, config=GRAPH_CONFIG, responsive=True, style={"height": f"{height}px"})
    return html.Section(html.Div(graph, className="chart-box", style={"--chart-height": f"{height}px"}),
                        className=f"panel {class_name}".strip())


def layout(**query) -> html.Div:
    lang = normalize_language(query.get("lang"), get_settings().language)
    day, _ = parse_day(query.get("date"))
    controls = html.Div(
        [
            html.Label([t("filters.city", lang), dbc.Select(id=CITY, size="sm")], htmlFor=CITY),
            html.Label([t("briefing.form.date", lang),
                        dcc.Input(id=DATE, type="date", value=day.isoformat(), debounce=True,
                                  max=local_today().isoformat(), className="form-control form-control-sm")],
                       htmlFor=DATE),
            *[html.Button(t(f"briefing.download.{fmt}", lang), id=DOWNLOAD_BUTTON.format(fmt=fmt), n_clicks=0,
                          className="btn btn-sm btn-primary") for fmt in FILE_FORMATS],
            html.Button(t("briefing.print", lang), id=PRINT, n_clicks=0, className="btn btn-sm btn-outline-secondary"),
            html.Span([html.Span(className="spinner-border spinner-border-sm", **{"aria-hidden": "true"}),
                       t("briefing.download.running", lang)], id=PROGRESS, hidden=True, className="briefing-progress",
                      role="status"),
            dcc.Loading(html.Span(id=STATUS, className="briefing-status figure-hint", role="status"), type="dot",
                        color=BRAND),
            dcc.Download(id=DOWNLOAD),
            dcc.Store(id=PRINT_SINK),
        ],
        className="briefing-controls",
    )
    sheet_body = html.Article(
        [
            html.Header([html.H1(t("nav.briefing", lang), id=HEADING, className="page-title"),
                         html.P(id=DATE_LINE, className="briefing-date")], className="briefing-head"),
            html.H2(t("briefing.narrative", lang)), html.Ul(id=NARRATIVE, className="briefing-narrative"),
            html.H2(t("briefing.kpis", lang)), html.Div(id=KPIS),
            html.P(t("briefing.too_small.note", lang, n=TOO_SMALL_TO_COMPARE), className="briefing-note"),
            html.P(t("briefing.immature.note", lang, pct=share_text(MATURE_SHARE)), className="briefing-note"),
            html.H2(t("briefing.charts", lang)),
            html.Div([_graph(TREND, TREND_HEIGHT, "trend"), _graph(STAGES, FIGURE_HEIGHT),
                      _graph(MEDIATION, FIGURE_HEIGHT)], className="briefing-figures"),
            html.H2(t("briefing.events", lang)), html.Ul(id=EVENTS, className="briefing-events"),
        ],
        className="briefing-sheet",
    )
    return html.Div([page_address(ADDRESS), html.Div(id=PROBLEMS), controls, sheet_body],
                    className="page page-briefing")


OUTPUTS = (
    Output(PROBLEMS, "children"), Output(HEADING, "children"), Output(DATE_LINE, "children"),
    Output(NARRATIVE, "children"), Output(KPIS, "children"), Output(TREND, "figure"), Output(STAGES, "figure"),
    Output(MEDIATION, "figure"), Output(EVENTS, "children"), Output(DATE, "value"), Output(CITY, "options"),
    Output(CITY, "value"),
)


@callback(*OUTPUTS, Input(ids.URL, "search"), Input(ids.REFRESH, "n_intervals"))
def show_briefing(search, _tick):
    day, bad = briefing_day(search)
    try:
        view = open_view(search, PATH)
        lang = view.lang
        empty = empty_state_of(view)
        if view.filters is None or empty is not None:
            return (empty or view.unavailable_message(), *[no_update] * (len(OUTPUTS) - 4), day.isoformat(),
                    city_options(view.catalogue, lang), no_update)
        briefing = daily_briefing(view.db, view.filters.city, day, view.filters.districts, view.filters.scope)
        figures = sheet.figures(briefing, lang)
    except DatabaseUnavailable:
        lang = normalize_language(parse_search(search).get("lang"), get_settings().language)
        return (database_unavailable_message(lang), *[no_update] * (len(OUTPUTS) - 1))
    messages = [view.problems_alert()]
    if bad:
        messages.append(html.Div(t("briefing.bad_date", lang, value=bad), className="alert alert-warning",
                                 role="alert"))
    if not briefing.kpi("alerts").value:
        messages.append(empty_message(lang))
    events = sheet.events(briefing, lang) or [t("briefing.event.none", lang)]
    return (
        [m for m in messages if m is not None] or None,
        sheet.title(view.place, lang),
        sheet.date_line(briefing, lang),
        [html.Li(s) for s in sheet.narrative(briefing, lang)],
        kpi_table(briefing, lang),
        figures["trend"], figures["stages"], figures["mediation"],
        [html.Li(s) for s in events],
        day.isoformat(),
        city_options(view.catalogue, lang),
        view.filters.city,
    )


@callback(Output(ADDRESS, "search", allow_duplicate=True), Input(DATE, "value"), State(ids.URL, "search"),
          prevent_initial_call=True)
def choose_day(value, search):
    """A day picked in the form goes into the URL, so the briefing of that day is a link."""
    if not value or value == briefing_day(search)[0].isoformat():   # the page showing its own day, or a bad one
        return no_update
    return with_params(search, date=value)


@callback(Output(ADDRESS, "search", allow_duplicate=True), Input(CITY, "value"), State(ids.URL, "search"),
          prevent_initial_call=True)
def choose_city(value, search):
    """A city picked on the page goes into the URL (its districts are another city's, so they go)."""
    if not value or value == parse_search(search).get("city"):
        return no_update
    return with_params(search, city=value, district=None, districts=None)


def briefing_file(search: str | None, fmt: str) -> tuple[bytes, str]:
    """The PDF or PNG of the URL's briefing and its file name; raises DatabaseUnavailable / RenderError."""
    day, _ = briefing_day(search)
    view = open_view(search, PATH)
    filters = view.filters
    if filters is None:
        raise OutOfScope(view.blocked or "page", "")
    briefing = daily_briefing(view.db, filters.city, day, filters.districts, filters.scope)
    record_export(view.db, fmt, "briefing", filters, day=day.isoformat())
    data = render(briefing, view.lang, view.place, fmt, local_now().replace(tzinfo=None))
    place = "_".join((filters.city, *filters.districts))
    return data, f"briefing_{place}_{day.isoformat()}.{fmt}"


def _register_download(fmt: str) -> None:
    # While the file renders (seconds) both buttons are disabled and the progress line shows; the `running` outputs
    # go back when the callback returns, whether it made the file or reported why not.
    @callback(Output(DOWNLOAD, "data", allow_duplicate=True), Output(STATUS, "children", allow_duplicate=True),
              Input(DOWNLOAD_BUTTON.format(fmt=fmt), "n_clicks"), State(ids.URL, "search"),
              running=[*[(Output(DOWNLOAD_BUTTON.format(fmt=f), "disabled"), True, False) for f in FILE_FORMATS],
                       (Output(PROGRESS, "hidden"), False, True)],
              prevent_initial_call=True)
    def download(n_clicks, search):
        if not n_clicks:
            return no_update, no_update
        lang = normalize_language(parse_search(search).get("lang"), get_settings().language)
        try:
            data, name = briefing_file(search, fmt)
        except DatabaseUnavailable:
            return no_update, t("status.db_down_no_time", lang)
        except RenderError as exc:
            return no_update, t("briefing.download.failed", lang, reason=str(exc))
        except OutOfScope as exc:
            return no_update, t(f"scope.out.{exc.what}", lang)
        return dcc.send_bytes(data, name), f"{name} · {len(data) / 1024:,.0f} KB"


for _fmt in FILE_FORMATS:
    _register_download(_fmt)

# the charts still waiting below the window (assets/plot_queue.js) are drawn before the page prints
dash.clientside_callback(
    "function (n) { if (n) { (window.jingbaoDrawAll ? window.jingbaoDrawAll() : Promise.resolve())"
    ".then(function () { window.print(); }); } return null; }",
    Output(PRINT_SINK, "data"), Input(PRINT, "n_clicks"), prevent_initial_call=True,
)
