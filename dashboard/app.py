"""The app factory: a multi-page Dash app around one database, with the shell that keeps URL and controls in step."""

from __future__ import annotations

import datetime as dt
import re

import dash
from dash import ALL, Dash, Input, Output, State, ctx, no_update
from flask import jsonify, request
from flask_compress import Compress

from base.i18n import CATALOGUE, HTML_LANG, normalize_language, t
from base.settings import PROJECT_ROOT, Settings, load_settings
from components import ids
from components.formatting import format_clock
from components.layout import (
    NavPage,
    account_badge,
    app_shell,
    city_options,
    compare_options,
    language_options,
    nav_links,
    nav_pages,
    range_options,
)
from components.urlstate import parse_search, to_search
from dashboard.api import register_api
from dashboard.callback_values import value_problems
from dashboard.frontend import install_frontend
from dashboard.guard import install_guard
from dashboard.health import install_health
from dashboard.signin import install_sign_in
from data_access.db import Database, DatabaseUnavailable
from data_access.filters import parse_filters
from data_access.timeutil import local_today, to_local, utcnow

REFRESH_MS = 60_000
NOT_FOUND_TITLE = "404"
INDEX_STRING = """<!DOCTYPE html>
<html lang="zh-CN">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""

# Sets <html lang> and the tab title in the URL's language; runs after Dash's own title update of a page change.
DOCUMENT_LANGUAGE_JS = """
function(search, pagesStore, titles) {
    const params = new URLSearchParams(search || "");
    const lang = (params.get("lang") || "").toLowerCase().startsWith("en") ? "en" : "zh";
    document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
    const path = window.location.pathname;
    titles = titles || {};
    // a page of a path template (/district/<adcode>) is keyed by the part before its first variable
    const prefix = Object.keys(titles).find(function(key) {
        return key.length > 1 && key.endsWith("/") && path.startsWith(key);
    });
    const entry = titles[path] || (prefix && titles[prefix]) || titles["404"];
    if (entry) { setTimeout(function() { document.title = entry[lang]; }, 0); }
    return lang;
}
"""


def tab_path(page: dict) -> str:
    """The path a page's tab title is looked up by: its path, or for a path template (/district/<adcode>) the part
    before the first variable (/district/)."""
    template = page.get("path_template")
    return template.split("<", 1)[0] if template else page["path"]


def create_app(settings: Settings | None = None, db: Database | None = None, *, refresh_ms: int = REFRESH_MS) -> Dash:
    """Build the dashboard; `settings` default to the environment, `db` to the database the settings name."""
    from services.runtime import open_database

    settings = settings or load_settings()
    db = db or open_database(settings)
    app = Dash(
        "wsgi",
        use_pages=True,
        pages_folder=str(PROJECT_ROOT / "pages"),
        assets_folder=str(PROJECT_ROOT / "assets"),
        assets_path_ignore=["vendor"],       # served on demand (the plotly.js bundle), never a <script> of every page
        suppress_callback_exceptions=True,
        serve_locally=True,
        title=t("app.name", "zh"),
        update_title=None,
        include_pages_meta=False,          # its twitter:url meta echoed the request's Host header into the page
        meta_tags=[
            {"name": "viewport", "content": "width=device-width, initial-scale=1"},
            {"name": "description", "content": t("app.name", "zh") + " · " + t("app.subtitle", "zh")},
        ],
    )
    app.index_string = INDEX_STRING
    app.server.config["JINGBAO_DB"] = db
    app.server.config["JINGBAO_SETTINGS"] = settings
    app.server.config["COMPRESS_MIMETYPES"] = [
        "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
    ]
    Compress(app.server)
    install_frontend(app)
    install_guard(app, settings)          # after Compress: pages are rewritten before they are compressed
    install_health(app, db)
    if settings.demo:
        from services.runtime import demo_accounts

        app.server.config["JINGBAO_DEMO_ACCOUNTS"] = demo_accounts(settings)
    install_sign_in(app.server, settings, db)

    pages = nav_pages(dash.page_registry)
    titles = {tab_path(page): {lang: f"{t(page['title_key'], lang)} · {t('app.name', lang)}" for lang in ("zh", "en")}
              for page in dash.page_registry.values() if page.get("title_key")}
    titles[NOT_FOUND_TITLE] = {lang: f"{t('page.not_found.title', lang)} · {t('app.name', lang)}"
                               for lang in ("zh", "en")}
    app.layout = app_shell(dash.page_container, settings.language, refresh_ms, titles,
                           open_access=settings.auth == "none")
    _register_shell_callbacks(app, pages)
    _mark_the_body(app, {page.path for page in pages} - filterless(dash.page_registry),
                   {page["path"]: page["libraries"] for page in dash.page_registry.values() if page.get("libraries")})
    _reject_malformed_callback_requests(app)
    _answer_unknown_paths_with_404(app, known_paths(dash.page_registry.values()))
    register_api(app.server)
    _set_up_before_serving(app)
    return app


def _set_up_before_serving(app: Dash) -> None:
    """Dash's first-request set-up, done now in the one thread that builds the app. Dash runs it in before_request
    hooks behind a flag without a lock (`Dash._setup_server`, then the pages router, which registers its callback):
    on a threaded server a fresh worker's first requests run them at once, and one fails with "dictionary changed
    size during iteration" (plotly/dash#2925), a 500 for whatever it asked. Afterwards both hooks return at once.
    Last in `create_app`: the set-up takes in the callbacks registered with `dash.callback` up to this point."""
    with app.server.test_request_context("/"):
        for hook in app.server.before_request_funcs.get(None, []):
            if hook.__module__ == Dash.__module__:
                hook()


SERVER_PREFIXES = ("/_dash", "/assets/", "/_favicon", "/_reload", "/api/", "/login", "/logout")


def known_paths(registry) -> re.Pattern:
    """Every page's path, and its path template (`/district/<adcode>`) as one pattern of the addresses served."""
    alternatives = []
    for page in registry:
        template = page.get("path_template")
        if template:
            alternatives.append(re.sub(r"<[^/>]+>", "[^/]+", re.escape(template)))
        if page.get("path") and page.get("name") != "not_found":
            alternatives.append(re.escape(page["path"].rstrip("/") or "/"))
    return re.compile("(?:" + "|".join(alternatives) + ")")


