"""The one `Filters` value every query function takes, parsed and validated once from a URL query string."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from data_access.scope import EVERYTHING, OutOfScope, Scope

RANGES = ("today", "yesterday", "7d", "30d", "90d", "ytd", "12m", "all", "custom")
COMPARISONS = ("yoy", "pop", "none")
DEFAULT_RANGE = "30d"
DEFAULT_COMPARISON = "yoy"
MAX_DISTRICTS = 60


@dataclass(frozen=True)
class CityInfo:
    adcode: str
    name_zh: str
    name_en: str
    first_day: dt.date
    districts: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """What the query string may name: the cities and their districts, as stored in the database."""

    cities: tuple[CityInfo, ...]

    def city(self, adcode: str) -> CityInfo | None:
        return next((c for c in self.cities if c.adcode == adcode), None)

    def within(self, scope: Scope) -> Catalogue:
        """The cities and districts `scope` may see: what the city picker offers the viewer."""
        cities = []
        for city in self.cities:
            if not scope.allows_city(city.adcode) or (scope.insurers and scope.insurer_in(city.adcode) is None):
                continue
            districts = tuple(code for code in city.districts if scope.allows_district(code))
            if districts:
                cities.append(replace(city, districts=districts))
        return Catalogue(tuple(cities))


@dataclass(frozen=True)
class Filters:
    city: str
    start: dt.date
    end: dt.date                       # inclusive
    districts: tuple[str, ...] = ()    # empty: the whole city
    comparison: str = DEFAULT_COMPARISON
    range_key: str = "custom"
    insurer: int | None = None
    scope: Scope = EVERYTHING          # whose view: a Filters never names anything outside it

    def __post_init__(self) -> None:
        # The scope narrows every view made from this one (`replace` runs this again): a district user's "whole
        # city" is its districts, an insurer user's every filter carries its insurer. Outside the scope: OutOfScope.
        if self.scope is not EVERYTHING:
            districts, insurer = self.scope.narrow(self.city, self.districts, self.insurer)
            object.__setattr__(self, "districts", tuple(sorted(districts)))
            object.__setattr__(self, "insurer", insurer)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def comparison_window(self) -> Filters | None:
        """The window this one is compared with: the same dates a year before, or the equal window just before."""
        if self.comparison == "yoy":
            return replace(self, start=_year_before(self.start), end=_year_before(self.end), comparison="none")
        if self.comparison == "pop":
            end = self.start - dt.timedelta(days=1)
            return replace(self, start=end - dt.timedelta(days=self.days - 1), end=end, comparison="none")
        return None

    def with_districts(self, districts: tuple[str, ...]) -> Filters:
        return replace(self, districts=tuple(sorted(districts)))

    def whole_city(self) -> Filters:
        """The window over every district the viewer may see: the whole city, or a district user's districts."""
        return replace(self, districts=())

    def unscoped(self) -> Filters:
        """The same window for everyone. Only for figures that leave data_access as a rank or an anonymous peer
        statistic (a district's rank among the city's districts, an insurer's place among its peers), never as rows."""
        return replace(self, scope=EVERYTHING, districts=() if self.scope.districts else self.districts,
                       insurer=None if self.scope.insurers else self.insurer)


@dataclass(frozen=True)
class ParsedFilters:
    filters: Filters | None                                     # None: the query names something outside the scope
    problems: tuple[str, ...] = field(default_factory=tuple)   # message keys with arguments, for the page to show
    out_of_scope: OutOfScope | None = None


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def resolve_range(range_key: str, today: dt.date, first_day: dt.date) -> tuple[dt.date, dt.date]:
    """Absolute dates of a relative range; ranges end with yesterday, the last complete day, except `today`, `ytd`
    and `all`."""
    yesterday = today - dt.timedelta(days=1)
    if range_key == "today":
        return today, today
    if range_key == "yesterday":
        return yesterday, yesterday
    if range_key in ("7d", "30d", "90d"):
        n = int(range_key[:-1])
        return yesterday - dt.timedelta(days=n - 1), yesterday
    if range_key == "ytd":
        return dt.date(today.year, 1, 1), today
    if range_key == "12m":
        return yesterday - dt.timedelta(days=364), yesterday
    if range_key == "all":
        return first_day, today
    raise ValueError(range_key)


def _first(query: Mapping[str, object], key: str) -> str | None:
    value = query.get(key)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None:
        return None
    return str(value).strip()


def parse_filters(
    query: Mapping[str, object], catalogue: Catalogue, today: dt.date, default_city: str, scope: Scope = EVERYTHING,
    default_range: str = DEFAULT_RANGE,
) -> ParsedFilters:
    """Validate a query string; every bad value falls back to its default and is reported, never raised. A query
    naming a city, district or insurer outside `scope` gives no filters and the reason (`out_of_scope`). A query
    naming no window gets `default_range` (the page's own: the live map opens on today)."""
    problems: list[str] = []
    if not scope.allows_city(default_city) and scope.cities:
        default_city = scope.cities[0]
    city_code = _first(query, "city") or default_city
    city = catalogue.city(city_code)
    if city is None:
        if _first(query, "city"):
            problems.append(f"bad_city:{city_code}")
        city = catalogue.city(default_city) or catalogue.cities[0]

    districts: list[str] = []
    raw_districts = _first(query, "districts") or _first(query, "district")
    if raw_districts:
        for code in raw_districts.split(",")[:MAX_DISTRICTS]:
            code = code.strip()
            if not code:
                continue
            if code in city.districts:
                districts.append(code)
            else:
                problems.append(f"bad_district:{code[:12]}")

    comparison = (_first(query, "compare") or DEFAULT_COMPARISON).lower()
    if comparison not in COMPARISONS:
        problems.append(f"bad_compare:{comparison[:12]}")
        comparison = DEFAULT_COMPARISON

    range_key = (_first(query, "range") or "").lower()
    raw_start, raw_end = _first(query, "start"), _first(query, "end")
    start = end = None
    if raw_start or raw_end:
        try:
            start = dt.date.fromisoformat(raw_start or raw_end or "")
            end = dt.date.fromisoformat(raw_end or raw_start or "")
            if end < start:
                problems.append("bad_window:end_before_start")
                start = end = None
            elif start < dt.date(2000, 1, 1) or end > today + dt.timedelta(days=366):
                problems.append("bad_window:out_of_range")
                start = end = None
            else:
                range_key = "custom"
        except ValueError:
            problems.append(f"bad_date:{(raw_start or raw_end or '')[:20]}")
            start = end = None
    if start is None:
        if range_key not in RANGES or range_key == "custom":
            if range_key:
                problems.append(f"bad_range:{range_key[:12]}")
            range_key = default_range
        start, end = resolve_range(range_key, today, city.first_day)

    insurer = None
    raw_insurer = _first(query, "insurer")
    if raw_insurer:
        if raw_insurer.isdigit() and len(raw_insurer) < 9:
            insurer = int(raw_insurer)
        else:
            problems.append(f"bad_insurer:{raw_insurer[:12]}")

    try:
        filters = Filters(city=city.adcode, start=start, end=end, districts=tuple(sorted(set(districts))),
                          comparison=comparison, range_key=range_key, insurer=insurer, scope=scope)
    except OutOfScope as exc:
        return ParsedFilters(None, tuple(problems), exc)
    return ParsedFilters(filters, tuple(problems))
