"""The coverage plan's demand read from the month rollup equals the raw cases read as before: the same points in the
same order for whole, cut and partial months, the whole city and district windows; the same plan, merged cells
included; the merge's counting and numbering through dense cell tables equal the hashed ones; an ingest moves the
rollup at once; the migration fills it as a rebuild does; and the packed arrays survive PostgreSQL as SQLite."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from alembic import command
from sqlalchemy import select

from data_access import coverage as cv
from data_access import demand_rollup, ingest
from data_access.db import Database
from data_access.demand_rollup import DemandArrays
from data_access.demo.build import build_demo
from data_access.filters import Filters
from data_access.models import AccidentCase, DemandMonth, Insurer
from data_access.schema import alembic_config, current_revision, head_revision
from data_access.timeutil import local_midnight_utc
from tests.servers import fresh_database_url
from tests.unit import handmade

ZZ = "350600"
CENTRE = (117.65, 24.51)
FIRST_DAY, LAST_DAY = dt.date(2025, 10, 1), dt.date(2026, 5, 10)
WINDOWS = {
    "whole months": (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
    "cut months": (dt.date(2026, 1, 15), dt.date(2026, 4, 10)),
    "inside one month": (dt.date(2026, 3, 3), dt.date(2026, 3, 20)),
    "past both ends of the data": (dt.date(2025, 9, 10), dt.date(2026, 6, 20)),
    "all data": (FIRST_DAY, LAST_DAY),
}
DISTRICTS = {"whole city": (), "one district": ("350602",), "two districts": ("350602", "350603")}


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    db = Database(fresh_database_url(tmp_path_factory.mktemp("demand_rollup"), "demo.db"))
    build_demo(db, scale=0.05, cities=(ZZ,), start=FIRST_DAY, end=local_midnight_utc(LAST_DAY + dt.timedelta(days=1)))
    return db


def window(name: str, districts: tuple[str, ...] = ()) -> Filters:
    start, end = WINDOWS[name]
    return Filters(city=ZZ, start=start, end=end, districts=districts, comparison="none")


# ------------------------------------------------------------------------------------- the slower computations
def raw_demand_points(db: Database, filters: Filters, ordered: bool = True) -> pd.DataFrame:
    """The window's located accidents as `demand_points` read them before the rollup: every row from the raw cases,
    in the order of SQLite's city × day index (day, then id), asked for explicitly so that PostgreSQL, which
    otherwise answers in its heap order, gives the same."""
    a = AccidentCase.__table__
    columns = ["lon", "lat", "district_adcode", "severity"]
    query = select(a.c.lon, a.c.lat, a.c.district_adcode, a.c.severity).where(
        a.c.city_adcode == filters.city, a.c.local_day >= filters.start, a.c.local_day <= filters.end,
        a.c.lon.is_not(None), a.c.lat.is_not(None))
    with db.session() as session:
        cursor = session.execute(query.order_by(a.c.local_day, a.c.id) if ordered else query).cursor
        parts = []
        while rows := cursor.fetchmany(200_000):
            part = pd.DataFrame.from_records(rows, columns=columns)
            for key in ("district_adcode", "severity"):
                part[key] = part[key].astype("category")
            parts.append(part)
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True)
    for key in ("district_adcode", "severity"):
        frame[key] = frame[key].astype(str)
    return frame


def frame_demand(points: pd.DataFrame, areas: pd.DataFrame, plane: cv.Plane, weighting: str) -> cv.Demand:
    """`demand_of` as it was, from the frame of points."""
    rural = points["district_adcode"].map(areas.set_index("district_adcode")["rural"]).fillna(False)
    weight = (points["severity"].map(cv.SEVERITY_WEIGHTS).fillna(1.0).to_numpy(dtype=float)
              if weighting == "severity" else np.ones(len(points)))
    return cv.Demand(plane.xy(points["lon"], points["lat"]), weight, rural.to_numpy(dtype=bool),
                     points["district_adcode"].to_numpy(dtype=object))


def hashed_merged_demand(demand: cv.Demand, cell_km: float) -> cv.Demand:
    """`merged_demand` as it was: every (cell, district) packed into one integer and factorized by a hash table."""
    cells = np.floor(demand.xy / cell_km).astype(np.int64)
    group = cv._first_seen_groups(cells[:, 0], cells[:, 1], cv.district_codes_of(demand))
    n = int(group.max()) + 1
    weight = np.bincount(group, weights=demand.weight, minlength=n)
    use = np.where(weight[group] > 0, demand.weight, 1.0)
    total = np.bincount(group, weights=use, minlength=n)
    x = np.bincount(group, weights=demand.xy[:, 0] * use, minlength=n) / total
    y = np.bincount(group, weights=demand.xy[:, 1] * use, minlength=n) / total
    first = np.full(n, -1)
    first[group[::-1]] = np.arange(len(group))[::-1]
    return cv.Demand(np.column_stack([x, y]), weight, demand.rural[first], demand.district[first])


def merging_bounded_demand(demand: cv.Demand, shortest_reach_km: float, candidates: int,
                           district_codes=None) -> tuple[cv.Demand, float | None]:
    """`bounded_demand` as it was: the whole merge done at every size passed over."""
    if len(demand) <= cv.MAX_DEMAND_POINTS and len(demand) * max(candidates, 1) <= cv.PAIR_BUDGET:
        return demand, None
    cell = max(shortest_reach_km / cv.CELLS_PER_RADIUS, 0.01)
    merged = hashed_merged_demand(demand, cell)
    while len(merged) > cv.MAX_DEMAND_POINTS:
        cell *= 1.5
        merged = hashed_merged_demand(demand, cell)
    return merged, round(cell, 3)


def assert_same_demand(a: cv.Demand, b: cv.Demand) -> None:
    assert len(a) == len(b)
    for x, y in ((a.xy, b.xy), (a.weight, b.weight), (a.rural, b.rural), (a.district, b.district)):
        assert np.array_equal(x, y)


def assert_same_plan(a: cv.Plan, b: cv.Plan) -> None:
    for name in ("stations", "added", "districts", "hexes", "recommended"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    for name in ("before", "after"):
        x, y = getattr(a, name), getattr(b, name)
        assert np.array_equal(x.covered, y.covered) and (x.weight, x.covered_weight) == (y.weight, y.covered_weight)
    assert (a.hex_km, a.demand_points, a.merged_km, a.evaluated_points) == (
        b.hex_km, b.demand_points, b.merged_km, b.evaluated_points)


# ------------------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("name", list(WINDOWS))
@pytest.mark.parametrize("districts", list(DISTRICTS))
def test_dem001_located_demand_equals_the_raw_cases_in_their_order(db, name, districts):
    filters = window(name, DISTRICTS[districts])
    fast = cv.located_demand.uncached(db, filters)
    pd.testing.assert_frame_equal(fast.frame(), raw_demand_points(db, filters), check_exact=True)
    assert len(fast) > 100 and len(fast.districts) > 3
    assert cv.located_count(db, filters) == len(fast)


def test_dem002_whole_months_are_read_from_the_rollup(db, monkeypatch):
    filters = window("whole months")
    with db.session() as session:
        stored = session.execute(select(DemandMonth.month, DemandMonth.points).where(
            DemandMonth.city_adcode == ZZ, DemandMonth.month >= filters.start, DemandMonth.month <= filters.end)
            .order_by(DemandMonth.month)).all()
    assert [month for month, _ in stored] == [dt.date(2026, m, 1) for m in (1, 2, 3)]
    monkeypatch.setattr(cv.demand_rollup, "raw_demand", None)         # no raw case is read for whole months
    assert len(cv.located_demand.uncached(db, filters)) == sum(points for _, points in stored)


@pytest.mark.parametrize("name", list(WINDOWS))
@pytest.mark.parametrize("weighting", cv.WEIGHTINGS)
def test_dem003_demand_of_the_arrays_equals_the_demand_of_the_raw_frame(db, name, weighting):
    filters = window(name)
    areas, plane = cv.district_areas(db, ZZ), cv.Plane(*CENTRE)
    assert_same_demand(cv.demand_of(cv.located_demand.uncached(db, filters), areas, plane, weighting),
                       frame_demand(raw_demand_points(db, filters), areas, plane, weighting))


@pytest.mark.parametrize("name", ["cut months", "all data", "inside one month"])
@pytest.mark.parametrize("scenario", [cv.Scenario(), cv.Scenario(weighting="severity", minutes=15.0, k=5),
                                      cv.Scenario(site_vehicle="motorcycle", off=(2, 5), added=((117.62, 24.57),))])
def test_dem004_the_plan_from_the_rollup_equals_the_plan_from_the_raw_cases(db, monkeypatch, name, scenario):
    monkeypatch.setattr(cv, "MAX_DEMAND_POINTS", 120)          # the demo's hundreds of accidents get merged
    filters = window(name)
    fast = cv.plan_of(db, filters, scenario, CENTRE)
    with monkeypatch.context() as before:
        def raw(db_, filters_):
            frame = raw_demand_points(db_, filters_)
            return DemandArrays.of_values(frame["lon"], frame["lat"], frame["district_adcode"], frame["severity"])

        before.setattr(cv, "located_demand", raw)
        before.setattr(cv, "bounded_demand", merging_bounded_demand)
        slow = cv.plan_of(db, filters, scenario, CENTRE)
    assert_same_plan(fast, slow)
    assert fast.merged_km is not None and fast.evaluated_points <= 120 < fast.demand_points
    assert fast.after.share is not None and len(fast.recommended) > 0


@pytest.mark.parametrize("dense_cells", [cv.DENSE_CELLS, 1_000])      # through the cell table, and hashed
def test_dem005_counting_and_numbering_groups_through_cell_tables_equals_hashing(monkeypatch, dense_cells):
    monkeypatch.setattr(cv, "DENSE_CELLS", dense_cells)
    rng = np.random.default_rng(8)
    xy = np.vstack([rng.normal(0, 8, (30_000, 2)), rng.uniform(-150, 150, (6_000, 2))])
    districts = rng.choice(["500101", "500102", "500103", "500236", "500238"], len(xy))
    demand = cv.Demand.of(xy, rng.choice([1.0, 3.0, 10.0], len(xy)), rng.random(len(xy)) < 0.3, districts)
    codes = cv.district_codes_of(demand)
    extents = cv.DistrictExtents.of(demand.xy, codes)
    for cell in (0.05, 0.3, 1.0, 7.5):
        slow = hashed_merged_demand(demand, cell)
        assert cv._group_count(demand.xy, cell, codes, extents) == len(slow) < len(demand)
        assert_same_demand(cv.merged_demand(demand, cell), slow)
        # any numbering of the districts (the rollup's, a missing one as -1) makes the same groups
        vocabulary_codes = np.searchsorted(np.unique(districts), districts) * 7 + 3
        assert_same_demand(cv.merged_demand(demand, cell, vocabulary_codes), slow)
    missing = codes.copy()
    missing[::97] = -1
    cells = np.floor(demand.xy / 0.3).astype(np.int64)
    assert np.array_equal(cv._cell_groups(demand.xy, 0.3, missing, cv.DistrictExtents.of(demand.xy, missing)),
                          cv._first_seen_groups(cells[:, 0], cells[:, 1], missing))
    for reach in (2.0, 5.0):
        fast, cell = cv.bounded_demand(demand, reach, 100)
        slow, slow_cell = merging_bounded_demand(demand, reach, 100)
        assert cell == slow_cell and len(fast) <= cv.MAX_DEMAND_POINTS
        assert_same_demand(fast, slow)


def test_dem006_an_ingest_moves_the_rollup_at_once(db):
    filters = window("whole months")
    before = cv.located_demand.uncached(db, filters)
    rows = [{"case_id": f"DEM-{i}", "city": ZZ, "district": "350603", "channel": "police_call",
             "severity": severity, "reported_at": f"2026-02-03T10:3{i}:00+08:00", "lon": 117.7 + i / 100,
             "lat": 24.52} for i, severity in enumerate(("minor", "injury", "major"))]
    result = ingest.store(db, "cases", "demand-rollup-test", rows)
    assert result.inserted == 3, result.as_dict()
    after = cv.located_demand.uncached(db, filters)
    assert len(after) == len(before) + 3
    new = after.frame().merge(before.frame(), how="left", indicator=True).query("_merge == 'left_only'")
    assert sorted(new["lon"].round(2)) == [117.7, 117.71, 117.72] and set(new["severity"]) == {"minor", "injury",
                                                                                                 "major"}
    pd.testing.assert_frame_equal(after.frame(), raw_demand_points(db, filters), check_exact=True)


def _rollup_rows(db: Database) -> list[tuple]:
    table = DemandMonth.__table__
    with db.session() as session:
        return [tuple(row) for row in session.execute(select(table).order_by(*table.primary_key.columns)).all()]


def _migrate(db: Database, revision: str, down: bool = False) -> None:
    config = alembic_config(db.engine.url.render_as_string(hide_password=False))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_dem007_the_migration_fills_the_rollup_as_a_rebuild_does(db):
    built = _rollup_rows(db)
    assert len(built) == 8 and sum(row[2] for row in built) > 1500       # October to May, every month with points
    _migrate(db, "0007", down=True)
    assert current_revision(db.engine) == "0007"
    _migrate(db, "head")
    assert current_revision(db.engine) == head_revision()
    assert _rollup_rows(db) == built


def test_dem008_packed_months_read_back_the_same_on_both_databases(database_url):
    db = handmade.empty_city(database_url)
    with db.transaction() as session:
        session.add(Insurer(id=1, city_adcode=handmade.CITY, code="INS01", name_zh="保险机构01", name_en="Insurer 01"))
    rows = [{"case_id": f"P{i}", "city": handmade.CITY, "district": (handmade.D1, handmade.D2)[i % 2],
             "channel": "police_call", "severity": ("minor", "injury", "major")[i % 3],
             "reported_at": f"2020-{5 + i % 3:02d}-{1 + i % 28:02d}T{8 + i % 12:02d}:00:00+08:00",
             "lon": (117.6, 117.7)[i % 2] + (i % 7) / 200, "lat": 24.5 + (i % 5) / 200} for i in range(120)]
    assert ingest.store(db, "cases", "pack-test", rows).inserted == 120
    for start, end in ((dt.date(2020, 5, 1), dt.date(2020, 7, 31)), (dt.date(2020, 5, 20), dt.date(2020, 7, 9))):
        filters = Filters(city=handmade.CITY, start=start, end=end, comparison="none")
        fast = cv.located_demand.uncached(db, filters)
        pd.testing.assert_frame_equal(fast.frame(), raw_demand_points(db, filters), check_exact=True)
        assert len(fast) > 50


def test_dem009_a_rebuild_read_in_small_chunks_packs_the_same_months(db, monkeypatch):
    built = _rollup_rows(db)
    monkeypatch.setattr(demand_rollup, "ROWS_PER_FETCH", 97)          # every month cut across several chunks
    with db.sessions.begin() as session:
        demand_rollup.rebuild_demand_months(session, None, None, None)
    assert _rollup_rows(db) == built and len(built) >= 8