def _answer_unknown_paths_with_404(app: Dash, known: re.Pattern) -> None:
    """The app draws its 404 page for any unknown address; the HTTP status says 404 too (for crawlers, scripts
    and monitoring), while the page itself still loads."""

    @app.server.after_request
    def _status_of_unknown_paths(response):
        path = request.path.rstrip("/") or "/"
        if (request.method == "GET" and response.status_code == 200 and response.mimetype == "text/html"
                and not known.fullmatch(path) and not path.startswith(SERVER_PREFIXES)):
            response.status_code = 404
        return response


def callback_request_problem(body: object, callback_map: dict) -> str | None:
    """Why a POST to /_dash-update-component is not a callback request of this app, or None when it is."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "unknown callback output"
    spec = callback_map[output]
    if "callback" not in spec:
        return "that callback runs in the browser"
    for key in ("inputs", "state"):
        sent = body.get(key, [])
        expected = spec.get(key, [])
        if not isinstance(sent, list) or len(sent) != len(expected):
            return f"{key} must be a list of {len(expected)} items"
        for item, wanted in zip(sent, expected, strict=True):
            wanted_id = wanted.get("id")
            # Pattern-matching ids are stored as JSON text and sent expanded: only plain ids are compared.
            if isinstance(wanted_id, str) and not wanted_id.startswith("{") and (
                    not isinstance(item, dict) or item.get("id") != wanted["id"]
                    or item.get("property") != wanted["property"]):
                return f"{key} do not match the callback"
    outputs = body.get("outputs")
    expected_outputs = output[2:-2].split("...") if output.startswith("..") else [output]
    if len(expected_outputs) > 1 or output.startswith(".."):
        if not isinstance(outputs, list) or len(outputs) != len(expected_outputs):
            return f"outputs must be a list of {len(expected_outputs)} items"
    elif not isinstance(outputs, dict):
        return "outputs must be an object"
    if not isinstance(body.get("changedPropIds", []), list):
        return "changedPropIds must be a list"
    return None


def _reject_malformed_callback_requests(app: Dash) -> None:
    """A malformed callback request is the client's mistake: a 400 with the reason, never a 500 and a traceback."""

    @app.server.before_request
    def _check_callback_request():
        if request.method != "POST" or not request.path.endswith("/_dash-update-component"):
            return None
        body = request.get_json(silent=True)
        problem = callback_request_problem(body, app.callback_map)
        if problem is None:
            values = value_problems(body)
            if not values:
                return None
            problem = "; ".join(values[:5])
        return jsonify(error=f"bad callback request: {problem}"), 400


