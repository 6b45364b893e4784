"""The demo data reproduces the published figures of FACTS.md, read through exactly what the pages show: each figure
is a metric of the registry (`value` calls the one function every card, the wall, the briefing and the API call) or
the rows of a chart (the frame its CSV download holds).

Tolerance: ±1 % for counts and amounts, ±0.5 percentage points for rates; "N+" figures must reach N.
"""

from __future__ import annotations

import datetime as dt

import pytest

from data_access import registry, stations
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.filters import Filters
from tests.servers import fresh_database_url

pytestmark = pytest.mark.calibration

ZZ, CQ = "350600", "500000"
MAIN_URBAN_ZZ = ("350602", "350603")
ZZ_YEAR = Filters(ZZ, dt.date(2019, 12, 2), dt.date(2020, 12, 1), MAIN_URBAN_ZZ, "yoy")
ZZ_CITY_YEAR = Filters(ZZ, dt.date(2019, 12, 2), dt.date(2020, 12, 1))
CQ_TWO_YEARS = Filters(CQ, dt.date(2018, 4, 16), dt.date(2020, 4, 15))


def utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()) - dt.timedelta(hours=8)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    """Both published windows (and the year before Zhangzhou's), built ten days past their end so that every
    case reported in them has reached its last stage."""
    db = Database(fresh_database_url(tmp_path_factory.mktemp("calibration"), "demo.db"))
    build_demo(db, cities=(ZZ,), start=dt.date(2018, 12, 2), end=utc_midnight(dt.date(2020, 12, 12)))
    build_demo(db, cities=(CQ,), start=dt.date(2018, 4, 16), end=utc_midnight(dt.date(2020, 4, 26)))
    return db


def value(key: str, db: Database, filters: Filters) -> float | None:
    """A metric as its card shows it."""
    return registry.metric(key).value(db, filters)


def count_close(value: float, published: float) -> bool:
    return abs(value - published) <= 0.01 * published


def at_least(value: float, published: float) -> bool:
    return published <= value <= published * 1.01


# ------------------------------------------------------------------------------ Zhangzhou main urban, first year
def test_zhangzhou_accident_alerts_24543(db):
    assert count_close(value("alerts", db, ZZ_YEAR), 24_543)


def test_zhangzhou_alerts_down_12_52_percent_year_on_year(db):
    change = registry.kpis(db, ZZ_YEAR, registry.OVERVIEW).get("alerts").change
    assert change == pytest.approx(-0.1252, abs=0.005)
    assert count_close(value("alerts", db, ZZ_YEAR.comparison_window()), 24_543 + 3_511)


def test_zhangzhou_quick_cases_8919(db):
    assert count_close(value("quick", db, ZZ_YEAR), 8_919)


def test_zhangzhou_quick_handling_rate_36_34_percent(db):
    assert value("quick_rate", db, ZZ_YEAR) == pytest.approx(0.3634, abs=0.005)


def test_zhangzhou_rider_team_quick_handled_4323(db):
    assert count_close(value("rider_quick", db, ZZ_YEAR), 4_323)


def test_zhangzhou_rider_team_remote_liability_256(db):
    assert count_close(value("rider_remote_liability", db, ZZ_YEAR), 256)


def test_zhangzhou_patrol_5927_person_times_79451_km(db):
    assert count_close(value("patrol_person_times", db, ZZ_YEAR), 5_927)
    assert count_close(value("patrol_km", db, ZZ_YEAR), 79_451)


def test_zhangzhou_safety_persuasion_5893_and_good_deeds_49(db):
    assert count_close(value("safety_persuasion", db, ZZ_YEAR), 5_893)
    assert count_close(value("good_deeds", db, ZZ_YEAR), 49)


def test_zhangzhou_5_grids_104_members_83_vehicles(db):
    assert [value(key, db, ZZ_CITY_YEAR) for key in ("patrol_grids", "rider_members", "rider_vehicles")] == [5, 104, 83]


def test_zhangzhou_18_claim_points(db):
    assert value("claim_points", db, ZZ_CITY_YEAR) == 18


# ---------------------------------------------------------------------------------- Zhangzhou city-wide, first year
def test_zhangzhou_city_handled_69000_plus(db):
    assert at_least(value("handled", db, ZZ_CITY_YEAR), 69_000)


def test_zhangzhou_city_remote_liability_755(db):
    assert count_close(value("remote_liability", db, ZZ_CITY_YEAR), 755)


def test_zhangzhou_city_online_assessments_5414(db):
    assert count_close(value("online_assessments", db, ZZ_CITY_YEAR), 5_414)


def test_zhangzhou_city_paid_30632700_yuan(db):
    assert count_close(value("paid_amount", db, ZZ_CITY_YEAR), 30_632_700)


