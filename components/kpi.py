"""KPI cards: a value with its unit and its change against the comparison window, coloured good or bad; the
metric's definition one hover or tap away, which cases it counts where that differs from its neighbours, and a
latency of a window not yet mature marked with its share matured instead of compared."""

from __future__ import annotations

import math

from dash import html

from base.i18n import t
from components.formatting import change_direction, format_change, metric_value_text
from components.static import Static, frozen
from data_access.maturity import MATURE_SHARE
from data_access.registry import METRICS, Kpi, KpiSet, empty_kpis

ARROWS = {"up": "▲", "down": "▼", "flat": "▶"}


def kpi_value_text(kpi: Kpi, lang: str) -> tuple[str, str]:
    """The number and the unit of a KPI value as shown on its card."""
    return metric_value_text(kpi.key, kpi.value, lang)


def share_text(share: float) -> str:
    """A share matured as a whole percentage, rounded down: 89.9% reads 89%, never the threshold it has not met."""
    return f"{math.floor(share * 100 + 1e-9):d}%"


def immature_text(kpi: Kpi, lang: str) -> str:
    """"数据未成熟（已完成 63%）" — what an immature figure says in place of its change."""
    return t("kpi.immature", lang, pct=share_text(kpi.matured or 0.0))


def immature_why(lang: str) -> str:
    return t("kpi.immature.why", lang, threshold=share_text(MATURE_SHARE))


def kpi_tone(kpi: Kpi) -> str:
    """good, bad or neutral: the colour of the change."""
    if kpi.change is None:
        return "neutral"
    direction = change_direction(kpi.change)
    better = METRICS[kpi.key].higher_is_better
    if direction == "flat" or better is None:
        return "neutral"
    return "good" if (direction == "up") == better else "bad"


def _change_line(kpi: Kpi, comparison_kind: str | None, lang: str) -> html.Div:
    if kpi.immature:                         # recent cases not yet done: the figure reads fast, so it is not compared
        return html.Div(html.Span(immature_text(kpi, lang), className="kpi-delta"),
                        className="kpi-change kpi-change-immature", title=immature_why(lang))
    if comparison_kind is None:
        return html.Div("\u00a0", className="kpi-change kpi-change-none")
    if not METRICS[kpi.key].compared:        # a standing figure (stations open now) has no earlier window
        return html.Div(t("kpi.standing", lang), className="kpi-change kpi-change-neutral")
    basis = html.Span(t(f"compare.{comparison_kind}", lang), className="kpi-basis")
    if kpi.too_small:
        return html.Div([basis, html.Span(t("kpi.too_small", lang), className="kpi-delta")],
                        className="kpi-change kpi-change-neutral")
    if kpi.change is None:
        return html.Div([basis, html.Span(t("kpi.no_previous", lang), className="kpi-delta")],
                        className="kpi-change kpi-change-neutral")
    direction = change_direction(kpi.change)
    delta = format_change(kpi.change, kpi.unit, lang)
    spoken = f"{t(f'compare.{comparison_kind}.long', lang)} {t(f'kpi.change_{direction}', lang)} {delta}"
    return html.Div(
        [basis, html.Span(ARROWS[direction], className="kpi-arrow", **{"aria-hidden": "true"}),
         html.Span(delta, className="kpi-delta")],
        className=f"kpi-change kpi-change-{kpi_tone(kpi)}", title=spoken, **{"aria-label": spoken},
    )


def definition_tip(key: str, lang: str) -> list:
    """The info button and the definition it shows on hover, focus or tap; a screen reader hears the definition as
    the button's name."""
    metric = METRICS[key]
    spoken = t("kpi.definition", lang, name=metric.label(lang), definition=metric.definition(lang))
    return [html.Button("i", type="button", className="kpi-info", **{"aria-label": spoken}),
            html.Span(metric.definition(lang), className="kpi-tip", **{"aria-hidden": "true"})]


def kpi_card(kpi: Kpi, lang: str, comparison_kind: str | None, note: str | None = None) -> html.Section:
    """One KPI; `comparison_kind` is yoy or pop, or None when nothing is compared; `note` a line under it (such
    as the district's rank)."""
    metric = METRICS[kpi.key]
    number, unit = kpi_value_text(kpi, lang)
    previous = None
    if comparison_kind is not None and kpi.previous is not None:
        previous_kpi = Kpi(kpi.key, kpi.previous, None, kpi.unit, None, False)
        previous = t("kpi.previous", lang, value=" ".join(p for p in kpi_value_text(previous_kpi, lang) if p))
    counts_what = metric.counts_what(lang)
    return html.Section(
        [
            html.Div([html.H2(metric.label(lang), className="kpi-name"), *definition_tip(kpi.key, lang)],
                     className="kpi-head"),
            html.P([html.Span(number, className="kpi-number"),
                    html.Span(unit, className="kpi-unit") if unit else None], className="kpi-value"),
            _change_line(kpi, comparison_kind, lang),
            html.Div(counts_what, className="kpi-counts") if counts_what else None,
            html.Div(note, className="kpi-note") if note else None,
        ],
        className="kpi-card kpi-card-immature" if kpi.immature else "kpi-card",
        title=previous,
        **{"data-kpi": kpi.key},
    )


def kpi_grid(overview: KpiSet, lang: str, notes: dict[str, str] | None = None) -> list[Static]:
    """The cards of a KPI grid, drawn as one component (components.static: they never change once drawn)."""
    kind = overview.filters.comparison if overview.comparison is not None else None
    return [frozen([kpi_card(kpi, lang, kind, (notes or {}).get(kpi.key)) for kpi in overview.kpis])]


def kpi_placeholders(keys: tuple[str, ...], lang: str, noted: bool = False) -> list[Static]:
    """Cards without values, holding the grid's place until the figures arrive or while the database is away;
    `noted`: with an empty line where the figures' cards will have a note (the district view's ranks), so the grid
    does not grow when they come."""
    return [frozen([kpi_card(kpi, lang, None, "\u00a0" if noted else None) for kpi in empty_kpis(keys)])]
