"""The daily briefing as a person reads it: comparison texts, the narrative, the notable events, the three charts,
the printed sheet (one A4 page of HTML with the charts as PNG images) and the Markdown. Pure builders: a
`data_access.briefing.Briefing` in, text / figures out; no database, no browser (services.briefing_render draws the
charts and prints the sheet).
"""

from __future__ import annotations

import base64
import datetime as dt
import html

import pandas as pd
import plotly.graph_objects as go

from base.i18n import t
from components import theme
from components.formatting import format_change, format_duration, format_ratio, format_window
from components.kpi import immature_text, kpi_value_text, share_text
from components.payout_figures import stages_figure
from components.trend import trend_figure
from data_access import registry
from data_access.briefing import COMPARISONS, Briefing, BriefingKpi
from data_access.maturity import MATURE_SHARE
from data_access.registry import METRICS, TOO_SMALL_TO_COMPARE, Kpi

CHART_SIZES = {"trend": (720, 250), "stages": (356, 250), "mediation": (356, 250)}
MAX_EVENTS = 6
OUTCOME_COLOURS = {"settled": theme.GOOD, "failed": theme.BAD, "litigation": theme.RATE}


# ------------------------------------------------------------------------------------------------------- texts
def weekday(day: dt.date, lang: str) -> str:
    return t("briefing.weekday", lang).split(",")[day.weekday()]


def _duration(minutes: float | None, lang: str) -> str:
    return " ".join(part for part in format_duration(minutes, lang) if part)


def _whole_minutes(minutes: float, lang: str) -> str:
    """"14 分钟" below two hours, "2 小时 05 分" from there: an event's clock, to the minute."""
    if minutes < 120:
        return f"{minutes:.0f} {t('unit.minutes', lang)}"
    return _duration(minutes, lang)


def value_text(kpi: BriefingKpi, lang: str) -> str:
    number, unit = kpi_value_text(kpi.year_before, lang)
    return number if number == "—" else " ".join(part for part in (number, unit) if part)


def maturity_mark(kpi: BriefingKpi, lang: str) -> str:
    """"数据未成熟（已完成 63%）" for a figure of a day whose cases are not yet mature, else ""."""
    return immature_text(kpi.year_before, lang) if kpi.immature else ""


def value_cell_text(kpi: BriefingKpi, lang: str) -> str:
    """The day's value as the sheet and the Markdown print it: with the maturity mark when it is immature."""
    mark = maturity_mark(kpi, lang)
    return f"{value_text(kpi, lang)} · {mark}" if mark else value_text(kpi, lang)


def comparison_text(kpi: Kpi, lang: str) -> str:
    """"+12.5%（128）" — the change and the value compared with; a thin base reads "too small to compare", an
    immature day "not compared"."""
    if kpi.immature:
        return t("kpi.not_compared", lang)
    if kpi.previous is None:
        return "—"
    previous = kpi_value_text(Kpi(kpi.key, kpi.previous, None, kpi.unit, None, False), lang)[0]
    if kpi.unit == "count" and kpi.previous != int(kpi.previous):
        previous = f"{kpi.previous:,.1f}"                 # a 7-day average of counts keeps its decimal
    if kpi.too_small:
        return f"{t('briefing.too_small', lang)} ({previous})"
    if kpi.change is None:
        return f"— ({previous})"
    return f"{format_change(kpi.change, kpi.unit, lang)} ({previous})"


def comparison_tone(kpi: Kpi) -> str:
    better = METRICS[kpi.key].higher_is_better
    if kpi.too_small or kpi.change is None or better is None or abs(kpi.change) < 0.0005:
        return "neutral"
    return "good" if (kpi.change > 0) == better else "bad"


def _sla_value(value: float | None) -> str:
    return format_ratio(value)


