"""The demo data reproduces the published figures of FACTS.md, read through the same functions the pages use.

Tolerance: ±1 % for counts and amounts, ±0.5 percentage points for rates; "N+" figures must reach N.
"""

from __future__ import annotations

import datetime as dt

import pytest

from data_access import metrics, programme
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


def count_close(value: float, published: float) -> bool:
    return abs(value - published) <= 0.01 * published


def at_least(value: float, published: float) -> bool:
    return published <= value <= published * 1.01


# ------------------------------------------------------------------------------ Zhangzhou main urban, first year
def test_zhangzhou_accident_alerts_24543(db):
    assert count_close(metrics.accident_alerts(db, ZZ_YEAR), 24_543)


def test_zhangzhou_alerts_down_12_52_percent_year_on_year(db):
    change = metrics.overview_kpis(db, ZZ_YEAR).get("alerts").change
    assert change == pytest.approx(-0.1252, abs=0.005)
    assert count_close(metrics.accident_alerts(db, ZZ_YEAR.comparison_window()), 24_543 + 3_511)


def test_zhangzhou_quick_cases_8919(db):
    assert count_close(metrics.quick_handled_cases(db, ZZ_YEAR), 8_919)


def test_zhangzhou_quick_handling_rate_36_34_percent(db):
    assert metrics.quick_handling_rate(db, ZZ_YEAR) == pytest.approx(0.3634, abs=0.005)


def test_zhangzhou_rider_team_quick_handled_4323(db):
    assert count_close(metrics.rider_team_quick_handled(db, ZZ_YEAR), 4_323)


def test_zhangzhou_rider_team_remote_liability_256(db):
    assert count_close(metrics.rider_team_remote_liability(db, ZZ_YEAR), 256)


def test_zhangzhou_patrol_5927_person_times_79451_km(db):
    patrol = programme.patrol_totals(db, ZZ_YEAR)
    assert count_close(patrol.person_times, 5_927)
    assert count_close(patrol.km, 79_451)


def test_zhangzhou_safety_persuasion_5893_and_good_deeds_49(db):
    patrol = programme.patrol_totals(db, ZZ_YEAR)
    assert count_close(patrol.persuaded, 5_893)
    assert count_close(patrol.good_deeds, 49)


def test_zhangzhou_5_grids_104_members_83_vehicles(db):
    strength = programme.rider_team_strength(db, ZZ)
    assert (strength.grids, strength.members, strength.vehicles) == (5, 104, 83)


def test_zhangzhou_18_claim_points(db):
    assert programme.station_counts(db, ZZ)["claim_point"] == 18


# ---------------------------------------------------------------------------------- Zhangzhou city-wide, first year
def test_zhangzhou_city_handled_69000_plus(db):
    assert at_least(metrics.handled_cases(db, ZZ_CITY_YEAR), 69_000)


def test_zhangzhou_city_remote_liability_755(db):
    assert count_close(metrics.remote_liability_cases(db, ZZ_CITY_YEAR), 755)


def test_zhangzhou_city_online_assessments_5414(db):
    assert count_close(metrics.online_assessments(db, ZZ_CITY_YEAR), 5_414)


def test_zhangzhou_city_paid_30632700_yuan(db):
    assert count_close(metrics.paid_amount_yuan(db, ZZ_CITY_YEAR), 30_632_700)


# ------------------------------------------------------------------------------------------ Chongqing, two years
def test_chongqing_handled_313400_plus(db):
    assert at_least(metrics.handled_cases(db, CQ_TWO_YEARS), 313_400)


def test_chongqing_online_share_90_percent_plus(db):
    assert metrics.online_share(db, CQ_TWO_YEARS) >= 0.90


def test_chongqing_mediation_1994_cases_at_99_7_percent(db):
    mediation = metrics.mediation_outcomes(db, CQ_TWO_YEARS)
    assert count_close(mediation.opened, 1_994)
    assert metrics.mediation_success_rate(db, CQ_TWO_YEARS) == pytest.approx(0.997, abs=0.005)


