"""管理 Administration: every account with its role and scope, and the newest entries of the audit log — read-only;
changes go through `jingbao users`, which writes each one to the log. Only the admin role opens this page."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
from dash import Input, Output, callback, html

from base.i18n import normalize_language, t
from base.texts.analytics import grid_locale
from components import ids
from components.messages import database_unavailable_message, out_of_scope_message
from components.urlstate import parse_search
from data_access import accounts
from data_access.db import DatabaseUnavailable
from data_access.timeutil import to_local
from services.identity import current_viewer
from services.reports import administration
from services.runtime import get_settings

PATH = "/admin"
dash.register_page(__name__, path=PATH, title="管理 · 警保联动", name="admin", title_key="nav.admin", order=95,
                   filter_bar=False)

AUDIT_ROWS = 500
MESSAGE, HEADING, ACCOUNTS, AUDIT_TITLE, AUDIT = (f"admin-{part}" for part in (
    "message", "heading", "accounts", "audit-title", "audit"))


def _grid(grid_id: str, page_size: int, lang: str) -> dag.AgGrid:
    return dag.AgGrid(id=grid_id, columnDefs=[], rowData=[],
                      defaultColDef={"sortable": True, "resizable": True, "filter": True, "flex": 1, "minWidth": 90},
                      dashGridOptions={"domLayout": "autoHeight", "animateRows": False, "pagination": True,
                                       "paginationPageSize": page_size, "paginationPageSizeSelector": False,
                                       "localeText": grid_locale(lang)},
                      style={"height": None})


def layout(**query) -> html.Div:
    lang = normalize_language(query.get("lang"), get_settings().language)
    return html.Div([
        html.Div(id=MESSAGE),
        html.Div([html.H1(t("nav.admin", lang), id=HEADING, className="page-title"),
                  html.P(t("admin.intro", lang), className="page-window")], className="page-head"),
        html.Section([html.H2(t("admin.accounts", lang), className="table-title"), _grid(ACCOUNTS, 20, lang)],
                     className="panel"),
        html.Section([html.H2(t("admin.audit", lang, count=AUDIT_ROWS), id=AUDIT_TITLE, className="table-title"),
                      _grid(AUDIT, 25, lang)], className="panel"),
    ], className="page page-admin")


def scope_text(account: accounts.AccountInfo, lang: str) -> str:
    """"漳州市 · 区县 350602、350603" — what an account sees, in the page's language."""
    parts = [account.city or t("admin.scope.every_city", lang)]
    if account.districts:
        parts.append(t("admin.scope.districts", lang, codes="、".join(account.districts) if lang == "zh"
                       else ", ".join(account.districts)))
    if account.insurer_code:
        parts.append(t("admin.scope.insurer", lang, code=account.insurer_code))
    return " · ".join(parts)


def _columns(keys: tuple[str, ...], lang: str) -> list[dict]:
    return [{"field": key, "headerName": t(f"admin.col.{key}", lang)} for key in keys]


@callback(Output(MESSAGE, "children"), Output(ACCOUNTS, "columnDefs"), Output(ACCOUNTS, "rowData"),
          Output(AUDIT, "columnDefs"), Output(AUDIT, "rowData"),
          Input(ids.URL, "search"), Input(ids.REFRESH, "n_intervals"))
def show(search, _tick):
    lang = normalize_language(parse_search(search).get("lang"), get_settings().language)
    viewer = current_viewer()
    if viewer is None or not viewer.may_open(PATH):
        return out_of_scope_message("page", lang), [], [], [], []
    try:
        people, events = administration(AUDIT_ROWS)
    except DatabaseUnavailable:
        return database_unavailable_message(lang), dash.no_update, dash.no_update, dash.no_update, dash.no_update
    account_rows = [{"name": a.name, "role": t(f"role.{a.role}", lang), "scope": scope_text(a, lang),
                     "state": t("admin.state.disabled" if a.disabled else "admin.state.active", lang)}
                    for a in people]
    audit_rows = [{"at": to_local(e.at).strftime("%Y-%m-%d %H:%M:%S"), "event": e.event, "name": e.account,
                   "address": e.address, "detail": ", ".join(f"{k}={v}" for k, v in e.detail.items())}
                  for e in events]
    audit_columns = _columns(("at", "event"), lang) + [{"field": "name", "headerName": t("admin.col.name", lang)}] \
        + _columns(("address", "detail"), lang)
    return (None, _columns(("name", "role", "scope", "state"), lang), account_rows, audit_columns, audit_rows)
