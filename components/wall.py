"""Builders of the wall display (指挥大屏): the playlist read from the URL, dark large-type restyling of the desk
figures, the "now" strip, KPI tiles, the payout stages, the district ranking, the map of today's alerts and the rider
units, and the priority-interrupt panel. Pure: data in, components out.

The wall is laid out at 1920×1080 and scaled as a whole to the screen (assets/wall.js), so a size given here in
pixels is the size at 1080p and twice that at 4K; nothing is smaller than MIN_FONT."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from dash import html

from base.i18n import t
from components import theme
from components.formatting import change_direction, format_change, format_duration
from components.kpi import ARROWS, immature_text, kpi_tone, kpi_value_text
from data_access import registry
from data_access.now import OPEN_STAGES, AlertsNow, UnitsNow
from data_access.registry import TOO_SMALL_TO_COMPARE, WALL, KpiSet
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
MIN_FONT = 24              # px at 1080p: read from five metres
FONT = 24
TITLE_FONT = 32


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
    """A desk figure restyled for the wall: dark ground, light ink, type readable from five metres (no text under
    MIN_FONT: titles, subtitles, ticks, axis titles, legends, bar labels, annotations, colour bars)."""
    figure = go.Figure(figure)
    figure.update_layout(
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", font=dict(color=INK, size=FONT),
        title=dict(font=dict(size=TITLE_FONT, color=INK), subtitle=dict(font=dict(size=FONT, color=MUTED))),
        # the wall is wide: the legend sits at the right of the subtitle's line, not on a line of its own
        legend=dict(orientation="h", x=1, xanchor="right", y=1.02, yanchor="bottom", font=dict(size=FONT, color=INK),
                    bgcolor="rgba(0,0,0,0)"),
        margin=dict(l=100, r=90, t=120, b=80), autosize=True, height=height, hoverlabel=dict(font=dict(size=FONT)),
    )
    axis = dict(gridcolor=GRID, linecolor=GRID, tickfont=dict(size=FONT, color=INK), title_font=dict(size=FONT))
    figure.update_xaxes(**axis)
    figure.update_yaxes(**axis)
    figure.update_annotations(font_size=FONT)
    figure.update_traces(selector=dict(type="bar"), textfont=dict(size=FONT, color=INK))
    figure.update_geos(bgcolor="rgba(0,0,0,0)")
    figure.update_traces(selector=dict(type="scattergeo"), textfont=dict(size=FONT))
    figure.update_traces(selector=dict(type="choropleth"),
                         colorbar=dict(title=dict(font=dict(size=FONT, color=INK)), tickfont=dict(size=FONT, color=INK),
                                       thickness=24))
    return figure


def duration_text(minutes: float | None, lang: str) -> str:
    """A duration as one string: "12.5 分钟" up to two hours, "43 小时 54 分" past them (format_duration)."""
    number, unit = format_duration(minutes, lang)
    return f"{number} {unit}".strip()


# ------------------------------------------------------------------------------------------------ the now strip
def _delta(label: str, today: int, before: int, lang: str) -> html.Div:
    """"较昨日同时段 +12 起（+38.7%）": the difference, with the relative change once the base is large enough to
    carry one; the base itself on hover ("昨日同时段 31 起")."""
    diff = today - before
    text = t("wall.now.delta", lang, label=label, diff=f"{diff:+,d}")
    if before >= TOO_SMALL_TO_COMPARE:
        text += t("wall.now.delta.pct", lang, pct=format_change(diff / before, "count", lang))
    return html.Div(text, className=f"wall-now-delta {change_direction(diff)}",
                    title=t("wall.now.delta.base", lang, label=label, base=f"{before:,d}"),
                    **{"data-before": str(before)})


def _figure(value: int, word: str, key: str) -> html.Span:
    return html.Span([html.Span(f"{value:,d}", className="wall-now-number"),
                      html.Span(word, className="wall-now-word")], className="wall-now-figure", **{"data-now": key})


def now_strip(alerts: AlertsNow, units: UnitsNow, rescue: dict | None, lang: str) -> list[html.Div]:
    """The "now" strip every view shows: today's alerts so far against the same clock time yesterday and a week
    before (each delta says what it compares with), today's open alerts by stage, the rider units by status, and the
    latest helicopter rescue."""
    time = to_local(alerts.at).strftime("%H:%M")
    tiles = [
        html.Div([html.Div(t("wall.now.alerts", lang, time=time), className="wall-now-label"),
                  html.Div([_figure(alerts.today, t("unit.cases", lang), "alerts"),
                            html.Div([_delta(t("wall.now.vs_yesterday", lang), alerts.today, alerts.yesterday, lang),
                                      _delta(t("wall.now.vs_last_week", lang), alerts.today, alerts.last_week, lang)],
                                     className="wall-now-deltas")], className="wall-now-row")],
                 className="wall-now-tile wall-now-alerts"),
        html.Div([html.Div(t("wall.now.open", lang), className="wall-now-label"),
                  html.Div([_figure(alerts.open[stage], t(f"wall.now.open.{stage}", lang), f"open-{stage}")
                            for stage in OPEN_STAGES], className="wall-now-row")],
                 className="wall-now-tile wall-now-open"),
        html.Div([html.Div(t("wall.now.units", lang), className="wall-now-label"),
                  html.Div([_figure(units.on_duty, t("wall.now.units.on_duty", lang), "on-duty"),
                            _figure(units.patrolling, t("wall.now.units.patrolling", lang), "patrolling"),
                            _figure(units.busy, t("wall.now.units.busy", lang), "busy")], className="wall-now-row")],
                 className="wall-now-tile wall-now-units"),
    ]
    if rescue is None:
        latest = [html.Span(t("wall.now.rescue.none", lang), className="wall-now-word")]
    else:
        district = rescue["name_zh" if lang == "zh" else "name_en"]
        when = to_local(rescue["requested_at"])
        day = "" if when.date() == to_local(alerts.at).date() else when.strftime("%m-%d ")
        stage = t("wall.stage." + rescue["stage"], lang)
        latest = [html.Span(f"{day}{when:%H:%M}", className="wall-now-time"),
                  html.Span(f"{district} · {stage}", className="wall-now-word")]
    tiles.append(html.Div([html.Div(t("wall.now.rescue", lang), className="wall-now-label"),
                           html.Div(latest, className="wall-now-row", **{"data-now": "rescue"})],
                          className="wall-now-tile wall-now-rescue"))
    return tiles


# ------------------------------------------------------------------------------------------------ payout stages
STAGE_TICKS = ((1, "1 min", "1 分"), (5, "5 min", "5 分"), (15, "15 min", "15 分"), (60, "1 h", "1 时"),
               (240, "4 h", "4 时"), (1440, "1 d", "1 天"), (4320, "3 d", "3 天"), (10080, "7 d", "7 天"))
P50_COLOUR, P90_COLOUR = "#4f8fd6", "#f0a03c"


def stages_figure(frame: pd.DataFrame, lang: str, subtitle: str) -> go.Figure:
    """Each payout stage's clock (payouts.stage_clocks), p50 and p90 as horizontal bars on a log time axis whose
    ticks read as times (15 分, 1 时, 1 天) and whose labels read as durations ("43 小时 54 分", never "2,634 分钟")."""
    title = t("payouts.stages.title", lang)
    if frame.empty or not int(frame["count"].sum()):
        return darken(theme.message_figure(title, subtitle, t("wall.no_data", lang), 400))
    ordered = frame.iloc[::-1]                       # the first stage on top
    names = [t(f"payouts.stage.{stage}", lang) for stage in ordered["stage"]]
    figure = theme.new_figure()
    for column, colour in (("p90", P90_COLOUR), ("p50", P50_COLOUR)):
        figure.add_bar(y=names, x=ordered[column], orientation="h", name=t(f"payouts.{column}", lang),
                       marker_color=colour, text=[duration_text(v, lang) if pd.notna(v) else "—"
                                                  for v in ordered[column]],
                       textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>")
    values = pd.concat([ordered["p50"], ordered["p90"]]).dropna()
    low = max(min(float(values.min()) if len(values) else 1.0, 1.0) / 2, 0.1)
    high = max(float(values.max()) if len(values) else 60.0, 60.0) * 6      # room for the labels at the right
    ticks = [(v, zh if lang == "zh" else en) for v, en, zh in STAGE_TICKS if low <= v <= high]
    figure.update_layout(**theme.base_layout(title, subtitle, 400), barmode="group", bargap=0.3, bargroupgap=0.08,
                         legend=dict(traceorder="reversed"),
                         xaxis=dict(type="log", range=[math.log10(low), math.log10(high)],
                                    tickvals=[v for v, _ in ticks], ticktext=[text for _, text in ticks],
                                    title=dict(text=t("wall.stages.axis", lang))),
                         yaxis=dict(automargin=True))
    return darken(figure)


def kpi_tiles(overview: KpiSet, lang: str) -> list[html.Div]:
    """The headline KPIs as large tiles with their change against the comparison window."""
    tiles = []
    for key in WALL:
        kpi = overview.get(key)
        number, unit = kpi_value_text(kpi, lang)
        if kpi.immature:
            change, tone = immature_text(kpi, lang), "neutral"
        elif kpi.too_small:
            change, tone = t("briefing.too_small", lang), "neutral"
        elif kpi.change is None:
            change, tone = "—", "neutral"
        else:
            change = f"{ARROWS[change_direction(kpi.change)]} {format_change(kpi.change, kpi.unit, lang)}"
            if overview.comparison is not None:        # what the change is against: "较去年同期 ▼ -1.2%"
                change = f"{t('wall.vs.' + overview.filters.comparison, lang)} {change}"
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
    figure = theme.new_figure(go.Bar(x=frame["quick_rate"] * 100, y=names, orientation="h", marker_color=theme.RATE,
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
    figure = theme.new_figure(go.Choropleth(geojson=geojson, featureidkey="properties.adcode",
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


# ------------------------------------------------------------------------------------------------ the map view
INCIDENT_COLOURS = {"awaiting": "#ff4d4f", "on_scene": "#ff9f43", "closed": "#5f7190"}    # circles
UNIT_COLOURS = {"patrolling": "#3fd0ff", "en_route": "#c58cff", "on_scene": "#ffffff"}      # diamonds
UNIT_SYMBOL, INCIDENT_SYMBOL = "diamond", "circle"
MAP_ASPECT = 1856 / 640          # width ÷ height of the map's plot area on the 1920×1080 wall
MAP_PAD = 0.08                   # share of the units' extent added around it


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def map_extent(lons: list[float], lats: list[float], aspect: float = MAP_ASPECT
               ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The longitude and latitude ranges that hold every point, padded, widened to the panel's aspect on a
    Mercator projection so that the map fills its panel; None without points."""
    if not lons:
        return None
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    pad_x, pad_y = max((east - west) * MAP_PAD, 0.005), max((north - south) * MAP_PAD, 0.005)
    west, east, south, north = west - pad_x, east + pad_x, south - pad_y, north + pad_y
    width = math.radians(east - west)
    height = _mercator_y(north) - _mercator_y(south)
    if width / height < aspect:                 # too narrow: widen about the centre
        grow = (height * aspect - width) / 2
        west, east = west - math.degrees(grow), east + math.degrees(grow)
    else:                                       # too flat: heighten about the centre (in Mercator y)
        middle, half = (_mercator_y(north) + _mercator_y(south)) / 2, width / aspect / 2
        south, north = (math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2) for y in (middle - half, middle + half))
    return (west, east), (south, north)


