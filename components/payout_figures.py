"""The figures of the payouts page (快赔): the stage clocks (also on the district page), the shares paid within a
time of the report, and payout p90 by district. Pure: rows in, figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from base.i18n import t
from components import theme
from components.charts import Context, count_axis
from components.theme import message_figure

STAGES_HEIGHT = 380
WITHIN_HEIGHT = 380
DISTRICTS_HEIGHT = 400
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
    figure = theme.new_figure()
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


def within_figure(frame: pd.DataFrame, ctx: Context) -> go.Figure:
    """The share of paid cases paid within each time of the report (rows: within, seconds, share), in percent."""
    lang = ctx.lang
    title = t("payouts.within.title", lang)
    if frame["share"].isna().all():
        return message_figure(title, ctx.subtitle, t("message.empty", lang), WITHIN_HEIGHT)
    percent = frame["share"].astype(float) * 100
    figure = theme.new_figure()
    figure.add_bar(x=[t(f"payouts.within.{key}", lang) for key in frame["within"]], y=percent,
                   marker_color=P50_COLOUR, text=[f"{v:.1f}%" for v in percent], textposition="outside",
                   cliponaxis=False, hovertemplate="%{x}: %{y:.1f}%<extra></extra>")
    figure.update_layout(
        **theme.base_layout(title, ctx.subtitle, WITHIN_HEIGHT), bargap=0.45, showlegend=False,
        xaxis=dict(showgrid=False, linecolor=theme.GRID),
        yaxis=dict(range=[0, 108], tickvals=[0, 25, 50, 75, 100], ticksuffix="%", gridcolor=theme.GRID,
                   title=dict(text=t("payouts.within.axis", lang), font=dict(size=12)), zeroline=False),
    )
    return figure


def districts_figure(frame: pd.DataFrame, ctx: Context) -> go.Figure:
    """Payout p90 per district in the order of the rows; the districts in focus are outlined. customdata[0] is the
    adcode, which a click drills into."""
    lang = ctx.lang
    title = t("payouts.district.title", lang)
    if frame.empty or not int(frame["paid"].sum()):
        return message_figure(title, ctx.subtitle, t("message.empty", lang), DISTRICTS_HEIGHT)
    names = frame["name_zh" if lang == "zh" else "name_en"]
    custom = frame[["district_adcode", "p50", "paid"]].to_numpy()
    chosen = ctx.filters.districts
    outline = [theme.INK if code in chosen else P90_COLOUR for code in frame["district_adcode"]]
    minutes = t("unit.minutes", lang)
    figure = theme.new_figure()
    figure.add_bar(
        x=names, y=frame["p90"], customdata=custom, marker=dict(color=P90_COLOUR, line=dict(color=outline, width=2)),
        text=[minutes_text(v) for v in frame["p90"]], textposition="outside", cliponaxis=False,
        hovertemplate=(f"%{{x}}<br>{t('payouts.p90', lang)}: %{{y:,.1f}} {minutes}<br>"
                       f"{t('payouts.p50', lang)}: %{{customdata[1]:,.1f}} {minutes}<br>"
                       f"{t('payouts.count', lang)}: %{{customdata[2]:,}}<extra></extra>"),
    )
    figure.update_layout(
        **theme.base_layout(title, ctx.subtitle, DISTRICTS_HEIGHT), showlegend=False, bargap=0.35,
        xaxis=dict(showgrid=False, linecolor=theme.GRID),
        yaxis=dict(title=dict(text=t("payouts.district.axis", lang), font=dict(size=12)), gridcolor=theme.GRID,
                   rangemode="tozero", zeroline=False, **count_axis(float(frame["p90"].max()))),
    )
    return figure


def minutes_text(value: float | None) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"
