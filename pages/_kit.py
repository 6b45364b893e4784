"""What the analytics pages have in common, so each page is only its data and its figures.

A page is an `AnalyticsPage`: a KPI function, and charts (plotly figures or ag-grid tables), each with the function
giving exactly the rows it draws (its CSV download) and a pure builder turning those rows into the figure. `build`
makes the page's static layout and registers its callbacks: one that redraws everything from the URL, one CSV
download per chart, the drill-down of district charts (a click opens /district/<adcode> with the other filters
kept), and the page's own URL choices (such as the grain of a time axis).

(The leading underscore keeps Dash's page discovery from importing this module as a page.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.development.base_component import Component

from base.i18n import CATALOGUE, normalize_language, t
from base.texts.analytics import grid_locale
from components import ids, periods, theme
from components.charts import Context
from components.empty_state import empty_figure_text, empty_state, no_station_text
from components.kpi import kpi_grid, kpi_placeholders
from components.messages import database_unavailable_message, empty_message, problems_alert
from components.theme import GRAPH_CONFIG, message_figure
from components.urlstate import page_address, parse_search, with_params
from data_access import cities, metrics, registry, stations
from data_access.cache import cached_query
from data_access.db import Database, DatabaseUnavailable
from data_access.filters import Filters
from data_access.registry import KpiSet
from services.identity import record_export
from services.runtime import get_settings
from services.view import View, open_view


@dataclass(frozen=True)
class Chart:
    key: str
    title_key: str
    data: Callable[..., pd.DataFrame]          # (db, filters, **params) -> the rows drawn, which the CSV holds
    figure: Callable[[pd.DataFrame, Context], go.Figure] | None = None
    columns: Callable[[str], list[dict]] | None = None    # a table instead of a figure: lang -> columnDefs
    rows: Callable[[pd.DataFrame, Context], list[dict]] | None = None   # table rows (default: the frame)
    height: int = 380
    drill: bool = False           # a click on a point drills into the district in customdata[0]
    wide: bool = False            # spans the whole row
    hint_key: str | None = None
    station_kinds: tuple[str, ...] = ()   # drawn from these stations' work: a city with none open says so
    metrics: tuple[str, ...] = ()         # registry metrics it draws: their definitions behind its ⓘ
    definition_key: str | None = None     # or a text saying what it draws, for a chart of no registry metric

    @property
    def is_table(self) -> bool:
        return self.columns is not None


@dataclass(frozen=True)
class Choice:
    """A URL parameter of the page's own (for example grain=day|week|month), shown as radio buttons."""

    name: str
    values: tuple[str, ...]       # the first is the default
    label_key: str
    charts: tuple[str, ...]       # the charts it changes


@dataclass(frozen=True)
class AnalyticsPage:
    name: str
    path: str
    title_key: str
    kpis: tuple[str, ...]                      # the metric keys of its KPI cards (data_access.registry)
    charts: tuple[Chart, ...]
    choices: tuple[Choice, ...] = ()
    intro_key: str | None = None
    needs_boundaries: bool = False
    has_data: Callable[[KpiSet], bool] = field(default=lambda kpis: any(k.value for k in kpis.kpis))
    needs: tuple[str, ...] = ("cases",)        # the kinds of data (data_access.cities.KINDS) its figures draw from
    # a line the page shows above its figures, given whether the window holds nothing (then in place of the plain
    # "no data in this window": e.g. when the last event was and a link to the window that holds it). A page whose
    # note is always there reserves its line, so the figures do not move down when it arrives.
    note: Callable[[View, bool], Component | None] | None = None

    def id(self, part: str) -> str:
        return f"{self.name}-{part}"

    def chart(self, key: str) -> Chart:
        return next(chart for chart in self.charts if chart.key == key)


PAGES: dict[str, AnalyticsPage] = {}


def with_context(fetch: Callable[..., pd.DataFrame], grain: str, x: str) -> Callable[..., pd.DataFrame]:
    """The rows of a chart by month or quarter, marked with `context` and `partial` (components.periods.mark): on
    a window shorter than two such periods they are the last 12 months up to the window's end, the months before
    the window marked as context, so the chart shows a trend instead of one slab."""
    def data(db: Database, filters: Filters, **params) -> pd.DataFrame:
        fetched = filters
        if periods.needs_context(filters.start, filters.end, grain):
            fetched = replace(filters, start=periods.context_start(filters.end, grain), comparison="none")
        return periods.mark(fetch(db, fetched, **params), x, grain, filters.start, filters.end, fetched.start)

    return data