def _rings(geometry: dict) -> list[list[list[float]]]:
    if geometry.get("type") == "Polygon":
        return list(geometry["coordinates"])
    if geometry.get("type") == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def _lines(rings: list[list[list[float]]]) -> tuple[list, list]:
    """Rings as one line trace's coordinates, separated by None."""
    lon, lat = [], []
    for ring in rings:
        lon += [p[0] for p in ring] + [None]
        lat += [p[1] for p in ring] + [None]
    return lon, lat


def map_figure(geojson: dict, grids: pd.DataFrame, alerts: pd.DataFrame | None, unit_lons: list[float],
               unit_lats: list[float], lang: str, subtitle: str) -> go.Figure:
    """Today's alerts (circles, by stage) and the patrol grids over the district boundaries, zoomed to where the
    rider units patrol (their grids and positions) and filling the panel; the units themselves (diamonds) are trace
    UNITS_TRACE, added by `units_trace` (they move every 10–15 s, the rest once a minute)."""
    name = "name_zh" if lang == "zh" else "name_en"
    features = geojson.get("features") or []
    figure = theme.new_figure()
    d_lon, d_lat = _lines([ring for f in features for ring in _rings(f["geometry"])])
    figure.add_trace(go.Scattergeo(lon=d_lon, lat=d_lat, mode="lines", line=dict(color=MUTED, width=1.5),
                                   hoverinfo="skip", showlegend=False))
    grid_rings = [ring for polygon in grids["polygon"] for ring in _rings(polygon)] if len(grids) else []
    g_lon, g_lat = _lines(grid_rings)
    figure.add_trace(go.Scattergeo(lon=g_lon, lat=g_lat, mode="lines", line=dict(color="#2f6f8f", width=2),
                                   name=t("wall.map.grids", lang), hoverinfo="skip"))
    extent = map_extent([p[0] for r in grid_rings for p in r] + list(unit_lons),
                        [p[1] for r in grid_rings for p in r] + list(unit_lats))
    figure.add_traces(alert_traces(alerts, lang))
    for status, colour in UNIT_COLOURS.items():               # the units' legend (the units trace has none)
        figure.add_trace(go.Scattergeo(lon=[None], lat=[None], mode="markers", name=t(f"wall.map.units.{status}", lang),
                                       marker=dict(symbol=UNIT_SYMBOL, size=20, color=colour,
                                                   line=dict(color="#0b1220", width=2)), hoverinfo="skip"))
    centres = [f["properties"] for f in features]
    if extent is not None:
        (west, east), (south, north) = extent
        centres = [p for p in centres if west < p["center_lon"] < east and south < p["center_lat"] < north]
    figure.add_trace(go.Scattergeo(lon=[p["center_lon"] for p in centres], lat=[p["center_lat"] for p in centres],
                                   text=[p[name] for p in centres], mode="text", hoverinfo="skip", showlegend=False,
                                   textfont=dict(size=FONT, color=MUTED, family=theme.FONT_FAMILY)))
    figure.update_layout(
        title=dict(text=t("wall.view.map", lang), subtitle=dict(text=subtitle), x=0.01, xanchor="left", y=0.97,
                   yanchor="top"),
        font=dict(family=theme.FONT_FAMILY), dragmode=False, showlegend=True)
    geo = dict(visible=False, projection_type="mercator", bgcolor="rgba(0,0,0,0)", domain=dict(x=[0, 1], y=[0, 1]))
    if extent is not None:
        geo.update(lonaxis_range=list(extent[0]), lataxis_range=list(extent[1]))
    else:
        geo.update(fitbounds="locations")
    figure.update_geos(**geo)
    figure = darken(figure)
    figure.update_layout(margin=dict(l=8, r=8, t=120, b=8))
    return figure


