"""The application shell: header with navigation, freshness mark and language switch, the filter bar, the page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import dcc, html

from base.i18n import LANGUAGES, t
from components import ids
from components.static import frozen
from components.theme import BRAND
from data_access.filters import COMPARISONS, RANGES, Catalogue

NOT_FOUND_MODULE = "not_found_404"


@dataclass(frozen=True)
class NavPage:
    path: str
    title_key: str
    order: int


def nav_pages(registry: Mapping[str, Mapping]) -> tuple[NavPage, ...]:
    """The pages of `dash.page_registry` that belong in the navigation, in their `order`."""
    pages = [
        NavPage(page["path"], page.get("title_key", "nav.overview"), int(page.get("order") or 0))
        for module, page in registry.items()
        if not module.endswith(NOT_FOUND_MODULE) and page.get("nav", True)
    ]
    return tuple(sorted(pages, key=lambda p: (p.order, p.path)))


def nav_links(pages: Iterable[NavPage], lang: str, pathname: str | None, search: str) -> list:
    """Links to every page, carrying the current query string so the filters travel along: one Static component
    (links that move within the app as dcc.Link's do), not a Dash component per link, as the shell callback
    answers every change of address with them."""
    links = []
    for page in pages:
        if (pathname or "/") == page.path:
            links.append(html.Span(t(page.title_key, lang), className="app-nav-link active",
                                   **{"aria-current": "page"}))
        else:
            links.append(html.A(t(page.title_key, lang), href=page.path + search, className="app-nav-link",
                                **{"data-app-link": "1"}))
    return [frozen(links)]


def city_options(catalogue: Catalogue | None, lang: str) -> list[dict]:
    if catalogue is None:
        return []
    return [{"label": city.name_zh if lang == "zh" else city.name_en, "value": city.adcode}
            for city in catalogue.cities]


def range_options(lang: str) -> list[dict]:
    return [{"label": t(f"range.{key}", lang), "value": key} for key in RANGES]


def compare_options(lang: str) -> list[dict]:
    return [{"label": t(f"compare.{key}.long", lang), "value": key} for key in COMPARISONS]


def language_options() -> list[dict]:
    return [{"label": t(f"language.{lang}", lang), "value": lang} for lang in LANGUAGES]


def _field(label_id: str, control_id: str, label: str, control, class_name: str = "") -> html.Div:
    return html.Div(
        [dbc.Label(label, id=label_id, html_for=control_id, className="filter-label"), control],
        className=f"filter-field {class_name}".strip(),
    )


def filter_bar(lang: str) -> html.Div:
    """The controls that write the URL; their values and options are filled from the URL by the shell callback."""
    dates = html.Div(
        [
            html.Label(t("filters.start", lang), id=ids.START_LABEL, htmlFor=ids.START, className="visually-hidden"),
            html.Label(t("filters.end", lang), id=ids.END_LABEL, htmlFor=ids.END, className="visually-hidden"),
            dcc.DatePickerRange(
                id=ids.DATES, start_date_id=ids.START, end_date_id=ids.END, display_format="YYYY-MM-DD",
                first_day_of_week=1, updatemode="bothdates", minimum_nights=0, className="filter-dates",
            ),
        ],
        className="filter-field filter-field-dates",
    )
    return html.Div(
        [
            _field(ids.CITY_LABEL, ids.CITY, t("filters.city", lang), dbc.Select(id=ids.CITY, size="sm"),
                   "filter-field-city"),
            _field(ids.RANGE_LABEL, ids.RANGE, t("filters.range", lang),
                   dbc.Select(id=ids.RANGE, options=range_options(lang), size="sm"), "filter-field-range"),
            dates,
            _field(ids.COMPARE_LABEL, ids.COMPARE, t("filters.compare", lang),
                   dbc.Select(id=ids.COMPARE, options=compare_options(lang), size="sm"), "filter-field-compare"),
        ],
        id=ids.FILTER_BAR, className="filter-bar", role="group", **{"aria-label": t("filters.label", lang)},
    )


def account_badge(name: str | None, role: str | None, lang: str) -> list:
    """The signed-in account and its role, and the way out; nothing when no account is signed in."""
    if not name:
        return []
    role_name = t(f"role.{role}", lang)
    return [html.Span([html.Span(name, className="account-name"),
                       html.Span(" · " + role_name, className="account-role")],
                      className="account-who", title=f"{name} · {role_name}"),
            html.A(t("signin.sign_out", lang), href="/logout" + ("?lang=en" if lang == "en" else ""),
                   className="account-sign-out", id=ids.SIGN_OUT)]


def app_shell(page_container, lang: str, refresh_ms: int, titles: Mapping[str, Mapping[str, str]],
              open_access: bool = False) -> html.Div:
    """The whole page around `dash.page_container`; static, so it draws at once and the callbacks fill it in.
    `open_access`: sign-in is off (JINGBAO_AUTH=none), which a red banner above everything says."""
    header = html.Header(
        [
            html.Div(
                [
                    dcc.Link([html.Span("警", className="brand-mark", **{"aria-hidden": "true"}),
                              html.Span(t("app.name", lang), className="brand-name", id=ids.BRAND_NAME)],
                             href="/", id=ids.BRAND, className="brand"),
                    html.Nav(id=ids.NAV, className="app-nav", **{"aria-label": t("nav.label", lang)}),
                    html.Div(
                        [
                            html.Span(id=ids.AS_OF, className="as-of", role="status"),
                            html.Div(id=ids.ACCOUNT, className="account"),
                            html.Div(
                                dbc.RadioItems(
                                    id=ids.LANGUAGE, options=language_options(), value=lang, inline=True,
                                    class_name="btn-group", input_class_name="btn-check",
                                    label_class_name="btn btn-outline-secondary btn-sm",
                                    label_checked_class_name="active",
                                ),
                                id=ids.LANGUAGE_GROUP, role="group", className="language-switch",
                                **{"aria-label": t("filters.language", lang)},
                            ),
                        ],
                        className="app-topbar-end",
                    ),
                ],
                className="app-topbar",
            ),
            filter_bar(lang),
        ],
        id=ids.HEADER, className="app-header",
    )
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            dcc.Interval(id=ids.REFRESH, interval=refresh_ms),
            dcc.Store(id=ids.AS_OF_STORE),
            dcc.Store(id=ids.PAGE_TITLES, data=dict(titles)),
            dcc.Store(id=ids.DOCUMENT_SINK),
            html.Div(t("signin.no_auth_banner", lang), className="no-auth-banner", role="alert",
                     id=ids.NO_AUTH_BANNER) if open_access else None,
            header,
            html.Main(
                dcc.Loading(page_container, target_components={"_pages_content": "children"}, delay_show=250,
                            overlay_style={"visibility": "visible", "opacity": 0.55}, type="dot",
                            color=BRAND),
                id=ids.MAIN, className="app-main",
            ),
        ],
        className="app",
    )


def district_breadcrumb(city_name: str, district_names: list[str], lang: str, whole_city_href: str,
                        district_href: str | None = None) -> html.Nav:
    """"漳州市 › 芗城区 ×": where the view is focused, one click back to the whole city and, for one district, a link
    to its district view."""
    crumbs: list = [dcc.Link(city_name, href=whole_city_href, className="crumb crumb-city")]
    for name in district_names:
        crumbs += [html.Span("›", className="crumb-sep", **{"aria-hidden": "true"}),
                   html.Span(name, className="crumb crumb-district")]
    crumbs.append(dcc.Link([html.Span("×", **{"aria-hidden": "true"}),
                            html.Span(t("district.clear", lang), className="visually-hidden")],
                           href=whole_city_href, className="crumb-clear", title=t("district.clear", lang)))
    if district_href:
        crumbs.append(dcc.Link(t("district.open_view", lang), href=district_href, className="crumb-profile"))
    return html.Nav(crumbs, className="district-breadcrumb", **{"aria-label": t("district.breadcrumb", lang)})
