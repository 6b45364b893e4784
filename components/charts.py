"""Figure builders shared by the analytics pages: counts over time with a rate line and duty periods shaded,
bars per district that drill in on click, latency lines, heat maps, grouped bars. Pure: rows in, figure out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from base.i18n import t
from components import periods, theme
from components.theme import LEGEND_TOP, TOP_WITH_LEGEND, with_legend_room
from data_access.filters import Filters
from data_access.throughput import resolved_grain

CONTEXT_OPACITY = 0.35           # bars of trailing context, outside the chosen window
PARTIAL_OPACITY = 0.6            # bars of a period the window cuts
WINDOW_FILL = "rgba(31, 95, 168, 0.06)"
WEEK_ZERO = "2000-01-03"         # a Monday: weeks run from Monday
DUTY_LABELS_PER_AXIS = 8         # duty names at least 1/8 of the axis apart
NOTES_BOTTOM = 40                # px under the plot for level tick labels, above the notes
NOTE_LINE = 16                   # px a line of notes takes
DUTY_LABEL_MAX_DAYS = 400        # beyond this the names would pile up: the shading stays, a note names the kinds


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


def whole_numbers(values: Sequence[float] | np.ndarray | pd.Series) -> bool:
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").dropna().astype(float)
    return bool(len(numbers)) and bool((numbers == numbers.round()).all())


def count_axis(top: float) -> dict:
    """A value axis of counts: whole-number ticks only (no 0.5 or 5.67, and no 2.5 steps read as 0, 3, 5, 8, 10, 13:
    below 30 the step is chosen here; above, plotly's steps are whole)."""
    axis = dict(tickformat=",d")
    if top < 30:
        axis["dtick"] = 1 if top <= 5 else 2 if top <= 12 else 5
    return axis


def own_ticks(axis: dict) -> dict:
    """A right-hand axis with round ticks of its own: plotly.js ticks an overlaying axis given no ticks in step with
    the left one ("sync"), at values such as 1,350 / 2,710 km."""
    if "dtick" not in axis and "tickvals" not in axis:
        axis = {**axis, "tickmode": "auto"}
    return axis


def value_axis(frames: Sequence[pd.Series], stacked: bool = False) -> dict:
    """Count ticks when every value drawn on the axis is a whole number, plotly's own ticks otherwise."""
    if not frames or not all(whole_numbers(values) for values in frames):
        return {}
    columns = [pd.to_numeric(values, errors="coerce").fillna(0).to_numpy(dtype=float) for values in frames]
    top = float(np.sum(columns, axis=0).max()) if stacked and len({len(c) for c in columns}) == 1 else \
        max(float(c.max()) if len(c) else 0.0 for c in columns)
    return count_axis(top)


def period_marks(frame: pd.DataFrame, x: str, grain: str, window: tuple | None) -> tuple[list[bool], list[bool]]:
    """(context, partial) flags of each row, from the frame's own columns or from the window."""
    if "partial" not in frame and window is not None:
        frame = periods.mark(frame, x, grain, *window)
    n = len(frame)
    context = [bool(v) for v in frame["context"]] if "context" in frame else [False] * n
    partial = [bool(v) for v in frame["partial"]] if "partial" in frame else [False] * n
    return context, partial


def marked_bar(colour: str, context: list[bool], partial: list[bool], outline=None) -> dict:
    """Bars of trailing context lighter, bars of a period cut by the window hatched and a little lighter."""
    marker = dict(color=colour, opacity=[CONTEXT_OPACITY if c else PARTIAL_OPACITY if p else 1.0
                                         for c, p in zip(context, partial, strict=True)])
    if any(partial):
        marker["pattern"] = dict(shape=["/" if p else "" for p in partial], solidity=0.35, fgcolor=theme.INK,
                                 fgopacity=0.35)
    if outline is not None:
        marker["line"] = outline
    return marker


def add_notes(figure: go.Figure, notes: Sequence[str]) -> None:
    """One muted line under the plot saying what lighter, hatched or shaded marks mean. It is the x axis's title, so
    plotly places it below the tick labels however they turn (month labels of a half-width chart are rotated)."""
    if not notes:
        return
    axis = figure.layout.xaxis
    text = " · ".join(notes) if not (axis.title and axis.title.text) else f"{axis.title.text}<br>{' · '.join(notes)}"
    figure.update_xaxes(title=dict(text=text, font=dict(size=11, color=theme.MUTED), standoff=8), automargin=True)
    # the room the lines take under level tick labels, kept from the start: plotly.js would otherwise draw the chart,
    # find its bottom margin short and draw it all again (40-60 ms in the browser); turned labels still grow it
    lines = text.count("<br>") + 1
    bottom = figure.layout.margin.b or 0
    figure.update_layout(margin=dict(b=max(bottom, NOTES_BOTTOM + NOTE_LINE * lines)))


def mark_window(figure: go.Figure, window: tuple, lang: str) -> None:
    """Shade the chosen window where the chart also shows trailing context before it."""
    start, end = pd.Timestamp(window[0]), pd.Timestamp(window[1]) + pd.Timedelta(days=1)
    figure.add_shape(type="rect", xref="x", yref="paper", x0=start, x1=end, y0=0, y1=1, layer="below",
                     fillcolor=WINDOW_FILL, line_width=0)
    figure.add_annotation(x=start, y=1, xref="x", yref="paper", xanchor="left", yanchor="top", showarrow=False,
                          text=t("chart.window", lang), font=dict(size=11, color=theme.BRAND))


def over_time(frame: pd.DataFrame, x: str, series: Sequence[Series], title: str, subtitle: str, height: int,
              lang: str, y_title: str, y2_title: str | None = None, duty: pd.DataFrame | None = None,
              barmode: str = "group", percent_y2: bool = True, grain: str = "day",
              window: tuple | None = None) -> go.Figure:
    """Bars and lines over a date axis, one per period of `grain` (bars of a week or month fill their period);
    series marked `secondary` go on a right-hand axis (in percent when `percent_y2`); duty periods shaded and named.
    Rows of trailing context (a `context` column) are lighter and the chosen `window` shaded; periods cut by the
    window (a `partial` column, or computed from `window`) are hatched. One tick label per period; count axes tick
    at whole numbers."""
    if empty(frame, [s.column for s in series]):
        return theme.message_figure(title, subtitle, t("message.empty", lang), height)
    frame = frame.sort_values(x, kind="stable").reset_index(drop=True)
    days = pd.to_datetime(frame[x])
    if grain != "day":               # a period cut by the window is drawn, and labelled, as its whole period
        days = days.dt.to_period(periods.FREQ[grain]).dt.start_time
    context, partial = period_marks(frame, x, grain, window)
    period = {} if grain == "day" else dict(xperiod=periods.AXIS_PERIOD[grain], xperiodalignment="middle",
                                            xperiod0=WEEK_ZERO if grain == "week" else None)
    figure = theme.new_figure()
    for s in series:
        values = frame[s.column].astype(float) * (100 if s.secondary and percent_y2 else 1)
        suffix = "%" if s.secondary and percent_y2 else (" " + s.unit if s.unit else "")
        fmt = ".1f" if s.secondary and percent_y2 else s.fmt
        common = dict(x=days, y=values, name=s.label, yaxis="y2" if s.secondary else "y",
                      hovertemplate=f"%{{y:{fmt}}}{suffix}<extra>%{{fullData.name}}</extra>", **period)
        if s.kind == "bar":
            figure.add_bar(marker=marked_bar(s.colour, context, partial), **common)
        else:
            figure.add_scatter(mode="lines+markers" if len(frame) <= 60 else "lines", connectgaps=False,
                               line=dict(color=s.colour, width=2),
                               marker=dict(size=5, symbol=["circle-open" if p else "circle" for p in partial],
                                           opacity=[CONTEXT_OPACITY if c else 1.0 for c in context]), **common)
    layout = with_legend_room(theme.base_layout(title, subtitle, height))
    if y2_title:
        layout["margin"] = dict(l=60, r=64, t=TOP_WITH_LEGEND, b=36)
    tickvals, ticktext = periods.ticks(list(days), grain)
    primary = [frame[s.column] for s in series if not s.secondary]
    figure.update_layout(
        **layout, barmode=barmode, bargap=0.15, hovermode="x unified", legend=LEGEND_TOP,
        xaxis=dict(type="date", tickmode="array", tickvals=tickvals, ticktext=ticktext,
                   hoverformat=t(f"chart.hover.{grain}", lang), showgrid=False, linecolor=theme.GRID,
                   ticks="outside", tickcolor=theme.GRID),
        yaxis=dict(title=axis_title(y_title), gridcolor=theme.GRID, rangemode="tozero", zeroline=False,
                   **value_axis(primary, stacked=barmode in ("stack", "relative"))),
    )
    if y2_title:
        secondary = dict(title=axis_title(y2_title), overlaying="y", side="right", showgrid=False, zeroline=False,
                         rangemode="tozero")
        if percent_y2:
            secondary.update(range=[0, 104], tickvals=[0, 20, 40, 60, 80, 100], ticksuffix="%")
        else:
            secondary.update(value_axis([frame[s.column] for s in series if s.secondary]))
        figure.update_layout(yaxis2=own_ticks(secondary))
    notes = []
    if any(context) and window is not None:
        mark_window(figure, window, lang)
        notes.append(t("chart.note.context", lang))
    if any(partial):
        notes.append(t("chart.note.partial", lang))
    if duty is not None and len(days):
        last = days.max() if grain == "day" else periods.natural_span(days.max(), grain)[1]
        notes += shade_duty_periods(figure, duty, days.min(), last, lang)
    add_notes(figure, notes)
    return figure


def shade_duty_periods(figure: go.Figure, duty: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp,
                       lang: str) -> list[str]:
    """Shade the duty periods between `first` and `last` and name them where the names have room; on a long axis
    the names would pile up, so they are left out and the note returned (for `add_notes`) says what the shading is."""
    # Shapes and labels set in one update: add_vrect per period re-validates the whole layout each time.
    name_column = "name_zh" if lang == "zh" else "name_en"
    span = max((last - first).days, 1)
    gap = pd.Timedelta(days=span / DUTY_LABELS_PER_AXIS)
    shapes, labels, kinds, previous = [], [], [], None
    for row in duty.itertuples(index=False):
        start = max(pd.Timestamp(row.start_day), first) - pd.Timedelta(hours=12)
        end = min(pd.Timestamp(row.end_day), last) + pd.Timedelta(hours=12)
        if end < start:
            continue
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=start, x1=end, y0=0, y1=1,
                           fillcolor=theme.DUTY, line=dict(width=0), layer="below"))
        kind = duty_kind_name(getattr(row, name_column))
        if kind not in kinds:
            kinds.append(kind)
        if span <= DUTY_LABEL_MAX_DAYS and (previous is None or start - previous >= gap):
            previous = start
            labels.append(dict(x=start, y=1, xref="x", yref="paper", text=getattr(row, name_column),
                               showarrow=False, xanchor="left", yanchor="top", font=dict(size=11, color=theme.RATE)))
    if not shapes:
        return []
    figure.update_layout(shapes=[*figure.layout.shapes, *shapes], annotations=[*figure.layout.annotations, *labels])
    if len(labels) == len(shapes):
        return []
    return [t("chart.note.duty", lang, kinds="、".join(kinds) if lang == "zh" else ", ".join(kinds))]


