"""快赔 Payouts: how fast the insurers pay after a report — stage clocks, shares paid within 15 min / 1 h / 1 day,
payout p90 by district (a click drills in) and the insurers ranked by p90; each chart downloads its data as CSV.

Everything follows the URL (city, window, comparison, districts, insurer, language), as on the overview.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update

from base.i18n import normalize_language, t
from components import ids, theme
from components.kpi import kpi_card, kpi_grid
from components.messages import database_unavailable_message, empty_message
from components.payout_figures import STAGES_HEIGHT, minutes_text, stages_figure
from components.theme import GRAPH_CONFIG, message_figure
from components.urlstate import parse_search, toggle_district
from data_access import metrics, payouts
from data_access.cache import cached_query
from data_access.db import Database, DatabaseUnavailable
from data_access.filters import Filters, parse_filters
from data_access.metrics import Kpi
from data_access.timeutil import local_today
from services.runtime import get_db, get_settings
from services.view import open_view

dash.register_page(__name__, path="/payouts", title="快赔 · 警保联动", name="payouts", title_key="nav.payouts",
                   order=20)

PROBLEMS = "payouts-problems"
CRUMBS = "payouts-breadcrumb"
HEADING = "payouts-heading"
WINDOW = "payouts-window"
KPIS = "payouts-kpis"
STAGES = "payouts-stages"
WITHIN = "payouts-within"
DISTRICTS = "payouts-districts"
DISTRICT_HINT = "payouts-district-hint"
INSURERS = "payouts-insurers"
INSURERS_TITLE = "payouts-insurers-title"
INSURERS_WINDOW = "payouts-insurers-window"
DOWNLOAD = "payouts-download-{chart}"                # one per chart: the CSV of exactly the rows it draws
DOWNLOAD_BUTTON = "payouts-download-{chart}-button"

CHARTS = ("stages", "within", "districts", "insurers")
CHART_TITLES = {"stages": "payouts.stages.title", "within": "payouts.within.title",
                "districts": "payouts.district.title", "insurers": "payouts.insurers.title"}
WITHIN_HEIGHT = 380
DISTRICTS_HEIGHT = 400
P50_COLOUR = theme.QUICK
P90_COLOUR = theme.RATE


# ----------------------------------------------------------------------------------------- the data of each chart
def chart_data(db: Database, filters: Filters, chart: str) -> pd.DataFrame:
    """Exactly the rows a chart draws; its CSV download is this frame."""
    if chart == "stages":
        return payouts.stage_clocks(db, filters)
    if chart == "within":
        shares = payouts.payout_within(db, filters)
        return pd.DataFrame({"within": list(shares), "seconds": list(payouts.PAID_WITHIN_S.values()),
                             "share": [shares[key] for key in shares]})
    if chart == "districts":
        frame = payouts.payouts_by_district(db, filters)
        return frame.sort_values("p90", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    if chart == "insurers":
        frame = payouts.insurer_payouts(db, filters).copy()   # the cached frame is shared: never change it
        ranked = frame["p90"].notna()
        frame.insert(0, "rank", pd.Series(range(1, len(frame) + 1), index=frame.index).where(ranked).astype("Int64"))
        return frame
    raise ValueError(chart)


# ------------------------------------------------------------------------------------------------- the builders
def within_figure(frame: pd.DataFrame, lang: str, subtitle: str) -> go.Figure:
    """The share of paid cases paid within each time of the report, in percent."""
    title = t(CHART_TITLES["within"], lang)
    if frame["share"].isna().all():
        return message_figure(title, subtitle, t("message.empty", lang), WITHIN_HEIGHT)
    percent = frame["share"].astype(float) * 100
    figure = go.Figure()
    figure.add_bar(x=[t(f"payouts.within.{key}", lang) for key in frame["within"]], y=percent,
                   marker_color=P50_COLOUR, text=[f"{v:.1f}%" for v in percent], textposition="outside",
                   cliponaxis=False, hovertemplate="%{x}: %{y:.1f}%<extra></extra>")
    figure.update_layout(
        **theme.base_layout(title, subtitle, WITHIN_HEIGHT), bargap=0.45, showlegend=False,
        xaxis=dict(showgrid=False, linecolor=theme.GRID),
        yaxis=dict(range=[0, 108], tickvals=[0, 25, 50, 75, 100], ticksuffix="%", gridcolor=theme.GRID,
                   title=dict(text=t("payouts.within.axis", lang), font=dict(size=12)), zeroline=False),
    )
    return figure


def districts_figure(frame: pd.DataFrame, lang: str, subtitle: str, chosen: tuple[str, ...]) -> go.Figure:
    """Payout p90 per district, longest first; the districts in focus are outlined. customdata[0] is the adcode."""
    title = t(CHART_TITLES["districts"], lang)
    if frame.empty or not int(frame["paid"].sum()):
        return message_figure(title, subtitle, t("message.empty", lang), DISTRICTS_HEIGHT)
    names = frame["name_zh" if lang == "zh" else "name_en"]
    custom = frame[["district_adcode", "p50", "paid"]].to_numpy()
    outline = [theme.INK if code in chosen else P90_COLOUR for code in frame["district_adcode"]]
    figure = go.Figure()
    figure.add_bar(
        x=names, y=frame["p90"], customdata=custom, marker=dict(color=P90_COLOUR, line=dict(color=outline, width=2)),
        text=[minutes_text(v) for v in frame["p90"]], textposition="outside", cliponaxis=False,
        hovertemplate=(f"%{{x}}<br>{t('payouts.p90', lang)}: %{{y:,.1f}} {t('unit.minutes', lang)}<br>"
                       f"{t('payouts.p50', lang)}: %{{customdata[1]:,.1f}} {t('unit.minutes', lang)}<br>"
                       f"{t('payouts.count', lang)}: %{{customdata[2]:,}}<extra></extra>"),
    )
    figure.update_layout(
        **theme.base_layout(title, subtitle, DISTRICTS_HEIGHT), showlegend=False, bargap=0.35,
        xaxis=dict(showgrid=False, linecolor=theme.GRID),
        yaxis=dict(title=dict(text=t("payouts.district.axis", lang), font=dict(size=12)), gridcolor=theme.GRID,
                   rangemode="tozero", tickformat=",d", zeroline=False),
    )
    return figure


def insurer_columns(lang: str) -> list[dict]:
    """Column definitions of the insurer grid in `lang`; numbers sort as numbers, a missing value reads —."""

    def number(pattern: str) -> dict:
        return {"function": f"params.value == null ? '—' : d3.format('{pattern}')(params.value)"}

    numeric = {"type": "rightAligned", "filter": "agNumberColumnFilter"}
    return [
        {"field": "rank", "headerName": t("payouts.col.rank", lang), "width": 90, "maxWidth": 110,
         "valueFormatter": number("d"), **numeric},
        {"field": "name_zh" if lang == "zh" else "name_en", "headerName": t("payouts.col.insurer", lang),
         "minWidth": 180, "filter": True},
        {"field": "paid", "headerName": t("payouts.col.paid", lang), "valueFormatter": number(",d"), **numeric},
        {"field": "amount_yuan", "headerName": t("payouts.col.amount", lang), "valueFormatter": number(",.0f"),
         **numeric},
        {"field": "p50", "headerName": t("payouts.col.p50", lang), "valueFormatter": number(",.1f"), **numeric},
        {"field": "p90", "headerName": t("payouts.col.p90", lang), "valueFormatter": number(",.1f"),
         "sort": "asc", **numeric},
        {"field": "remote_sla_share", "headerName": t("payouts.col.sla", lang), "valueFormatter": number(".1%"),
         **numeric},
    ]


def grid_rows(frame: pd.DataFrame) -> list[dict]:
    """The rows as JSON-safe records: missing numbers become null, never NaN."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@cached_query