# ------------------------------------------------------------------------------------------------- URL choices
def choice_values(page: AnalyticsPage, search: str | None) -> tuple[tuple[tuple[str, str], ...], list[str]]:
    """The page's own parameters from the URL (defaults for missing ones) and the problems with bad ones."""
    query = parse_search(search)
    values, problems = [], []
    for choice in page.choices:
        value = query.get(choice.name, choice.values[0])
        if value not in choice.values:
            problems.append(f"bad_choice:{choice.name}={value}")
            value = choice.values[0]
        values.append((choice.name, value))
    return tuple(values), problems


def chart_params(page: AnalyticsPage, chart: Chart, params: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {name: value for name, value in params
            if any(c.name == name and chart.key in c.charts for c in page.choices)}


def chart_data(page: AnalyticsPage, db: Database, filters: Filters, chart: Chart,
               params: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    return chart.data(db, filters, **chart_params(page, chart, params))


@cached_query
def page_figures(db: Database, page_name: str, filters: Filters, lang: str, subtitle: str,
                 params: tuple[tuple[str, str], ...]) -> tuple[dict, ...]:
    """Every figure of the page as plain dicts (tables as their rows), memoized like the queries they draw."""
    page = PAGES[page_name]
    context = Context(lang, subtitle, filters, params, metrics.duty_periods(db, filters),
                      metrics.district_geojson(db, filters.city) if page.needs_boundaries else None)
    out = []
    for chart in page.charts:
        if chart.station_kinds and not chart.is_table and not (
                stations.open_station_kinds(db, filters.city, filters.end) & set(chart.station_kinds)):
            out.append(no_station_figure(chart, lang, subtitle).to_dict())
            continue
        frame = chart_data(page, db, filters, chart, params)
        if chart.is_table:
            out.append(chart.rows(frame, context) if chart.rows else grid_rows(frame))
        else:
            out.append(chart.figure(frame, context).to_dict())
    return tuple(out)


def no_station_figure(chart: Chart, lang: str, subtitle: str) -> go.Figure:
    """In place of a chart drawn from stations the city has none of: which kind, and how to register them."""
    return message_figure(t(chart.title_key, lang), subtitle, no_station_text(chart.station_kinds, lang), chart.height)


def grid_rows(frame: pd.DataFrame) -> list[dict]:
    """The rows as JSON-safe records: missing numbers become null, never NaN; timestamps become text."""
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d %H:%M")
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


# --------------------------------------------------------------------------------------------------- the layout
def download_button(page: AnalyticsPage, chart: Chart, lang: str) -> html.Div:
    label = t("download.csv.label", lang, chart=t(chart.title_key, lang))
    return html.Div(
        [html.Button(t("download.csv", lang), id=page.id(f"download-{chart.key}-button"), n_clicks=0,
                     className="btn btn-sm btn-outline-secondary download-csv", title=label,
                     **{"aria-label": label}),
         dcc.Download(id=page.id(f"download-{chart.key}"))],
        style={"display": "flex", "justifyContent": "flex-end", "padding": "4px 8px 0"},
    )


def number_column(field_name: str, header: str, pattern: str, **extra) -> dict:
    """A right-aligned numeric grid column formatted with d3-format; a missing value reads —."""
    return {"field": field_name, "headerName": header, "type": "rightAligned", "filter": "agNumberColumnFilter",
            "valueFormatter": {"function": f"params.value == null ? '—' : d3.format('{pattern}')(params.value)"},
            **extra}


def definition_text(metric_keys: tuple[str, ...], definition_key: str | None, lang: str) -> str:
    """What a chart draws, one sentence per metric from the registry (the same words as `jingbao metrics`), or the
    chart's own definition text."""
    parts = [f"{registry.label(key, lang)}：{registry.metric(key).definition(lang)}" if lang == "zh" else
             f"{registry.label(key, lang)}: {registry.metric(key).definition(lang)}" for key in metric_keys]
    if definition_key:
        parts.insert(0, t(definition_key, lang))
    return " ".join(parts)


def definition_info(element_id: str, title: str, text: str, lang: str) -> html.Span | None:
    """An ⓘ button one hover, focus or tap away from the definition: a tooltip shows it, and screen readers read it
    as the button's description."""
    if not text:
        return None
    described = f"{element_id}-text"
    return html.Span([
        html.Button("ⓘ", id=element_id, type="button", className="btn btn-sm btn-link chart-info",
                    **{"aria-label": t("chart.definition.label", lang, chart=title), "aria-describedby": described}),
        html.Span(text, id=described, hidden=True),
        dbc.Tooltip([html.Strong(t("chart.definition", lang) + " "), text], target=element_id, placement="top",
                    trigger="hover focus"),
    ])


def chart_panel(page: AnalyticsPage, chart: Chart, lang: str) -> html.Section:
    hint = html.P(t(chart.hint_key, lang) if chart.hint_key else "", id=page.id(f"{chart.key}-hint"),
                  className="figure-hint", style={"flex": "1"})
    info = definition_info(page.id(f"{chart.key}-info"), t(chart.title_key, lang),
                           definition_text(chart.metrics, chart.definition_key, lang), lang)
    if chart.is_table:
        body = [
            html.Div([html.H2(t(chart.title_key, lang), id=page.id(f"{chart.key}-title"), className="table-title"),
                      html.P(id=page.id(f"{chart.key}-window"), className="figure-hint table-window")],
                     style={"padding": "4px 8px 8px"}),
            dag.AgGrid(id=page.id(chart.key), columnDefs=chart.columns(lang), rowData=[],
                       defaultColDef={"sortable": True, "resizable": True, "flex": 1, "minWidth": 100},
                       dashGridOptions={"domLayout": "autoHeight", "animateRows": False,
                                        "pagination": True, "paginationPageSize": 12,
                                        "paginationPageSizeSelector": False, "localeText": grid_locale(lang)},
                       style={"height": None}),
        ]
    else:
        body = [dcc.Graph(id=page.id(chart.key), config=GRAPH_CONFIG, className="chart", responsive=True,
                          style={"height": f"{chart.height}px"})]
    return html.Section(
        [*body, html.Div([hint, info, download_button(page, chart, lang)], className="panel-foot")],
        className="panel" + (" panel-wide" if chart.wide else "") + (" panel-table" if chart.is_table else ""),
        # the panel keeps its height before its chart or grid draws: the page does not jump (assets/style.css)
        style=None if chart.is_table else {"--chart-height": f"{chart.height}px"},
        **{"aria-label": t(chart.title_key, lang)},
    )


def choice_controls(page: AnalyticsPage, lang: str) -> html.Div | None:
    if not page.choices:
        return None
    controls = []
    for choice in page.choices:
        label_id = page.id(f"{choice.name}-label")
        controls.append(html.Div([
            html.Span(t(choice.label_key, lang), id=label_id, className="choice-label"),
            html.Div(dbc.RadioItems(id=page.id(f"choice-{choice.name}"), value=choice.values[0], inline=True,
                                    options=[{"label": t(f"{page.name}.{choice.name}.{v}", lang), "value": v}
                                             for v in choice.values],
                                    class_name="btn-group", input_class_name="btn-check",
                                    label_class_name="btn btn-outline-secondary btn-sm",
                                    label_checked_class_name="active"),
                     role="group", className="choice-buttons", **{"aria-labelledby": label_id}),
        ], className="choice"))
    return html.Div(controls, className="page-choices")


def kpi_skeleton(page: AnalyticsPage, lang: str) -> list[html.Section]:
    return kpi_placeholders(page.kpis, lang)


def make_layout(page: AnalyticsPage) -> Callable[..., html.Div]:
    def layout(**query) -> html.Div:
        """A static skeleton in the link's language; the page callback fills it from the URL."""
        lang = normalize_language(query.get("lang"), get_settings().language)
        panels = [chart_panel(page, chart, lang) for chart in page.charts]
        body = [html.Section(kpi_skeleton(page, lang), id=page.id("kpis"), className="kpi-grid",
                             **{"aria-label": t("kpi.section", lang)}),
                html.Div(panels, className="analytics-grid")]
        return html.Div(
            [
                page_address(page.id("url")),
                html.Div(id=page.id("problems")),
                html.Div([html.H1(t(page.title_key, lang), id=page.id("heading"), className="page-title"),
                          html.P(id=page.id("window"), className="page-window"), html.Div(id=page.id("crumbs")),
                          html.P(t(page.intro_key, lang), className="page-intro") if page.intro_key else None,
                          choice_controls(page, lang)],
                         className="page-head"),
                dcc.Loading(body, delay_show=400, overlay_style={"visibility": "visible", "opacity": 0.6},
                            type="dot", color=theme.BRAND, parent_className=f"{page.name}-body"),
            ],
            className=f"page page-{page.name}",
        )

    return layout


# ------------------------------------------------------------------------------------------------ the callbacks
def page_outputs(page: AnalyticsPage) -> list[Output]:
    """Everything the page callback writes, in the order it returns them: the head, the KPIs, the page's own
    choices, then each chart (a figure, or a table's rows, columns and window)."""
    return [Output(page.id("problems"), "children"), Output(page.id("heading"), "children"),
            Output(page.id("window"), "children"), Output(page.id("crumbs"), "children"),
            Output(page.id("kpis"), "children"),
            *[Output(page.id(f"choice-{c.name}"), "value") for c in page.choices],
            *chart_outputs(page)]


def chart_outputs(page: AnalyticsPage) -> list[Output]:
    outputs = []
    for chart in page.charts:
        if chart.is_table:
            outputs += [Output(page.id(chart.key), "rowData"), Output(page.id(chart.key), "columnDefs"),
                        Output(page.id(f"{chart.key}-window"), "children")]
        else:
            outputs.append(Output(page.id(chart.key), "figure"))
    return outputs


def empty_state_of(view: View, needs: tuple[str, ...] = ("cases",)) -> html.Div | None:
    """The empty state of a view, or None when there is something to draw: the database holds no city yet, or the
    view's city holds no row of any kind in `needs`. Every page asks this in its no-data branch."""
    if view.filters is None:
        return None if view.blocked or metrics.catalogue(view.db).cities else empty_state(view.lang)
    held = cities.city_holdings(view.db, view.filters.city)
    if held is None or any(held.count(kind) for kind in needs):
        return None
    state = empty_state(view.lang, view.city_name, needs, held.missing)
    return html.Div([view.problems_alert(), state]) if view.problems else state   # bad query values still said


def _empty_charts(page: AnalyticsPage, lang: str, message: str | None = None) -> list:
    out = []
    for chart in page.charts:
        if chart.is_table:
            out += [[], chart.columns(lang), ""]
        else:
            out.append(message_figure(t(chart.title_key, lang), "", message or t("message.empty", lang),
                                      chart.height))
    return out


def _chart_values(page: AnalyticsPage, figures: tuple, lang: str, subtitle: str) -> list:
    out = []
    for chart, value in zip(page.charts, figures, strict=True):
        out += [value, chart.columns(lang), subtitle] if chart.is_table else [value]
    return out


def _register_main(page: AnalyticsPage) -> None:
    outputs = page_outputs(page)

    @callback(*outputs, Input(ids.URL, "search"), Input(ids.REFRESH, "n_intervals"))
    def show(search, _tick):
        params, choice_problems = choice_values(page, search)
        choice_out = [value for _, value in params]
        try:
            view = open_view(search, page.path)
            lang = view.lang
            empty = empty_state_of(view, page.needs)
            if view.filters is None or empty is not None:
                heading = t(page.title_key, lang) + (f" · {view.place}" if view.filters else "")
                return (empty or view.unavailable_message(), heading, "", None, kpi_skeleton(page, lang),
                        *choice_out, *_empty_charts(page, lang, empty_figure_text(lang) if empty else None))
            db, filters = view.db, view.filters
            kpis = registry.kpis(db, filters, page.kpis)
            subtitle = f"{view.place} · {view.window}"
            figures = page_figures(db, page.name, filters, lang, subtitle, params)
        except DatabaseUnavailable:
            lang = normalize_language(parse_search(search).get("lang"), get_settings().language)
            # say so and keep the last good figures (the header marks them stale)
            return (database_unavailable_message(lang), *[no_update] * (len(outputs) - 1))
        messages = [problems_alert(view.problems + tuple(choice_problems), lang)]
        empty_window = not page.has_data(kpis)
        note = page.note(view, empty_window) if page.note else None
        messages.append(note or empty_message(lang) if empty_window else note)
        return (
            [m for m in messages if m is not None] or None,
            f"{t(page.title_key, lang)} · {view.place}",
            view.window_compared(kpis.comparison),
            view.breadcrumb(page.path),
            kpi_grid(kpis, lang),
            *choice_out,
            *_chart_values(page, figures, lang, subtitle),
        )


def _register_choice(page: AnalyticsPage, choice: Choice) -> None:
    @callback(Output(page.id("url"), "search", allow_duplicate=True), Input(page.id(f"choice-{choice.name}"), "value"),
              State(ids.URL, "search"), prevent_initial_call=True)
    def choose(value, search):
        current, _ = choice_values(page, search)
        if value == dict(current).get(choice.name):
            return no_update
        return with_params(search, **{choice.name: None if value == choice.values[0] else value})


def district_href(search: str | None, adcode: str) -> str:
    """The district page of `adcode`, keeping the window, comparison and language of the current view."""
    return f"/district/{adcode}" + with_params(search, districts=None, district=None, grain=None)


def clicked_district(click_data) -> str | None:
    points = (click_data or {}).get("points") or []
    custom = points[0].get("customdata") if points else None
    if isinstance(custom, list) and custom:
        return str(custom[0])
    location = points[0].get("location") if points else None     # a choropleth gives its location
    return str(location) if location else None


def _register_drill(page: AnalyticsPage, chart: Chart) -> None:
    @callback(Output(page.id("url"), "pathname", allow_duplicate=True),
              Output(page.id("url"), "search", allow_duplicate=True),
              Input(page.id(chart.key), "clickData"), State(ids.URL, "search"), prevent_initial_call=True)
    def drill(click_data, search):
        adcode = clicked_district(click_data)
        if not adcode or not adcode.isdigit():
            return no_update, no_update
        href = district_href(search, adcode)
        path, _, query = href.partition("?")
        return path, ("?" + query) if query else ""


def csv_download(page: AnalyticsPage, chart: Chart, search: str | None) -> dict | None:
    """The rows behind `chart` for the URL's filters as UTF-8 CSV with a BOM (spreadsheets then read the Chinese);
    None when the database is away."""
    params, _ = choice_values(page, search)
    try:
        view = open_view(search, page.path)
        if view.filters is None:
            return None
        db, filters = view.db, view.filters
        frame = chart_data(page, db, filters, chart, params)
    except DatabaseUnavailable:
        return None
    record_export(db, "csv", f"{page.name}/{chart.key}", filters)
    frame = frame.drop(columns=[c for c in ("route",) if c in frame.columns])
    frame = csv_frame(frame, chart, view.lang)
    name = f"{page.name}_{chart.key}_{filters.city}_{filters.start.isoformat()}_{filters.end.isoformat()}.csv"
    return dcc.send_string("\ufeff" + frame.to_csv(index=False), name, type="text/csv")


MINUTE_COLUMNS = ("p50", "p90", "p99", "fastest")


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Shares and rates to 4 decimals, minutes to 1, other fractions to 2 (a CSV of 0.45454545454545453 reads
    badly); rows whose `metric` is a share (cleared within 3 minutes) keep 4 decimals in the minute columns."""
    frame = frame.copy()
    share_rows = (frame["metric"].map(lambda key: key in registry.METRICS and registry.metric(key).unit == "ratio")
                  if "metric" in frame else pd.Series(False, index=frame.index))
    for column in frame.columns:
        if not pd.api.types.is_float_dtype(frame[column]):
            continue
        if "share" in column or "rate" in column or column == "qoq_change":
            frame[column] = frame[column].round(4)
        elif column in MINUTE_COLUMNS:
            frame[column] = frame[column].round(1).where(~share_rows, frame[column].round(4))
        else:
            frame[column] = frame[column].round(2)
    return frame


def csv_frame(frame: pd.DataFrame, chart: Chart, lang: str) -> pd.DataFrame:
    """The rows of a chart as its CSV holds them: rounded, with headers in the page's language (a table's own
    column headers, else the catalogue's `csv.col.<column>`)."""
    headers = {c["field"]: c["headerName"] for c in chart.columns(lang)} if chart.is_table else {}
    names = {column: headers.get(column) or (t(f"csv.col.{column}", lang) if f"csv.col.{column}" in CATALOGUE
                                             else column) for column in frame.columns}
    return rounded(frame).rename(columns=names)


def _register_download(page: AnalyticsPage, chart: Chart) -> None:
    # Plain ids, one callback per chart: the app's guard on callback requests would refuse MATCH ids.
    @callback(Output(page.id(f"download-{chart.key}"), "data"),
              Input(page.id(f"download-{chart.key}-button"), "n_clicks"), State(ids.URL, "search"),
              prevent_initial_call=True)
    def download(n_clicks, search):
        if not n_clicks:
            return no_update
        return csv_download(page, chart, search) or no_update


def build(page: AnalyticsPage) -> Callable[..., html.Div]:
    """Register the page's callbacks and return its layout function."""
    PAGES[page.name] = page
    _register_main(page)
    for choice in page.choices:
        _register_choice(page, choice)
    for chart in page.charts:
        _register_download(page, chart)
        if chart.drill:
            _register_drill(page, chart)
    return make_layout(page)
