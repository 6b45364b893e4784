"""Figure builders shared by the analytics pages: counts over time with a rate line and duty periods shaded,
bars per district that drill in on click, latency lines, heat maps, grouped bars. Pure: rows in, figure out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from base.i18n import t
from components import theme
from components.theme import LEGEND_TOP, TOP_WITH_LEGEND, with_legend_room
from components.trend import shade_duty_periods
from data_access.filters import Filters


@dataclass(frozen=True)
class Context:
    """What a figure builder knows besides its rows."""

    lang: str
    subtitle: str                 # place · window
    filters: Filters
    params: tuple[tuple[str, str], ...] = ()
    duty: pd.DataFrame | None = None
    boundaries: dict | None = None      # the city's districts as GeoJSON, for pages that draw a small map

    def param(self, name: str) -> str:
        return dict(self.params)[name]


@dataclass(frozen=True)
class Series:
    column: str
    label: str
    colour: str
    kind: str = "bar"             # bar | line
    unit: str = ""                # shown in the hover
    fmt: str = ",.0f"
    secondary: bool = False       # on the right-hand axis (rates, shares)


def empty(frame: pd.DataFrame, columns: Sequence[str]) -> bool:
    """No rows, or nothing but zeros and gaps in the columns drawn."""
    if frame.empty:
        return True
    values = frame[list(columns)].apply(pd.to_numeric, errors="coerce").fillna(0)
    return not bool(values.to_numpy().any())


def axis_title(text: str, colour: str | None = None) -> dict:
    return dict(text=text, font=dict(size=12, **({"color": colour} if colour else {})))


def over_time(frame: pd.DataFrame, x: str, series: Sequence[Series], title: str, subtitle: str, height: int,
              lang: str, y_title: str, y2_title: str | None = None, duty: pd.DataFrame | None = None,
              barmode: str = "group", percent_y2: bool = True, x_format: str | None = None) -> go.Figure:
    """Bars and lines over a date axis; series marked `secondary` go on a right-hand axis (in percent when
    `percent_y2`); duty periods shaded and named."""
    if empty(frame, [s.column for s in series]):
        return theme.message_figure(title, subtitle, t("message.empty", lang), height)
    days = pd.to_datetime(frame[x])
    figure = go.Figure()
    for s in series:
        values = frame[s.column].astype(float) * (100 if s.secondary and percent_y2 else 1)
        suffix = "%" if s.secondary and percent_y2 else (" " + s.unit if s.unit else "")
        fmt = ".1f" if s.secondary and percent_y2 else s.fmt
        common = dict(x=days, y=values, name=s.label, yaxis="y2" if s.secondary else "y",
                      hovertemplate=f"%{{y:{fmt}}}{suffix}<extra>%{{fullData.name}}</extra>")
        if s.kind == "bar":
            figure.add_bar(marker_color=s.colour, **common)
        else:
            figure.add_scatter(mode="lines+markers" if len(frame) <= 60 else "lines", connectgaps=False,
                               line=dict(color=s.colour, width=2), marker=dict(size=5), **common)
    layout = with_legend_room(theme.base_layout(title, subtitle, height))
    if y2_title:
        layout["margin"] = dict(l=60, r=64, t=TOP_WITH_LEGEND, b=36)
    span = (days.max() - days.min()).days if len(days) else 0
    figure.update_layout(
        **layout, barmode=barmode, bargap=0.15, hovermode="x unified", legend=LEGEND_TOP,
        xaxis=dict(type="date", tickformat=x_format or ("%m-%d" if span <= 120 else "%Y-%m"),
                   hoverformat="%Y-%m-%d", showgrid=False, linecolor=theme.GRID, ticks="outside",
                   tickcolor=theme.GRID),
        yaxis=dict(title=axis_title(y_title), gridcolor=theme.GRID, rangemode="tozero", zeroline=False),
    )
    if y2_title:
        secondary = dict(title=axis_title(y2_title), overlaying="y", side="right", showgrid=False, zeroline=False,
                         rangemode="tozero")
        if percent_y2:
            secondary.update(range=[0, 104], tickvals=[0, 20, 40, 60, 80, 100], ticksuffix="%")
        figure.update_layout(yaxis2=secondary)
    if duty is not None and len(days):
        shade_duty_periods(figure, duty, days.min(), days.max(), lang)
    return figure


def by_district(frame: pd.DataFrame, series: Sequence[Series], title: str, subtitle: str, height: int, lang: str,
                y_title: str, chosen: Sequence[str] = (), barmode: str = "stack", sort_by: str | None = None,
                y2_title: str | None = None) -> go.Figure:
    """One bar group per district (a click drills in: customdata[0] is the adcode); the districts in focus are
    outlined. `sort_by` orders the districts, largest first."""
    if empty(frame, [s.column for s in series]):
        return theme.message_figure(title, subtitle, t("message.empty", lang), height)
    if sort_by:
        frame = frame.sort_values(sort_by, ascending=False, kind="stable", na_position="last")
    names = frame["name_zh" if lang == "zh" else "name_en"]
    custom = frame[["district_adcode"]].to_numpy()
    outline = [theme.INK if code in chosen else "rgba(0,0,0,0)" for code in frame["district_adcode"]]
    figure = go.Figure()
    for s in series:
        values = frame[s.column].astype(float) * (100 if s.secondary else 1)
        suffix = "%" if s.secondary else (" " + s.unit if s.unit else "")
        fmt = ".1f" if s.secondary else s.fmt
        hover = f"%{{x}}<br>%{{fullData.name}}: %{{y:{fmt}}}{suffix}<extra></extra>"
        if s.kind == "bar":
            figure.add_bar(x=names, y=values, name=s.label, customdata=custom, hovertemplate=hover,
                           marker=dict(color=s.colour, line=dict(color=outline, width=2)))
        else:
            figure.add_scatter(x=names, y=values, name=s.label, customdata=custom, hovertemplate=hover,
                               mode="markers", marker=dict(color=s.colour, size=9, symbol="diamond"),
                               yaxis="y2" if s.secondary else "y")
    figure.update_layout(
        **with_legend_room(theme.base_layout(title, subtitle, height)), barmode=barmode, bargap=0.3,
        legend=LEGEND_TOP,
        xaxis=dict(showgrid=False, linecolor=theme.GRID, tickangle=-35 if len(frame) > 12 else 0),
        yaxis=dict(title=axis_title(y_title), gridcolor=theme.GRID, rangemode="tozero", zeroline=False),
    )
    if y2_title:
        figure.update_layout(yaxis2=dict(title=axis_title(y2_title), overlaying="y", side="right", showgrid=False,
                                         range=[0, 104], tickvals=[0, 20, 40, 60, 80, 100], ticksuffix="%",
                                         zeroline=False))
    return figure


def categories(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]], title: str,
               subtitle: str, height: int, lang: str, y_title: str, unit: str = "", fmt: str = ",.0f",
               horizontal: bool = False, percent: bool = False, text: bool = True) -> go.Figure:
    """Grouped bars over named categories; `series` is (name, values, colour)."""
    if not series or all(not np.nansum(np.asarray(values, dtype=float)) for _, values, _ in series):
        return theme.message_figure(title, subtitle, t("message.empty", lang), height)
    figure = go.Figure()
    for name, values, colour in series:
        values = np.asarray(values, dtype=float) * (100 if percent else 1)
        shown = [("" if np.isnan(v) else (f"{v:.1f}%" if percent else f"{v:{fmt}}")) for v in values]
        suffix = "%" if percent else (" " + unit if unit else "")
        hover = (f"%{{{'y' if horizontal else 'x'}}}<br>%{{fullData.name}}: "
                 f"%{{{'x' if horizontal else 'y'}:{'.1f' if percent else fmt}}}{suffix}<extra></extra>")
        xy = dict(x=values, y=list(labels), orientation="h") if horizontal else dict(x=list(labels), y=values)
        figure.add_bar(name=name, marker_color=colour, text=shown if text else None, textposition="outside",
                       cliponaxis=False, hovertemplate=hover, **xy)
    value_axis = dict(title=axis_title(y_title), gridcolor=theme.GRID, rangemode="tozero", zeroline=False,
                      **({"ticksuffix": "%"} if percent else {}))
    category_axis = dict(showgrid=False, linecolor=theme.GRID, automargin=True)
    layout = theme.base_layout(title, subtitle, height)
    if len(series) > 1:
        with_legend_room(layout)
    if horizontal:
        layout["margin"] = dict(l=120, r=56, t=layout["margin"]["t"], b=40)
        category_axis["autorange"] = "reversed"
    figure.update_layout(**layout, barmode="group", bargap=0.3, legend=LEGEND_TOP,
                         showlegend=len(series) > 1,
                         xaxis=value_axis if horizontal else category_axis,
                         yaxis=category_axis if horizontal else value_axis)
    return figure


def heatmap(z: np.ndarray, x_labels: Sequence[str], y_labels: Sequence[str], title: str, subtitle: str, height: int,
            lang: str, value_label: str, fmt: str = ".1f") -> go.Figure:
    if z.size == 0 or not np.nansum(z):
        return theme.message_figure(title, subtitle, t("message.empty", lang), height)
    figure = go.Figure(go.Heatmap(
        z=z, x=list(x_labels), y=list(y_labels), colorscale=theme.MAP_SCALE, xgap=1, ygap=1,
        colorbar=dict(title=dict(text=value_label, side="right"), thickness=12),
        hovertemplate=f"%{{y}} %{{x}}<br>{value_label}: %{{z:{fmt}}}<extra></extra>",
    ))
    figure.update_layout(**theme.base_layout(title, subtitle, height),
                         xaxis=dict(showgrid=False, tickmode="array", tickvals=list(x_labels)[::2], side="bottom"),
                         yaxis=dict(showgrid=False, autorange="reversed"))
    return figure


def heat_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    z = frame.pivot(index="weekday", columns="hour", values="per_day").reindex(index=range(7), columns=range(24))
    return heatmap(z.to_numpy(dtype=float), [f"{h:02d}" for h in range(24)],
                          [t(f"weekday.{d}", lang) for d in range(7)], t("throughput.heat.title", lang),
                          ctx.subtitle, 380, lang, t("throughput.heat.value", lang))


def backlog_figure(frame: pd.DataFrame, ctx: Context):
    lang = ctx.lang
    cases = t("unit.cases", lang)
    return over_time(
        frame, "day",
        [Series("opened", t("mediation.opened", lang), theme.METRIC_COLOURS["opened"], unit=cases),
         Series("closed", t("mediation.closed", lang), theme.METRIC_COLOURS["closed"], unit=cases),
         Series("backlog", t("mediation.backlog", lang), theme.METRIC_COLOURS["backlog"], kind="line", unit=cases,
                secondary=True)],
        t("mediation.backlog.title", lang), ctx.subtitle, 400, lang, t("mediation.axis.per_day", lang),
        t("mediation.axis.backlog", lang), ctx.duty, percent_y2=False)