def narrative(briefing: Briefing, lang: str) -> list[str]:
    """A few sentences generated from the numbers: the day's alerts and quick-handling rate against the day before
    and the week, the district that rose most, the service levels missed, payout times and rescues."""
    alerts = briefing.kpi("alerts")
    if not alerts.value:
        return [t("briefing.say.empty", lang)]
    sentences = []
    before = alerts.day_before
    if before.too_small:
        change = t("briefing.say.change_small", lang, previous=f"{before.previous or 0:,.0f}")
    elif before.change is None or abs(before.change) < 0.0005:
        change = t("briefing.say.change_flat", lang)
    else:
        key = "briefing.say.change_up" if before.change > 0 else "briefing.say.change_down"
        change = t(key, lang, pct=f"{abs(before.change) * 100:.1f}%")
    sentences.append(t("briefing.say.alerts", lang, value=f"{alerts.value:,.0f}", change=change))

    rate = briefing.kpi("quick_rate")
    week = rate.week_average
    rate_change = (t("briefing.say.rate_small", lang) if week.too_small or week.change is None
                   else t("briefing.say.rate_vs_week", lang, pp=format_change(week.change, "ratio", lang)))
    sentences.append(t("briefing.say.quick_rate", lang, rate=format_ratio(rate.value), change=rate_change))

    rise = briefing.biggest_rise
    if rise is None:
        sentences.append(t("briefing.say.no_rise", lang))
    else:
        sentences.append(t("briefing.say.district_rise", lang, name=rise.name_zh if lang == "zh" else rise.name_en,
                           alerts=rise.alerts, previous=rise.previous, diff=rise.alerts - rise.previous))

    missed = briefing.missed_slas
    if missed:
        joiner = "；" if lang == "zh" else "; "
        items = joiner.join(t("briefing.say.sla_item", lang, name=t(f"briefing.sla.{s.key}", lang),
                              value=_sla_value(s.value), target=format_ratio(s.target)) for s in missed)
        sentences.append(t("briefing.say.sla_missed", lang, items=items))
    else:
        sentences.append(t("briefing.say.sla_met", lang))

    p50, p90 = briefing.kpi("payout_p50"), briefing.kpi("payout_p90")
    if p50.value is not None:
        # an immature day's slow cases are not paid yet: its times read fast, so the sentence says so
        key = "briefing.say.payout_immature" if p50.immature else "briefing.say.payout"
        sentences.append(t(key, lang, p50=_duration(p50.value, lang), p90=_duration(p90.value, lang),
                           mark=maturity_mark(p50, lang)))
    if len(briefing.rescues):
        sentences.append(t("briefing.say.rescues", lang, n=len(briefing.rescues)))
    return sentences


def events(briefing: Briefing, lang: str) -> list[str]:
    """Notable events of the day: rescues, major accidents, service levels missed, special-duty periods."""
    items = []
    for mission in briefing.rescues.sort_values("requested_at").itertuples(index=False):
        minutes = (t("briefing.event.rescue.no_hospital", lang) if pd.isna(mission.hospital_min)
                   else t("briefing.event.rescue.minutes", lang, n=f"{mission.hospital_min:.0f}"))
        district = mission.name_zh if lang == "zh" else mission.name_en
        items.append(t("briefing.event.rescue", lang, time=mission.requested_at.strftime("%H:%M"),
                       district=district if isinstance(district, str) else mission.district_adcode,
                       outcome=t(f"briefing.outcome.{mission.outcome}", lang), minutes=minutes))
    items += major_accident_lines(briefing.majors, lang)
    for sla in briefing.missed_slas:
        items.append(t("briefing.event.sla", lang, name=t(f"briefing.sla.{sla.key}", lang),
                       value=_sla_value(sla.value)))
    for period in briefing.duty.itertuples(index=False):
        items.append(t("briefing.event.duty", lang, name=period.name_zh if lang == "zh" else period.name_en,
                       start=period.start_day.isoformat(), end=period.end_day.isoformat()))
    if len(items) > MAX_EVENTS:
        items = items[:MAX_EVENTS - 1] + [f"… +{len(items) - MAX_EVENTS + 1}"]
    return items


def major_accident_lines(majors: pd.DataFrame, lang: str) -> list[str]:
    """One line per major accident: "02:51 龙文区 重大事故（110/122 报警，民警处置）：报警后 14 分钟到场，报警后
    2 小时 08 分恢复通行，已呼叫空地救援" (time, district, how it became known, who handled it, how far it got)."""
    lines = []
    for accident in majors.itertuples(index=False):
        district = accident.name_zh if lang == "zh" else accident.name_en
        how = [t(f"briefing.major.channel.{accident.channel}", lang)]
        if accident.handled_by:
            how.append(t(f"briefing.major.by.{accident.handled_by}", lang))
        if accident.found_by_patrol:
            scene = t("briefing.major.found_on_scene", lang)
        elif pd.isna(accident.to_scene_min):
            scene = t("briefing.major.no_scene", lang)
        else:
            scene = t("briefing.major.scene", lang, duration=_whole_minutes(accident.to_scene_min, lang))
        parts = [scene, t("briefing.major.not_cleared", lang) if pd.isna(accident.cleared_min)
                 else t("briefing.major.cleared", lang, duration=_whole_minutes(accident.cleared_min, lang))]
        if accident.rescue:
            parts.append(t("briefing.major.rescue", lang))
        joiner = "，" if lang == "zh" else ", "
        lines.append(t("briefing.event.major.detail", lang, time=accident.reported_local.strftime("%H:%M"),
                       district=district if isinstance(district, str) else accident.district_adcode,
                       how=joiner.join(how), what=joiner.join(parts)))
    return lines


