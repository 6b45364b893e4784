"""The faster paths of the analytics pages give exactly what the slower ones gave, on a small demo database: the
district table from one grouped pass equals each district's overview figures; the hour-of-week heat map read from
its month rollup equals the count of the raw alerts; the stations' kinds from the city's one pass equal a query of
the window's districts; the coverage demand merged through packed keys equals pandas' grouping; the migration that
creates the hour-of-week rollup fills it as a rebuild does, and an ingest keeps it current."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from alembic import command
from sqlalchemy import func, select

from data_access import coverage, district, ingest, metrics, registry, station_rollup, stations, throughput
from data_access.db import Database, rows_frame
from data_access.demo.build import build_demo
from data_access.filters import Filters
from data_access.models import (
    ALERT_CHANNELS,
    AccidentCase,
    HourWeekStat,
    InsurerDailyStat,
    InsurerMonthlyStat,
    MonthlyStat,
    PersuasionKind,
    PersuasionRecord,
    StationMonth,
)
from data_access.schema import alembic_config, current_revision, head_revision
from data_access.timeutil import local_midnight_utc
from tests.servers import fresh_database_url

ZZ = "350600"
FIRST_DAY, LAST_DAY = dt.date(2025, 10, 1), dt.date(2026, 5, 10)
WINDOWS = {
    "whole months": (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
    "cut months": (dt.date(2026, 1, 15), dt.date(2026, 4, 10)),
    "inside one month": (dt.date(2026, 3, 3), dt.date(2026, 3, 20)),
    "past both ends of the data": (dt.date(2025, 9, 10), dt.date(2026, 6, 20)),
}
DISTRICTS = {"whole city": (), "one district": ("350602",), "two districts": ("350602", "350603")}


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    db = Database(fresh_database_url(tmp_path_factory.mktemp("fast_paths"), "demo.db"))
    build_demo(db, scale=0.05, cities=(ZZ,), start=FIRST_DAY, end=local_midnight_utc(LAST_DAY + dt.timedelta(days=1)))
    return db


def window(name: str, districts: tuple[str, ...] = (), insurer: int | None = None) -> Filters:
    start, end = WINDOWS[name]
    return Filters(city=ZZ, start=start, end=end, districts=districts, insurer=insurer, comparison="none")


# ------------------------------------------------------------------------------------- the slower computations
def raw_hour_weekday(db: Database, filters: Filters) -> pd.DataFrame:
    """The heat map as it was computed before its rollup: every alert of the window read from the raw cases."""
    c = AccidentCase.__table__.c
    conditions = [c.city_adcode == filters.city, c.local_day >= filters.start, c.local_day <= filters.end,
                  c.channel.in_([channel.value for channel in ALERT_CHANNELS])]
    if filters.districts:
        conditions.append(c.district_adcode.in_(filters.districts))
    with db.session() as session:
        rows = session.execute(select(c.local_day, c.local_hour, func.count()).where(*conditions)
                               .group_by(c.local_day, c.local_hour)).all()
    counts = rows_frame(rows, ["day", "hour", "alerts"])
    counts["weekday"] = pd.to_datetime(counts["day"]).dt.day_of_week
    grid = pd.MultiIndex.from_product([range(7), range(24)], names=["weekday", "hour"])
    total = counts.groupby(["weekday", "hour"])["alerts"].sum().reindex(grid, fill_value=0)
    weekdays = pd.Series(pd.date_range(filters.start, filters.end, freq="D").day_of_week).value_counts()
    days = np.array([weekdays.get(day, 0) for day, _ in grid], dtype=float)
    frame = total.reset_index()
    frame["alerts"] = frame["alerts"].astype(int)
    frame["per_day"] = np.where(days > 0, frame["alerts"] / np.where(days > 0, days, 1), np.nan)
    return frame


def per_district_kpi_table(db: Database, filters: Filters) -> pd.DataFrame:
    """The district table as it was computed before its grouped pass: the registry's overview per district."""
    names = metrics.districts_in_view(db, filters)
    rows = [{"district_adcode": code, **registry.values(db, filters.with_districts((code,)), registry.OVERVIEW)}
            for code in names["district_adcode"]]
    return names[["district_adcode", "name_zh", "name_en"]].merge(pd.DataFrame(rows), on="district_adcode")


