"""The live feed simulator: units stay inside their grids, each incident gets the nearest free unit, stage times are
ordered, rates follow the hour of day, and everything lands in the database like any other feed."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from shapely.geometry import Point, shape
from sqlalchemy import case as sa_case
from sqlalchemy import select

from data_access import live
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.geo import haversine_km
from data_access.models import AccidentCase, UnitPosition
from data_access.simulator import SOURCE, Simulator, thin_positions
from tests.servers import fresh_database_url

ZHANGZHOU = "350600"
START = dt.datetime(2026, 6, 1, 0, 0)      # 08:00 in Zhangzhou, a Monday: morning rush hour
STAGES = ("reported_at", "on_scene_at", "cleared_at", "liability_at", "assessed_at", "paid_at")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """Two simulated hours of Zhangzhou at a high incident rate, written to a small demo database."""
    db = Database(fresh_database_url(tmp_path_factory.mktemp("sim")), QueryCache.from_url("null"))
    build_demo(db, scale=0.01, start=dt.date(2026, 5, 28), end=dt.datetime(2026, 5, 31, 12))
    sim = Simulator(db, ZHANGZHOU, seed=7, start=START, rate_scale=8)
    sim.run(2 * 3600, step_s=15)
    with db.session() as session:
        positions = pd.DataFrame(session.execute(select(
            UnitPosition.unit_id, UnitPosition.at, UnitPosition.lon, UnitPosition.lat, UnitPosition.status,
            UnitPosition.case_id)).all(), columns=["unit_id", "at", "lon", "lat", "status", "case_id"])
        cases = pd.DataFrame(session.execute(select(
            AccidentCase.id, AccidentCase.unit_id, AccidentCase.lon, AccidentCase.lat, AccidentCase.found_by_patrol,
            *[getattr(AccidentCase, s) for s in STAGES]).where(AccidentCase.source == SOURCE)).all(),
            columns=["case_id", "unit_id", "lon", "lat", "found_by_patrol", *STAGES])
    positions["status"] = positions["status"].map(lambda v: str(getattr(v, "value", v)))
    return db, sim, positions, cases


def test_sim001_writes_positions_and_incidents(simulated):
    db, sim, positions, cases = simulated
    assert len(cases) >= 20                               # 65 a day × rush hour × 8 over two hours
    assert positions["unit_id"].nunique() >= 70           # 83 units, nine in ten on duty by day
    assert positions["at"].min() == START + dt.timedelta(seconds=15)
    assert positions["at"].max() == START + dt.timedelta(hours=2)
    states = live.unit_states(db, ZHANGZHOU)
    assert len(states) == 83 and states["lon"].notna().all()


def test_sim002_units_never_dispatched_stay_inside_their_grids(simulated):
    db, sim, positions, cases = simulated
    grids = {int(r["grid_id"]): shape(r["polygon"]).buffer(1e-7) for r in live.grids(db, ZHANGZHOU).to_dict("records")}
    unit_grid = live.units(db, ZHANGZHOU).set_index("unit_id")["grid_id"].to_dict()
    dispatched = set(cases["unit_id"].dropna().astype(int))
    calm = positions[~positions["unit_id"].isin(dispatched)]
    assert len(calm) > 1000
    outside = [r for r in calm.itertuples() if not grids[unit_grid[r.unit_id]].contains(Point(r.lon, r.lat))]
    assert outside == []
    moved = calm[calm["status"] == "patrolling"].groupby("unit_id")["lon"].nunique()
    assert len(moved) >= 20 and (moved > 100).all()        # on duty they patrol, not stand still
    assert set(calm["status"]) == {"patrolling", "off_duty"}


def test_sim003_each_incident_gets_the_nearest_free_unit(simulated):
    db, sim, positions, cases = simulated
    checked = 0
    for case in cases.itertuples():
        if pd.isna(case.unit_id):
            continue
        at = positions[positions["at"] == case.reported_at]
        chosen = at[at["unit_id"] == case.unit_id].iloc[0]
        assert chosen["case_id"] == case.case_id and chosen["status"] in ("en_route", "on_scene")
        free = at[at["status"] == "patrolling"]
        own = float(haversine_km(chosen["lon"], chosen["lat"], case.lon, case.lat))
        others = haversine_km(free["lon"], free["lat"], case.lon, case.lat)
        assert (others >= own - 1e-9).all()
        checked += 1
    assert checked >= 20


def test_sim004_stage_times_are_ordered_and_advance(simulated):
    db, sim, positions, cases = simulated
    for case in cases.to_dict("records"):
        times = [case[s] for s in STAGES if not pd.isna(case[s])]
        assert times == sorted(times), case
    early = cases[cases["reported_at"] < START + dt.timedelta(minutes=20)]
    assert len(early) and early["paid_at"].notna().all()    # cleared, liability, assessed and paid within 100 min
    assert (cases["on_scene_at"] - cases["reported_at"]).max() < pd.Timedelta(minutes=30)


def test_sim005_on_scene_units_stand_at_their_incident(simulated):
    db, sim, positions, cases = simulated
    on_scene = positions[positions["status"] == "on_scene"].merge(
        cases[~cases["found_by_patrol"]], on="case_id", suffixes=("", "_case"))
    assert len(on_scene) > 50
    distance = haversine_km(on_scene["lon"], on_scene["lat"], on_scene["lon_case"], on_scene["lat_case"])
    assert distance.max() < 0.001


def test_sim006_rush_hour_rate_is_higher_than_night(simulated):
    db, sim, positions, cases = simulated
    rush = sim.incident_rate_per_s(dt.datetime(2026, 6, 1, 0, 30))         # 08:30 local
    night = sim.incident_rate_per_s(dt.datetime(2026, 6, 1, 19, 30))       # 03:30 local
    assert rush > 5 * night > 0
    per_day = sum(sim.incident_rate_per_s(dt.datetime(2026, 6, 1) + dt.timedelta(hours=h)) * 3600
                  for h in range(24)) / sim.rate_scale
    assert 40 < per_day < 100                 # 5 grids at about 13 alerts a day each


def test_sim007_demo_positions_patrol_without_touching_cases(tmp_path):
    from data_access.demo.positions import build_positions

    db = Database(fresh_database_url(tmp_path), QueryCache.from_url("null"))
    build_demo(db, scale=0.01, start=dt.date(2026, 5, 30), end=dt.datetime(2026, 5, 31, 12), cities=(ZHANGZHOU,))
    with db.session() as session:
        cases_before = session.execute(select(AccidentCase.id)).all()
    build_positions(db, dt.datetime(2026, 5, 31, 12), hours=0.5, cities=(ZHANGZHOU,))
    with db.session() as session:
        assert session.execute(select(AccidentCase.id)).all() == cases_before
    states = live.unit_states(db, ZHANGZHOU)
    assert states["lon"].notna().all() and set(states["status"]) <= {"patrolling", "off_duty"}
    assert states["at"].max() == dt.datetime(2026, 5, 31, 12)


def test_sim008_history_older_than_48_hours_is_thinned_to_five_minutes_keeping_every_change(tmp_path):
    db = Database(fresh_database_url(tmp_path, "thin.db"), QueryCache.from_url("null"))
    build_demo(db, scale=0.01, start=dt.date(2026, 5, 30), end=dt.datetime(2026, 5, 31, 12))
    Simulator(db, ZHANGZHOU, seed=3, start=START, rate_scale=8).run(3600, step_s=15)

    def history() -> pd.DataFrame:
        with db.session() as session:
            frame = pd.DataFrame(session.execute(select(
                UnitPosition.id, UnitPosition.unit_id, UnitPosition.at, UnitPosition.status, UnitPosition.case_id)
            ).all(), columns=["id", "unit_id", "at", "status", "case_id"])
        frame["status"] = frame["status"].map(lambda v: str(getattr(v, "value", v)))
        frame["bucket"] = (pd.to_datetime(frame["at"]) - pd.Timestamp("2000-01-01")).dt.total_seconds() // 300
        return frame.sort_values(["unit_id", "at", "id"]).reset_index(drop=True)

    before = history()
    cutoff = START + dt.timedelta(minutes=30)
    deleted = thin_positions(db, cutoff)
    after = history()
    old_before, old_after = before[before["at"] < cutoff], after[after["at"] < cutoff]
    assert deleted == len(before) - len(after) > 0
    assert after[after["at"] >= cutoff]["id"].tolist() == before[before["at"] >= cutoff]["id"].tolist()
    # every unit still has a position in every 5-minute bucket it had one in: playback stays smooth
    assert set(map(tuple, old_after[["unit_id", "bucket"]].to_numpy())) == set(
        map(tuple, old_before[["unit_id", "bucket"]].to_numpy()))
    # every change of status or case is kept, so every dispatch still replays
    changes = old_before[(old_before["unit_id"] == old_before["unit_id"].shift())
                         & ((old_before["status"] != old_before["status"].shift())
                            | (old_before["case_id"].fillna(-1) != old_before["case_id"].shift().fillna(-1)))]
    assert len(changes) > 0 and set(changes["id"]) <= set(old_after["id"])
    extra = old_after.groupby(["unit_id", "bucket"]).size()
    assert extra.max() <= 1 + len(changes)          # one per bucket, plus the changes
    assert thin_positions(db, cutoff) == 0          # thinning twice changes nothing


def test_sim009_the_demo_backfills_48_hours_of_patrols_for_playback(tmp_path):
    from data_access.demo.positions import HISTORY_HOURS, backfill_history, build_positions

    db = Database(fresh_database_url(tmp_path, "history.db"), QueryCache.from_url("null"))
    build_demo(db, scale=0.01, start=dt.date(2026, 5, 28), end=dt.datetime(2026, 6, 1, 0))
    now = dt.datetime(2026, 6, 1, 0)
    build_positions(db, now, hours=2.0, cities=(ZHANGZHOU,))                 # what the first start writes
    assert backfill_history(db, now, cities=(ZHANGZHOU,)) == pytest.approx(HISTORY_HOURS - 2.0, abs=0.1)
    with db.session() as session:
        rows = pd.DataFrame(session.execute(select(UnitPosition.unit_id, UnitPosition.at)).all(),
                            columns=["unit_id", "at"])
    assert rows["at"].min() <= now - dt.timedelta(hours=HISTORY_HOURS - 0.1)
    older = rows[rows["at"] < now - dt.timedelta(hours=2)].sort_values(["unit_id", "at"])
    gaps = older.groupby("unit_id")["at"].diff().dropna()
    assert len(older) > 0 and gaps.min() >= dt.timedelta(minutes=5)          # at the thinned rate
    placed = live.unit_states(db, ZHANGZHOU, at=now - dt.timedelta(hours=12))
    assert placed["lon"].notna().sum() >= 60                                 # playback of yesterday has its units
    assert backfill_history(db, now, cities=(ZHANGZHOU,)) == 0.0             # once is enough


def test_sim010_the_walls_counts_equal_the_stored_cases_after_every_live_tick(tmp_path):
    """The simulator writes through ingest.store, so the rollups the wall reads follow every tick: today's alerts,
    patrol-found alerts, quick-handled alerts and cases per district (metrics.district_summary over the wall's
    "today" window, read through a real cache keyed by the data version) equal a raw count of accident_case."""
    from sqlalchemy import func

    from data_access import metrics
    from data_access.filters import Filters
    from data_access.models import ALERT_CHANNELS
    from data_access.timeutil import local_today, utcnow

    db = Database(fresh_database_url(tmp_path, "wall.db"), QueryCache.from_url("simple"))
    now = utcnow().replace(microsecond=0)
    start = now - dt.timedelta(minutes=11)
    build_demo(db, scale=0.01, start=local_today() - dt.timedelta(days=2), end=start, cities=(ZHANGZHOU,))
    sim = Simulator(db, ZHANGZHOU, seed=5, start=start, rate_scale=300)      # busy even at night
    C = AccidentCase.__table__.c

    def raw(day: dt.date) -> dict[str, dict[str, int]]:
        alert = C.channel.in_(ALERT_CHANNELS)
        with db.session() as session:
            rows = session.execute(select(
                C.district_adcode, func.count(),
                func.sum(sa_case((alert, 1), else_=0)),
                func.sum(sa_case((alert & C.found_by_patrol, 1), else_=0)),
                func.sum(sa_case((alert & C.quick_handled, 1), else_=0)),
            ).where(C.city_adcode == ZHANGZHOU, C.local_day == day).group_by(C.district_adcode)).all()
        return {d: {"cases": n, "alerts": a, "alerts_by_patrol": p, "quick": q} for d, n, a, p, q in rows}

    counts_before = None
    grew = 0
    for _ in range(40):
        sim.step(15)
        today = local_today()
        wall_today = Filters(city=ZHANGZHOU, start=today, end=today, comparison="none")   # pages.wall.view_filters
        summary = metrics.district_summary(db, wall_today).set_index("district_adcode")
        expected = raw(today)
        shown = {d: {k: int(summary.loc[d, k]) for k in ("cases", "alerts", "alerts_by_patrol", "quick")}
                 for d in summary.index if summary.loc[d, "cases"]}
        assert shown == expected
        total = sum(v["cases"] for v in expected.values())
        grew += counts_before is not None and total > counts_before
        counts_before = total
    assert grew >= 10                                   # incidents opened on many ticks
    with db.session() as session:                       # and stages advanced: updates went through the store too
        reached = AccidentCase.on_scene_at.is_not(None)
        assert session.execute(select(func.count()).select_from(AccidentCase)
                               .where(AccidentCase.source == SOURCE, reached)).scalar() > 0


def test_sim011_the_simulator_never_writes_a_time_after_the_clock(tmp_path):
    """`simulate --fast` ran up to five minutes ahead of the clock: a step now stops at the clock."""
    from sqlalchemy import func

    from data_access.timeutil import local_today, utcnow

    db = Database(fresh_database_url(tmp_path, "clock.db"), QueryCache.from_url("null"))
    start = utcnow().replace(microsecond=0) - dt.timedelta(seconds=40)
    build_demo(db, scale=0.01, start=local_today() - dt.timedelta(days=1), end=start, cities=(ZHANGZHOU,))
    sim = Simulator(db, ZHANGZHOU, seed=9, start=start, rate_scale=3000)    # incidents open even at 04:00 local
    sim.step(300)                                       # five minutes asked, forty seconds possible
    sim.step(300)
    ended = utcnow()
    assert start + dt.timedelta(seconds=39) <= sim.now <= ended
    with db.session() as session:
        newest_position = session.execute(select(func.max(UnitPosition.at))).scalar()
        newest_case = session.execute(select(func.max(AccidentCase.reported_at))
                                      .where(AccidentCase.source == SOURCE)).scalar()
    # only units whose state changed report between full reports: the newest position is the clock's or earlier
    assert start < newest_position <= sim.now and newest_case is not None and newest_case <= ended