def stages_subtitle(briefing: Briefing, lang: str) -> str:
    """The stage chart's subtitle: the day, and the stages whose cases are not yet mature with their share."""
    immature = [(stage, share) for stage, share in briefing.stage_matured.items()
                if share is not None and share < MATURE_SHARE]
    if not immature:
        return briefing.day.isoformat()
    joiner = "；" if lang == "zh" else "; "
    stages = joiner.join(t("briefing.stages.immature_item", lang, stage=t(f"payouts.stage.{stage}", lang),
                           pct=share_text(share)) for stage, share in immature)
    return t("briefing.stages.immature", lang, day=briefing.day.isoformat(), stages=stages)


def title(place: str, lang: str) -> str:
    return t("briefing.title", lang, place=place)


def date_line(briefing: Briefing, lang: str) -> str:
    return t("briefing.date", lang, day=briefing.day.isoformat(), weekday=weekday(briefing.day, lang))


# ----------------------------------------------------------------------------------------------------- figures
def mediation_figure(frame: pd.DataFrame, lang: str, subtitle: str, height: int = 380) -> go.Figure:
    """Mediation cases closed in the window by outcome (mediation.outcome_counts)."""
    chart_title = t("briefing.mediation.title", lang)
    if frame.empty or not int(frame["cases"].sum()):
        return theme.message_figure(chart_title, subtitle, t("message.empty", lang), height)
    figure = theme.new_figure()
    figure.add_bar(x=[t(f"mediation.outcome.{o}", lang) for o in frame["outcome"]], y=frame["cases"],
                   marker_color=[OUTCOME_COLOURS.get(o, theme.QUICK) for o in frame["outcome"]],
                   text=[f"{n:,}" for n in frame["cases"]], textposition="outside", cliponaxis=False,
                   hovertemplate="%{x}: %{y:,}<extra></extra>")
    figure.update_layout(**theme.base_layout(chart_title, subtitle, height), showlegend=False, bargap=0.4,
                         xaxis=dict(showgrid=False, linecolor=theme.GRID),
                         yaxis=dict(title=dict(text=t("briefing.mediation.axis", lang), font=dict(size=12)),
                                    gridcolor=theme.GRID, rangemode="tozero", zeroline=False))
    return figure


def figures(briefing: Briefing, lang: str) -> dict[str, go.Figure]:
    """The trend of the last 28 days, the day's payout stage clocks, and the last 28 days' mediation outcomes."""
    trend = briefing.trend
    window = format_window(trend["day"].min().date(), trend["day"].max().date(), lang) if len(trend) else ""
    return {
        "trend": trend_figure(trend, briefing.duty, lang, window),
        "stages": stages_figure(briefing.stages, lang, stages_subtitle(briefing, lang)),
        "mediation": mediation_figure(briefing.mediation_outcomes, lang, window),
    }


def print_figure(figure: go.Figure, name: str) -> go.Figure:
    """A copy sized for the A4 sheet: smaller margins and type, no interactive furniture."""
    width, height = CHART_SIZES[name]
    printed = go.Figure(figure)
    # the legend keeps its own line between the subtitle and the plot (theme.LEGEND_TOP), hence the top margin
    printed.update_layout(width=width, height=height, margin=dict(l=48, r=40 if name == "trend" else 12, t=84, b=32),
                          font=dict(size=10), legend=dict(font=dict(size=10)))
    printed.update_layout(title=dict(font=dict(size=13)))
    return printed


# ------------------------------------------------------------------------------------------------ the A4 sheet
def _mark_html(kpi: BriefingKpi, lang: str) -> str:
    mark = maturity_mark(kpi, lang)
    return f'<br><span class="immature">{html.escape(mark)}</span>' if mark else ""


