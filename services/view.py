"""What every page callback starts from: the URL's language and filters, the place and window they name, and the
messages and breadcrumb that go with them."""

from __future__ import annotations

from dataclasses import dataclass

from dash import html

from base.i18n import normalize_language
from components.formatting import format_window, format_window_compared
from components.layout import district_breadcrumb
from components.messages import empty_message, out_of_scope_message, problems_alert
from components.urlstate import parse_search, with_params
from data_access import metrics, peers
from data_access.db import Database
from data_access.filters import DEFAULT_RANGE, Catalogue, Filters, parse_filters
from data_access.timeutil import local_today
from services.identity import Viewer, current_viewer
from services.runtime import get_db, get_settings


@dataclass(frozen=True)
class View:
    """The view a URL names. `filters` is None when the database holds no city yet."""

    search: str
    lang: str
    db: Database
    catalogue: Catalogue
    filters: Filters | None = None
    problems: tuple[str, ...] = ()
    city_name: str = ""
    districts: tuple[str, ...] = ()     # names of the chosen districts, in the view's language
    insurer_name: str = ""              # the insurer the view is narrowed to (an insurer's account), if any
    blocked: str = ""                   # why there are no filters: "page", "city", "district", "insurer" or ""
    viewer: Viewer | None = None

    def unavailable_message(self) -> html.Div:
        """What a page shows instead of figures when `filters` is None: not in the viewer's scope, or no data."""
        if self.blocked:
            return out_of_scope_message(self.blocked, self.lang)
        return empty_message(self.lang)

    @property
    def place(self) -> str:
        """"漳州市 · 芗城区" — the city, and the chosen districts if any."""
        joiner = "、" if self.lang == "zh" else ", "
        return (self.city_name + (" · " + joiner.join(self.districts) if self.districts else "")
                + (" · " + self.insurer_name if self.insurer_name else ""))

    @property
    def window(self) -> str:
        return format_window(self.filters.start, self.filters.end, self.lang)

    def window_compared(self, comparison: Filters | None) -> str:
        span = (comparison.start, comparison.end) if comparison else None
        return format_window_compared(self.filters.start, self.filters.end, span, self.lang)

    def problems_alert(self) -> html.Div | None:
        return problems_alert(self.problems, self.lang)

    def breadcrumb(self, path: str) -> html.Nav | None:
        """City › district with a way back to the whole city on the same page, or None for the whole city."""
        if not self.filters.districts or (self.viewer is not None and
                                          self.filters.districts == self.viewer.scope.districts):
            return None
        back = path + with_params(self.search, districts=None, district=None)
        profile = None
        if len(self.filters.districts) == 1:
            profile = f"/district/{self.filters.districts[0]}" + with_params(self.search, districts=None,
                                                                              district=None, grain=None)
        return district_breadcrumb(self.city_name, list(self.districts), self.lang, back, profile)


def default_range_of(page: str | None) -> str:
    """The window a page opens on when its URL names none: its registration's `default_range` (the live map: today),
    else the product's (近30天)."""
    import dash

    for entry in dash.page_registry.values():
        if entry.get("path") == page:
            return entry.get("default_range") or DEFAULT_RANGE
    return DEFAULT_RANGE


def open_view(search: str | None, page: str) -> View:
    """The view of a URL query string on the page at path `page`, for the signed-in viewer: no filters (and the
    reason in `blocked`) when nobody is signed in, the viewer's role may not open `page`, or the query names anything
    outside the viewer's scope. Raises DatabaseUnavailable when the database does not answer."""
    settings = get_settings()
    query = parse_search(search)
    lang = normalize_language(query.get("lang"), settings.language)
    db = get_db()
    viewer = current_viewer()
    if viewer is None or not viewer.may_open(page):
        return View(search or "", lang, db, Catalogue(()), blocked="page", viewer=viewer)
    catalogue = metrics.catalogue(db).within(viewer.scope)
    if not catalogue.cities:
        return View(search or "", lang, db, catalogue, viewer=viewer)
    parsed = parse_filters(query, metrics.catalogue(db), local_today(), settings.default_city, viewer.scope,
                           default_range_of(page))
    if parsed.out_of_scope is not None:
        return View(search or "", lang, db, catalogue, None, tuple(parsed.problems), blocked=parsed.out_of_scope.what,
                    viewer=viewer)
    filters = parsed.filters
    city = catalogue.city(filters.city)
    names = metrics.district_names(db, filters.city).set_index("district_adcode")[
        "name_zh" if lang == "zh" else "name_en"]
    return View(search or "", lang, db, catalogue, filters, tuple(parsed.problems),
                city.name_zh if lang == "zh" else city.name_en,
                tuple(names.get(code, code) for code in filters.districts),
                insurer_name=_insurer_name(db, filters, lang), viewer=viewer)


def _insurer_name(db: Database, filters: Filters, lang: str) -> str:
    if filters.insurer is None:
        return ""
    names = peers.insurer_names(db, filters.city).get(filters.insurer)
    return "" if names is None else names[0 if lang == "zh" else 1]


def may_see_city(city: object, page: str) -> bool:
    """Whether the signed-in viewer may open `page` and see the whole of `city`: for callbacks whose city comes from
    the browser's state rather than the URL (the live map's ticks), which a forged request could name."""
    viewer = current_viewer()
    return (isinstance(city, str) and viewer is not None and viewer.may_open(page)
            and viewer.scope.allows_city(city) and viewer.scope.whole_cities and viewer.scope.every_insurer)