def duty_kind_name(name: str) -> str:
    """A duty period's name without its year: 2026年春运 → 春运, National Day 2026 → National Day."""
    return re.sub(r"^\d{4}年|\s*\d{4}$", "", name).strip()


def by_district(frame: pd.DataFrame, series: Sequence[Series], title: str, subtitle: str, height: int, lang: str,
                y_title: str, chosen: Sequence[str] = (), barmode: str = "stack", sort_by: str | None = None,
                y2_title: str | None = None, percent_y2: bool = True) -> go.Figure:
    """One bar group per district (a click drills in: customdata[0] is the adcode); the districts in focus are
    outlined. `sort_by` orders the districts, largest first. Series marked `secondary` go on a right-hand axis: in
    percent when `percent_y2`, else a small count beside large ones (its bars keep their place in the group)."""
    if empty(frame, [s.column for s in series]):
        return theme.message_figure(title, subtitle, t("message.empty", lang), height)
    if sort_by:
        frame = frame.sort_values(sort_by, ascending=False, kind="stable", na_position="last")
    names = frame["name_zh" if lang == "zh" else "name_en"]
    custom = frame[["district_adcode"]].to_numpy()
    outline = [theme.INK if code in chosen else "rgba(0,0,0,0)" for code in frame["district_adcode"]]
    figure = theme.new_figure()
    for i, s in enumerate(series):
        percent = s.secondary and percent_y2
        values = frame[s.column].astype(float) * (100 if percent else 1)
        suffix = "%" if percent else (" " + s.unit if s.unit else "")
        fmt = ".1f" if percent else s.fmt
        hover = f"%{{x}}<br>%{{fullData.name}}: %{{y:{fmt}}}{suffix}<extra></extra>"
        axis = "y2" if s.secondary else "y"
        if s.kind == "bar":
            grouped = dict(offsetgroup=str(i)) if barmode == "group" else {}
            figure.add_bar(x=names, y=values, name=s.label, customdata=custom, hovertemplate=hover, yaxis=axis,
                           marker=dict(color=s.colour, line=dict(color=outline, width=2)), **grouped)
        else:
            figure.add_scatter(x=names, y=values, name=s.label, customdata=custom, hovertemplate=hover,
                               mode="markers", marker=dict(color=s.colour, size=9, symbol="diamond"), yaxis=axis)
    primary = [frame[s.column] for s in series if not s.secondary]
    figure.update_layout(
        **with_legend_room(theme.base_layout(title, subtitle, height)), barmode=barmode, bargap=0.3,
        legend=LEGEND_TOP,
        xaxis=dict(showgrid=False, linecolor=theme.GRID, tickangle=-35 if len(frame) > 12 else 0),
        yaxis=dict(title=axis_title(y_title), gridcolor=theme.GRID, rangemode="tozero", zeroline=False,
                   **value_axis(primary, stacked=barmode in ("stack", "relative"))),
    )
    if y2_title:
        secondary = dict(title=axis_title(y2_title), overlaying="y", side="right", showgrid=False, zeroline=False)
        if percent_y2:
            secondary.update(range=[0, 104], tickvals=[0, 20, 40, 60, 80, 100], ticksuffix="%")
        else:
            colour = next(s.colour for s in series if s.secondary)
            secondary.update(title=axis_title(y2_title, colour), tickfont=dict(color=colour), rangemode="tozero",
                             **value_axis([frame[s.column] for s in series if s.secondary]))
        figure.update_layout(yaxis2=own_ticks(secondary))
    return figure