UNITS_TRACE = 9      # the map view's traces: districts, grids, 3 × alerts, 3 × units' legend, labels, then the units
ALERT_TRACES = slice(2, 5)
ALERT_STAGES = ("closed", "on_scene", "awaiting")          # open ones drawn last, on top


def alert_traces(alerts: pd.DataFrame | None, lang: str) -> list[go.Scattergeo]:
    """Today's alerts as one trace of circles per stage, styled for the wall as `darken` would (None: no alerts)."""
    placed = alerts[alerts["lon"].notna()] if alerts is not None else None
    traces = []
    for stage in ALERT_STAGES:
        rows = placed[placed["stage"] == stage] if placed is not None else None
        lon = rows["lon"].round(5).tolist() if rows is not None else []
        lat = rows["lat"].round(5).tolist() if rows is not None else []
        traces.append(go.Scattergeo(       # [None] when empty: the legend still lists it
            lon=lon or [None], lat=lat or [None], mode="markers", name=t(f"wall.map.alerts.{stage}", lang),
            hoverinfo="skip", textfont=dict(size=FONT),
            marker=dict(symbol=INCIDENT_SYMBOL, size=10 if stage == "closed" else 16, color=INCIDENT_COLOURS[stage],
                        line=dict(color="#0b1220", width=1), opacity=0.8 if stage == "closed" else 1)))
    return traces