def payout_figures(db: Database, filters: Filters, lang: str, subtitle: str) -> tuple[dict, dict, dict]:
    """The three figures as plain dicts, memoized like the queries they draw."""
    return (
        stages_figure(chart_data(db, filters, "stages"), lang, subtitle).to_dict(),
        within_figure(chart_data(db, filters, "within"), lang, subtitle).to_dict(),
        districts_figure(chart_data(db, filters, "districts"), lang, subtitle, filters.districts).to_dict(),
    )


# --------------------------------------------------------------------------------------------------- the layout
def download_button(chart: str, lang: str) -> html.Div:
    label = t("download.csv.label", lang, chart=t(CHART_TITLES[chart], lang))
    return html.Div(
        [html.Button(t("download.csv", lang), id=DOWNLOAD_BUTTON.format(chart=chart), n_clicks=0,
                     className="btn btn-sm btn-outline-secondary download-csv", title=label,
                     **{"aria-label": label}),
         dcc.Download(id=DOWNLOAD.format(chart=chart))],
        style={"display": "flex", "justifyContent": "flex-end", "padding": "4px 8px 0"},
    )


def graph_panel(graph_id: str, chart: str, height: int, lang: str, hint_id: str | None = None) -> html.Section:
    return html.Section(
        [dcc.Graph(id=graph_id, config=GRAPH_CONFIG, className="chart", responsive=True,
                   style={"height": f"{height}px"}),
         html.Div([html.P(id=hint_id, className="figure-hint", style={"flex": "1"}) if hint_id else None,
                   download_button(chart, lang)], style={"display": "flex", "alignItems": "center"})],
        className="panel",
    )


