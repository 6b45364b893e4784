"""The payout stage clocks figure, shared by the payouts page and the district page."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from base.i18n import t
from components import theme
from components.theme import message_figure

STAGES_HEIGHT = 380
P50_COLOUR = theme.QUICK
P90_COLOUR = theme.RATE
LOG_TICKS = (1, 5, 15, 60, 240, 1440, 10080)   # minutes: 15 min, 1 h, 4 h, 1 day, 1 week


def stages_figure(frame: pd.DataFrame, lang: str, subtitle: str) -> go.Figure:
    """p50 and p90 bars per stage on a log axis in minutes (stages take from minutes to days); p99, fastest and the
    number of cases in the hover."""
    title = t("payouts.stages.title", lang)
    if frame.empty or not int(frame["count"].sum()):
        return message_figure(title, subtitle, t("message.empty", lang), STAGES_HEIGHT)
    labels = [t(f"payouts.stage.{stage}", lang) for stage in frame["stage"]]
    extra = frame[["count", "p99", "fastest"]].to_numpy()
    hover = (f"%{{x}}<br>%{{fullData.name}}: %{{y:,.1f}} {t('unit.minutes', lang)}<br>"
             f"{t('payouts.p99', lang)}: %{{customdata[1]:,.1f}} · {t('payouts.fastest', lang)}: "
             f"%{{customdata[2]:,.1f}}<br>{t('payouts.count', lang)}: %{{customdata[0]:,}}<extra></extra>")
    figure = go.Figure()
    for column, colour in (("p50", P50_COLOUR), ("p90", P90_COLOUR)):
        figure.add_bar(x=labels, y=frame[column], name=t(f"payouts.{column}", lang), marker_color=colour,
                       text=[minutes_text(v) for v in frame[column]], textposition="outside", cliponaxis=False,
                       customdata=extra, hovertemplate=hover)
    figure.update_layout(
        **theme.with_legend_room(theme.base_layout(title, subtitle, STAGES_HEIGHT)), barmode="group", bargap=0.25,
        legend=theme.LEGEND_TOP,
        xaxis=dict(showgrid=False, linecolor=theme.GRID),
        yaxis=dict(type="log", title=dict(text=t("payouts.stages.axis", lang), font=dict(size=12)),
                   tickvals=LOG_TICKS, ticktext=[f"{v:,}" for v in LOG_TICKS], gridcolor=theme.GRID, zeroline=False),
    )
    return figure


def minutes_text(value: float | None) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"
