"""Put the demo data into a database: a full build, or a top-up of the time since the newest event.

Both write the same rows for the same seed: each programme year is generated whole from its own generators and
cut to the window being written, and a case stands as it would have at the window's end (stages not reached yet
are empty). A top-up rewrites the last days that may still change (a case pays out within ten days, a mediation
closes within four months) and adds the rest up to now.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import delete, func, select
from tqdm import tqdm

from data_access.bulk import insert_frame
from data_access.db import Database
from data_access.demo import activity, cases
from data_access.demo.reference import CHONGQING, ZHANGZHOU, World, build_world, year_index
from data_access.models import (
    AccidentCase,
    City,
    DemoBuild,
    District,
    DutyPeriod,
    EbikeRegistration,
    FraudLead,
    Insurer,
    MediationCase,
    PatrolGrid,
    PatrolShift,
    PersuasionRecord,
    RescueMission,
    RiderTeam,
    RiderUnit,
    Station,
    VehicleService,
)
from data_access.rollups import rebuild_rollups
from data_access.timeutil import local_day, local_midnight_utc, utcnow

DEFAULT_SEED = 20191202
DEMO_CITIES = (ZHANGZHOU, CHONGQING)


@dataclass(frozen=True)
class DemoSummary:
    cases: int        # accident cases written
    rows: int         # rows of every table written
    seconds: float


@dataclass(frozen=True)
class Stream:
    """One kind of generated rows: its table, its generator, how to cut it to a window, and its day column."""

    table: type
    generate: Callable[[World, int, int, float], pd.DataFrame]
    cut: Callable[[pd.DataFrame, dt.datetime, dt.datetime], pd.DataFrame] | None
    day_column: str
    reach_days: int   # how long after its day a row may still change (a top-up rewrites that many days)


def _cut_days(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Daily rows of the whole days in [start, end): a day's figures appear once the day is over."""
    days = frame["local_day"]
    return frame[(days >= local_day(start)) & (days < local_day(end))]