def pandas_merged_demand(demand: coverage.Demand, cell_km: float) -> coverage.Demand:
    """The coverage demand merged per cell and district as it was before packed keys: pandas' ngroup."""
    cells = np.floor(demand.xy / cell_km).astype(np.int64)
    keys = pd.DataFrame({"cx": cells[:, 0], "cy": cells[:, 1], "district": demand.district})
    group = keys.groupby(["cx", "cy", "district"], sort=False, dropna=False).ngroup().to_numpy()
    n = int(group.max()) + 1
    weight = np.bincount(group, weights=demand.weight, minlength=n)
    use = np.where(weight[group] > 0, demand.weight, 1.0)
    total = np.bincount(group, weights=use, minlength=n)
    x = np.bincount(group, weights=demand.xy[:, 0] * use, minlength=n) / total
    y = np.bincount(group, weights=demand.xy[:, 1] * use, minlength=n) / total
    first = np.full(n, -1)
    first[group[::-1]] = np.arange(len(group))[::-1]
    return coverage.Demand(np.column_stack([x, y]), weight, demand.rural[first], demand.district[first])


# ------------------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("name", list(WINDOWS))
def test_fast001_district_table_from_one_grouped_pass_equals_each_districts_overview(db, name):
    filters = window(name)
    pd.testing.assert_frame_equal(district.district_kpi_table.uncached(db, filters),
                                  per_district_kpi_table(db, filters))
    table = district.district_kpi_table.uncached(db, filters)
    assert table["alerts"].sum() > 100 and table["payout_p90"].notna().all()


@pytest.mark.parametrize("districts", ["one district", "two districts"])
def test_fast001b_a_window_narrowed_to_districts_still_gives_every_district_its_own_figures(db, districts):
    filters = window("cut months", DISTRICTS[districts])        # the district page ranks its district this way
    table = district.district_kpi_table.uncached(db, filters)
    pd.testing.assert_frame_equal(table, per_district_kpi_table(db, filters))
    assert (table["alerts"] > 0).sum() > len(DISTRICTS[districts])


def test_fast002_district_table_of_an_insurers_window_equals_its_overview_per_district(db):
    with db.session() as session:
        insurer = session.execute(select(AccidentCase.insurer_id).where(AccidentCase.insurer_id.is_not(None))
                                  .limit(1)).scalar()
    filters = window("cut months", insurer=insurer)
    pd.testing.assert_frame_equal(district.district_kpi_table.uncached(db, filters),
                                  per_district_kpi_table(db, filters))


@pytest.mark.parametrize("name", list(WINDOWS))
@pytest.mark.parametrize("districts", list(DISTRICTS))
def test_fast003_hour_of_week_from_the_rollup_equals_the_raw_alerts(db, name, districts):
    filters = window(name, DISTRICTS[districts])
    fast = throughput.hour_weekday.uncached(db, filters)
    pd.testing.assert_frame_equal(fast, raw_hour_weekday(db, filters))
    assert fast["alerts"].sum() > 0


def test_fast004_stations_kinds_of_some_districts_equal_a_query_of_those_districts(db):
    p = PersuasionRecord.__table__
    for districts in DISTRICTS.values():
        filters = window("cut months", districts)
        with db.session() as session:
            rows = dict(session.execute(select(p.c.kind, func.sum(p.c["count"]))
                                        .where(*metrics.place_and_days(p, filters)).group_by(p.c.kind)).all())
        expected = {getattr(kind, "value", kind): int(n) for kind, n in rows.items()}
        kinds = stations.persuasion_by_kind.uncached(db, filters).set_index("kind")["count"]
        assert {kind: int(n) for kind, n in kinds.items() if n} == expected
        if not districts:
            assert kinds[PersuasionKind.NO_HELMET.value] > 0


