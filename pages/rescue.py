"""空地救援 Rescue: each helicopter mission as a timeline from the request (take-off, on scene, hospital), the share
reaching hospital within 60 minutes, the routes on a small map of the districts, and the list of missions, each
linking to its route on the live map."""

from __future__ import annotations

import calendar
import datetime as dt
import math

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from base.i18n import t
from components import theme
from components.urlstate import with_params
from data_access import metrics, registry, rescue
from data_access.timeutil import local_today
from pages._kit import AnalyticsPage, Chart, Context, build, grid_rows, number_column
from services.view import View

dash.register_page(__name__, path="/rescue", title="空地救援 · 警保联动", name="rescue", title_key="nav.rescue",
                   order=40)

COLOURS = theme.METRIC_COLOURS
LEGS = (("requested_at", "takeoff_at", "requested"), ("takeoff_at", "on_scene_at", "takeoff"),
        ("on_scene_at", "hospital_at", "on_scene"))
TIMELINE_HEIGHT = 360


def mission_label(row, lang: str) -> str:
    name = row.name_zh if lang == "zh" else row.name_en
    return f"{row.requested_at:%m-%d %H:%M} · {name} · #{row.mission_id}"


def timeline_figure(frame: pd.DataFrame, ctx: Context) -> go.Figure:
    """One row per mission: the legs request → take-off → on scene → hospital in minutes from the request, and
    the 60-minute line."""
    lang = ctx.lang
    title = t("rescue.timeline.title", lang)
    height = TIMELINE_HEIGHT
    if frame.empty:
        return theme.message_figure(title, ctx.subtitle, t("rescue.none", lang), height)
    labels = [mission_label(row, lang) for row in frame.itertuples()]
    minutes = {"requested_at": pd.Series(0.0, index=frame.index), "takeoff_at": frame["takeoff_min"],
               "on_scene_at": frame["on_scene_min"], "hospital_at": frame["hospital_min"]}
    figure = theme.new_figure()
    for start, end, leg in LEGS:
        width = (minutes[end] - minutes[start]).astype(float)
        figure.add_bar(
            y=labels, x=width, base=minutes[start].astype(float), orientation="h", name=t(f"rescue.leg.{leg}", lang),
            marker_color=COLOURS[leg], customdata=minutes[end].astype(float),
            hovertemplate=(f"%{{y}}<br>%{{fullData.name}}: %{{x:.0f}} {t('unit.minutes', lang)}"
                           f" ({t('rescue.since_request', lang)} %{{customdata:.0f}})<extra></extra>"))
    figure.add_vline(x=metrics.RESCUE_GOLDEN_HOUR_S / 60, line=dict(color=theme.BAD, dash="dash", width=1.5),
                     annotation_text=t("rescue.golden_hour", lang), annotation_position="bottom right",
                     annotation_font=dict(size=11, color=theme.BAD))
    layout = theme.base_layout(title, ctx.subtitle, height)
    layout["margin"] = dict(l=230, r=40, t=80, b=48)
    figure.update_layout(**layout, barmode="stack", bargap=0.35,
                         legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom",
                                     traceorder="normal"),
                         xaxis=dict(title=dict(text=t("rescue.axis", lang), font=dict(size=12)), gridcolor=theme.GRID,
                                    rangemode="tozero", zeroline=False),
                         yaxis=dict(autorange="reversed", showgrid=False, automargin=True))
    return figure


def _outline_xy(geometry: dict) -> tuple[list, list]:
    xs, ys = [], []
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    for polygon in polygons:
        ring = polygon[0]
        xs += [p[0] for p in ring] + [None]
        ys += [p[1] for p in ring] + [None]
    return xs, ys


def routes_figure(frame: pd.DataFrame, ctx: Context) -> go.Figure:
    """The missions' routes (base → scene → hospital) over the district outlines, drawn on plain axes with the
    latitude's aspect so that it needs no map tiles."""
    lang = ctx.lang
    title = t("rescue.routes.title", lang)
    height = 460
    figure = theme.new_figure()
    xs, ys = [], []
    for feature in (ctx.boundaries or {}).get("features", []):
        fx, fy = _outline_xy(feature["geometry"])
        xs += fx
        ys += fy
    figure.add_scatter(x=xs, y=ys, mode="lines", line=dict(color="#9aa8b8", width=0.8), hoverinfo="skip",
                       showlegend=False, fill=None)
    for row in frame.itertuples():
        if not row.route:
            continue
        lon, lat = zip(*row.route, strict=True)
        colour = theme.GOOD if row.within_60m else theme.BAD
        figure.add_scatter(x=lon, y=lat, mode="lines+markers", line=dict(color=colour, width=2.5),
                           marker=dict(size=[7] + [5] * (len(lon) - 2) + [10], color=colour),
                           name=mission_label(row, lang), showlegend=False,
                           hovertemplate=f"{mission_label(row, lang)}<extra></extra>")
    mid_lat = sum(v for v in ys if v is not None) / max(1, sum(1 for v in ys if v is not None)) if ys else 30
    layout = theme.base_layout(title, ctx.subtitle, height)
    layout["margin"] = dict(l=16, r=16, t=72, b=16)
    figure.update_layout(**layout, xaxis=dict(visible=False),
                         yaxis=dict(visible=False, scaleanchor="x", scaleratio=1 / math.cos(math.radians(mid_lat))))
    if frame.empty:
        figure.add_annotation(text=t("rescue.none", lang), x=0.5, y=0.5, xref="paper", yref="paper",
                              showarrow=False, font=dict(size=15, color=theme.MUTED))
    return figure


