"""Figures of the rider-team page (快骑队): the teams' strength, their patrols (person-times, km, safety persuasion,
good deeds) by month and by district, and the share of quick handling they settle themselves."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select

from data_access import metrics
from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Filters
from data_access.metrics import share
from data_access.models import PatrolGrid, PatrolShift, RiderTeam, RiderUnit

PATROL_FIGURES = ("person_times", "km", "persuaded", "good_deeds")


@dataclass(frozen=True)
class TeamStrength:
    teams: int
    members: int
    vehicles: int
    grids: int


@cached_query
def rider_team_strength(db: Database, filters: Filters) -> TeamStrength:
    """The city's rider teams now: teams, front-line members, vehicles (motorcycles and survey cars), patrol grids."""
    with db.reading() as connection:
        teams, members = connection.execute(
            select(func.count(), func.coalesce(func.sum(RiderTeam.members), 0))
            .where(RiderTeam.city_adcode == filters.city)
        ).one()
        vehicles = connection.execute(select(func.count()).where(RiderUnit.city_adcode == filters.city)).scalar()
        grids = connection.execute(select(func.count()).where(PatrolGrid.city_adcode == filters.city)).scalar()
    return TeamStrength(int(teams), int(members), int(vehicles or 0), int(grids or 0))


@dataclass(frozen=True)
class PatrolTotals:
    person_times: int
    km: float
    persuaded: int
    good_deeds: int


@cached_query
def patrol_totals(db: Database, filters: Filters) -> PatrolTotals:
    """Patrol person-times and km, safety-persuasion person-times and good deeds of the rider teams in the window."""
    table = PatrolShift.__table__
    with db.reading() as connection:
        row = connection.execute(
            select(*[func.coalesce(func.sum(table.c[name]), 0) for name in PATROL_FIGURES])
            .where(*metrics.place_and_days(table, filters))
        ).one()
    return PatrolTotals(int(row[0]), round(float(row[1]), 1), int(row[2]), int(row[3]))


@cached_query
def patrols_by_month(db: Database, filters: Filters) -> pd.DataFrame:
    """Per month of the window (a month cut by the window counts only its days): patrol person-times, km, safety
    persuasion and good deeds; each month sums to `patrol_totals` of that part of the window."""
    table = PatrolShift.__table__
    with db.reading() as connection:
        rows = connection.execute(
            select(table.c.local_day, *[func.sum(table.c[name]) for name in PATROL_FIGURES])
            .where(*metrics.place_and_days(table, filters)).group_by(table.c.local_day)
        ).all()
    frame = metrics.per_month(rows_frame(rows, ["day", *PATROL_FIGURES]), filters, list(PATROL_FIGURES))
    return _whole_numbers(frame)


@cached_query
def patrols_by_district(db: Database, filters: Filters) -> pd.DataFrame:
    """Per district of the whole city (the district filter is ignored so districts can be compared, and clicked):
    patrol person-times, km, safety persuasion and good deeds in the window."""
    table = PatrolShift.__table__
    whole_city = filters.whole_city()
    with db.reading() as connection:
        rows = connection.execute(
            select(table.c.district_adcode, *[func.sum(table.c[name]) for name in PATROL_FIGURES])
            .where(*metrics.place_and_days(table, whole_city)).group_by(table.c.district_adcode)
        ).all()
    frame = metrics.districts_in_view(db, filters)[["district_adcode", "name_zh", "name_en"]].merge(
        rows_frame(rows, ["district_adcode", *PATROL_FIGURES]), on="district_adcode", how="left")
    return _whole_numbers(frame)


@cached_query
def rider_share_by_month(db: Database, filters: Filters) -> pd.DataFrame:
    """Per month of the window: quick-handled cases, those the rider teams settled, and the teams' share of them."""
    table = metrics.stat_table(filters)      # an insurer's window reads the per-insurer rollup
    with db.reading() as connection:
        rows = connection.execute(
            select(table.c.local_day, func.sum(table.c.quick), func.sum(table.c.quick_rider))
            .where(metrics.stat_where(filters, table)).group_by(table.c.local_day)
        ).all()
    frame = metrics.per_month(rows_frame(rows, ["day", "quick", "quick_rider"]), filters, ["quick", "quick_rider"])
    for column in ("quick", "quick_rider"):
        frame[column] = frame[column].fillna(0).astype(int)
    frame["rider_share"] = share(frame["quick_rider"], frame["quick"])
    return frame


def _whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    for column in PATROL_FIGURES:
        frame[column] = frame[column].fillna(0)
        frame[column] = frame[column].round(1) if column == "km" else frame[column].astype(int)
    return frame
