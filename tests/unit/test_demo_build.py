"""The demo generator: deterministic for a seed, a top-up equals a full build, cases make sense in space and time."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import select

from data_access import registry
from data_access.db import Database
from data_access.demo.build import build_demo, is_empty, top_up_demo
from data_access.filters import Filters
from data_access.models import AccidentCase, DailyStat, District, Insurer, MediationCase, RiderUnit
from tests.servers import fresh_database_url

ZZ = "350600"
START = dt.date(2021, 3, 1)
T1 = dt.datetime(2021, 4, 20, 3, 30)      # naive UTC
T2 = dt.datetime(2021, 4, 24, 9, 15)


def small(tmp_path, name: str, seed: int = 7, end: dt.datetime = T2) -> Database:
    db = Database(fresh_database_url(tmp_path, name))
    build_demo(db, seed=seed, scale=0.1, cities=(ZZ,), start=START, end=end)
    return db


def frame(db: Database, table, order: str) -> pd.DataFrame:
    columns = [c for c in table.__table__.c if c.name != "id"]
    with db.session() as session:
        rows = session.execute(select(*columns).order_by(table.__table__.c[order])).all()
    return pd.DataFrame(rows, columns=[c.name for c in columns])


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Database:
    return small(tmp_path_factory.mktemp("demo"), "a.db")


def test_is_empty_until_built(tmp_path, built):
    db = Database(fresh_database_url(tmp_path, "empty.db"))
    assert is_empty(db)
    assert not is_empty(built)


def test_same_seed_same_data_and_another_seed_other_data(tmp_path, built):
    again = small(tmp_path, "b.db")
    pd.testing.assert_frame_equal(frame(built, AccidentCase, "external_id"), frame(again, AccidentCase, "external_id"))
    other = small(tmp_path, "c.db", seed=8)
    assert not frame(built, AccidentCase, "external_id").equals(frame(other, AccidentCase, "external_id"))


def test_postgresql_gets_the_same_data_and_figures(postgres, built):
    db = Database(postgres.create_database())
    build_demo(db, seed=7, scale=0.1, cities=(ZZ,), start=START, end=T2)
    pd.testing.assert_frame_equal(frame(db, AccidentCase, "external_id"), frame(built, AccidentCase, "external_id"),
                                  check_dtype=False)
    pd.testing.assert_frame_equal(frame(db, DailyStat, "local_day").sort_values(["local_day", "district_adcode"])
                                  .reset_index(drop=True),
                                  frame(built, DailyStat, "local_day").sort_values(["local_day", "district_adcode"])
                                  .reset_index(drop=True), check_dtype=False)
    window = Filters(ZZ, START, dt.date(2021, 4, 23), (), "none")
    topped_up = registry.kpis(db, window, registry.OVERVIEW).as_dict()
    assert topped_up == pytest.approx(registry.kpis(built, window, registry.OVERVIEW).as_dict())


def test_top_up_writes_exactly_what_a_full_build_would(tmp_path, built):
    db = small(tmp_path, "d.db", end=T1)
    before = len(frame(db, AccidentCase, "external_id"))
    added = top_up_demo(db, now=T2)
    assert added > 0
    assert len(frame(db, AccidentCase, "external_id")) == before + added
    for table, order in ((AccidentCase, "external_id"), (MediationCase, "external_id"), (DailyStat, "local_day")):
        got = frame(db, table, order).sort_values(list(frame(db, table, order).columns[:3])).reset_index(drop=True)
        want = frame(built, table, order).sort_values(list(got.columns[:3])).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_nothing_is_reported_after_the_end_and_unreached_stages_are_empty(built):
    cases = frame(built, AccidentCase, "reported_at")
    assert cases["reported_at"].max() < T2
    for column in ("on_scene_at", "cleared_at", "liability_at", "assessed_at", "paid_at"):
        assert (cases[column].dropna() < T2).all(), column
    assert cases["reported_at"].min() >= dt.datetime.combine(START, dt.time()) - dt.timedelta(hours=8)


def test_stages_follow_each_other(built):
    cases = frame(built, AccidentCase, "reported_at")
    order = ["reported_at", "on_scene_at", "cleared_at"]
    for earlier, later in zip(order, order[1:], strict=False):
        both = cases[[earlier, later]].dropna()
        assert (both[later] >= both[earlier]).all(), (earlier, later)
    chain = (("reported_at", "liability_at"), ("liability_at", "assessed_at"), ("assessed_at", "paid_at"))
    for earlier, later in chain:
        both = cases[[earlier, later]].dropna()
        assert (both[later] >= both[earlier]).all(), (earlier, later)
    paid = cases.dropna(subset=["paid_at"])
    assert ((paid["paid_at"] - paid["reported_at"]).dt.total_seconds() >= 15 * 60 - 1).all()
    assert paid["paid_amount_yuan"].gt(0).all()


def test_every_case_lies_inside_its_district(built):
    cases = frame(built, AccidentCase, "reported_at")
    with built.session() as session:
        shapes = {d.adcode: shape(json.loads(d.boundary_geojson)) for d in session.execute(
            select(District).where(District.city_adcode == ZZ)).scalars()}
    for adcode, group in cases.groupby("district_adcode"):
        inside = shapely.contains_xy(shapes[adcode], group["lon"].to_numpy(), group["lat"].to_numpy())
        assert inside.mean() > 0.999, adcode


def test_main_urban_area_is_busiest_per_area(built):
    cases = frame(built, AccidentCase, "reported_at")
    counts = cases["district_adcode"].value_counts()
    assert counts.index[0] in ("350602", "350603")


def test_rush_hours_are_busier_than_the_small_hours(built):
    hours = frame(built, AccidentCase, "reported_at")["local_hour"].value_counts()
    assert hours.get(8, 0) > 3 * hours.get(3, 0)
    assert hours.get(18, 0) > 3 * hours.get(4, 0)


def test_names_are_generic_labels_never_people_or_plates(built):
    with built.session() as session:
        insurers = session.execute(select(Insurer.name_zh)).scalars().all()
        callsigns = session.execute(select(RiderUnit.callsign)).scalars().all()
    assert all(re.fullmatch(r"保险机构\d\d", name) for name in insurers)
    assert all(re.fullmatch(r"快骑\d\d-\d\d", sign) for sign in callsigns)
