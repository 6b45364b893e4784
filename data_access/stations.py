"""Figures of the stations page (劝导站与车驾管): rural persuasion stations and what they stopped or found, the
vehicle-administration service stations' work by quarter, and e-bike registrations."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from data_access import metrics
from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Filters
from data_access.metrics import OverviewKpis
from data_access.models import (
    EbikeRegistration,
    PersuasionKind,
    PersuasionRecord,
    Station,
    StationKind,
    VehicleService,
    VehicleServiceKind,
)

VIOLATIONS = tuple(kind.value for kind in PersuasionKind if kind is not PersuasionKind.HAZARD)
SERVICE_KINDS = tuple(kind.value for kind in VehicleServiceKind)
STATION_KPI_UNITS = {"persuasion_stations": "stations", "persuasion_staff": "people",
                     "violations_stopped": "count", "drunk_driving": "count", "hazards": "count",
                     "vehicle_services": "count", "ebike_registrations": "count"}


def _where(table, filters: Filters, day_column: str = "local_day") -> list:
    conditions = [table.c.city_adcode == filters.city]
    if day_column:
        conditions += [table.c[day_column] >= filters.start, table.c[day_column] <= filters.end]
    if filters.districts:
        conditions.append(table.c.district_adcode.in_(filters.districts))
    return conditions


def _value(kind) -> str:
    return str(getattr(kind, "value", kind))


@cached_query
def persuasion_by_district(db: Database, filters: Filters) -> pd.DataFrame:
    """Per district of the whole city: persuasion stations, their staff, violations stopped (all kinds but hazards),
    drunk driving among them, and hazards found in the window."""
    whole_city = Filters(city=filters.city, start=filters.start, end=filters.end)
    s, p = Station.__table__, PersuasionRecord.__table__
    with db.session() as session:
        stations = session.execute(
            select(s.c.district_adcode, func.count(), func.coalesce(func.sum(s.c.staff), 0))
            .where(s.c.city_adcode == filters.city, s.c.kind == StationKind.PERSUASION.value)
            .group_by(s.c.district_adcode)).all()
        records = session.execute(
            select(p.c.district_adcode, p.c.kind, func.sum(p.c["count"])).where(*_where(p, whole_city))
            .group_by(p.c.district_adcode, p.c.kind)).all()
    frame = metrics.district_names(db, filters.city)[["district_adcode", "name_zh", "name_en"]]
    frame = frame.merge(rows_frame(stations, ["district_adcode", "stations", "staff"]), on="district_adcode",
                        how="left")
    kinds = rows_frame(records, ["district_adcode", "kind", "count"])
    kinds["kind"] = kinds["kind"].map(_value)
    wide = kinds.pivot_table(index="district_adcode", columns="kind", values="count", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=[*VIOLATIONS, PersuasionKind.HAZARD.value], fill_value=0)
    frame = frame.merge(pd.DataFrame({
        "district_adcode": wide.index, "violations": wide[list(VIOLATIONS)].sum(axis=1).to_numpy(),
        "drunk_driving": wide[PersuasionKind.DRUNK_DRIVING.value].to_numpy(),
        "hazards": wide[PersuasionKind.HAZARD.value].to_numpy()}), on="district_adcode", how="left")
    for column in ("stations", "staff", "violations", "drunk_driving", "hazards"):
        frame[column] = frame[column].fillna(0).astype(int)
    return frame


@cached_query
def persuasion_by_kind(db: Database, filters: Filters) -> pd.DataFrame:
    """What the persuasion stations stopped (each violation kind) and found (hazards) in the window."""
    p = PersuasionRecord.__table__
    with db.session() as session:
        rows = session.execute(select(p.c.kind, func.sum(p.c["count"])).where(*_where(p, filters))
                               .group_by(p.c.kind)).all()
    found = {_value(kind): int(n) for kind, n in rows}
    kinds = [*VIOLATIONS, PersuasionKind.HAZARD.value]
    return pd.DataFrame({"kind": kinds, "count": [found.get(k, 0) for k in kinds],
                         "violation": [k != PersuasionKind.HAZARD.value for k in kinds]})


@cached_query
def services_by_quarter(db: Database, filters: Filters) -> pd.DataFrame:
    """Vehicle-administration services per kind and calendar quarter of the window (a quarter cut by the window
    counts only its days), with each quarter's change on the quarter before (None for the first)."""
    v = VehicleService.__table__
    with db.session() as session:
        rows = session.execute(select(v.c.local_day, v.c.kind, func.sum(v.c["count"])).where(*_where(v, filters))
                               .group_by(v.c.local_day, v.c.kind)).all()
    frame = rows_frame(rows, ["day", "kind", "count"])
    frame["kind"] = frame["kind"].map(_value)
    frame["quarter"] = pd.to_datetime(frame["day"]).dt.to_period("Q").astype(str)
    quarters = pd.period_range(pd.Timestamp(filters.start), pd.Timestamp(filters.end), freq="Q").astype(str)
    grid = pd.MultiIndex.from_product([list(SERVICE_KINDS), list(quarters)], names=["kind", "quarter"])
    counts = frame.groupby(["kind", "quarter"])["count"].sum().reindex(grid, fill_value=0).reset_index()
    counts["count"] = counts["count"].astype(int)
    previous = counts.groupby("kind")["count"].shift(1)
    counts["qoq_change"] = (counts["count"] - previous) / previous.where(previous > 0)
    return counts


@cached_query
def ebike_by_month(db: Database, filters: Filters) -> pd.DataFrame:
    """E-bike registrations per month of the window."""
    e = EbikeRegistration.__table__
    with db.session() as session:
        rows = session.execute(select(e.c.local_day, func.sum(e.c["count"])).where(*_where(e, filters))
                               .group_by(e.c.local_day)).all()
    out = metrics.per_month(rows_frame(rows, ["day", "registrations"]), filters, ["registrations"])
    out["registrations"] = out["registrations"].fillna(0).astype(int)
    return out


def _kpi_values(db: Database, filters: Filters) -> dict[str, tuple[float | None, float]]:
    districts = persuasion_by_district(db, filters)
    if filters.districts:
        districts = districts[districts["district_adcode"].isin(filters.districts)]
    kinds = persuasion_by_kind(db, filters)
    violations = int(kinds.loc[kinds["violation"], "count"].sum())
    drunk = int(kinds.loc[kinds["kind"] == PersuasionKind.DRUNK_DRIVING.value, "count"].sum())
    hazards = int(kinds.loc[kinds["kind"] == PersuasionKind.HAZARD.value, "count"].sum())
    services = int(services_by_quarter(db, filters)["count"].sum())
    ebikes = int(ebike_by_month(db, filters)["registrations"].sum())
    stations = int(districts["stations"].sum())
    return {
        "persuasion_stations": (stations, stations), "persuasion_staff": (int(districts["staff"].sum()), stations),
        "violations_stopped": (violations, violations), "drunk_driving": (drunk, drunk), "hazards": (hazards, hazards),
        "vehicle_services": (services, services), "ebike_registrations": (ebikes, ebikes),
    }


@cached_query
def station_kpis(db: Database, filters: Filters) -> OverviewKpis:
    return metrics.kpis_against_comparison(db, filters, STATION_KPI_UNITS, _kpi_values)