def with_alerts(base: dict, alerts: pd.DataFrame, lang: str, subtitle: str) -> dict:
    """`map_figure(..., alerts, ..., subtitle)` as a dict, from the dict of the same map drawn without alerts: only
    the alert traces and the subtitle are built, once a minute; the outlines, grids and labels are not redrawn. The
    base is shared (cached): it is copied where it changes, never modified."""
    data = list(base["data"])
    data[ALERT_TRACES] = [trace.to_plotly_json() for trace in alert_traces(alerts, lang)]
    title = base["layout"]["title"]
    layout = {**base["layout"], "title": {**title, "subtitle": {**title.get("subtitle", {}), "text": subtitle}}}
    return {**base, "data": data, "layout": layout}


def units_trace(states: pd.DataFrame, lang: str) -> go.Scattergeo:
    """The rider units on duty at their latest positions, as diamonds coloured by status (the alerts are circles);
    what the wall's map view redraws every 10–15 s."""
    on_duty = states[states["lon"].notna() & states["status"].isin(list(UNIT_COLOURS))]
    names = [t(f"live_map.status.{s}", lang) for s in on_duty["status"]]
    return go.Scattergeo(
        lon=on_duty["lon"].round(5).tolist(), lat=on_duty["lat"].round(5).tolist(), mode="markers",
        name=t("wall.units", lang), text=names, hovertemplate="%{text}<extra></extra>", showlegend=False,
        marker=dict(symbol=UNIT_SYMBOL, size=20, color=[UNIT_COLOURS[s] for s in on_duty["status"]],
                    line=dict(color="#0b1220", width=2)),
    )
