"""What every page callback starts from: the URL's language and filters, the place and window they name, and the
messages and breadcrumb that go with them."""

from __future__ import annotations

from dataclasses import dataclass

from dash import html

from base.i18n import normalize_language
from components.formatting import format_window, format_window_compared
from components.layout import district_breadcrumb
from components.messages import problems_alert
from components.urlstate import parse_search, with_params
from data_access import metrics
from data_access.db import Database
from data_access.filters import Catalogue, Filters, parse_filters
from data_access.timeutil import local_today
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

    @property
    def place(self) -> str:
        """"漳州市 · 芗城区" — the city, and the chosen districts if any."""
        joiner = "、" if self.lang == "zh" else ", "
        return self.city_name + (" · " + joiner.join(self.districts) if self.districts else "")

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
        if not self.filters.districts:
            return None
        back = path + with_params(self.search, districts=None, district=None)
        profile = None
        if len(self.filters.districts) == 1:
            profile = f"/district/{self.filters.districts[0]}" + with_params(self.search, districts=None,
                                                                              district=None, grain=None)
        return district_breadcrumb(self.city_name, list(self.districts), self.lang, back, profile)


def open_view(search: str | None) -> View:
    """The view of a URL query string; raises DatabaseUnavailable when the database does not answer."""
    settings = get_settings()
    query = parse_search(search)
    lang = normalize_language(query.get("lang"), settings.language)
    db = get_db()
    catalogue = metrics.catalogue(db)
    if not catalogue.cities:
        return View(search or "", lang, db, catalogue)
    parsed = parse_filters(query, catalogue, local_today(), settings.default_city)
    filters = parsed.filters
    city = catalogue.city(filters.city)
    names = metrics.district_names(db, filters.city).set_index("district_adcode")[
        "name_zh" if lang == "zh" else "name_en"]
    return View(search or "", lang, db, catalogue, filters, tuple(parsed.problems),
                city.name_zh if lang == "zh" else city.name_en,
                tuple(names.get(code, code) for code in filters.districts))
