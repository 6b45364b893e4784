"""Numbers, changes, windows and times as a person reads them, in either language."""

from __future__ import annotations

import datetime as dt

from base.i18n import t
from data_access.registry import HOURS_FROM_MINUTES, METRICS

FLAT_CHANGE = 0.0005    # |change| below this reads as "unchanged" once rounded to one decimal


def format_count(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def format_ratio(value: float | None) -> str:
    """A share as a percentage with one decimal: 0.3634 -> "36.3%"."""
    return "—" if value is None else f"{value * 100:.1f}%"


def format_minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def format_duration(value: float | None, lang: str) -> tuple[str, str]:
    """Minutes as a person reads them, number and unit: "12.5" "分钟" up to two hours, then hours and minutes in the
    number itself ("2 小时 05 分", "2 h 05 min"), so that it reads whole wherever the number is quoted alone."""
    if value is None or value < HOURS_FROM_MINUTES:
        return format_minutes(value), t("unit.minutes", lang)
    hours, minutes = divmod(round(value), 60)
    return f"{hours:,} {t('unit.hours', lang)} {minutes:02d} {t('unit.minutes_short', lang)}", ""


def metric_value_text(key: str, value: float | None, lang: str) -> tuple[str, str]:
    """A metric's value as shown on a card, a tile or in a table: the number and its unit word, both by the unit
    the registry declares (a share carries its % in the number)."""
    unit = METRICS[key].unit
    if unit == "ratio":
        return format_ratio(value), ""
    if unit == "minutes":
        return format_duration(value, lang)
    if unit == "days":
        return format_days(value), t("unit.days", lang)
    if unit == "yuan":
        return format_yuan(value, lang)
    return format_count(value), t(f"unit.{METRICS[key].counts}", lang)


def format_days(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def format_yuan(value: float | None, lang: str) -> tuple[str, str]:
    """An amount and its unit; Chinese reads large amounts in 万元 (ten thousands)."""
    if value is None:
        return "—", t("unit.yuan", lang)
    if lang == "zh" and abs(value) >= 10_000:
        return f"{value / 10_000:,.1f}", "万" + t("unit.yuan", lang)
    return f"{value:,.0f}", t("unit.yuan", lang)


def format_change(change: float, unit: str, lang: str) -> str:
    """A KPI change: percentage points for ratios ("+2.1 pp"), a relative change otherwise ("+12.5%")."""
    if unit == "ratio":
        return f"{change * 100:+.1f} {t('unit.pp', lang)}"
    return f"{change * 100:+.1f}%"


def change_direction(change: float) -> str:
    if abs(change) < FLAT_CHANGE:
        return "flat"
    return "up" if change > 0 else "down"


def format_window(start: dt.date, end: dt.date, lang: str) -> str:
    if start == end:
        return start.isoformat()
    return t("window.range", lang, start=start.isoformat(), end=end.isoformat())


def format_window_compared(start: dt.date, end: dt.date, comparison: tuple[dt.date, dt.date] | None,
                           lang: str) -> str:
    """"2020-06-01 – 2020-06-30, compared with 2019-06-01 – 2019-06-30", or just the window without a comparison."""
    window = format_window(start, end, lang)
    if comparison is None:
        return window
    return t("window.compared", lang, window=window, comparison=format_window(*comparison, lang))


def format_clock(moment: dt.datetime | None, today: dt.date) -> str:
    """A local time as HH:MM when it is today, with its date otherwise."""
    if moment is None:
        return "—"
    if moment.date() == today:
        return moment.strftime("%H:%M")
    if moment.year == today.year:
        return moment.strftime("%m-%d %H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")