def kpi_skeleton(lang: str) -> list[html.Section]:
    return [kpi_card(Kpi(key, None, None, unit, None, False), lang, None)
            for key, unit in payouts.PAYOUT_KPI_UNITS.items()]


def layout(**query) -> html.Div:
    """A static skeleton in the link's language; `show_payouts` fills it from the URL."""
    lang = normalize_language(query.get("lang"), get_settings().language)
    rows = {"display": "grid", "gap": "16px", "marginBottom": "16px"}
    insurers = html.Section(
        [
            html.Div([html.H2(t(CHART_TITLES["insurers"], lang), id=INSURERS_TITLE,
                              style={"fontSize": "15px", "fontWeight": 600, "margin": "4px 0 2px"}),
                      html.P(id=INSURERS_WINDOW, className="figure-hint", style={"margin": "0 0 8px"})],
                     style={"padding": "4px 8px"}),
            dag.AgGrid(id=INSURERS, columnDefs=insurer_columns(lang), rowData=[],
                       defaultColDef={"sortable": True, "resizable": True, "flex": 1, "minWidth": 110},
                       dashGridOptions={"domLayout": "autoHeight", "animateRows": False},
                       style={"height": None}),
            download_button("insurers", lang),
        ],
        className="panel", **{"aria-label": t("payouts.insurers.label", lang)},
    )
    body = [
        html.Section(kpi_skeleton(lang), id=KPIS, className="kpi-grid", **{"aria-label": t("kpi.section", lang)}),
        html.Div([graph_panel(STAGES, "stages", STAGES_HEIGHT, lang),
                  graph_panel(WITHIN, "within", WITHIN_HEIGHT, lang)], className="overview-figures",
                 style={"marginBottom": "16px"}),
        html.Div([graph_panel(DISTRICTS, "districts", DISTRICTS_HEIGHT, lang, DISTRICT_HINT), insurers], style=rows),
    ]
    return html.Div(
        [
            html.Div(id=PROBLEMS),
            html.Div([html.H1(t("nav.payouts", lang), id=HEADING, className="page-title"),
                      html.P(id=WINDOW, className="page-window"), html.Div(id=CRUMBS)], className="page-head"),
            dcc.Loading(body, delay_show=400, overlay_style={"visibility": "visible", "opacity": 0.6}, type="dot",
                        color="#1f5fa8", parent_className="payouts-body"),
        ],
        className="page page-payouts",
    )


