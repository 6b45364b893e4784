"""The daily trend: accident alerts and quick-handled cases per day, the quick-handling rate, duty periods shaded."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from base.i18n import t
from components import theme

TREND_HEIGHT = 400


def _has_data(frame: pd.DataFrame) -> bool:
    return not frame.empty and bool(frame["alerts"].sum() or frame["quick"].sum() or frame["cases"].sum())


def trend_figure(frame: pd.DataFrame, duty: pd.DataFrame, lang: str, window: str) -> go.Figure:
    """`frame` as `daily_trend` returns it; `duty` as `duty_periods`; `window` the subtitle naming the dates."""
    title = t("trend.title", lang)
    if not _has_data(frame):
        return theme.message_figure(title, window, t("message.empty", lang), TREND_HEIGHT)
    days = pd.to_datetime(frame["day"])
    rate = frame["quick_rate"].astype(float) * 100
    figure = go.Figure()
    figure.add_bar(x=days, y=frame["alerts"], name=t("trend.alerts", lang), marker_color=theme.ALERTS,
                   hovertemplate="%{y:,} " + t("unit.cases", lang) + "<extra>%{fullData.name}</extra>")
    figure.add_bar(x=days, y=frame["quick"], name=t("trend.quick", lang), marker_color=theme.QUICK,
                   hovertemplate="%{y:,} " + t("unit.cases", lang) + "<extra>%{fullData.name}</extra>")
    figure.add_scatter(x=days, y=rate, name=t("trend.quick_rate", lang), yaxis="y2", mode="lines+markers",
                       line=dict(color=theme.RATE, width=2), marker=dict(size=4), connectgaps=False,
                       hovertemplate="%{y:.1f}%<extra>%{fullData.name}</extra>")
    layout = theme.base_layout(title, window, TREND_HEIGHT)
    layout["margin"] = dict(l=60, r=64, t=theme.TOP_WITH_LEGEND, b=36)
    span_days = (days.max() - days.min()).days if len(days) else 0
    figure.update_layout(
        **layout,
        barmode="overlay",
        bargap=0.15,
        hovermode="x unified",
        legend=theme.LEGEND_TOP,
        xaxis=dict(type="date", tickformat="%m-%d" if span_days <= 120 else "%Y-%m", hoverformat="%Y-%m-%d",
                   showgrid=False, linecolor=theme.GRID, ticks="outside", tickcolor=theme.GRID),
        yaxis=dict(title=dict(text=t("trend.axis_count", lang), font=dict(size=12)), gridcolor=theme.GRID,
                   rangemode="tozero", tickformat=",d", zeroline=False),
        yaxis2=dict(title=dict(text=t("trend.axis_rate", lang), font=dict(size=12, color=theme.RATE)),
                    overlaying="y", side="right", range=[0, 104], tickvals=[0, 20, 40, 60, 80, 100],
                    ticksuffix="%", showgrid=False,
                    tickfont=dict(color=theme.RATE), zeroline=False),
    )
    shade_duty_periods(figure, duty, days.min(), days.max(), lang)
    return figure


def shade_duty_periods(figure: go.Figure, duty: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp,
                        lang: str) -> None:
    # Shapes and labels set in one update: add_vrect per period re-validates the whole layout each time.
    name_column = "name_zh" if lang == "zh" else "name_en"
    shapes, labels = [], []
    for row in duty.itertuples(index=False):
        start = max(pd.Timestamp(row.start_day), first) - pd.Timedelta(hours=12)
        end = min(pd.Timestamp(row.end_day), last) + pd.Timedelta(hours=12)
        if end < start:
            continue
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=start, x1=end, y0=0, y1=1,
                           fillcolor=theme.DUTY, line_width=0, layer="below"))
        labels.append(dict(x=start, y=1, xref="x", yref="paper", text=getattr(row, name_column), showarrow=False,
                           xanchor="left", yanchor="top", font=dict(size=11, color=theme.RATE)))
    if shapes:
        figure.update_layout(shapes=shapes, annotations=labels)