def _register_shell_callbacks(app: Dash, pages: tuple[NavPage, ...]) -> None:
    from data_access import metrics
    from services.identity import current_scope, current_viewer
    from services.runtime import get_db, get_settings
    from services.view import default_range_of

    known_paths = {page.path for page in pages}
    without_bar = filterless(dash.page_registry)

    @app.callback(
        output=dict(
            search=Output(ids.URL, "search"),
            city=Output(ids.CITY, "value"), city_options=Output(ids.CITY, "options"),
            range=Output(ids.RANGE, "value"), range_options=Output(ids.RANGE, "options"),
            start=Output(ids.DATES, "start_date"), end=Output(ids.DATES, "end_date"),
            max_date=Output(ids.DATES, "max_date_allowed"),
            compare=Output(ids.COMPARE, "value"), compare_options=Output(ids.COMPARE, "options"),
            lang=Output(ids.LANGUAGE, "value"), lang_options=Output(ids.LANGUAGE, "options"),
            nav=Output(ids.NAV, "children"), brand=Output(ids.BRAND, "href"),
            brand_name=Output(ids.BRAND_NAME, "children"),
            labels=[Output(label, "children") for label in _LABELS],
            bar_hidden=Output(ids.FILTER_BAR, "hidden"),
            account=Output(ids.ACCOUNT, "children"),
        ),
        inputs=dict(
            pathname=Input(ids.URL, "pathname"), search=Input(ids.URL, "search"),
            city=Input(ids.CITY, "value"), range_key=Input(ids.RANGE, "value"),
            start=Input(ids.DATES, "start_date"), end=Input(ids.DATES, "end_date"),
            compare=Input(ids.COMPARE, "value"), lang=Input(ids.LANGUAGE, "value"),
        ),
    )
    def sync_shell(pathname, search, city, range_key, start, end, compare, lang):
        """URL -> controls when the URL changed; controls -> URL when a control did. One callback, so no cycle."""
        settings = get_settings()
        search = search or ""
        trigger = ctx.triggered_id
        new_search = no_update
        if trigger in (ids.CITY, ids.RANGE, ids.DATES, ids.COMPARE, ids.LANGUAGE):
            params = dict(parse_search(search))
            if trigger == ids.CITY and city != params.get("city"):
                params.pop("districts", None)
                params.pop("district", None)
                params["city"] = city
            elif trigger == ids.RANGE:
                params.pop("start", None)
                params.pop("end", None)
                params["range"] = range_key
                if range_key == "custom":
                    params.pop("range")
                    params.update(start=start, end=end)
            elif trigger == ids.DATES:
                params.pop("range", None)
                params.update(start=start, end=end)
            elif trigger == ids.COMPARE:
                params["compare"] = compare
            elif trigger == ids.LANGUAGE:
                params["lang"] = lang
            new_search = to_search({k: v for k, v in params.items() if v})
            search = new_search if new_search != search else search
            if new_search == (ctx.inputs.get(f"{ids.URL}.search") or ""):
                new_search = no_update
        query = parse_search(search)
        lang = normalize_language(query.get("lang"), settings.language)
        viewer = current_viewer()
        scope = viewer.scope if viewer is not None else None
        catalogue = None
        try:
            catalogue = metrics.catalogue(get_db()).within(scope) if scope is not None else None
        except DatabaseUnavailable:
            pass
        values = dict(city=query.get("city") or settings.default_city, range=default_range_of(pathname), start=None,
                      end=None,
                      compare=query.get("compare") or "yoy")
        if catalogue is not None and catalogue.cities:
            filters = parse_filters(query, catalogue, local_today(), settings.default_city,
                                    default_range=default_range_of(pathname)).filters
            values = dict(city=filters.city, range=filters.range_key, start=filters.start.isoformat(),
                          end=filters.end.isoformat(), compare=filters.comparison)
        nav_search = to_search(query)
        allowed = tuple(page for page in pages if viewer is not None and viewer.may_open(page.path))
        return dict(
            search=new_search,
            city=values["city"], city_options=city_options(catalogue, lang),
            range=values["range"], range_options=range_options(lang),
            start=values["start"], end=values["end"], max_date=(local_today() + dt.timedelta(days=1)).isoformat(),
            compare=values["compare"], compare_options=compare_options(lang),
            lang=lang, lang_options=language_options(),
            nav=nav_links(allowed, lang, pathname, nav_search),
            brand=(viewer.home if viewer is not None else "/") + nav_search,
            brand_name=t("app.name", lang),
            labels=[t(key, lang) for key in _LABELS.values()],
            bar_hidden=(pathname or "/") not in known_paths or (pathname or "/") in without_bar or viewer is None
            or not viewer.may_open(pathname or "/"),
            account=account_badge(viewer.name if viewer and viewer.account else None,
                                  viewer.role if viewer else None, lang),
        )

    @app.callback(
        Output(ids.AS_OF, "children"), Output(ids.AS_OF, "className"), Output(ids.AS_OF_STORE, "data"),
        Input(ids.URL, "search"), Input(ids.REFRESH, "n_intervals"), State(ids.AS_OF_STORE, "data"),
    )
    def show_data_as_of(search, _tick, last_good):
        """"数据截至 HH:MM" in the header; red "数据延迟" when the database does not answer or the data is old."""
        settings = get_settings()
        query = parse_search(search)
        lang = normalize_language(query.get("lang"), settings.language)
        city = query.get("city") or settings.default_city
        today = local_today()
        scope = current_scope()
        if scope is None:
            return "", "as-of", last_good
        try:
            db = get_db()
            catalogue = metrics.catalogue(db).within(scope)
            if catalogue.city(city) is None:
                city = settings.default_city if catalogue.city(settings.default_city) else (
                    catalogue.cities[0].adcode if catalogue.cities else "")
            newest = metrics.data_as_of(db, city)
        except DatabaseUnavailable:
            since = (last_good or {}).get("shown")
            text = t("status.db_down", lang, time=since) if since else t("status.db_down_no_time", lang)
            return text, "as-of as-of-down", last_good
        if newest is None:
            return t("status.no_data_yet", lang), "as-of", last_good
        shown = format_clock(to_local(newest).replace(tzinfo=None), today)
        age_minutes = (utcnow() - newest).total_seconds() / 60
        if age_minutes > settings.stale_after_minutes:
            return t("status.stale", lang, time=shown), "as-of as-of-stale", {"shown": shown}
        return t("status.as_of", lang, time=shown), "as-of", {"shown": shown}

    app.clientside_callback(
        DOCUMENT_LANGUAGE_JS,
        Output(ids.DOCUMENT_SINK, "data"),
        Input(ids.URL, "search"), Input("_pages_store", "data"), State(ids.PAGE_TITLES, "data"),
    )
    app.clientside_callback(BAR_DECIDED_JS, Output(ids.FILTER_BAR, "className"), Input(ids.FILTER_BAR, "hidden"))