# ------------------------------------------------------------------------------------------------ the callbacks
@callback(
    Output(PROBLEMS, "children"), Output(HEADING, "children"), Output(WINDOW, "children"),
    Output(CRUMBS, "children"), Output(KPIS, "children"), Output(STAGES, "figure"), Output(WITHIN, "figure"),
    Output(DISTRICTS, "figure"), Output(DISTRICT_HINT, "children"), Output(INSURERS, "rowData"),
    Output(INSURERS, "columnDefs"), Output(INSURERS_TITLE, "children"), Output(INSURERS_WINDOW, "children"),
    Input(ids.URL, "search"), Input(ids.REFRESH, "n_intervals"),
)
def show_payouts(search, _tick):
    try:
        view = open_view(search)
        lang = view.lang
        hint = t("payouts.district.hint", lang)
        if view.filters is None:
            nothing = t("message.empty", lang)
            return (empty_message(lang), t("nav.payouts", lang), "", None, kpi_skeleton(lang),
                    message_figure(t(CHART_TITLES["stages"], lang), "", nothing, STAGES_HEIGHT),
                    message_figure(t(CHART_TITLES["within"], lang), "", nothing, WITHIN_HEIGHT),
                    message_figure(t(CHART_TITLES["districts"], lang), "", nothing, DISTRICTS_HEIGHT),
                    hint, [], insurer_columns(lang), t(CHART_TITLES["insurers"], lang), "")
        db, filters = view.db, view.filters
        kpis = payouts.payout_kpis(db, filters)
        insurers = chart_data(db, filters, "insurers")
        subtitle = f"{view.place} · {view.window}"
        stages, within, districts = payout_figures(db, filters, lang, subtitle)
    except DatabaseUnavailable:
        return database_away(normalize_language(parse_search(search).get("lang"), get_settings().language))

    messages = [view.problems_alert()]
    if not kpis.get("paid").value:
        messages.append(empty_message(lang))
    return (
        [m for m in messages if m is not None] or None,
        f"{t('nav.payouts', lang)} · {view.place}",
        view.window_compared(kpis.comparison),
        view.breadcrumb("/payouts"),
        kpi_grid(kpis, lang),
        stages, within, districts, hint,
        grid_rows(insurers), insurer_columns(lang), t(CHART_TITLES["insurers"], lang), subtitle,
    )


def database_away(lang: str) -> tuple:
    """The database is unreachable: say so and keep the last good figures (the header marks them stale)."""
    return (database_unavailable_message(lang), *[no_update] * 7, t("payouts.district.hint", lang),
            *[no_update] * 4)


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(DISTRICTS, "clickData"), State(ids.URL, "search"),
    prevent_initial_call=True,
)
def focus_district(click_data, search):
    """A click on a district's bar focuses the page on it; a click on the focused district goes back to the city."""
    points = (click_data or {}).get("points") or []
    custom = points[0].get("customdata") if points else None
    if not custom:
        return no_update
    return toggle_district(search, str(custom[0]))


def csv_download(chart: str, search: str | None) -> dict | None:
    """The rows behind `chart` for the filters of the URL, as a UTF-8 CSV (with a BOM, so that spreadsheet programs
    read the Chinese names); None when the database is away."""
    settings = get_settings()
    try:
        db = get_db()
        filters = parse_filters(parse_search(search), metrics.catalogue(db), local_today(),
                                settings.default_city).filters
        frame = chart_data(db, filters, chart)
    except DatabaseUnavailable:
        return None
    name = f"payouts_{chart}_{filters.city}_{filters.start.isoformat()}_{filters.end.isoformat()}.csv"
    return dcc.send_string("\ufeff" + frame.to_csv(index=False), name, type="text/csv")


def _register_download(chart: str) -> None:
    # Plain ids, one callback per chart: the app's guard on callback requests matches string ids only, so
    # pattern-matching ids (MATCH) would be refused with a 400.
    @callback(Output(DOWNLOAD.format(chart=chart), "data"), Input(DOWNLOAD_BUTTON.format(chart=chart), "n_clicks"),
              State(ids.URL, "search"), prevent_initial_call=True)
    def download(n_clicks, search):
        if not n_clicks:
            return no_update
        return csv_download(chart, search) or no_update


for _chart in CHARTS:
    _register_download(_chart)
