"""The coverage plan's demand read fast: the located accidents of each city and calendar month packed as arrays
(lon, lat, district, severity) in the order the raw cases are read (local day, then id).

A city's whole history is 1.7 million points: read as rows and turned into arrays it took three seconds, read as a
hundred blobs it takes tens of milliseconds. The coverage page reads a window's whole months from the `demand_month`
rollup and only the cut months at its edges from the raw cases (`raw_demand`), in the same order, so the points
are exactly those the raw cases give. Every writer rebuilds the months it touched (`rebuild_demand_months`, called by
`rollups.rebuild_rollups`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from data_access.bulk import span_where
from data_access.models import AccidentCase, DemandMonth
from data_access.timeutil import month_end, month_start

ROWS_PER_FETCH = 200_000
COORDINATE = np.dtype("<f8")
DISTRICT_CODE = np.dtype("<u2")       # a city has a few dozen districts
SEVERITY_CODE = np.dtype("<u1")
FRAME_COLUMNS = ["lon", "lat", "district_adcode", "severity"]

C = AccidentCase.__table__.c


@dataclass(frozen=True, eq=False)
class DemandArrays:
    """Located accidents as arrays: lon and lat (float64), and each point's district and severity as an index into
    `districts` and `severities`."""

    lon: np.ndarray
    lat: np.ndarray
    district: np.ndarray
    districts: tuple[str, ...]
    severity: np.ndarray
    severities: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.lon)

    @classmethod
    def empty(cls) -> DemandArrays:
        return cls(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), (), np.zeros(0, dtype=np.int64), ())

    @classmethod
    def of_values(cls, lon, lat, district, severity) -> DemandArrays:
        """From one value per point (district codes and severities as text)."""
        district_index, districts = pd.factorize(np.asarray(district, dtype=object))
        severity_index, severities = pd.factorize(np.asarray(severity, dtype=object))
        return cls(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), district_index.astype(np.int64),
                   tuple(str(d) for d in districts), severity_index.astype(np.int64), tuple(str(s) for s in severities))

    @classmethod
    def joined(cls, parts: Sequence[DemandArrays]) -> DemandArrays:
        """The parts one after another, their indexes renumbered into one list of districts and one of severities."""
        parts = [part for part in parts if len(part)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        districts = tuple(dict.fromkeys(d for part in parts for d in part.districts))
        severities = tuple(dict.fromkeys(s for part in parts for s in part.severities))

        def renumbered(names: tuple[str, ...], index: np.ndarray, into: tuple[str, ...]) -> np.ndarray:
            position = {name: i for i, name in enumerate(into)}
            return np.array([position[name] for name in names], dtype=np.int64)[index]

        return cls(np.concatenate([part.lon for part in parts]), np.concatenate([part.lat for part in parts]),
                   np.concatenate([renumbered(part.districts, part.district, districts) for part in parts]),
                   districts,
                   np.concatenate([renumbered(part.severities, part.severity, severities) for part in parts]),
                   severities)

    def district_values(self) -> np.ndarray:
        """Each point's district code (object array of str)."""
        return np.array(self.districts, dtype=object)[self.district] if len(self) else np.zeros(0, dtype=object)

    def severity_values(self) -> np.ndarray:
        return np.array(self.severities, dtype=object)[self.severity] if len(self) else np.zeros(0, dtype=object)

    def frame(self) -> pd.DataFrame:
        """lon, lat, district_adcode, severity: one row per point (text as pandas' str dtype)."""
        if not len(self):
            return pd.DataFrame(columns=FRAME_COLUMNS)
        return pd.DataFrame({"lon": self.lon, "lat": self.lat,
                             "district_adcode": pd.Series(self.district_values()).astype(str),
                             "severity": pd.Series(self.severity_values()).astype(str)})


# ----------------------------------------------------------------------------------------- from the raw cases
def _located(condition, *keys):
    """SELECT keys, lon, lat, district, severity of the located cases matching `condition`, in the rollup's order
    (city, local day, id: the order of the city × day index, so SQLite sorts nothing)."""
    return (select(*keys, C.lon, C.lat, C.district_adcode, C.severity)
            .where(condition, C.lon.is_not(None), C.lat.is_not(None))
            .order_by(C.city_adcode, C.local_day, C.id))


def cases_within(city: str | None, start: dt.date | None, end: dt.date | None):
    """The accident cases of `city` (every city when None) reported on local days start..end (open ends when None):
    what each rollup rebuilds (data_access.rollups uses it too)."""
    conditions = []
    if city:
        conditions.append(C.city_adcode == city)
    if start:
        conditions.append(C.local_day >= start)
    if end:
        conditions.append(C.local_day <= end)
    return and_(*conditions) if conditions else literal(True)