def _kpi_rows(briefing: Briefing, lang: str) -> str:
    rows = []
    for kpi in briefing.kpis:
        cells = "".join(f'<td class="cmp {comparison_tone(kpi.against(c))}">'
                        f"{html.escape(comparison_text(kpi.against(c), lang))}</td>" for c in COMPARISONS)
        rows.append(f'<tr><th scope="row">{html.escape(registry.label(kpi.key, lang))}</th>'
                    f'<td class="num">{html.escape(value_text(kpi, lang))}{_mark_html(kpi, lang)}</td>{cells}</tr>')
    return "\n".join(rows)


def sheet_html(briefing: Briefing, lang: str, place: str, images: dict[str, bytes], generated: dt.datetime,
               css: str) -> str:
    """The printable briefing: one A4 page styled by `css` (assets/briefing.css: fonts with CJK glyphs), the charts
    (`images`: PNG bytes by figure name) embedded as data URLs."""
    head_cells = "".join(f"<th>{html.escape(t('briefing.col.' + c, lang))}</th>" for c in COMPARISONS)

    def image(name: str) -> str:
        return (f'<img class="chart chart-{name}" alt="{html.escape(name)}" '
                f'src="data:image/png;base64,{base64.b64encode(images[name]).decode()}">')

    as_of = briefing.as_of
    as_of_text = "—" if as_of is None else (as_of + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    items = events(briefing, lang) or [t("briefing.event.none", lang)]
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>{html.escape(title(place, lang))} {briefing.day.isoformat()}</title>
<style>{css}</style></head>
<body class="briefing-print"><main class="briefing-sheet">
<header class="briefing-head"><h1>{html.escape(title(place, lang))}</h1>
<p class="briefing-date">{html.escape(date_line(briefing, lang))}</p>
<p class="briefing-meta">{html.escape(t('briefing.as_of', lang, time=as_of_text))} ·
{html.escape(t('briefing.generated', lang, time=generated.strftime('%Y-%m-%d %H:%M')))}</p></header>
<section><h2>{html.escape(t('briefing.narrative', lang))}</h2>
<ul class="briefing-narrative">{''.join(f'<li>{html.escape(s)}</li>' for s in narrative(briefing, lang))}</ul>
</section>
<section><h2>{html.escape(t('briefing.kpis', lang))}</h2>
<table class="briefing-kpis"><thead><tr><th>{html.escape(t('briefing.col.kpi', lang))}</th>
<th>{html.escape(t('briefing.col.value', lang))}</th>{head_cells}</tr></thead>
<tbody>{_kpi_rows(briefing, lang)}</tbody></table>
<p class="briefing-note">{html.escape(t('briefing.too_small.note', lang, n=TOO_SMALL_TO_COMPARE))}
{html.escape(t('briefing.immature.note', lang, pct=share_text(MATURE_SHARE)))}</p></section>
<section class="briefing-charts">{image('trend')}<div class="chart-pair">{image('stages')}{image('mediation')}</div>
</section>
<section><h2>{html.escape(t('briefing.events', lang))}</h2>
<ul class="briefing-events">{''.join(f'<li>{html.escape(s)}</li>' for s in items)}</ul></section>
</main></body></html>"""


def markdown(briefing: Briefing, lang: str, place: str) -> str:
    lines = [f"# {title(place, lang)}", "", date_line(briefing, lang), "", f"## {t('briefing.narrative', lang)}", ""]
    lines += [f"- {s}" for s in narrative(briefing, lang)]
    lines += ["", f"## {t('briefing.kpis', lang)}", "",
              "| " + " | ".join([t("briefing.col.kpi", lang), t("briefing.col.value", lang),
                                  *[t("briefing.col." + c, lang) for c in COMPARISONS]]) + " |",
              "|" + " --- |" * (2 + len(COMPARISONS))]
    for kpi in briefing.kpis:
        lines.append("| " + " | ".join([registry.label(kpi.key, lang), value_cell_text(kpi, lang),
                                        *[comparison_text(kpi.against(c), lang) for c in COMPARISONS]]) + " |")
    lines += ["", t("briefing.too_small.note", lang, n=TOO_SMALL_TO_COMPARE),
              t("briefing.immature.note", lang, pct=share_text(MATURE_SHARE)), "", f"## {t('briefing.events', lang)}",
              ""]
    lines += [f"- {s}" for s in events(briefing, lang) or [t("briefing.event.none", lang)]]
    return "\n".join(lines) + "\n"

