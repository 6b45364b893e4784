"""Figures of the programme beyond accident cases: rider-team strength and patrols, stations, rural persuasion,
vehicle-administration services, e-bike registrations and anti-fraud. One function per figure, like metrics.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import case, func, select

from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Filters
from data_access.models import (
    EbikeRegistration,
    FraudLead,
    Insurer,
    PatrolGrid,
    PatrolShift,
    PersuasionKind,
    PersuasionRecord,
    RiderTeam,
    RiderUnit,
    Station,
    VehicleService,
)


def _window(table, filters: Filters, day_column: str = "local_day") -> list:
    conditions = [table.c.city_adcode == filters.city, table.c[day_column] >= filters.start,
                  table.c[day_column] <= filters.end]
    if filters.districts:
        conditions.append(table.c.district_adcode.in_(filters.districts))
    return conditions


@dataclass(frozen=True)
class TeamStrength:
    teams: int
    members: int
    vehicles: int
    grids: int


@cached_query
def rider_team_strength(db: Database, city: str) -> TeamStrength:
    """Rider teams, their front-line members, vehicles (motorcycles and survey cars) and patrol grids."""
    with db.session() as session:
        teams, members = session.execute(
            select(func.count(), func.coalesce(func.sum(RiderTeam.members), 0)).where(RiderTeam.city_adcode == city)
        ).one()
        vehicles = session.execute(select(func.count()).where(RiderUnit.city_adcode == city)).scalar()
        grids = session.execute(select(func.count()).where(PatrolGrid.city_adcode == city)).scalar()
    return TeamStrength(int(teams), int(members), int(vehicles or 0), int(grids or 0))


@dataclass(frozen=True)
class PatrolTotals:
    person_times: int
    km: float
    persuaded: int
    good_deeds: int


@cached_query
def patrol_totals(db: Database, filters: Filters) -> PatrolTotals:
    """Patrol person-times and km, safety-persuasion person-times and good deeds of the rider teams."""
    table = PatrolShift.__table__
    with db.session() as session:
        row = session.execute(
            select(*[func.coalesce(func.sum(table.c[name]), 0) for name in
                     ("person_times", "km", "persuaded", "good_deeds")]).where(*_window(table, filters))
        ).one()
    return PatrolTotals(int(row[0]), round(float(row[1]), 1), int(row[2]), int(row[3]))


@cached_query
def station_counts(db: Database, city: str, as_of: dt.date | None = None) -> dict[str, int]:
    """Stations of each kind open on `as_of` (all when None)."""
    conditions = [Station.city_adcode == city]
    if as_of is not None:
        conditions.append((Station.opened_on.is_(None)) | (Station.opened_on <= as_of))
    with db.session() as session:
        rows = session.execute(select(Station.kind, func.count()).where(*conditions).group_by(Station.kind)).all()
    return {getattr(kind, "value", kind): int(n) for kind, n in rows}


@cached_query
def stations_by_district(db: Database, city: str, kind: str) -> pd.DataFrame:
    """Stations of one kind and their staff per district."""
    with db.session() as session:
        rows = session.execute(
            select(Station.district_adcode, func.count(), func.coalesce(func.sum(Station.staff), 0))
            .where(Station.city_adcode == city, Station.kind == kind).group_by(Station.district_adcode)
        ).all()
    return rows_frame(rows, ["district_adcode", "stations", "staff"])


@cached_query
def insurer_count(db: Database, city: str) -> int:
    """Insurers connected to the 12123 quick-handling platform in the city."""
    with db.session() as session:
        return int(session.execute(
            select(func.count()).where(Insurer.city_adcode == city, Insurer.on_platform)
        ).scalar() or 0)


@dataclass(frozen=True)
class PersuasionTotals:
    violations_stopped: int      # every kind but hazards; drunk driving included
    drunk_driving: int
    hazards: int
    by_kind: dict[str, int]


@cached_query
def persuasion_totals(db: Database, filters: Filters) -> PersuasionTotals:
    table = PersuasionRecord.__table__
    with db.session() as session:
        rows = session.execute(
            select(table.c.kind, func.sum(table.c.count)).where(*_window(table, filters)).group_by(table.c.kind)
        ).all()
    by_kind = {getattr(k, "value", k): int(n) for k, n in rows}
    hazards = by_kind.get(PersuasionKind.HAZARD.value, 0)
    return PersuasionTotals(sum(by_kind.values()) - hazards, by_kind.get(PersuasionKind.DRUNK_DRIVING.value, 0),
                            hazards, by_kind)


@cached_query
def vehicle_services(db: Database, filters: Filters) -> dict[str, int]:
    """Vehicle-administration services done at the service stations, by kind."""
    table = VehicleService.__table__
    with db.session() as session:
        rows = session.execute(
            select(table.c.kind, func.sum(table.c.count)).where(*_window(table, filters)).group_by(table.c.kind)
        ).all()
    return {getattr(k, "value", k): int(n) for k, n in rows}


def quarter_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    after = dt.date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return first, after - dt.timedelta(days=1)


def vehicle_services_quarter_on_quarter(db: Database, filters: Filters) -> float | None:
    """Change of services in the last complete quarter of the window against the quarter before it."""
    end_quarter_start, end_quarter_end = quarter_bounds(filters.end)
    if end_quarter_end != filters.end:
        end_quarter_end = end_quarter_start - dt.timedelta(days=1)
        end_quarter_start = quarter_bounds(end_quarter_end)[0]
    previous_end = end_quarter_start - dt.timedelta(days=1)
    previous_start = quarter_bounds(previous_end)[0]
    last = sum(vehicle_services(db, Filters(filters.city, end_quarter_start, end_quarter_end,
                                            filters.districts)).values())
    before = sum(vehicle_services(db, Filters(filters.city, previous_start, previous_end,
                                              filters.districts)).values())
    return (last - before) / before if before else None


@cached_query
def ebike_registrations(db: Database, filters: Filters) -> int:
    table = EbikeRegistration.__table__
    with db.session() as session:
        return int(session.execute(
            select(func.coalesce(func.sum(table.c.count), 0)).where(*_window(table, filters))
        ).scalar())


@dataclass(frozen=True)
class FraudStats:
    leads: int
    suspected: int
    suspected_amount_yuan: float


@cached_query
def fraud_summary(db: Database, filters: Filters) -> FraudStats:
    """Anti-fraud leads from trajectory analysis, and the suspected-fraud cases with their claimed amounts."""
    table = FraudLead.__table__
    with db.session() as session:
        leads, suspected, amount = session.execute(
            select(func.count(), func.coalesce(func.sum(case((table.c.suspected, 1), else_=0)), 0),
                   func.coalesce(func.sum(case((table.c.suspected, table.c.amount_yuan), else_=0)), 0))
            .where(*_window(table, filters))
        ).one()
    return FraudStats(int(leads), int(suspected), round(float(amount), 2))

