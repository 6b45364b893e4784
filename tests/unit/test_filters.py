"""Filters parsed from a URL query string: defaults, relative ranges, comparisons, and bad values reported."""

from __future__ import annotations

import datetime as dt

import pytest

from data_access.filters import Catalogue, CityInfo, Filters, parse_filters, resolve_range

TODAY = dt.date(2020, 6, 15)
CATALOGUE = Catalogue((
    CityInfo("350600", "漳州市", "Zhangzhou", dt.date(2018, 12, 2), ("350602", "350603", "350604")),
    CityInfo("500000", "重庆市", "Chongqing", dt.date(2017, 4, 16), ("500103", "500236")),
))


def parse(**query):
    return parse_filters(query, CATALOGUE, TODAY, "350600")


def test_defaults_are_the_last_30_complete_days_year_on_year():
    parsed = parse()
    assert parsed.problems == ()
    f = parsed.filters
    assert (f.city, f.start, f.end, f.comparison) == ("350600", dt.date(2020, 5, 16), dt.date(2020, 6, 14), "yoy")


def test_explicit_window_and_districts():
    f = parse(city="500000", start="2019-01-01", end="2019-01-31", districts="500236,500103", compare="pop").filters
    assert f.districts == ("500103", "500236")
    assert f.days == 31
    assert f.comparison_window() == Filters("500000", dt.date(2018, 12, 1), dt.date(2018, 12, 31),
                                            ("500103", "500236"), "none", "custom")


def test_year_on_year_of_29_february():
    f = Filters("350600", dt.date(2020, 2, 29), dt.date(2020, 2, 29))
    assert f.comparison_window().start == dt.date(2019, 2, 28)


@pytest.mark.parametrize("key,expected", [
    ("yesterday", (dt.date(2020, 6, 14), dt.date(2020, 6, 14))),
    ("7d", (dt.date(2020, 6, 8), dt.date(2020, 6, 14))),
    ("ytd", (dt.date(2020, 1, 1), dt.date(2020, 6, 15))),
    ("12m", (dt.date(2019, 6, 16), dt.date(2020, 6, 14))),
    ("all", (dt.date(2018, 12, 2), dt.date(2020, 6, 15))),
])
def test_relative_ranges(key, expected):
    assert resolve_range(key, TODAY, dt.date(2018, 12, 2)) == expected


def test_bad_values_fall_back_to_defaults_and_are_reported():
    parsed = parse(city="999999", compare="bogus", start="notadate", districts="350602,123456", range="5y",
                   insurer="x1")
    assert parsed.filters.city == "350600"
    assert parsed.filters.comparison == "yoy"
    assert parsed.filters.districts == ("350602",)
    assert parsed.filters.insurer is None
    assert set(parsed.problems) >= {"bad_city:999999", "bad_compare:bogus", "bad_date:notadate",
                                    "bad_district:123456", "bad_insurer:x1"}


def test_end_before_start_is_reported():
    parsed = parse(start="2020-06-10", end="2020-06-01")
    assert "bad_window:end_before_start" in parsed.problems
    assert parsed.filters.range_key == "30d"