def filterless(registry) -> set[str]:
    """The pages whose figures follow no city or window (the briefing, administration): they show no filter bar."""
    return {page["path"] for page in registry.values() if page.get("filter_bar") is False}


BAR_OFF = "filter-bar-off"
# Once the shell callback has set the bar's `hidden`, the attribute decides and the page's first guess goes.
BAR_DECIDED_JS = f"""
function(hidden) {{
    if (hidden === true || hidden === false) {{ document.body.classList.remove("{BAR_OFF}"); }}
    return window.dash_clientside.no_update;
}}
"""


def _mark_the_body(app: Dash, with_bar: set[str], libraries: dict[str, tuple[str, ...]]) -> None:
    """What the page's HTML says on <body> before any script runs, from its path:
    - on a page without the filter bar (the district view, the briefing), a class that hides it until the shell
      callback has set the bar's `hidden` (BAR_DECIDED_JS). The bar used to show until then and leave, moving the
      whole page up by its height (Lighthouse: layout shift 0.05, up to 0.5 when the page had drawn below it);
    - `data-libraries`: the on-demand component libraries the page draws at once (its `libraries` in the page
      registry), which assets/on_demand.js fetches while the page's layout is still on its way.
    And the line shown until the app draws says "警保联动" in both weights the page sets Chinese in, in the
    page's language: the browser finds and loads its CJK font faces for that first paint, while the scripts are
    still on their way, instead of in the first layout of the drawn page (a 150-180 ms task after it)."""
    plain = app.interpolate_index
    settings = app.server.config["JINGBAO_SETTINGS"]

    def interpolate_index(**kwargs) -> str:
        lang = normalize_language(request.args.get("lang"), settings.language)
        kwargs["app_entry"] = kwargs.get("app_entry", "").replace(
            "Loading...", f'<b>{t("app.name", "zh")}</b> {t("app.loading", lang)}', 1)
        page = plain(**kwargs)
        path = "/" + (app.strip_relative_path(request.path) or "").rstrip("/")
        attributes = "" if path in with_bar else f' class="{BAR_OFF}"'
        if path in libraries:
            attributes += f' data-libraries="{" ".join(libraries[path])}"'
        return page.replace("<body>", f"<body{attributes}>", 1) if attributes else page

    app.interpolate_index = interpolate_index


_LABELS = {
    ids.CITY_LABEL: "filters.city",
    ids.RANGE_LABEL: "filters.range",
    ids.START_LABEL: "filters.start",
    ids.END_LABEL: "filters.end",
    ids.COMPARE_LABEL: "filters.compare",
}

assert all(key in CATALOGUE for key in _LABELS.values())
_ = (ALL, HTML_LANG)