def _cut_fraud(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    return frame[(frame["opened_at"] >= start) & (frame["opened_at"] < end)]


STREAMS: dict[str, Stream] = {
    "cases": Stream(AccidentCase, cases.generate_cases, cases.cut, "local_day", cases.MAX_STAGE_DAYS + 1),
    "patrol": Stream(PatrolShift, activity.patrol_shifts, _cut_days, "local_day", 1),
    "mediation": Stream(MediationCase, activity.mediation_cases, activity.cut_mediation, "opened_day", 121),
    "rescue": Stream(RescueMission, activity.rescue_missions, activity.cut_rescues, "local_day", 1),
    "persuasion": Stream(PersuasionRecord, activity.persuasion_records, _cut_days, "local_day", 1),
    "services": Stream(VehicleService, activity.vehicle_services, _cut_days, "local_day", 1),
    "ebikes": Stream(EbikeRegistration, activity.ebike_registrations, _cut_days, "local_day", 1),
    "fraud": Stream(FraudLead, activity.fraud_leads, _cut_fraud, "local_day", 1),
}


def is_empty(db: Database) -> bool:
    """No schema yet, or no city in it."""
    if not db.has_schema():
        return True
    with db.session() as session:
        return session.execute(select(func.count()).select_from(City)).scalar() == 0


def build_demo(db: Database, *, seed: int = DEFAULT_SEED, scale: float = 1.0,
               cities: Sequence[str] = DEMO_CITIES, start: dt.date | None = None, end: dt.datetime | None = None,
               progress: bool = False) -> DemoSummary:
    """Write the demo data of `cities` from `start` (default: a year before each programme began) up to `end`
    (a naive UTC instant, default now), and refresh the rollups. Cities already present are extended."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    began = time.perf_counter()
    end = (end or utcnow()).replace(microsecond=0)
    worlds = [build_world(city, seed) for city in cities]
    if not db.has_schema():
        db.create_schema()
    tasks = []
    for world in worlds:
        prog = world.prog
        first_day = start or prog.start.replace(year=prog.start.year - 1)
        if local_midnight_utc(first_day) >= end:
            raise ValueError(f"start {first_day} is not before the end {end:%Y-%m-%d %H:%M} (UTC)")
        _write_reference(db, world, seed, scale, first_day)
        tasks += [(world, k, first_day) for k in range(year_index(prog, first_day),
                                                       year_index(prog, local_day(end - dt.timedelta(seconds=1))) + 1)]
    written_cases = written_rows = 0
    with tqdm(total=len(tasks), desc="demo data", unit="year", disable=not progress, file=sys.stderr) as bar:
        for world, k, first_day in tasks:
            bar.set_postfix_str(f"{world.city['name_en']} year {k + 1}")
            counts = _write_year(db, world, k, seed, scale, {name: first_day for name in STREAMS}, end)
            written_cases += counts["cases"]
            written_rows += sum(counts.values())
            bar.update()
    for world in worlds:
        first_day = start or world.prog.start.replace(year=world.prog.start.year - 1)
        rebuild_rollups(db, world.prog.city, first_day, local_day(end))
    return DemoSummary(written_cases, written_rows, time.perf_counter() - began)


def top_up_demo(db: Database, *, seed: int | None = None, now: dt.datetime | None = None) -> int:
    """Bring demo data up to `now`: rewrite the days that may still change, add the rest. Returns cases added."""
    now = (now or utcnow()).replace(microsecond=0)
    added = 0
    with db.session() as session:
        builds = session.execute(select(DemoBuild)).scalars().all()
    for build in builds:
        city = build.city_adcode
        with db.session() as session:
            last = session.execute(select(func.max(AccidentCase.reported_at))
                                   .where(AccidentCase.city_adcode == city, AccidentCase.source == "demo")).scalar()
        if last is None or last >= now:
            continue
        world = build_world(city, build.seed if seed is None else seed)
        last_day = local_day(last)
        since = {name: max(build.first_day, last_day - dt.timedelta(days=stream.reach_days))
                 for name, stream in STREAMS.items()}
        before = _count_cases(db, city)
        with db.transaction() as session:
            for name, stream in STREAMS.items():
                table = stream.table
                condition = [table.city_adcode == city, getattr(table, stream.day_column) >= since[name]]
                if hasattr(table, "source"):
                    condition.append(table.source == "demo")
                session.execute(delete(table).where(*condition))
        for k in range(year_index(world.prog, min(since.values())), year_index(world.prog, local_day(now)) + 1):
            _write_year(db, world, k, build.seed if seed is None else seed, build.scale, since, now)
        rebuild_rollups(db, city, since["cases"], local_day(now))
        added += _count_cases(db, city) - before
    return added


def _count_cases(db: Database, city: str) -> int:
    with db.session() as session:
        return session.execute(select(func.count()).where(AccidentCase.city_adcode == city)).scalar() or 0


def _write_reference(db: Database, world: World, seed: int, scale: float, first_day: dt.date) -> None:
    """The city's places and organisations, once; the build's seed and scale for later top-ups."""
    city = world.prog.city
    with db.transaction() as session:
        build = session.get(DemoBuild, city)
        if build is None:
            session.add(DemoBuild(city_adcode=city, seed=seed, scale=scale, first_day=first_day, built_at=utcnow()))
        else:
            build.first_day = min(build.first_day, first_day)
            build.built_at = utcnow()
        if session.get(City, city) is not None:
            return
        session.add(City(**world.city))
        session.flush()
        for model, frame in ((District, world.districts), (Station, world.stations), (PatrolGrid, world.grids),
                             (RiderTeam, world.teams), (RiderUnit, world.units), (Insurer, world.insurers),
                             (DutyPeriod, world.duty)):
            columns = [c for c in frame.columns if c in model.__table__.c]
            insert_frame(session, model.__table__, frame[columns])


def _write_year(db: Database, world: World, k: int, seed: int, scale: float, since: dict[str, dt.date],
                end: dt.datetime) -> dict[str, int]:
    """Generate programme year k of every stream and write the part of it in [since[stream], end)."""
    counts = {}
    with db.transaction() as session:
        for name, stream in STREAMS.items():
            frame = stream.generate(world, k, seed, scale)
            if frame.empty:
                counts[name] = 0
                continue
            frame = stream.cut(frame, local_midnight_utc(since[name]), end)
            counts[name] = insert_frame(session, stream.table.__table__, frame)
    return counts

