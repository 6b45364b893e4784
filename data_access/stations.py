"""Figures of the stations page (劝导站与车驾管): rural persuasion stations and what they stopped or found, the
vehicle-administration service stations' work by quarter, and e-bike registrations. A station counts as there on
the days before its `closed_on`; what it did before closing stays in every figure of those days."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
from sqlalchemy import ColumnElement, Table, func, or_, select

from data_access import metrics
from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Filters
from data_access.models import PersuasionKind, Station, StationKind, StationMonth, VehicleServiceKind
from data_access.station_rollup import ACTIVITIES, kind_column

VIOLATIONS = tuple(kind.value for kind in PersuasionKind if kind is not PersuasionKind.HAZARD)
SERVICE_KINDS = tuple(kind.value for kind in VehicleServiceKind)


def _value(kind) -> str:
    return str(getattr(kind, "value", kind))


def open_on(stations: Table, day: dt.date) -> ColumnElement[bool]:
    """The condition of a station still open on `day`: not closed (closed_on empty) or closed only after it."""
    return or_(stations.c.closed_on.is_(None), stations.c.closed_on > day)


@cached_query
def closed_stations(db: Database, city: str, day: dt.date) -> frozenset[int]:
    """Ids of the city's stations closed on or before `day` (what a map of that day leaves out)."""
    s = Station.__table__
    with db.reading() as connection:
        return frozenset(connection.execute(select(s.c.id).where(s.c.city_adcode == city, s.c.closed_on <= day))
                         .scalars())


@cached_query
def open_station_kinds(db: Database, city: str, day: dt.date) -> frozenset[str]:
    """The kinds of station the city has open on `day` (a chart of a kind it has none of says so instead)."""
    s = Station.__table__
    with db.reading() as connection:
        return frozenset(_value(kind) for kind in connection.execute(
            select(s.c.kind).where(s.c.city_adcode == city, open_on(s, day)).distinct()).scalars())


@cached_query
def persuasion_by_district(db: Database, filters: Filters) -> pd.DataFrame:
    """Per district of the whole city: persuasion stations open at the window's end and their staff, violations
    stopped (all kinds but hazards, closed stations' included), drunk driving among them, and hazards found in the
    window; and the district's vehicle-administration stations open at the window's end."""
    whole_city = filters.whole_city()
    s = Station.__table__
    with db.reading() as connection:
        stations = connection.execute(
            select(s.c.district_adcode, func.count(), func.coalesce(func.sum(s.c.staff), 0))
            .where(s.c.city_adcode == filters.city, s.c.kind == StationKind.PERSUASION.value, open_on(s, filters.end))
            .group_by(s.c.district_adcode)).all()
        vehicle_admin = connection.execute(
            select(s.c.district_adcode, func.count())
            .where(s.c.city_adcode == filters.city, s.c.kind == StationKind.VEHICLE_ADMIN.value,
                   open_on(s, filters.end))
            .group_by(s.c.district_adcode)).all()
    frame = metrics.districts_in_view(db, filters)[["district_adcode", "name_zh", "name_en"]]
    frame = frame.merge(rows_frame(stations, ["district_adcode", "stations", "staff"]), on="district_adcode",
                        how="left")
    frame = frame.merge(rows_frame(vehicle_admin, ["district_adcode", "vehicle_admin_stations"]),
                        on="district_adcode", how="left")
    kinds = persuasion_by_district_and_kind(db, whole_city)
    wide = kinds.pivot_table(index="district_adcode", columns="kind", values="count", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=[*VIOLATIONS, PersuasionKind.HAZARD.value], fill_value=0)
    frame = frame.merge(pd.DataFrame({
        "district_adcode": wide.index, "violations": wide[list(VIOLATIONS)].sum(axis=1).to_numpy(),
        "drunk_driving": wide[PersuasionKind.DRUNK_DRIVING.value].to_numpy(),
        "hazards": wide[PersuasionKind.HAZARD.value].to_numpy()}), on="district_adcode", how="left")
    for column in ("stations", "staff", "violations", "drunk_driving", "hazards", "vehicle_admin_stations"):
        frame[column] = frame[column].fillna(0).astype(int)
    return frame


def station_sums(db: Database, filters: Filters, activity: str, by: tuple[str, ...]) -> pd.DataFrame:
    """One kind of station work ("persuasion", "vehicle_service", "ebike") in the window, summed per `by` (of
    "district_adcode", "kind" and "day") with a `count` column: its whole months from the month rollup, where the
    day is the month's first, and only its cut months' days from the day rows."""
    days, months = ACTIVITIES[activity], StationMonth.__table__
    span, edges = metrics.months_and_edges(db, filters, widen=False)
    rows = []
    with db.reading() as connection:
        if span is not None:
            keys = [months.c["month" if key == "day" else key] for key in by]
            whole = replace(filters, start=span[0], end=span[1])
            rows += connection.execute(select(*keys, func.sum(months.c["count"]))
                                       .where(*metrics.place_and_days(months, whole, "month"),
                                           months.c.activity == activity)
                                       .group_by(*keys)).all()
        for start, end in edges:
            keys = [kind_column(days) if key == "kind" else days.c["local_day" if key == "day" else key]
                    for key in by]
            rows += connection.execute(select(*keys, func.sum(days.c["count"]))
                                       .where(*metrics.place_and_days(days, replace(filters, start=start, end=end)))
                                       .group_by(*keys)).all()
    frame = rows_frame(rows, [*by, "count"])
    if "kind" in by:
        frame["kind"] = frame["kind"].map(_value)
    frame = frame.groupby(list(by), as_index=False, sort=True)["count"].sum()
    frame["count"] = frame["count"].astype(int)
    return frame


