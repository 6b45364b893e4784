"""The 404 page: the address has no page; a way back to the overview that keeps the filters."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from base.i18n import normalize_language, t
from components import ids
from components.urlstate import parse_search, to_search
from services.runtime import get_settings

dash.register_page(__name__, path="/404", title="页面不存在 · 警保联动", name="not_found", nav=False)

BODY = "not-found-body"


def layout(**_query) -> html.Div:
    return html.Div(html.Div(id=BODY, className="not-found"), className="page page-not-found")


@callback(Output(BODY, "children"), Input(ids.URL, "pathname"), Input(ids.URL, "search"))
def explain(pathname, search):
    query = parse_search(search)
    lang = normalize_language(query.get("lang"), get_settings().language)
    keep = {key: query[key] for key in ("city", "lang") if key in query}
    return [
        html.P("404", className="not-found-code", **{"aria-hidden": "true"}),
        html.H1(t("page.not_found.title", lang), className="page-title"),
        html.P(t("page.not_found.body", lang, path=pathname or "/"), className="not-found-text"),
        dcc.Link(t("app.home", lang), href="/" + to_search(keep), className="btn btn-primary not-found-home"),
    ]