def test_chongqing_mediation_amount_93841800_yuan(db):
    assert count_close(metrics.mediation_outcomes(db, CQ_TWO_YEARS).amount_yuan, 93_841_800)


def test_chongqing_pre_litigation_80_percent_plus(db):
    assert metrics.pre_litigation_resolution_rate(db, CQ_TWO_YEARS) >= 0.80


def test_chongqing_one_click_568_claims_57009500_yuan(db):
    claims = metrics.one_click_claims(db, CQ_TWO_YEARS)
    assert count_close(claims.cases, 568)
    assert count_close(claims.amount_yuan, 57_009_500)


def test_chongqing_6_rescues_6_survived(db):
    rescues = metrics.rescue_summary(db, CQ_TWO_YEARS)
    assert (rescues.missions, rescues.survived) == (6, 6)


def test_chongqing_remote_liability_within_5_minutes(db):
    assert metrics.liability_latency(db, CQ_TWO_YEARS, remote_only=True).p90 <= 5.0
    assert metrics.remote_liability_sla_share(db, CQ_TWO_YEARS) >= 0.95


def test_chongqing_fastest_payout_15_minutes(db):
    assert metrics.payout_latency_percentiles(db, CQ_TWO_YEARS).fastest == pytest.approx(15.0, rel=0.01)


def test_chongqing_24_insurers(db):
    assert programme.insurer_count(db, CQ) == 24


def test_chongqing_349_members_404_vehicles_9_claim_points(db):
    strength = programme.rider_team_strength(db, CQ)
    assert (strength.members, strength.vehicles) == (349, 404)
    assert programme.station_counts(db, CQ)["claim_point"] == 9


def test_chongqing_convenience_services_3900(db):
    assert count_close(programme.patrol_totals(db, CQ_TWO_YEARS).good_deeds, 3_900)


def test_chongqing_1100_plus_persuasion_stations_139_in_fengjie(db):
    stations = programme.stations_by_district(db, CQ, "persuasion").set_index("district_adcode")
    assert at_least(int(stations["stations"].sum()), 1_100)
    assert stations.loc["500236", "stations"] == 139
    assert at_least(int(stations["staff"].sum()), 2_700)


def test_chongqing_persuasion_320000_violations_210_drunk_1942_hazards(db):
    totals = programme.persuasion_totals(db, CQ_TWO_YEARS)
    assert at_least(totals.violations_stopped, 320_000)
    assert at_least(totals.drunk_driving, 210)
    assert count_close(totals.hazards, 1_942)


def test_chongqing_74_vehicle_admin_stations_in_37_districts(db):
    stations = programme.stations_by_district(db, CQ, "vehicle_admin")
    assert int(stations["stations"].sum()) == 74
    assert len(stations) == 37


def test_chongqing_86000_vehicle_services_with_breakdown(db):
    services = programme.vehicle_services(db, CQ_TWO_YEARS)
    assert count_close(sum(services.values()), 86_000)
    for kind, published in (("annual_check", 70_000), ("temporary_plate", 9_000), ("violation_lookup", 6_000),
                            ("liability_letter", 436), ("licence_replacement", 311)):
        assert count_close(services[kind], published), kind


def test_chongqing_vehicle_services_up_30_percent_quarter_on_quarter(db):
    window = Filters(CQ, dt.date(2018, 4, 16), dt.date(2020, 3, 31))
    assert programme.vehicle_services_quarter_on_quarter(db, window) == pytest.approx(0.30, abs=0.005)


def test_chongqing_867000_ebikes_registered(db):
    assert count_close(programme.ebike_registrations(db, CQ_TWO_YEARS), 867_000)


def test_chongqing_fraud_600_leads_296_cases_29523800_yuan(db):
    fraud = programme.fraud_summary(db, CQ_TWO_YEARS)
    assert at_least(fraud.leads, 600)
    assert count_close(fraud.suspected, 296)
    assert count_close(fraud.suspected_amount_yuan, 29_523_800)
