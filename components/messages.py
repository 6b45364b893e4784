"""Messages shown in place of, or above, the figures: bad links, empty windows, an unreachable database."""

from __future__ import annotations

from dash import html

from base.i18n import problem_message, t


def problems_alert(problems: tuple[str, ...] | list[str], lang: str) -> html.Div | None:
    """Each problem of `parse_filters`, in words; None when the link was fine."""
    if not problems:
        return None
    return _alert([html.Strong(t("message.problems", lang)),
                   html.Ul([html.Li(problem_message(p, lang)) for p in problems], className="mb-0 mt-1")],
                  "warning", "problems-message", "alert")


def empty_message(lang: str) -> html.Div:
    return _alert([html.Strong(t("message.empty", lang)), " ", t("message.empty_hint", lang)], "info",
                  "empty-message", "status")


def out_of_scope_message(what: str, lang: str) -> html.Div:
    """"Not in your scope": the link names a city, district or insurer (or a page) the viewer's account may not see.
    Says which kind of thing, never the request's text."""
    return _alert([html.Strong(t(f"scope.out.{what}", lang))], "warning", "scope-message", "alert")


def database_unavailable_message(lang: str) -> html.Div:
    return _alert(t("message.db_unavailable", lang), "danger", "db-message", "alert")


def _alert(children, color: str, kind: str, role: str) -> html.Div:
    """A Bootstrap alert box with an ARIA role (dbc.Alert takes no `role`)."""
    return html.Div(children, className=f"alert alert-{color} page-message {kind}", role=role)