def test_fast005_demand_merged_through_packed_keys_equals_pandas_grouping():
    rng = np.random.default_rng(17)
    xy = np.vstack([rng.normal(0, 8, (20_000, 2)), rng.uniform(-150, 150, (5_000, 2))])
    demand = coverage.Demand.of(xy, rng.choice([1.0, 3.0, 10.0], len(xy)), rng.random(len(xy)) < 0.3,
                                rng.choice(["500101", "500102", "500103", "500236"], len(xy)))
    for cell in (0.2, 1.0, 7.5):
        fast, slow = coverage.merged_demand(demand, cell), pandas_merged_demand(demand, cell)
        assert len(fast) == len(slow) < len(demand)
        for a, b in ((fast.xy, slow.xy), (fast.weight, slow.weight), (fast.rural, slow.rural),
                     (fast.district, slow.district)):
            assert np.array_equal(a, b)


def test_fast006_an_ingest_moves_the_hour_of_week_rollup_at_once(db):
    filters = window("whole months")
    before = throughput.hour_weekday.uncached(db, filters).set_index(["weekday", "hour"])["alerts"]
    rows = [{"case_id": f"FAST-{i}", "city": ZZ, "district": "350602", "channel": "police_call",
             "reported_at": f"2026-02-03T10:3{i}:00+08:00", "lon": 117.65, "lat": 24.51} for i in range(3)]
    result = ingest.store(db, "cases", "fast-paths-test", rows)          # a Tuesday, 10:3x in Shanghai
    assert result.inserted == 3, result.as_dict()
    after = throughput.hour_weekday.uncached(db, filters).set_index(["weekday", "hour"])["alerts"]
    assert after[(1, 10)] == before[(1, 10)] + 3
    assert (after.drop((1, 10)) == before.drop((1, 10))).all()
    pd.testing.assert_frame_equal(throughput.hour_weekday.uncached(db, filters), raw_hour_weekday(db, filters))
    assert metrics.case_totals.uncached(db, filters) == pytest.approx(day_rollup_totals(db, filters), rel=1e-12)


def day_rollup_totals(db: Database, filters: Filters) -> dict[str, float]:
    """`case_totals` as it was read before the month rollup: every day row of the window summed."""
    table = metrics.stat_table(filters)
    with db.session() as session:
        row = session.execute(select(*[func.coalesce(func.sum(table.c[name]), 0) for name in metrics.STAT_FIELDS])
                              .where(metrics.stat_where(filters, table))).one()
    return {name: float(value) for name, value in zip(metrics.STAT_FIELDS, row, strict=True)}


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("districts", DISTRICTS.values(), ids=DISTRICTS.keys())
def test_fast008_totals_from_whole_months_and_edge_days_equal_the_day_rows(db, name, districts):
    """A window's whole months are read from the month rollup and its cut months' days from the day rollup: the sums
    equal those of every day row, for the city, districts and an insurer."""
    for insurer in (None, _an_insurer(db)):
        filters = window(name, districts, insurer)
        expected = day_rollup_totals(db, filters)
        assert expected["cases"] > 0 or name == "past both ends of the data"
        assert metrics.case_totals.uncached(db, filters) == pytest.approx(expected, rel=1e-12)
        by_district = metrics.case_totals_by_district.uncached(db, filters)
        for code, totals in by_district.items():
            alone = replace(filters, districts=(code,))
            assert totals == pytest.approx(day_rollup_totals(db, alone), rel=1e-12)


def _an_insurer(db: Database) -> int:
    with db.session() as session:
        return session.execute(select(InsurerDailyStat.insurer_id).limit(1)).scalar_one()


def _rollup_rows(db: Database, model=HourWeekStat) -> list[tuple]:
    """Every row in key order; sums of money to the cent's ten-thousandth (PostgreSQL adds in heap order, so two
    fills differ in the last bits)."""
    table = model.__table__
    with db.session() as session:
        rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
    return [tuple(round(value, 6) if isinstance(value, float) else value for value in row) for row in rows]


