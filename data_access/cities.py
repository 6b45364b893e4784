"""The cities a deployment serves: registering one with its districts (`jingbao city add`), listing them, and what
each one still lacks before its pages can draw anything (the onboarding page and the empty states read this)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from data_access.boundaries import NewCity
from data_access.cache import cached_query
from data_access.db import Database
from data_access.models import (
    AccidentCase,
    City,
    District,
    Insurer,
    MediationCase,
    MonthlyStat,
    PatrolGrid,
    RescueMission,
    RiderUnit,
    Station,
)

# What a city's pages draw from, in the order a bureau loads it; each kind is filled by `jingbao import <kind>`.
KINDS = ("insurers", "stations", "grids", "units", "cases")
OPTIONAL_KINDS = ("mediations", "rescues")
_COUNTED = {"districts": District, "insurers": Insurer, "stations": Station, "grids": PatrolGrid, "units": RiderUnit,
            "cases": AccidentCase, "mediations": MediationCase, "rescues": RescueMission}


@dataclass(frozen=True)
class CityHoldings:
    """A registered city and how many rows of each kind it holds."""

    adcode: str
    name_zh: str
    name_en: str
    programme_start: dt.date
    counts: tuple[tuple[str, int], ...]        # (kind, rows) for "districts" and every kind of KINDS + OPTIONAL_KINDS

    def count(self, kind: str) -> int:
        return dict(self.counts)[kind]

    @property
    def missing(self) -> tuple[str, ...]:
        """The kinds of KINDS the city holds no row of."""
        return tuple(kind for kind in KINDS if not self.count(kind))


def add_city(db: Database, city: NewCity, programme_start: dt.date) -> bool:
    """Store the city and its districts in one transaction; False (and nothing written) when it is already there."""
    with db.session() as session:
        if session.get(City, city.city["adcode"]) is not None:
            return False
        taken = set(session.execute(select(District.adcode).where(
            District.adcode.in_([row["adcode"] for row in city.districts]))).scalars())
    if taken:
        raise ValueError(f"districts {', '.join(sorted(taken))} already belong to another city")
    with db.transaction() as session:
        session.add(City(**city.city, programme_start=programme_start))
        session.flush()                      # the districts' foreign key needs the city first on PostgreSQL
        session.add_all(District(**row) for row in city.districts)
    return True


def holdings(db: Database) -> tuple[CityHoldings, ...]:
    """Every registered city with its row counts, by adcode: one count per city and kind, each along the kind's
    city index (the cases from their month rollup, kept with every write: hundreds of rows instead of millions)."""
    with db.session() as session:
        cities = session.execute(select(City).order_by(City.adcode)).scalars().all()
        held = []
        for c in cities:
            counts = [(kind, int(session.execute(select(func.count()).select_from(model)
                                                 .where(model.city_adcode == c.adcode)).scalar() or 0))
                      for kind, model in _COUNTED.items() if kind != "cases"]
            cases = session.execute(select(func.coalesce(func.sum(MonthlyStat.cases), 0))
                                    .where(MonthlyStat.city_adcode == c.adcode)).scalar()
            counts.insert(list(_COUNTED).index("cases"), ("cases", int(cases or 0)))
            held.append(CityHoldings(c.adcode, c.name_zh, c.name_en, c.programme_start, tuple(counts)))
    return tuple(held)


@cached_query
def readiness(db: Database) -> tuple[CityHoldings, ...]:
    """`holdings`, memoized on the data version: what the onboarding page and the empty states read."""
    return holdings(db)


def city_holdings(db: Database, city: str) -> CityHoldings | None:
    return next((c for c in readiness(db) if c.adcode == city), None)
