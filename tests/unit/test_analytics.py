"""The breakdowns behind the analytics pages and the district view, on hand-built data with known answers:
counts per week, monthly latency percentiles, cleared-within share, hour × weekday, mediation backlog and
durations, outcomes, rescue timelines, station work, fraud leads, damage assessment and district ranks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from data_access import district, fraud, mediation, metrics, registry, rescue, stations, throughput
from data_access.filters import Filters
from data_access.models import (
    Channel,
    EbikeRegistration,
    FraudLead,
    Insurer,
    MediationOutcome,
    PersuasionKind,
    PersuasionRecord,
    Station,
    StationKind,
    VehicleService,
    VehicleServiceKind,
)
from data_access.rollups import rebuild_rollups
from tests.unit.handmade import CITY, D1, D2, case, empty_city, local, minutes
from tests.unit.handmade import mediation as mediation_case
from tests.unit.handmade import rescue as rescue_mission

MON = dt.date(2020, 6, 1)          # a Monday
DAY = dt.timedelta(days=1)


def window(start: dt.date, end: dt.date, districts=(), comparison="none") -> Filters:
    return Filters(city=CITY, start=start, end=end, districts=districts, comparison=comparison)


@pytest.fixture()
def db(database_url):
    db = empty_city(database_url)
    with db.transaction() as s:
        s.add_all([
            # week of 1 June: three alerts in D1 (one found by patrol, two quick), one insurer-only case
            case(local(MON, 8), quick_handled=True, on_scene_at=minutes(4), cleared_at=minutes(6),
                 assessed_at=minutes(30), paid_at=minutes(40)),
            case(local(MON, 8, 30), quick_handled=True, on_scene_at=minutes(10), cleared_at=minutes(12),
                 assessed_at=minutes(50)),
            case(local(MON + 2 * DAY, 18), channel=Channel.PATROL, cleared_at=minutes(10)),
            case(local(MON, 12), channel=Channel.INSURER),
            # week of 8 June: one alert in D2 at 07:xx on a Tuesday
            case(local(MON + 8 * DAY, 7), district=D2, on_scene_at=minutes(20), cleared_at=minutes(60)),
            # July: one alert in D1
            case(local(dt.date(2020, 7, 15), 9), on_scene_at=minutes(30), cleared_at=minutes(31)),
        ])
        s.add_all([
            # opened before the window, closed inside it: part of the backlog carried in
            mediation_case(local(MON - 3 * DAY), local(MON + 1 * DAY), MediationOutcome.SETTLED, pre=True,
                           amount=1000),
            # opened 1 June, closed 3 June (2 days), settled
            mediation_case(local(MON), local(MON + 2 * DAY), MediationOutcome.SETTLED, amount=2000),
            # opened 2 June, closed 12 June (10 days), failed
            mediation_case(local(MON + DAY), local(MON + 11 * DAY), MediationOutcome.FAILED),
            # opened 4 June, still open
            mediation_case(local(MON + 3 * DAY), None, MediationOutcome.OPEN),
            # a year before: closed after 5 days (the comparison)
            mediation_case(local(dt.date(2019, 6, 3)), local(dt.date(2019, 6, 8)), MediationOutcome.SETTLED),
        ])
        s.add_all([rescue_mission(local(MON, 10), minutes(50)), rescue_mission(local(MON + DAY, 10), minutes(75))])
        s.add(Insurer(id=1, city_adcode=CITY, code="I1", name_zh="保险机构01", name_en="Insurer 01"))
        s.add(Insurer(id=2, city_adcode=CITY, code="I2", name_zh="保险机构02", name_en="Insurer 02"))
        s.flush()
        s.add_all([
            FraudLead(city_adcode=CITY, district_adcode=D1, insurer_id=1, opened_at=local(MON), local_day=MON,
                      suspected=True, amount_yuan=5000),
            FraudLead(city_adcode=CITY, district_adcode=D1, insurer_id=1, opened_at=local(MON), local_day=MON,
                      suspected=False, amount_yuan=900),
            FraudLead(city_adcode=CITY, district_adcode=D2, insurer_id=2, opened_at=local(MON + DAY),
                      local_day=MON + DAY, suspected=True, amount_yuan=1500),
        ])
        station = Station(city_adcode=CITY, district_adcode=D1, kind=StationKind.PERSUASION, code="P1",
                          name_zh="劝导站01", name_en="Station 01", lon=117.62, lat=24.52, staff=3)
        admin = Station(city_adcode=CITY, district_adcode=D2, kind=StationKind.VEHICLE_ADMIN, code="V1",
                        name_zh="服务站01", name_en="Service 01", lon=117.72, lat=24.52, staff=2)
        s.add_all([station, admin])
        s.flush()
        s.add_all([
            PersuasionRecord(station_id=station.id, city_adcode=CITY, district_adcode=D1, local_day=MON,
                             kind=PersuasionKind.NO_HELMET, count=7),
            PersuasionRecord(station_id=station.id, city_adcode=CITY, district_adcode=D1, local_day=MON,
                             kind=PersuasionKind.DRUNK_DRIVING, count=2),
            PersuasionRecord(station_id=station.id, city_adcode=CITY, district_adcode=D1, local_day=MON,
                             kind=PersuasionKind.HAZARD, count=4),
            VehicleService(station_id=admin.id, city_adcode=CITY, district_adcode=D2, local_day=dt.date(2020, 3, 2),
                           kind=VehicleServiceKind.ANNUAL_CHECK, count=10),
            VehicleService(station_id=admin.id, city_adcode=CITY, district_adcode=D2, local_day=MON,
                           kind=VehicleServiceKind.ANNUAL_CHECK, count=15),
            EbikeRegistration(station_id=admin.id, city_adcode=CITY, district_adcode=D2, local_day=MON, count=6),
            EbikeRegistration(station_id=admin.id, city_adcode=CITY, district_adcode=D2,
                              local_day=dt.date(2020, 7, 1), count=4),
        ])
    rebuild_rollups(db)
    return db


def test_counts_per_week_start_on_monday_and_keep_rates_of_sums(db):
    frame = throughput.counts_over_time(db, window(MON, MON + 13 * DAY), "week")
    assert list(frame["period_start"].dt.date) == [MON, MON + 7 * DAY]
    assert frame["alerts"].tolist() == [3, 1]
    assert frame["alerts_by_patrol"].tolist() == [1, 0]
    assert frame["quick"].tolist() == [2, 0]
    assert frame["quick_rate"].tolist() == pytest.approx([2 / 3, 0.0])
    daily = throughput.counts_over_time(db, window(MON, MON + 2 * DAY), "day")
    assert daily["alerts"].tolist() == [2, 0, 1]
    assert np.isnan(daily["quick_rate"].iloc[1])                       # no alerts: no rate, not 0 %
    assert throughput.resolved_grain(window(MON, MON + 30 * DAY), "auto") == "day"
    assert throughput.resolved_grain(window(MON, MON + 300 * DAY), "auto") == "week"
    assert throughput.resolved_grain(window(MON, MON + 1000 * DAY), "auto") == "month"


def test_monthly_latency_percentiles_and_cleared_within_three_minutes(db):
    frame = throughput.latency_by_month(db, window(MON, dt.date(2020, 7, 31))).set_index(["month", "metric"])
    june, july = np.datetime64("2020-06-01"), np.datetime64("2020-07-01")
    # to scene in June: 4, 10, 0 (patrol), 20 minutes -> median (inverted CDF) 4, p90 20
    assert frame.loc[(june, "to_scene"), "count"] == 4
    assert frame.loc[(june, "to_scene"), "p50"] == pytest.approx(4, rel=0.01)
    assert frame.loc[(june, "to_scene"), "p90"] == pytest.approx(20, rel=0.01)
    assert frame.loc[(july, "clearance"), "p50"] == pytest.approx(1, rel=0.01)
    # clearance in June: 2, 2, 10, 40 minutes -> half within 3 minutes
    assert frame.loc[(june, "cleared_within_3m"), "p50"] == pytest.approx(0.5)
    assert metrics.cleared_within_share(db, window(MON, dt.date(2020, 7, 31))) == pytest.approx(3 / 5)


def test_hour_by_weekday_averages_over_the_days_of_each_weekday(db):
    frame = throughput.hour_weekday(db, window(MON, MON + 13 * DAY)).set_index(["weekday", "hour"])
    assert len(frame) == 7 * 24
    assert frame.loc[(0, 8), "alerts"] == 2 and frame.loc[(0, 8), "per_day"] == pytest.approx(1.0)  # 2 Mondays
    assert frame.loc[(2, 18), "alerts"] == 1
    assert frame.loc[(1, 7), "alerts"] == 1
    assert int(frame["alerts"].sum()) == 4                              # the insurer-only case is not an alert


def test_mediation_backlog_counts_cases_carried_in_and_still_open(db):
    frame = mediation.backlog(db, window(MON, MON + 13 * DAY)).set_index("day")
    day = lambda n: np.datetime64(MON + n * DAY)  # noqa: E731
    assert frame.loc[day(0), "opened"] == 1 and frame.loc[day(0), "backlog"] == 2     # carried 1 + opened 1
    assert frame.loc[day(1), "backlog"] == 2                                          # +1 opened, −1 closed
    assert frame.loc[day(2), "backlog"] == 1
    assert frame.loc[day(3), "backlog"] == 2
    assert frame.loc[day(11), "closed"] == 1 and frame.loc[day(11), "backlog"] == 1   # the open one remains
    assert mediation.open_backlog(db, window(MON, MON + 13 * DAY)) == 1


def test_mediation_durations_outcomes_and_change_against_the_year_before(db):
    june = window(MON, MON + 29 * DAY, comparison="yoy")
    assert sorted(np.round(mediation.durations_days(db, june), 6)) == [2.0, 4.0, 10.0]
    bands = mediation.duration_distribution(db, june).set_index("band")
    assert bands.loc["2–3", "current_cases"] == 1 and bands.loc["3–5", "current_cases"] == 1
    assert bands.loc["7–10", "current_cases"] == 0 and bands.loc["10–14", "current_cases"] == 1
    assert bands.loc["5–7", "previous_cases"] == 1
    assert bands["current_share"].sum() == pytest.approx(1.0)
    outcomes = mediation.outcome_counts(db, june).set_index("outcome")
    assert outcomes["cases"].to_dict() == {"settled": 2, "failed": 1, "litigation": 0}
    assert outcomes.loc["settled", "amount_yuan"] == 3000
    months = mediation.outcomes_by_month(db, june)
    assert months["success_rate"].iloc[0] == pytest.approx(2 / 3)


def test_rescue_missions_give_minutes_from_the_request(db):
    frame = rescue.missions(db, window(MON, MON + 6 * DAY))
    assert frame["hospital_min"].tolist() == pytest.approx([75, 50])                # newest first
    assert frame["takeoff_min"].tolist() == pytest.approx([8, 8])
    assert frame["within_60m"].tolist() == [False, True]
    assert frame["requested_at"].iloc[1].hour == 10                                 # Asia/Shanghai wall time
    kpis = registry.kpis(db, window(MON, MON + 6 * DAY), registry.RESCUE).as_dict()
    assert kpis["rescue_within_60m"] == pytest.approx(0.5)
    assert kpis["rescue_to_hospital_p50"] == pytest.approx(62.5)


def test_station_work_by_district_kind_quarter_and_month(db):
    june = window(MON, MON + 29 * DAY)
    by_district = stations.persuasion_by_district(db, june).set_index("district_adcode")
    assert by_district.loc[D1, ["stations", "staff", "violations", "drunk_driving", "hazards"]].tolist() == [
        1, 3, 9, 2, 4]
    assert by_district.loc[D2, "stations"] == 0
    kinds = stations.persuasion_by_kind(db, june).set_index("kind")
    assert kinds.loc["no_helmet", "count"] == 7 and not kinds.loc["hazard", "violation"]
    quarters = stations.services_by_quarter(db, window(dt.date(2020, 1, 1), dt.date(2020, 6, 30)))
    annual = quarters[quarters["kind"] == "annual_check"].set_index("quarter")
    assert annual["count"].to_dict() == {"2020Q1": 10, "2020Q2": 15}
    assert np.isnan(annual.loc["2020Q1", "qoq_change"]) and annual.loc["2020Q2", "qoq_change"] == pytest.approx(0.5)
    assert stations.ebike_by_month(db, window(MON, dt.date(2020, 7, 31)))["registrations"].tolist() == [6, 4]
    values = registry.kpis(db, window(MON, dt.date(2020, 7, 31), districts=(D1,)), registry.STATIONS).as_dict()
    assert values["violations_stopped"] == 9 and values["persuasion_staff"] == 3
    assert values["vehicle_services"] == 0                                         # services were in D2


def test_fraud_leads_by_insurer_and_district(db):
    june = window(MON, MON + 29 * DAY)
    assert fraud.fraud_totals(db, june) == {"leads": 3, "suspected": 2, "amount_yuan": 6500.0}
    insurers = fraud.fraud_by_insurer(db, june).set_index("insurer_id")
    assert insurers.loc[1, ["leads", "suspected"]].tolist() == [2, 1]
    assert insurers.loc[1, "suspected_share"] == pytest.approx(0.5)
    districts = fraud.fraud_by_district(db, window(MON, MON + 29 * DAY, districts=(D1,))).set_index(
        "district_adcode")
    assert districts.loc[D2, "suspected"] == 1                                      # every district, to compare
    assert fraud.fraud_totals(db, window(MON, MON + 29 * DAY, districts=(D2,)))["amount_yuan"] == 1500.0


def test_damage_assessment_latency_is_a_stage_clock(db):
    stats = metrics.damage_assessment_latency(db, window(MON, MON + 29 * DAY))
    assert stats.count == 2
    assert stats.fastest == pytest.approx(30)
    assert stats.p90 == pytest.approx(50, rel=0.01)


def test_district_ranks_use_the_overview_figures_of_each_district(db):
    june = window(MON, MON + 29 * DAY)
    table = district.district_kpi_table(db, june).set_index("district_adcode")
    for code in (D1, D2):
        one = june.with_districts((code,))
        assert table.loc[code, "alerts"] == registry.values(db, one, registry.OVERVIEW)["alerts"]
    ranks = district.district_ranks(db, june, D1).set_index("kpi")
    assert ranks.loc["alerts", "value"] == 3 and ranks.loc["alerts", "rank"] == 2      # fewer alerts rank first
    assert ranks.loc["quick", "rank"] == 1 and ranks.loc["quick", "ranked"] == 2
    assert np.isnan(ranks.loc["rescues", "rank"])                                    # neither good nor bad


@pytest.mark.parametrize("span", [(MON, dt.date(2020, 7, 31)), (MON + 3 * DAY, dt.date(2020, 7, 20)),
                                  (dt.date(2020, 5, 1), dt.date(2020, 8, 31))])
def test_monthly_latencies_equal_the_metric_functions_month_by_month(db, span):
    frame = throughput.latency_by_month(db, window(*span)).set_index(["month", "metric"])
    for month in throughput.month_windows(window(*span)):
        key = np.datetime64(month.start.replace(day=1))
        scene, clearance = metrics.time_to_scene(db, month), metrics.clearance_time(db, month)
        assert frame.loc[(key, "to_scene"), "count"] == scene.count
        for column, value in (("p50", scene.p50), ("p90", scene.p90)):
            assert (np.isnan(frame.loc[(key, "to_scene"), column]) and value is None) or \
                frame.loc[(key, "to_scene"), column] == pytest.approx(value)
        assert frame.loc[(key, "clearance"), "count"] == clearance.count
        share = metrics.cleared_within_share(db, month)
        assert (share is None and pd.isna(frame.loc[(key, "cleared_within_3m"), "p50"])) or \
            frame.loc[(key, "cleared_within_3m"), "p50"] == pytest.approx(share)