# ------------------------------------------------------------------------------------------ Chongqing, two years
def test_chongqing_handled_313400_plus(db):
    assert at_least(value("handled", db, CQ_TWO_YEARS), 313_400)


def test_chongqing_online_share_90_percent_plus(db):
    assert value("online_share", db, CQ_TWO_YEARS) >= 0.90


def test_chongqing_mediation_1994_cases_at_99_7_percent(db):
    assert count_close(value("mediation_opened", db, CQ_TWO_YEARS), 1_994)
    assert value("mediation_success_rate", db, CQ_TWO_YEARS) == pytest.approx(0.997, abs=0.005)


def test_chongqing_mediation_amount_93841800_yuan(db):
    assert count_close(value("mediation_amount", db, CQ_TWO_YEARS), 93_841_800)


def test_chongqing_pre_litigation_80_percent_plus(db):
    assert value("pre_litigation_rate", db, CQ_TWO_YEARS) >= 0.80


def test_chongqing_one_click_568_claims_57009500_yuan(db):
    assert count_close(value("one_click", db, CQ_TWO_YEARS), 568)
    assert count_close(value("one_click_amount", db, CQ_TWO_YEARS), 57_009_500)


def test_chongqing_6_rescues_6_survived(db):
    assert (value("rescues", db, CQ_TWO_YEARS), value("rescue_survived", db, CQ_TWO_YEARS)) == (6, 6)


def test_chongqing_remote_liability_within_5_minutes(db):
    assert value("remote_sla_share", db, CQ_TWO_YEARS) >= 0.95


def test_chongqing_fastest_payout_15_minutes(db):
    assert value("payout_fastest", db, CQ_TWO_YEARS) == pytest.approx(15.0, rel=0.01)


def test_chongqing_24_insurers(db):
    assert value("insurers", db, CQ_TWO_YEARS) == 24


def test_chongqing_349_members_404_vehicles_9_claim_points(db):
    assert (value("rider_members", db, CQ_TWO_YEARS), value("rider_vehicles", db, CQ_TWO_YEARS)) == (349, 404)
    assert value("claim_points", db, CQ_TWO_YEARS) == 9


def test_chongqing_convenience_services_3900(db):
    assert count_close(value("good_deeds", db, CQ_TWO_YEARS), 3_900)


def test_chongqing_1100_plus_persuasion_stations_139_in_fengjie(db):
    assert at_least(value("persuasion_stations", db, CQ_TWO_YEARS), 1_100)
    assert at_least(value("persuasion_staff", db, CQ_TWO_YEARS), 2_700)
    by_district = stations.persuasion_by_district(db, CQ_TWO_YEARS).set_index("district_adcode")   # the page's chart
    assert by_district.loc["500236", "stations"] == 139


def test_chongqing_persuasion_320000_violations_210_drunk_1942_hazards(db):
    assert at_least(value("violations_stopped", db, CQ_TWO_YEARS), 320_000)
    assert at_least(value("drunk_driving", db, CQ_TWO_YEARS), 210)
    assert count_close(value("hazards", db, CQ_TWO_YEARS), 1_942)


def test_chongqing_74_vehicle_admin_stations_in_37_districts(db):
    assert value("vehicle_admin_stations", db, CQ_TWO_YEARS) == 74
    by_district = stations.persuasion_by_district(db, CQ_TWO_YEARS)
    assert int((by_district["vehicle_admin_stations"] > 0).sum()) == 37


def test_chongqing_86000_vehicle_services_with_breakdown(db):
    assert count_close(value("vehicle_services", db, CQ_TWO_YEARS), 86_000)
    services = stations.services_by_quarter(db, CQ_TWO_YEARS).groupby("kind")["count"].sum()   # the page's chart
    for kind, published in (("annual_check", 70_000), ("temporary_plate", 9_000), ("violation_lookup", 6_000),
                            ("liability_letter", 436), ("licence_replacement", 311)):
        assert count_close(services[kind], published), kind


def test_chongqing_vehicle_services_up_30_percent_quarter_on_quarter(db):
    window = Filters(CQ, dt.date(2018, 4, 16), dt.date(2020, 3, 31))
    assert value("vehicle_services_qoq", db, window) == pytest.approx(0.30, abs=0.005)


def test_chongqing_867000_ebikes_registered(db):
    assert count_close(value("ebike_registrations", db, CQ_TWO_YEARS), 867_000)


def test_chongqing_fraud_600_leads_296_cases_29523800_yuan(db):
    assert at_least(value("fraud_leads", db, CQ_TWO_YEARS), 600)
    assert count_close(value("fraud_suspected", db, CQ_TWO_YEARS), 296)
    assert count_close(value("fraud_amount", db, CQ_TWO_YEARS), 29_523_800)