@cached_query
def persuasion_by_district_and_kind(db: Database, filters: Filters) -> pd.DataFrame:
    """What the persuasion stations of each district stopped or found in the window, per kind (one read, which
    `persuasion_by_district` and `persuasion_by_kind` both use): district_adcode, kind, count."""
    return station_sums(db, filters, "persuasion", ("district_adcode", "kind"))


@cached_query
def persuasion_by_kind(db: Database, filters: Filters) -> pd.DataFrame:
    """What the persuasion stations stopped (each violation kind) and found (hazards) in the window: the window's
    districts read from the pass over the whole city's records, which the page's district chart reads too."""
    records = persuasion_by_district_and_kind(db, filters.whole_city())
    if filters.districts:
        records = records[records["district_adcode"].isin(filters.districts)]
    found = {kind: int(n) for kind, n in records.groupby("kind")["count"].sum().items()}
    kinds = [*VIOLATIONS, PersuasionKind.HAZARD.value]
    return pd.DataFrame({"kind": kinds, "count": [found.get(k, 0) for k in kinds],
                         "violation": [k != PersuasionKind.HAZARD.value for k in kinds]})


@cached_query
def services_by_quarter(db: Database, filters: Filters) -> pd.DataFrame:
    """Vehicle-administration services per kind and calendar quarter of the window (a quarter cut by the window
    counts only its days), with each quarter's change on the quarter before (None for the first)."""
    frame = station_sums(db, filters, "vehicle_service", ("day", "kind"))
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
    days = station_sums(db, filters, "ebike", ("day",)).rename(columns={"count": "registrations"})
    out = metrics.per_month(days, filters, ["registrations"])
    out["registrations"] = out["registrations"].fillna(0).astype(int)
    return out


# ------------------------------------------------------------------------------------ the stations page's metrics
def _chosen_districts(db: Database, filters: Filters) -> pd.DataFrame:
    frame = persuasion_by_district(db, filters)
    return frame[frame["district_adcode"].isin(filters.districts)] if filters.districts else frame


def persuasion_stations(db: Database, filters: Filters) -> int:
    return int(_chosen_districts(db, filters)["stations"].sum())


def persuasion_staff(db: Database, filters: Filters) -> int:
    return int(_chosen_districts(db, filters)["staff"].sum())


def vehicle_admin_stations(db: Database, filters: Filters) -> int:
    return int(_chosen_districts(db, filters)["vehicle_admin_stations"].sum())


@cached_query
def claim_points(db: Database, filters: Filters) -> int:
    """Quick-payout claim points of the city (and districts) open at the window's end."""
    s = Station.__table__
    with db.reading() as connection:
        return int(connection.execute(select(func.count()).where(
            *metrics.place_and_days(s, filters, day_column=None), s.c.kind == StationKind.CLAIM_POINT.value,
            open_on(s, filters.end))
        ).scalar() or 0)


def _persuaded(db: Database, filters: Filters, kind: str | None = None) -> int:
    kinds = persuasion_by_kind(db, filters)
    chosen = kinds["violation"] if kind is None else kinds["kind"] == kind
    return int(kinds.loc[chosen, "count"].sum())


def violations_stopped(db: Database, filters: Filters) -> int:
    """Violations stopped by the persuasion stations: every kind but hazards, drunk driving included."""
    return _persuaded(db, filters)


def drunk_driving(db: Database, filters: Filters) -> int:
    return _persuaded(db, filters, PersuasionKind.DRUNK_DRIVING.value)


def hazards_found(db: Database, filters: Filters) -> int:
    return _persuaded(db, filters, PersuasionKind.HAZARD.value)


def vehicle_services(db: Database, filters: Filters) -> int:
    return int(services_by_quarter(db, filters)["count"].sum())


def vehicle_services_quarter_on_quarter(db: Database, filters: Filters) -> float | None:
    """Change of the services in the last whole quarter of the window against the quarter before it (None when the
    window holds no two whole quarters or the earlier one had none)."""
    quarters = services_by_quarter(db, filters).groupby("quarter", sort=True)["count"].sum()
    whole = [q for q in quarters.index if _quarter_inside(pd.Period(q, freq="Q"), filters)]
    if len(whole) < 2:
        return None
    last, before = quarters[whole[-1]], quarters[whole[-2]]
    consecutive = pd.Period(whole[-1], freq="Q").ordinal - pd.Period(whole[-2], freq="Q").ordinal == 1
    if not consecutive or not before:
        return None
    return float((last - before) / before)


def _quarter_inside(quarter: pd.Period, filters: Filters) -> bool:
    return filters.start <= quarter.start_time.date() and quarter.end_time.date() <= filters.end


def ebike_registrations(db: Database, filters: Filters) -> int:
    return int(ebike_by_month(db, filters)["registrations"].sum())
