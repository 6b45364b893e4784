"""Builders of the wall display (指挥大屏): the playlist read from the URL, dark large-type restyling of the desk
figures, KPI tiles, the district ranking and the priority-interrupt panel. Pure: data in, components out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from dash import html

from base.i18n import t
from components import theme
from components.formatting import change_direction, format_change
from components.kpi import ARROWS, kpi_tone, kpi_value_text
from data_access import registry
from data_access.registry import WALL, KpiSet
from data_access.timeutil import to_local

VIEWS = ("overview", "payouts", "districts", "map")
DEFAULT_PLAYLIST = (("overview", 30), ("map", 60), ("payouts", 20), ("districts", 20))
DEFAULT_DWELL_S = 30
DWELL_RANGE_S = (3, 900)
RUSH_HOURS = ((7, 9), (17, 19))             # local hours [from, to): the rush playlist plays then, if given
PANEL = "#121d2e"
INK = "#e8eef7"
MUTED = "#9fb0c8"
GRID = "#24344d"
FONT = 22


@dataclass(frozen=True)
class Playlist:
    items: tuple[tuple[str, int], ...]
    problems: tuple[str, ...] = ()


def parse_playlist(text: str | None, lang: str, default: tuple[tuple[str, int], ...] = DEFAULT_PLAYLIST
                   ) -> Playlist:
    """"overview:30,map:60,payouts:20" -> ((overview, 30), (map, 60), (payouts, 20)); unknown views are skipped and
    bad dwell times replaced, each with a message; nothing usable gives `default`."""
    if not text:
        return Playlist(default)
    items, problems = [], []
    low, high = DWELL_RANGE_S
    for raw in str(text).split(",")[:20]:
        item = raw.strip()
        if not item:
            continue
        name, _, seconds = item.partition(":")
        name = name.strip().lower()
        if name not in VIEWS:
            problems.append(t("wall.bad_view", lang, name=name[:20], known=", ".join(VIEWS)))
            continue
        dwell = DEFAULT_DWELL_S
        if seconds.strip():
            try:
                dwell = int(seconds)
                if not low <= dwell <= high:
                    raise ValueError(dwell)
            except ValueError:
                problems.append(t("wall.bad_dwell", lang, item=item[:24], low=low, high=high,
                                  default=DEFAULT_DWELL_S))
                dwell = DEFAULT_DWELL_S
        items.append((name, dwell))
    return Playlist(tuple(items) or default, tuple(problems))


def darken(figure: go.Figure, height: int | None = None) -> go.Figure:
    """A desk figure restyled for the wall: dark ground, light ink, type readable from five metres."""
    figure = go.Figure(figure)
    figure.update_layout(
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", font=dict(color=INK, size=FONT),
        title=dict(font=dict(size=30, color=INK), subtitle=dict(font=dict(size=18, color=MUTED))),
        # the wall is wide: the legend sits at the right of the subtitle's line, not on a line of its own
        legend=dict(orientation="h", x=1, xanchor="right", y=1.02, yanchor="bottom", font=dict(size=20, color=INK),
                    bgcolor="rgba(0,0,0,0)"),
        margin=dict(l=90, r=90, t=110, b=70), autosize=True, height=height, hoverlabel=dict(font=dict(size=18)),
    )
    figure.update_xaxes(gridcolor=GRID, linecolor=GRID, tickfont=dict(size=FONT, color=INK), title_font=dict(size=20))
    figure.update_yaxes(gridcolor=GRID, linecolor=GRID, tickfont=dict(size=FONT, color=INK), title_font=dict(size=20))
    figure.update_traces(selector=dict(type="bar"), textfont=dict(size=20, color=INK))
    figure.update_geos(bgcolor="rgba(0,0,0,0)")
    figure.update_traces(selector=dict(type="scattergeo"), textfont=dict(size=20))
    figure.update_traces(selector=dict(type="choropleth"),
                         colorbar=dict(title=dict(font=dict(size=20, color=INK)), tickfont=dict(size=20, color=INK),
                                       thickness=24))
    return figure


def kpi_tiles(overview: KpiSet, lang: str) -> list[html.Div]:
    """The headline KPIs as large tiles with their change against the comparison window."""
    tiles = []
    for key in WALL:
        kpi = overview.get(key)
        number, unit = kpi_value_text(kpi, lang)
        if kpi.too_small:
            change, tone = t("briefing.too_small", lang), "neutral"
        elif kpi.change is None:
            change, tone = "—", "neutral"
        else:
            change = f"{ARROWS[change_direction(kpi.change)]} {format_change(kpi.change, kpi.unit, lang)}"
            tone = kpi_tone(kpi)
        size = " wall-kpi-number-long" if len(number) > 7 else ""      # hours and minutes keep one line
        tiles.append(html.Div([html.Div(registry.label(key, lang), className="wall-kpi-label"),
                               html.Div([html.Span(number, className="wall-kpi-number" + size),
                                         html.Span("" if kpi.unit == "ratio" else unit, className="wall-kpi-unit")],
                                        className="wall-kpi-value"),
                               html.Div(change, className=f"wall-kpi-change {tone}")],
                              className="wall-kpi", **{"data-kpi": key}))
    return tiles


def districts_figure(summary: pd.DataFrame, lang: str, subtitle: str) -> go.Figure:
    """Quick-handling rate per district, best first (district_summary)."""
    title = t("wall.districts.title", lang)
    frame = summary[summary["alerts"] > 0].sort_values("quick_rate", ascending=True)
    if frame.empty:
        return darken(theme.message_figure(title, subtitle, t("wall.no_data", lang), 400))
    names = frame["name_zh" if lang == "zh" else "name_en"]
    figure = go.Figure(go.Bar(x=frame["quick_rate"] * 100, y=names, orientation="h", marker_color=theme.RATE,
                              text=[f"{v * 100:.1f}%" for v in frame["quick_rate"]], textposition="outside",
                              cliponaxis=False, hovertemplate="%{y}: %{x:.1f}%<extra></extra>"))
    figure.update_layout(**theme.base_layout(title, subtitle, 400), showlegend=False, bargap=0.25,
                         xaxis=dict(ticksuffix="%", rangemode="tozero"), yaxis=dict(automargin=True))
    return darken(figure)


def _clock(moment: dt.datetime | None) -> str:
    return "—" if moment is None else to_local(moment).strftime("%H:%M")


def interrupt_children(event: dict, lang: str) -> list:
    """What takes over the screen for a new rescue or major accident: what, where, and its timeline so far."""
    district = event["name_zh"] if lang == "zh" else event["name_en"]
    where = (t("wall.interrupt.where", lang, district=district, lon=event["lon"], lat=event["lat"])
             if event.get("lon") is not None else district)
    steps = [html.Li([html.Span(t(f"wall.stage.{stage}", lang), className="wall-step-name"),
                      html.Span(_clock(at) if at else t("wall.stage.pending", lang),
                                className="wall-step-time" + ("" if at else " pending"))],
                     className="wall-step" + (" done" if at else ""))
             for stage, at in event["timeline"]]
    return [html.Div(t(f"wall.interrupt.{event['kind']}", lang), className="wall-interrupt-kind"),
            html.Div(where, className="wall-interrupt-where"),
            html.Ol(steps, className="wall-timeline")]


def location_figure(geojson: dict, event: dict, lang: str) -> go.Figure:
    """The city's districts with the event's place marked."""
    figure = go.Figure(go.Choropleth(geojson=geojson, featureidkey="properties.adcode",
                                     locations=[f["properties"]["adcode"] for f in geojson.get("features", [])],
                                     z=[1 if f["properties"]["adcode"] == event["district_adcode"] else 0
                                        for f in geojson.get("features", [])],
                                     colorscale=[[0, PANEL], [1, "#7a1f1f"]], showscale=False,
                                     marker=dict(line=dict(color=MUTED, width=1)), hoverinfo="skip"))
    if event.get("lon") is not None:
        figure.add_trace(go.Scattergeo(lon=[event["lon"]], lat=[event["lat"]], mode="markers",
                                       marker=dict(size=28, color="#ff4d4f", line=dict(color="#ffffff", width=3)),
                                       hoverinfo="skip", showlegend=False))
    figure.update_layout(margin=dict(l=0, r=0, t=0, b=0), paper_bgcolor="rgba(0,0,0,0)", dragmode=False)
    figure.update_geos(visible=False, fitbounds="locations", projection_type="mercator", bgcolor="rgba(0,0,0,0)")
    return figure


UNITS_TRACE = 2      # the map view's traces: district choropleth, district labels, then the rider units


def units_trace(states: pd.DataFrame, lang: str) -> go.Scattergeo:
    """The rider units on duty at their latest positions, coloured by status as on the live map; what the wall's
    map view redraws every 10–15 s."""
    from components.live_map import STATUS_COLOURS

    on_duty = states[states["lon"].notna() & (states["status"] != "off_duty")]
    names = [t(f"live_map.status.{s}", lang) for s in on_duty["status"]]
    return go.Scattergeo(
        lon=on_duty["lon"].round(5).tolist(), lat=on_duty["lat"].round(5).tolist(), mode="markers",
        name=t("wall.units", lang), text=names, hovertemplate="%{text}<extra></extra>", showlegend=False,
        marker=dict(size=11, color=[STATUS_COLOURS[s] for s in on_duty["status"]],
                    line=dict(color="#0b1220", width=1.5)),
    )