def raw_demand(session: Session, city: str, start: dt.date, end: dt.date) -> DemandArrays:
    """The located accidents of `city` from local day start to end, read from the raw cases (local day, then id)."""
    # the driver's rows as they come: a million SQLAlchemy Rows cost seconds
    cursor = session.execute(_located(cases_within(city, start, end))).cursor
    parts = []
    while rows := cursor.fetchmany(ROWS_PER_FETCH):
        lon, lat, district, severity = zip(*rows, strict=True)
        parts.append(DemandArrays.of_values(lon, lat, district, severity))
    return DemandArrays.joined(parts)


def raw_count(session: Session, city: str, start: dt.date, end: dt.date) -> int:
    """How many located accidents `raw_demand` reads."""
    return int(session.execute(select(func.count()).where(cases_within(city, start, end), C.lon.is_not(None),
                                                          C.lat.is_not(None))).scalar())


# ---------------------------------------------------------------------------------------------- the rollup
def packed(city: str, month: dt.date, arrays: DemandArrays) -> dict:
    """One `demand_month` row holding `arrays`."""
    return {"city_adcode": city, "month": month, "points": len(arrays),
            "districts": json.dumps(list(arrays.districts)), "severities": json.dumps(list(arrays.severities)),
            "lon": arrays.lon.astype(COORDINATE).tobytes(), "lat": arrays.lat.astype(COORDINATE).tobytes(),
            "district": arrays.district.astype(DISTRICT_CODE).tobytes(),
            "severity": arrays.severity.astype(SEVERITY_CODE).tobytes()}


def unpacked(row) -> DemandArrays:
    """The arrays of one `demand_month` row (districts, severities, lon, lat, district, severity)."""
    districts, severities, lon, lat, district, severity = row
    return DemandArrays(np.frombuffer(lon, dtype=COORDINATE).astype(float),
                        np.frombuffer(lat, dtype=COORDINATE).astype(float),
                        np.frombuffer(district, dtype=DISTRICT_CODE).astype(np.int64), tuple(json.loads(districts)),
                        np.frombuffer(severity, dtype=SEVERITY_CODE).astype(np.int64), tuple(json.loads(severities)))


def stored_demand(session: Session, city: str, first_month: dt.date, last_month: dt.date) -> DemandArrays:
    """The located accidents of `city` in the whole months first_month..last_month (their first days), from the
    rollup, month after month."""
    m = DemandMonth.__table__.c
    cursor = session.execute(select(m.districts, m.severities, m.lon, m.lat, m.district, m.severity).where(
        m.city_adcode == city, m.month >= first_month, m.month <= last_month).order_by(m.month)).cursor
    return DemandArrays.joined([unpacked(row) for row in cursor.fetchall()])


def stored_count(session: Session, city: str, first_month: dt.date, last_month: dt.date) -> int:
    """How many located accidents `stored_demand` reads."""
    m = DemandMonth.__table__.c
    return int(session.execute(select(func.coalesce(func.sum(m.points), 0)).where(
        m.city_adcode == city, m.month >= first_month, m.month <= last_month)).scalar())


def _months(cursor) -> Iterator[tuple[str, dt.date, DemandArrays]]:
    """(city, month start, arrays) of each (city, month) of a cursor over (city, local day, lon, lat, district,
    severity) rows ordered by city and day; read a chunk at a time, a month held only until it is complete."""
    held: list[np.ndarray] | None = None          # the rows of the last (city, month) seen: the next chunk may go on
    while rows := cursor.fetchmany(ROWS_PER_FETCH):
        city, day, lon, lat, district, severity = (np.array(column, dtype=object) for column in zip(*rows,
                                                                                                    strict=True))
        month = np.array([str(d)[:7] for d in day], dtype=object)      # "YYYY-MM" of an ISO text or a date
        columns = [city, month, lon, lat, district, severity]
        if held is not None:
            columns = [np.concatenate([a, b]) for a, b in zip(held, columns, strict=True)]
        key = columns[0] + columns[1]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        for lo, hi in zip(starts[:-1], starts[1:], strict=True):
            yield _month_of([column[lo:hi] for column in columns])
        held = [column[starts[-1]:] for column in columns]
    if held is not None:
        yield _month_of(held)


def _month_of(columns: list[np.ndarray]) -> tuple[str, dt.date, DemandArrays]:
    city, month, lon, lat, district, severity = columns
    return (str(city[0]), dt.date.fromisoformat(f"{month[0]}-01"),
            DemandArrays.of_values(lon.astype(float), lat.astype(float), district, severity))


def rebuild_demand_months(session: Session, city: str | None, start: dt.date | None, end: dt.date | None) -> None:
    """Recompute the demand rollup of `city` (all when None) for the months of start..end (all when None): its rows
    are per month, so a partial range is widened to whole months."""
    table = DemandMonth.__table__
    start = month_start(start) if start else None
    end = month_end(end) if end else None
    session.execute(delete(table).where(*span_where(table, "month", city, start, end)))
    cursor = session.execute(_located(cases_within(city, start, end), C.city_adcode, C.local_day)).cursor
    for month_city, month, arrays in _months(cursor):
        session.execute(insert(table), [packed(month_city, month, arrays)])