def categories(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]], title: str,
               subtitle: str, height: int, lang: str, y_title: str, unit: str = "", fmt: str = ",.0f",
               horizontal: bool = False, percent: bool = False, text: bool = True) -> go.Figure:
    """Grouped bars over named categories; `series` is (name, values, colour). A count axis ticks at whole
    numbers."""
    if not series or all(not np.nansum(np.asarray(values, dtype=float)) for _, values, _ in series):
        return theme.message_figure(title, subtitle, t("message.empty", lang), height)
    figure = theme.new_figure()
    for name, values, colour in series:
        values = np.asarray(values, dtype=float) * (100 if percent else 1)
        shown = [("" if np.isnan(v) else (f"{v:.1f}%" if percent else f"{v:{fmt}}")) for v in values]
        suffix = "%" if percent else (" " + unit if unit else "")
        hover = (f"%{{{'y' if horizontal else 'x'}}}<br>%{{fullData.name}}: "
                 f"%{{{'x' if horizontal else 'y'}:{'.1f' if percent else fmt}}}{suffix}<extra></extra>")
        xy = dict(x=values, y=list(labels), orientation="h") if horizontal else dict(x=list(labels), y=values)
        figure.add_bar(name=name, marker_color=colour, text=shown if text else None, textposition="outside",
                       cliponaxis=False, hovertemplate=hover, **xy)
    counts = {} if percent else value_axis([pd.Series(np.asarray(values, dtype=float)) for _, values, _ in series])
    numbers_axis = dict(title=axis_title(y_title), gridcolor=theme.GRID, rangemode="tozero", zeroline=False,
                        **({"ticksuffix": "%"} if percent else counts))
    category_axis = dict(showgrid=False, linecolor=theme.GRID, automargin=True)
    layout = theme.base_layout(title, subtitle, height)
    if len(series) > 1:
        with_legend_room(layout)
    if horizontal:
        layout["margin"] = dict(l=120, r=56, t=layout["margin"]["t"], b=40)
        category_axis["autorange"] = "reversed"
    figure.update_layout(**layout, barmode="group", bargap=0.3, legend=LEGEND_TOP,
                         showlegend=len(series) > 1,
                         xaxis=numbers_axis if horizontal else category_axis,
                         yaxis=category_axis if horizontal else numbers_axis)
    return figure