def mission_columns(lang: str) -> list[dict]:
    minutes = t("unit.minutes", lang)
    return [
        {"field": "requested_at", "headerName": t("rescue.col.requested", lang), "minWidth": 150, "sort": "desc"},
        {"field": "name_zh" if lang == "zh" else "name_en", "headerName": t("filters.district", lang),
         "minWidth": 110, "filter": True},
        number_column("takeoff_min", f"{t('rescue.col.takeoff', lang)} ({minutes})", ",.0f"),
        number_column("on_scene_min", f"{t('rescue.col.on_scene', lang)} ({minutes})", ",.0f"),
        number_column("hospital_min", f"{t('rescue.col.hospital', lang)} ({minutes})", ",.0f"),
        {"field": "outcome_text", "headerName": t("rescue.col.outcome", lang), "minWidth": 90},
        {"field": "map_link", "headerName": t("rescue.col.map", lang), "cellRenderer": "markdown",
         "minWidth": 130, "sortable": False},
    ]


def mission_rows(frame: pd.DataFrame, ctx: Context) -> list[dict]:
    lang = ctx.lang
    rows = frame.drop(columns=["route"]).assign(
        outcome_text=[t(f"rescue.outcome.{o}", lang) for o in frame["outcome"]],
        map_link=[f"[{t('rescue.on_map', lang)}](/map?city={ctx.filters.city}&mission={m}"
                  f"{'&lang=en' if lang == 'en' else ''})" for m in frame["mission_id"]])
    return grid_rows(rows)


PAGE = AnalyticsPage(
    name="rescue", path="/rescue", title_key="nav.rescue",
    kpis=registry.RESCUE, needs_boundaries=True, needs=("rescues",),
    charts=(
        Chart("timeline", "rescue.timeline.title", rescue.missions, timeline_figure, height=TIMELINE_HEIGHT,
              wide=True),
        Chart("missions", "rescue.missions.title", rescue.missions, columns=mission_columns, rows=mission_rows,
              wide=True),
        Chart("routes", "rescue.routes.title", rescue.missions, routes_figure, height=460, wide=True),
    ),
    has_data=lambda kpis: bool(kpis.get("rescues").value),
    note=lambda view, empty: last_mission_of(view, empty),
)


def window_of(day: dt.date, today: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month holding `day` (up to today): the window a link to an older mission opens."""
    last = dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
    return day.replace(day=1), min(last, max(today, day))


def last_mission_note(last: dict | None, district: str, search: str | None, lang: str, today: dt.date,
                      empty: bool = True) -> html.Div:
    """The page's standing line on the latest mission. A window without one: "所选时间段内没有空地救援任务。最近一次
    任务：2026-09-14 15:02（芗城区，#12）。查看包含它的时间段 … →"; a window with missions: "最近一次任务：…"."""
    if last is None:
        return html.Div(t("rescue.last.never", lang), className="alert alert-info page-message rescue-last",
                        role="status")
    when = dict(time=f"{last['requested_at']:%Y-%m-%d %H:%M}", district=district, mission=last["mission_id"])
    if not empty:
        return html.Div(t("rescue.latest", lang, **when), className="alert alert-light page-message rescue-last",
                        role="status")
    start, end = window_of(last["day"], today)
    href = "/rescue" + with_params(search, range=None, start=start.isoformat(), end=end.isoformat())
    return html.Div([
        t("rescue.last", lang, **when), " ",
        dcc.Link(t("rescue.last.link", lang, start=start.isoformat(), end=end.isoformat()), href=href,
                 className="alert-link rescue-last-link")], className="alert alert-info page-message rescue-last",
        role="status")


def last_mission_of(view: View, empty: bool = True) -> html.Div:
    """The line above the page's figures: when the last mission up to the window's end was (and, for a window
    without one, a link to the window that holds it)."""
    last = rescue.last_mission_before(view.db, view.filters)
    names = metrics.district_names(view.db, view.filters.city).set_index("district_adcode")[
        "name_zh" if view.lang == "zh" else "name_en"]
    district = "" if last is None else names.get(last["district_adcode"], last["district_adcode"])
    return last_mission_note(last, district, view.search, view.lang, local_today(), empty)


layout = build(PAGE)