def _migrate(db: Database, revision: str, down: bool = False) -> None:
    config = alembic_config(db.engine.url.render_as_string(hide_password=False))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_fast007_the_migrations_fill_the_month_rollups_as_a_rebuild_does(db):
    """0007 (hour of week), 0009 (month sums of the day rollups, per district and per insurer) and 0010 (the
    stations' work per month)."""
    models = (HourWeekStat, MonthlyStat, InsurerMonthlyStat, StationMonth)
    built = {model: _rollup_rows(db, model) for model in models}
    assert all(len(rows) > 20 for rows in built.values()) and len(built[HourWeekStat]) > 1000
    _migrate(db, "0006", down=True)
    assert current_revision(db.engine) == "0006"
    _migrate(db, "head")
    assert current_revision(db.engine) == head_revision()
    for model in models:
        assert _rollup_rows(db, model) == built[model], model.__tablename__


def raw_station_sums(db: Database, filters: Filters, activity: str, by: tuple[str, ...]) -> dict[tuple, int]:
    """`stations.station_sums` as it was read before the month rollup: every day row of the window grouped."""
    table = station_rollup.ACTIVITIES[activity]
    keys = [station_rollup.kind_column(table) if key == "kind" else table.c["local_day" if key == "day" else key]
            for key in by]
    with db.session() as session:
        rows = session.execute(select(*keys, func.sum(table.c["count"]))
                               .where(*metrics.place_and_days(table, filters)).group_by(*keys)).all()
    return {tuple(getattr(v, "value", v) for v in row[:-1]): int(row[-1]) for row in rows}


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("districts", DISTRICTS.values(), ids=DISTRICTS.keys())
def test_fast009_stations_work_from_whole_months_and_edge_days_equals_the_day_rows(db, name, districts):
    """Per district and kind, per kind and quarter, per month: the sums read from the month rollup and the cut
    months' days equal those of every day row of the window."""
    filters = window(name, districts)
    for activity in station_rollup.ACTIVITIES:
        fast = stations.station_sums(db, filters, activity, ("district_adcode", "kind"))
        expected = raw_station_sums(db, filters, activity, ("district_adcode", "kind"))
        pairs = zip(fast["district_adcode"], fast["kind"], strict=True)
        assert dict(zip(pairs, fast["count"].tolist(), strict=True)) == expected
        assert sum(expected.values()) > 0 or districts
        months = {}
        for (day,), count in raw_station_sums(db, filters, activity, ("day",)).items():
            months[day.replace(day=1)] = months.get(day.replace(day=1), 0) + count
        by_day = stations.station_sums(db, filters, activity, ("day",))
        by_month = by_day.groupby(pd.to_datetime(by_day["day"]).dt.to_period("M").dt.start_time.dt.date)["count"].sum()
        assert by_month.to_dict() == months
    quarters = stations.services_by_quarter.uncached(db, filters)
    assert int(quarters["count"].sum()) == sum(raw_station_sums(db, filters, "vehicle_service", ("kind",)).values())
    ebikes = stations.ebike_by_month.uncached(db, filters)
    assert int(ebikes["registrations"].sum()) == sum(raw_station_sums(db, filters, "ebike", ("day",)).values())


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("districts", DISTRICTS.values(), ids=DISTRICTS.keys())
def test_fast010_counts_by_month_from_the_month_rollup_equal_the_days_summed(db, name, districts):
    """By month, the throughput counts read whole months from the month rollup: each month's sums and its first and
    last day in the window equal those of the window's day rows, for the city, districts and an insurer."""
    for insurer in (None, _an_insurer(db)):
        filters = window(name, districts, insurer)
        months = throughput.counts_over_time.uncached(db, filters, "month")
        days = throughput.counts_over_time.uncached(db, filters, "day")
        expected = days.groupby(days["period_start"].dt.to_period("M")).agg(
            period_start=("period_start", "min"), period_end=("period_end", "max"), alerts=("alerts", "sum"),
            alerts_by_patrol=("alerts_by_patrol", "sum"), quick=("quick", "sum")).reset_index(drop=True)
        columns = ["period_start", "period_end", "alerts", "alerts_by_patrol", "quick"]
        pd.testing.assert_frame_equal(months[columns], expected[columns], check_dtype=False)
        assert months["alerts"].sum() > 0 or name == "past both ends of the data" and insurer is not None
