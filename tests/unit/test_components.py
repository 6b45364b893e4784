"""Components on small known inputs: number formats, KPI colours, URL state, figure titles and map clicks."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from components import theme
from components.district_map import _label_colours, clicked_district, district_map_figure
from components.formatting import change_direction, format_change, format_count, format_ratio, format_yuan
from components.kpi import kpi_card, kpi_tone
from components.trend import trend_figure
from components.urlstate import districts_of, parse_search, to_search, toggle_district, with_params
from data_access import metrics
from data_access.filters import Filters
from data_access.registry import Kpi
from data_access.rollups import rebuild_rollups
from tests.unit import handmade


def test_numbers_read_as_people_write_them():
    assert format_count(24543) == "24,543"
    assert format_ratio(0.3634) == "36.3%"
    assert format_yuan(30_632_700, "zh") == ("3,063.3", "万元")
    assert format_yuan(30_632_700, "en") == ("30,632,700", "yuan")
    assert format_change(-0.1252, "count", "en") == "-12.5%"
    assert format_change(0.021, "ratio", "zh") == "+2.1 个百分点"
    assert change_direction(0.0001) == "flat"


def test_kpi_tone_knows_which_way_is_good():
    assert kpi_tone(Kpi("alerts", 90, 100, "count", -0.1, False)) == "good"
    assert kpi_tone(Kpi("quick_rate", 0.3, 0.4, "ratio", -0.1, False)) == "bad"
    assert kpi_tone(Kpi("payout_p50", 50, 40, "minutes", 0.25, False)) == "bad"
    assert kpi_tone(Kpi("rescues", 6, 3, "count", 1.0, False)) == "neutral"


def test_kpi_card_says_when_a_base_is_too_small():
    card = kpi_card(Kpi("alerts", 5, 4, "count", None, True), "zh", "yoy")
    assert "样本过少" in str(card)


def test_url_state_round_trip_and_district_toggle():
    search = to_search({"lang": "en", "city": "350600", "districts": "350602"})
    assert search == "?city=350600&districts=350602&lang=en"
    assert parse_search(search) == {"city": "350600", "districts": "350602", "lang": "en"}
    assert districts_of(toggle_district("?city=350600", "350603")) == ("350603",)
    assert "districts" not in toggle_district(search, "350602")
    assert with_params(search, lang=None) == "?city=350600&districts=350602"
    assert parse_search(12) == {}


def test_map_click_gives_the_district():
    assert clicked_district({"points": [{"location": "350602"}]}) == "350602"
    assert clicked_district({"points": [{"customdata": ["350603", "龙文区", "36%", 10]}]}) == "350603"
    assert clicked_district(None) is None


def test_figures_carry_title_window_and_units(tmp_path):
    db = handmade.empty_city(tmp_path)
    day = dt.date(2020, 6, 1)
    with db.transaction() as session:
        session.add_all([handmade.case(handmade.local(day, 9), quick_handled=True),
                         handmade.case(handmade.local(day, 10), district=handmade.D2)])
    rebuild_rollups(db)
    filters = Filters(handmade.CITY, day, day + dt.timedelta(days=6))
    window = "2020-06-01 至 2020-06-07"
    trend = trend_figure(metrics.daily_trend(db, filters), metrics.duty_periods(db, filters), "zh", window)
    assert trend.layout.title.text == "每日警情与快处"
    assert trend.layout.title.subtitle.text == window
    assert trend.layout.yaxis.title.text == "起数（起/日）"
    assert list(trend.data[0].y[:2]) == [2, 0]
    summary = metrics.district_summary(db, filters)
    figure = district_map_figure(summary, metrics.district_geojson(db, handmade.CITY), "en", "window", ("350602",))
    assert figure.layout.title.text == "Accident alerts by district"
    assert list(figure.data[0].z) == [1, 1]
    assert list(figure.data[0].marker.line.width) == [3, 1]


def test_district_names_stay_legible_on_dark_districts():
    alerts = pd.Series([100, 59, 0])
    assert _label_colours(alerts, [0, 1, 2]) == ["#ffffff", theme.INK, theme.INK]
    assert _label_colours(pd.Series([0, 0]), [0, 1]) == [theme.INK, theme.INK]


def test_trend_without_data_says_so():
    empty = pd.DataFrame({"day": pd.to_datetime([]), "alerts": [], "quick": [], "quick_rate": [], "cases": []})
    figure = trend_figure(empty, pd.DataFrame(columns=["name_zh", "name_en", "start_day", "end_day"]), "en", "w")
    assert figure.layout.annotations[0].text