def heatmap(z: np.ndarray, x_labels: Sequence[str], y_labels: Sequence[str], title: str, subtitle: str, height: int,
            lang: str, value_label: str, fmt: str = ".1f") -> go.Figure:
    if z.size == 0 or not np.nansum(z):
        return theme.message_figure(title, subtitle, t("message.empty", lang), height)
    figure = theme.new_figure(go.Heatmap(
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


def backlog_rows(frame: pd.DataFrame, grain: str) -> pd.DataFrame:
    """The day rows of the mediation backlog per period of `grain`: cases opened and closed in it, the backlog
    open at its last day."""
    return periods.coarsen(frame, "day", grain, sums=("opened", "closed"), lasts=("backlog",))


def backlog_figure(frame: pd.DataFrame, ctx: Context):
    """Opened and closed per day, week or month (the grain follows the window), the open backlog as a line."""
    lang = ctx.lang
    grain = periods.fitting_grain(ctx.filters.start, ctx.filters.end, resolved_grain(ctx.filters, "auto"))
    if "period_start" not in frame:
        frame = backlog_rows(frame, grain)
    cases = t("unit.cases", lang)
    return over_time(
        frame, "day",
        [Series("opened", t("mediation.opened", lang), theme.METRIC_COLOURS["opened"], unit=cases),
         Series("closed", t("mediation.closed", lang), theme.METRIC_COLOURS["closed"], unit=cases),
         Series("backlog", t("mediation.backlog", lang), theme.METRIC_COLOURS["backlog"], kind="line", unit=cases,
                secondary=True)],
        t("mediation.backlog.title", lang), ctx.subtitle, 400, lang, t(f"mediation.axis.per_{grain}", lang),
        t("mediation.axis.backlog", lang), ctx.duty, percent_y2=False, grain=grain,
        window=(ctx.filters.start, ctx.filters.end))
