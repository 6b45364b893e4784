"""One query function per metric of DESIGN.md ("Metric definitions"); every page, the CLI and the API call these.

Counts and sums come from the day × district rollup; latency percentiles from month × district sketches plus the
partial months at the window's edges: their raw cases (every latency of those days read once), or the month's sketch
less the raw cases of its days outside the window when those are fewer. A window naming an insurer reads the
per-insurer twins of both rollups (day × district × insurer, month × district × insurer), built by the same
statements.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sqlalchemy import Select, Table, and_, case, func, select

from data_access import sketch
from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Catalogue, CityInfo, Filters
from data_access.models import (
    AccidentCase,
    City,
    DailyStat,
    District,
    DutyPeriod,
    InsurerDailyStat,
    InsurerLatencySketch,
    LatencySketch,
    MediationCase,
    MediationOutcome,
    RescueMission,
    RescueOutcome,
)
from data_access.rollups import LATENCIES, MONTH_ROLLUPS, WHOLE_CITY, by_insurer, daily_stat_columns
from data_access.sqlfuncs import seconds_between
from data_access.timeutil import local_day, month_end, utcnow

RESCUE_GOLDEN_HOUR_S = 60 * 60
CLEARED_WITHIN_S = 3 * 60          # the published "撤离现场 3 分钟内" target
STAT_FIELDS = tuple(col.name for col in daily_stat_columns())
CLOSED_OUTCOMES = (MediationOutcome.SETTLED.value, MediationOutcome.FAILED.value, MediationOutcome.LITIGATION.value)


# ----------------------------------------------------------------------------------------------- reference lookups
@cached_query
def catalogue(db: Database) -> Catalogue:
    with db.session() as session:
        cities = session.execute(select(City).order_by(City.adcode)).scalars().all()
        infos = []
        for city in cities:
            districts = session.execute(
                select(District.adcode).where(District.city_adcode == city.adcode).order_by(District.adcode)
            ).scalars().all()
            first = session.execute(
                select(func.min(DailyStat.local_day)).where(DailyStat.city_adcode == city.adcode)
            ).scalar()
            first_day = first or city.programme_start.replace(year=city.programme_start.year - 1)
            infos.append(CityInfo(city.adcode, city.name_zh, city.name_en, first_day, tuple(districts)))
    return Catalogue(tuple(infos))


@cached_query
def district_names(db: Database, city: str) -> pd.DataFrame:
    with db.reading() as connection:
        rows = connection.execute(
            select(District.adcode, District.name_zh, District.name_en, District.main_urban)
            .where(District.city_adcode == city).order_by(District.adcode)
        ).all()
    return rows_frame(rows, ["district_adcode", "name_zh", "name_en", "main_urban"])


def districts_in_view(db: Database, filters: Filters) -> pd.DataFrame:
    """`district_names` of the districts the viewer may see: every district of the city, or a district user's own.
    Every per-district breakdown starts from this list, so no other district's row (even empty) leaves data_access."""
    names = district_names(db, filters.city)
    if filters.scope.whole_cities:
        return names
    return names[names["district_adcode"].isin(filters.scope.districts)].reset_index(drop=True)


@cached_query
def district_geojson(db: Database, city: str) -> dict:
    with db.session() as session:
        rows = session.execute(select(District).where(District.city_adcode == city).order_by(District.adcode))
        features = [
            {
                "type": "Feature",
                "id": d.adcode,
                "geometry": json.loads(d.boundary_geojson),
                "properties": {"adcode": d.adcode, "name_zh": d.name_zh, "name_en": d.name_en,
                               "center_lon": d.center_lon, "center_lat": d.center_lat, "main_urban": d.main_urban},
            }
            for d in rows.scalars()
        ]
    return {"type": "FeatureCollection", "features": features}


@cached_query
def data_as_of(db: Database, city: str) -> dt.datetime | None:
    """The newest stored report of the city (naive UTC) that is not later than now: a row dated in the future (ingest
    refuses them, older data may hold one) never makes the data look fresh, so the age is never negative."""
    now = utcnow()
    with db.reading() as connection:
        day = connection.execute(
            select(func.max(AccidentCase.local_day))
            .where(AccidentCase.city_adcode == city, AccidentCase.local_day <= local_day(now))
        ).scalar()
        if day is None:
            return None
        return connection.execute(
            select(func.max(AccidentCase.reported_at))
            .where(AccidentCase.city_adcode == city, AccidentCase.local_day >= day - dt.timedelta(days=1),
                   AccidentCase.reported_at <= now)
        ).scalar()


@cached_query
def duty_periods(db: Database, filters: Filters) -> pd.DataFrame:
    with db.reading() as connection:
        rows = connection.execute(
            select(DutyPeriod.kind, DutyPeriod.name_zh, DutyPeriod.name_en, DutyPeriod.start_day, DutyPeriod.end_day)
            .where(DutyPeriod.city_adcode == filters.city, DutyPeriod.end_day >= filters.start,
                   DutyPeriod.start_day <= filters.end)
            .order_by(DutyPeriod.start_day)
        ).all()
    frame = rows_frame(rows, ["kind", "name_zh", "name_en", "start_day", "end_day"])
    frame["kind"] = frame["kind"].map(lambda k: getattr(k, "value", k))
    return frame


# ------------------------------------------------------------------------------------------------ rollup readers
def stat_table(filters: Filters) -> Table:
    """The day rollup a window reads: per district, or per district and insurer when the window names an insurer."""
    return DailyStat.__table__ if filters.insurer is None else InsurerDailyStat.__table__


def stat_where(filters: Filters, table: Table = DailyStat.__table__):
    """The rows of a day rollup of the window's days, city and districts; in the per-insurer rollup
    (`stat_table(filters)`) those of the window's insurer, or of every insurer when it names none. `daily_stat`
    itself holds every case, of any insurer or none, together."""
    conditions = place_and_days(table, filters)
    if by_insurer(table) and filters.insurer is not None:
        conditions.append(table.c.insurer_id == filters.insurer)
    return and_(*conditions)


def sketch_where(filters: Filters, metric: str, first_month: dt.date, last_month: dt.date,
                 per_insurer: bool = False, per_district: bool = False) -> tuple[Table, list]:
    """The sketch rollup a window reads (per district, or per district and insurer when it names an insurer or
    `per_insurer` asks for every insurer apart) and the WHERE of one latency's months first_month..last_month over the
    window's districts (the whole-city sketches when it names none, or every district's own with `per_district`)."""
    per_insurer = per_insurer or filters.insurer is not None
    table = InsurerLatencySketch.__table__ if per_insurer else LatencySketch.__table__
    if filters.districts:
        place = table.c.district_adcode.in_(filters.districts)
    else:
        place = table.c.district_adcode != WHOLE_CITY if per_district else table.c.district_adcode == WHOLE_CITY
    conditions = [table.c.city_adcode == filters.city, table.c.metric == metric, table.c.month >= first_month,
                  table.c.month <= last_month, place]
    if filters.insurer is not None:
        conditions.append(table.c.insurer_id == filters.insurer)
    return table, conditions


def case_where(filters: Filters):
    """The accident cases reported on the window's days in its city, districts and insurer."""
    conditions = [AccidentCase.city_adcode == filters.city, AccidentCase.local_day >= filters.start,
                  AccidentCase.local_day <= filters.end]
    if filters.districts:
        conditions.append(AccidentCase.district_adcode.in_(filters.districts))
    if filters.insurer is not None:
        conditions.append(AccidentCase.insurer_id == filters.insurer)
    return and_(*conditions)


def place_and_days(table, filters: Filters, day_column: str | None = "local_day") -> list:
    """The rows of a table with city, district and day columns that fall in the window (all days when
    `day_column` is None): the WHERE of every count kept per district and day (patrols, stations' work, leads)."""
    conditions = [table.c.city_adcode == filters.city]
    if day_column:
        conditions += [table.c[day_column] >= filters.start, table.c[day_column] <= filters.end]
    if filters.districts:
        conditions.append(table.c.district_adcode.in_(filters.districts))
    return conditions


def stat_parts(db: Database, filters: Filters) -> list[tuple[Table, object]]:
    """(rollup, WHERE) of each part of the window that its day-rollup sums are read from: its whole calendar months
    from the month rollup, the days of its cut months at the edges from the day rollup (`stat_table`)."""
    days = stat_table(filters)
    months = MONTH_ROLLUPS[days]
    span, edges = months_and_edges(db, filters)
    parts = []
    if span is not None:
        parts.append((months, month_where(months, replace(filters, start=span[0], end=span[1]))))
    parts += [(days, stat_where(replace(filters, start=start, end=end), days)) for start, end in edges]
    return parts


def month_where(table: Table, months: Filters):
    """The rows of a month rollup (`MONTH_ROLLUPS`) of the window's months (its start and end are month starts), in
    its city and districts, and of its insurer when it names one."""
    conditions = place_and_days(table, months, "month")
    if months.insurer is not None:
        conditions.append(table.c.insurer_id == months.insurer)
    return and_(*conditions)


def signed_stat_parts(db: Database, filters: Filters) -> list[tuple[Table, Filters, int]]:
    """The parts of a window that sums of the whole window (not per day) read: (rollup, the part's window, sign). Its
    whole months come from the month rollup (the part's start and end are month starts), its cut months' days from
    the day rollup; a cut month whose days outside the window are the fewer is read as its month row minus those days
    (sign -1), as the latency sketches are: a window starting on the 3rd reads two days, not the month's other 29."""
    days = stat_table(filters)
    span, edges = months_and_edges(db, filters)
    whole = [span] if span is not None else []
    day_parts: list[tuple[dt.date, dt.date, int]] = []
    for lo, hi in edges:
        outside = _days_outside(db, filters.city, lo, hi)
        if outside is None:
            day_parts.append((lo, hi, 1))
        else:
            whole.append((lo.replace(day=1), lo.replace(day=1)))
            day_parts += [(a, b, -1) for a, b in outside]
    parts = []
    if whole:          # the span and the cut months read whole lie next to each other: one range of months
        first, last = min(a for a, _ in whole), max(b for _, b in whole)
        parts.append((MONTH_ROLLUPS[days], part_window(filters, first, last), 1))
    return parts + [(days, part_window(filters, lo, hi), sign) for lo, hi, sign in day_parts]


def part_window(filters: Filters, start: dt.date, end: dt.date) -> Filters:
    """The window's place, insurer and scope over start..end, without a comparison: one part of a window, read on
    its own (equal parts of different windows are equal, so they share one built statement)."""
    return replace(filters, start=start, end=end, comparison="none", range_key="custom")


@functools.lru_cache(maxsize=4096)
def _summed_select(table: Table, part: Filters, by_district: bool) -> Select:
    """The SELECT of every daily_stat field summed over one part of a window (`signed_stat_parts`), per district
    with `by_district`. Built once per part and kept: building a statement and its cache key cost more than running
    it on a year of month rows, and a cold view asks for the same parts many times."""
    where = month_where(table, part) if "month" in table.c else stat_where(part, table)
    if by_district:
        return select(table.c.district_adcode, *_summed(table)).where(where).group_by(table.c.district_adcode)
    return select(*_summed(table)).where(where)


@functools.cache
def _summed(table: Table) -> tuple:
    """The SUM of every daily_stat field of a rollup, built once (building the expressions cost more than running
    them on a year of month rows)."""
    return tuple(func.coalesce(func.sum(table.c[name]), 0) for name in STAT_FIELDS)


@cached_query
def case_totals(db: Database, filters: Filters) -> dict[str, float]:
    """Sums of every daily_stat field over the window: the shared input of the count and share metrics."""
    totals = no_case_totals()
    with db.reading() as connection:
        for table, part, sign in signed_stat_parts(db, filters):
            row = connection.execute(_summed_select(table, part, False)).one()
            for name, value in zip(STAT_FIELDS, row, strict=True):
                totals[name] += sign * float(value or 0)
    return totals


@cached_query
def case_totals_by_district(db: Database, filters: Filters) -> dict[str, dict[str, float]]:
    """`case_totals` of every district of the window at once, by adcode, from one grouped pass per part: each equals
    `case_totals` of the window naming that district alone (a district without a row is left out: all zeros)."""
    out: dict[str, dict[str, float]] = {}
    with db.reading() as connection:
        for table, part, sign in signed_stat_parts(db, filters):
            rows = connection.execute(_summed_select(table, part, True)).all()
            for code, *values in rows:
                totals = out.setdefault(str(code), no_case_totals())
                for name, value in zip(STAT_FIELDS, values, strict=True):
                    totals[name] += sign * float(value or 0)
    # a district whose cases of a cut month all lie outside the window has none in it: left out, as before
    return {code: totals for code, totals in out.items() if any(totals.values())}


def no_case_totals() -> dict[str, float]:
    """The `case_totals` of a window without a case."""
    return dict.fromkeys(STAT_FIELDS, 0.0)


def totals_share(totals: dict[str, float], part: str, whole: str) -> float | None:
    """part ÷ whole of a window's case totals, None when whole is 0: how every share metric of the totals is taken."""
    return totals[part] / totals[whole] if totals[whole] else None


def _month_span(filters: Filters) -> tuple[dt.date, dt.date] | None:
    """The whole calendar months inside the window, as (first month start, last month start), or None."""
    first = filters.start if filters.start.day == 1 else (filters.start.replace(day=28) + dt.timedelta(days=4)).replace(
        day=1)
    after_end = filters.end + dt.timedelta(days=1)
    last_exclusive = after_end.replace(day=1)
    if last_exclusive <= first:
        return None
    last = (last_exclusive - dt.timedelta(days=1)).replace(day=1)
    return first, last


@cached_query
def data_days(db: Database, city: str) -> tuple[dt.date, dt.date] | None:
    """The first and last local day with any case of the city."""
    # min and max each in a scalar subquery: alone, each is one step down the (city, day) index; together in one
    # SELECT the database scans every row of the city
    days = DailyStat.local_day
    with db.reading() as connection:
        first, last = connection.execute(select(
            select(func.min(days)).where(DailyStat.city_adcode == city).scalar_subquery(),
            select(func.max(days)).where(DailyStat.city_adcode == city).scalar_subquery())).one()
    return None if first is None else (first, last)


def _widened_to_data(db: Database, filters: Filters) -> Filters:
    """The window with an edge that reaches past the data moved to its month's edge: the month sketch there holds
    only days inside the window, so no raw cases need reading (an all-time window reads none)."""
    days = data_days(db, filters.city)
    if days is None:
        return filters
    start, end = filters.start, filters.end
    if start <= days[0]:
        start = days[0].replace(day=1)
    if end >= days[1]:
        end = (days[1].replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return replace(filters, start=start, end=end)


def months_and_edges(db: Database, filters: Filters, widen: bool = True) -> tuple[tuple[dt.date, dt.date] | None,
                                                                                 list[tuple[dt.date, dt.date]]]:
    """How a window is read from a month rollup (latency sketches, the hour-of-week counts): the whole months whose
    rows hold it (first and last month start, or None), and the day ranges of the cut months at its edges, read from
    the raw cases. `widen`: an edge past the city's cases takes its whole month (the rollups of rows that are not
    cases, whose days may reach further, pass False)."""
    span = _month_span(_widened_to_data(db, filters) if widen else filters)
    if span is None:
        return None, [(filters.start, filters.end)]
    edges = []
    if filters.start < span[0]:
        edges.append((filters.start, span[0] - dt.timedelta(days=1)))
    month_after = (span[1].replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if month_after <= filters.end:
        edges.append((month_after, filters.end))
    return span, edges


Histograms = dict[int | str | None, tuple[np.ndarray, float | None]]


def _summed_latency(db: Database, filters: Filters, metric: str, by: str | None = None) -> Histograms:
    """One latency's summed histogram and fastest value over the window: under None, or with `by` ("insurer_id" or
    "district_adcode") one entry per insurer id or district (of the cases naming one; one without a value has
    none). Whole months from the sketches, the cut months at the edges through `_cut_month`."""
    sums: Histograms = {}

    def add(parts: Histograms) -> None:
        for key, (hist, fastest) in parts.items():
            total, low = sums.get(key, (np.zeros(sketch.N_BINS, dtype=np.int64), None))
            sums[key] = (total + hist, fastest if low is None else min(low, fastest))

    span, edges = months_and_edges(db, filters)
    if span is not None:
        add(_stored_histograms(db, filters, metric, *span, by)[0])
    for lo, hi in edges:
        add(_cut_month(db, filters, metric, by, lo, hi))
    return sums


def _stored_histograms(db: Database, filters: Filters, metric: str, first_month: dt.date, last_month: dt.date,
                       by: str | None) -> tuple[Histograms, bool]:
    """The sketches of one latency over the months first_month..last_month summed per key of `by` (under None
    without), with their fastest values; and whether every sketch read is of the current format."""
    statement = _sketches_select(part_window(filters, first_month, last_month), metric, by)
    stored: dict[int | str | None, list[tuple[bytes, float]]] = {}
    with db.reading() as connection:
        for blob, low, *key in connection.execute(statement).all():
            stored.setdefault(key[0] if key else None, []).append((blob, low))
    current = all(sketch.is_current(blob) for parts in stored.values() for blob, _ in parts)
    return {key: (sketch.decode_many([blob for blob, _ in parts]), min(low for _, low in parts))
            for key, parts in stored.items()}, current


@functools.lru_cache(maxsize=4096)
def _sketches_select(months: Filters, metric: str, by: str | None) -> Select:
    """The SELECT of one latency's sketches (bins, fastest value and the key of `by`) over the months of `months`
    (its start and end are month starts), built once and kept as `_summed_select` is."""
    table, conditions = sketch_where(months, metric, months.start, months.end, per_insurer=by == "insurer_id",
                                     per_district=by == "district_adcode")
    keys = [table.c[by]] if by else []
    return select(table.c.bins, table.c.min_seconds, *keys).where(*conditions)


def _raw_histograms(db: Database, filters: Filters, metric: str, by: str | None, lo: dt.date,
                    hi: dt.date) -> Histograms:
    """One latency's histogram and fastest value per key of `by` over the raw cases of the days lo..hi, taken from
    `edge_latency` (the latency of those days, read once) with the window's insurer filtered out here."""
    cut = edge_latency(db, filters.city, filters.districts, lo, hi, metric)
    values = cut.seconds
    known = np.ones(len(values), dtype=bool)          # the read holds only cases with the latency
    if filters.insurer is not None:
        known &= cut.insurer_id == filters.insurer
    if by is None:
        return {None: (sketch.histogram(values[known]), float(values[known].min()))} if known.any() else {}
    keys = cut.insurer_id if by == "insurer_id" else cut.district_adcode
    known &= pd.notna(keys)
    out: Histograms = {}
    for key in np.unique(keys[known]):
        part = values[known & (keys == key)]
        out[int(key) if by == "insurer_id" else str(key)] = (sketch.histogram(part), float(part.min()))
    return out


def _days_outside(db: Database, city: str, lo: dt.date, hi: dt.date) -> list[tuple[dt.date, dt.date]] | None:
    """The days of the month of lo..hi that hold data and lie outside lo..hi, when there are fewer of them than
    inside (so the month's sketch minus them is the cheaper read); None otherwise, or when lo..hi spans months."""
    days = data_days(db, city)
    month = lo.replace(day=1)
    if days is None or hi.replace(day=1) != month:
        return None
    first, last = max(month, days[0]), min(month_end(month), days[1])
    outside = [(a, b) for a, b in ((first, lo - dt.timedelta(days=1)), (hi + dt.timedelta(days=1), last)) if a <= b]
    inside = (min(hi, last) - max(lo, first)).days + 1
    return outside if sum((b - a).days + 1 for a, b in outside) < inside else None


def _cut_month(db: Database, filters: Filters, metric: str, by: str | None, lo: dt.date, hi: dt.date) -> Histograms:
    """One latency per key of `by` over lo..hi, days of one month cut by the window's edge: the raw cases of those
    days, or, when the month's other days are fewer, the month's sketch minus the histogram of the raw cases of the
    other days (counts subtract exactly). The fastest value is the month's unless the other days hold it; then it
    is read from the cases of lo..hi. The raw days alone are read whenever the sketches and the cases disagree (a
    negative count, a key the month lacks, a sketch of the first format)."""
    outside = _days_outside(db, filters.city, lo, hi)
    if outside is None:
        return _raw_histograms(db, filters, metric, by, lo, hi)
    month = lo.replace(day=1)
    whole, current = _stored_histograms(db, filters, metric, month, month, by)
    if not current:
        return _raw_histograms(db, filters, metric, by, lo, hi)
    others: Histograms = {}
    for a, b in outside:
        for key, (hist, low) in _raw_histograms(db, filters, metric, by, a, b).items():
            total, least = others.get(key, (np.zeros(sketch.N_BINS, dtype=np.int64), low))
            others[key] = (total + hist, min(least, low))
    if not set(others) <= set(whole):
        return _raw_histograms(db, filters, metric, by, lo, hi)
    out: Histograms = {}
    tied = []
    for key, (hist, low) in whole.items():
        other, other_low = others.get(key, (None, None))
        inside = hist if other is None else hist - other
        if (inside < 0).any() or (other_low is not None and other_low < low):
            return _raw_histograms(db, filters, metric, by, lo, hi)
        if inside.sum() == 0:
            continue
        out[key] = (inside, low)
        if other_low is not None and other_low == low:
            tied.append(key)
    if tied:
        fastest = _raw_fastest(db, filters, metric, by, lo, hi, tied)
        if not set(tied) <= set(fastest):
            return _raw_histograms(db, filters, metric, by, lo, hi)
        out.update({key: (out[key][0], fastest[key]) for key in tied})
    return out


def _raw_fastest(db: Database, filters: Filters, metric: str, by: str | None, lo: dt.date, hi: dt.date,
                 keys_wanted: list) -> dict[int | str | None, float]:
    """The fastest value of one latency over the raw cases of lo..hi, per key of `by` (those of `keys_wanted`
    only), taken in the database: the same expression as the sketches, so the same value."""
    later, earlier, extra = LATENCIES[metric]
    conditions = [case_where(replace(filters, start=lo, end=hi, comparison="none")), later.is_not(None),
                  earlier.is_not(None)]
    if extra is not None:
        conditions.append(extra)
    keys = []
    if by:
        keys = [AccidentCase.__table__.c[by]]
        conditions.append(keys[0].in_(keys_wanted))
    with db.reading() as connection:
        rows = connection.execute(select(*keys, func.min(seconds_between(later, earlier)))
                                  .where(*conditions).group_by(*keys)).all()
    return {(row[0] if by else None): float(row[-1]) for row in rows if row[-1] is not None}


@dataclass(frozen=True)
class EdgeLatency:
    """One latency (seconds) of each case of some days that has it, with the case's district and insurer (NaN where
    it names none), as arrays of one row per case."""

    district_adcode: np.ndarray
    insurer_id: np.ndarray
    seconds: np.ndarray


@cached_query
def edge_latency(db: Database, city: str, districts: tuple[str, ...], start: dt.date, end: dt.date,
                 metric: str) -> EdgeLatency:
    """The raw values of one latency of `rollups.LATENCIES` over the cases of the days start..end (a month cut by a
    window's edge) in the city and districts: every insurer and breakdown of the same latency and edge days takes
    its values from here (the insurer is filtered, or grouped by, afterwards). One latency a read: a case's row is
    found once per latency, but each further column read costs more than finding it again (two days of Chongqing:
    1.3 ms for one latency, 6 ms for all six). Each value is the expression the sketches and
    `rollups.latency_values` read, so a histogram of these equals theirs."""
    with db.reading() as connection:
        rows = connection.execute(_edge_select(city, districts, start, end, metric)).cursor.fetchall()
    districts_of, insurers, seconds = list(zip(*rows, strict=True)) if rows else ((), (), ())
    return EdgeLatency(np.array(districts_of, dtype=object), np.array(insurers, dtype=float),
                       np.array(seconds, dtype=float))


@functools.lru_cache(maxsize=1024)
def _edge_select(city: str, districts: tuple[str, ...], start: dt.date, end: dt.date, metric: str) -> Select:
    """The SELECT of `edge_latency`, built once and kept as `_summed_select` is."""
    later, earlier, extra = LATENCIES[metric]
    c = AccidentCase.__table__.c
    where = [c.city_adcode == city, c.local_day >= start, c.local_day <= end, later.is_not(None),
             earlier.is_not(None)]
    if extra is not None:
        where.append(extra)
    if districts:
        where.append(c.district_adcode.in_(districts))
    return select(c.district_adcode, c.insurer_id, seconds_between(later, earlier)).where(*where)


@cached_query
def latency_histogram(db: Database, filters: Filters, metric: str) -> tuple[np.ndarray, float | None]:
    """Summed sketch of one latency over the window, and the fastest value; whole months from rollups, edges raw."""
    return _summed_latency(db, filters, metric).get(None, no_latency())


@cached_query
def latency_histograms_by_insurer(db: Database, filters: Filters,
                                  metric: str) -> dict[int, tuple[np.ndarray, float | None]]:
    """`latency_histogram` of every insurer of the window at once, by insurer id (those with a value): each equals
    `latency_histogram` of the window naming that insurer. A window naming an insurer gives that one alone."""
    return _summed_latency(db, filters, metric, by="insurer_id")


@cached_query
def latency_histograms_by_district(db: Database, filters: Filters,
                                   metric: str) -> dict[str, tuple[np.ndarray, float | None]]:
    """`latency_histogram` of every district of the window at once, by adcode (those with a value): each equals
    `latency_histogram` of the window naming that district alone."""
    return _summed_latency(db, filters, metric, by="district_adcode")


def _month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    first = start.replace(day=1)
    months = []
    while first <= end:
        months.append(first)
        first = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


@cached_query
def monthly_latency_histograms(db: Database, filters: Filters, metric: str) -> list[tuple[dt.date, np.ndarray]]:
    """`latency_histogram` of each calendar month of the window (cut to the window), as (month start, histogram):
    the months lying wholly inside the window come from their stored sketches in one query, the cut months at the
    edges through `latency_histogram` itself, so every month equals `latency_histogram` for that month alone."""
    months = _month_starts(filters.start, filters.end)
    whole = [m for m in months if m >= filters.start and month_end(m) <= filters.end]
    stored: dict[dt.date, np.ndarray] = {}
    if whole:
        table, conditions = sketch_where(filters, metric, whole[0], whole[-1])
        with db.reading() as connection:
            rows = connection.execute(select(table.c.month, table.c.bins).where(*conditions)).all()
        blobs: dict[dt.date, list[bytes]] = {}
        for month, blob in rows:
            blobs.setdefault(month if isinstance(month, dt.date) else dt.date.fromisoformat(str(month)[:10]),
                             []).append(blob)
        stored = {month: sketch.decode_many(blobs.get(month, [])) for month in whole}
    out = []
    for month in months:
        if month in stored:
            out.append((month, stored[month]))
        else:
            cut = replace(filters, start=max(month, filters.start), end=min(month_end(month), filters.end),
                          comparison="none", range_key="custom")
            out.append((month, latency_histogram(db, cut, metric)[0]))
    return out


def percentile_minutes(hist: np.ndarray, q: float) -> float | None:
    """The q-th percentile of a latency histogram, in minutes (None when it is empty)."""
    value = sketch.percentile(hist, q)
    return None if value is None else value / 60.0


# -------------------------------------------------------------------------------------------------- the metrics
@dataclass(frozen=True)
class LatencyStats:
    """Percentiles of one latency in minutes (≤1% relative error), the fastest exactly, and the count."""

    count: int
    p50: float | None
    p90: float | None
    p99: float | None
    fastest: float | None


def _latency_stats(db: Database, filters: Filters, metric: str) -> LatencyStats:
    return latency_stats(*latency_histogram(db, filters, metric))


def latency_stats(hist: np.ndarray, fastest: float | None) -> LatencyStats:
    """The statistics of one latency from its summed histogram and fastest value (seconds)."""
    return LatencyStats(int(hist.sum()), percentile_minutes(hist, 50), percentile_minutes(hist, 90),
                        percentile_minutes(hist, 99), None if fastest is None else fastest / 60.0)


def no_latency() -> tuple[np.ndarray, float | None]:
    """The histogram and fastest value of a window without a value of a latency."""
    return np.zeros(sketch.N_BINS, dtype=np.int64), None


def accident_alerts(db: Database, filters: Filters) -> int:
    """交通事故警情: incidents reported to 110/122 or found by a patrol, in the window."""
    return int(case_totals(db, filters)["alerts"])


def handled_cases(db: Database, filters: Filters) -> int:
    """Accidents handled, every channel (police alerts and insurer-only cases)."""
    return int(case_totals(db, filters)["cases"])


def quick_handled_cases(db: Database, filters: Filters) -> int:
    """快处案件: alerts settled on the spot or online by the quick procedure."""
    return int(case_totals(db, filters)["quick"])


def rider_team_quick_handled(db: Database, filters: Filters) -> int:
    return int(case_totals(db, filters)["quick_rider"])


def quick_handling_rate(db: Database, filters: Filters) -> float | None:
    """快处率 = quick-handled cases ÷ accident alerts."""
    return totals_share(case_totals(db, filters), "quick", "alerts")


def patrol_found_share(db: Database, filters: Filters) -> float | None:
    return totals_share(case_totals(db, filters), "alerts_by_patrol", "alerts")


def remote_liability_cases(db: Database, filters: Filters) -> int:
    """Liability decided remotely through the 12123 platform."""
    return int(case_totals(db, filters)["remote_liability"])


def rider_team_remote_liability(db: Database, filters: Filters) -> int:
    return int(case_totals(db, filters)["remote_liability_rider"])


def remote_liability_sla_share(db: Database, filters: Filters) -> float | None:
    """Share of remote liability decisions within 5 minutes of the report."""
    return totals_share(case_totals(db, filters), "remote_liability_in_sla", "remote_liability")


def online_assessments(db: Database, filters: Filters) -> int:
    return int(case_totals(db, filters)["online_assessed"])


def online_share(db: Database, filters: Filters) -> float | None:
    """Cases handled online (12123, video survey) ÷ all handled cases."""
    return totals_share(case_totals(db, filters), "handled_online", "cases")


def paid_cases(db: Database, filters: Filters) -> int:
    """Cases reported in the window and paid."""
    return int(case_totals(db, filters)["paid"])


def paid_amount_yuan(db: Database, filters: Filters) -> float:
    return round(case_totals(db, filters)["paid_amount_yuan"], 2)


@dataclass(frozen=True)
class ClaimTotals:
    cases: int
    amount_yuan: float


def one_click_claims(db: Database, filters: Filters) -> ClaimTotals:
    totals = case_totals(db, filters)
    return ClaimTotals(int(totals["one_click"]), round(totals["one_click_amount_yuan"], 2))


def payout_latency_percentiles(db: Database, filters: Filters) -> LatencyStats:
    """Paid time − report time: p50 / p90 / p99 and the fastest, in minutes."""
    return _latency_stats(db, filters, "payout")


def liability_latency(db: Database, filters: Filters, remote_only: bool = False) -> LatencyStats:
    """Liability-determined time − report time, in minutes (remote SLA: ≤ 5 min)."""
    return _latency_stats(db, filters, "liability_remote" if remote_only else "liability")


def time_to_scene(db: Database, filters: Filters) -> LatencyStats:
    """On-scene time − report time (0 when a patrol found the accident), in minutes."""
    return _latency_stats(db, filters, "to_scene")


def clearance_time(db: Database, filters: Filters) -> LatencyStats:
    """Road-cleared time − on-scene time, in minutes."""
    return _latency_stats(db, filters, "clearance")


@dataclass(frozen=True)
class MediationStats:
    opened: int
    closed: int
    settled: int
    pre_litigation_settled: int
    amount_yuan: float
    success_rate: float | None            # settled ÷ closed
    pre_litigation_rate: float | None     # settled before a lawsuit ÷ closed


@cached_query
def mediation_outcomes(db: Database, filters: Filters) -> MediationStats:
    """Mediation cases opened in the window, and the outcomes of those closed in it."""
    return _mediation_outcomes(db, filters, by=None).get(None, mediation_stats(0, 0, 0, 0, 0.0))


@cached_query
def mediation_outcomes_by_district(db: Database, filters: Filters) -> dict[str, MediationStats]:
    """`mediation_outcomes` of every district of the window at once, by adcode, from one grouped pass: each equals
    `mediation_outcomes` of the window naming that district alone (a district without a case is left out)."""
    return _mediation_outcomes(db, filters, by="district")


@cached_query
def mediation_outcomes_by_month(db: Database, filters: Filters) -> dict[dt.date, MediationStats]:
    """`mediation_outcomes` of each calendar month of the window cut to the window, by the cut month's first day,
    from one grouped pass: each equals `mediation_outcomes` of that cut month alone (a month without a case is left
    out)."""
    return _mediation_outcomes(db, filters, by="month")


def _cut_months(filters: Filters) -> list[tuple[dt.date, dt.date]]:
    """The window cut at month edges: (first day, last day) of each calendar month it touches, within it."""
    return [(max(month, filters.start), min(month_end(month), filters.end))
            for month in _month_starts(filters.start, filters.end)]


def _mediation_outcomes(db: Database, filters: Filters, by: str | None) -> dict[object, MediationStats]:
    m = MediationCase.__table__.c
    if by == "month":
        # each day column mapped to the index of its cut month (the WHEREs keep the days inside the window)
        months = _cut_months(filters)
        if not months:
            return {}
        opened_keys = [case(*[(m.opened_day <= last, i) for i, (_, last) in enumerate(months)])]
        closed_keys = [case(*[(m.closed_day <= last, i) for i, (_, last) in enumerate(months)])]
    else:
        opened_keys = closed_keys = [m.district_adcode] if by == "district" else []
    is_settled = m.outcome == MediationOutcome.SETTLED.value
    with db.reading() as connection:
        opened = connection.execute(
            select(*opened_keys, func.count()).where(*mediations_where(filters), m.opened_day >= filters.start,
                                                     m.opened_day <= filters.end).group_by(*opened_keys)
        ).all()
        closed = connection.execute(
            select(*closed_keys, func.count(), func.coalesce(func.sum(case((is_settled, 1), else_=0)), 0),
                   func.coalesce(func.sum(case((and_(is_settled, m.pre_litigation), 1), else_=0)), 0),
                   func.coalesce(func.sum(case((is_settled, m.amount_yuan), else_=0)), 0))
            .where(*mediations_closed_where(filters)).group_by(*closed_keys)
        ).all()
    if by == "month":
        key_of = {i: first for i, (first, _) in enumerate(months)}
    opened_of = {(row[0] if by else None): int(row[-1] or 0) for row in opened}
    closed_of = {(row[0] if by else None): row[-4:] for row in closed}
    out = {key: mediation_stats(opened_of.get(key, 0), *closed_of.get(key, (0, 0, 0, 0)))
           for key in {*opened_of, *closed_of}}
    return {key_of[key]: stats for key, stats in out.items()} if by == "month" else out


def mediation_stats(opened: int, closed: int, settled: int, pre: int, amount: float) -> MediationStats:
    """The mediation figures from the counts opened, closed, settled and settled before a lawsuit, and the amount."""
    closed, settled, pre = int(closed or 0), int(settled or 0), int(pre or 0)
    return MediationStats(
        opened=int(opened), closed=closed, settled=settled, pre_litigation_settled=pre,
        amount_yuan=round(float(amount or 0), 2),
        success_rate=settled / closed if closed else None,
        pre_litigation_rate=pre / closed if closed else None,
    )


def mediations_where(filters: Filters) -> list:
    """The mediation cases of the window's city, districts and insurer, of any day (callers add the days): the WHERE
    every mediation figure starts from, so an insurer's viewer counts its own insurer's cases only."""
    m = MediationCase.__table__.c
    conditions = [m.city_adcode == filters.city]
    if filters.districts:
        conditions.append(m.district_adcode.in_(filters.districts))
    if filters.insurer is not None:
        conditions.append(m.insurer_id == filters.insurer)
    return conditions


def mediations_closed_where(filters: Filters) -> list:
    """The mediation cases of the city, districts and insurer closed (settled, failed or gone to court) in the
    window."""
    m = MediationCase.__table__.c
    return [*mediations_where(filters), m.closed_day >= filters.start, m.closed_day <= filters.end,
            m.outcome.in_(CLOSED_OUTCOMES)]


@cached_query
def mediation_duration_seconds(db: Database, filters: Filters) -> np.ndarray:
    """closed − opened in seconds of every mediation case closed in the window: the sample behind
    `mediation_duration_days` and the mediation page's duration bands, read once for both."""
    m = MediationCase.__table__.c
    with db.reading() as connection:
        rows = connection.execute(select(seconds_between(m.closed_at, m.opened_at))
                                  .where(*mediations_closed_where(filters))).cursor.fetchall()
    return np.array([row[0] for row in rows], dtype=float)


def mediation_duration_days(db: Database, filters: Filters) -> float | None:
    """Median of closed − opened, in days, of the mediation cases closed in the window."""
    seconds = mediation_duration_seconds(db, filters)
    return float(np.median(seconds)) / 86400 if len(seconds) else None


def mediation_success_rate(db: Database, filters: Filters) -> float | None:
    """Settled ÷ closed mediation cases."""
    return mediation_outcomes(db, filters).success_rate


def pre_litigation_resolution_rate(db: Database, filters: Filters) -> float | None:
    """Settled before a lawsuit ÷ closed mediation cases."""
    return mediation_outcomes(db, filters).pre_litigation_rate


@dataclass(frozen=True)
class RescueStats:
    missions: int
    survived: int
    hospital_within_60_min: int
    share_within_60_min: float | None


@cached_query
def rescue_summary(db: Database, filters: Filters) -> RescueStats:
    """Helicopter rescues requested in the window; the share reaching hospital within 60 min of the request."""
    return _rescue_summaries(db, filters, by_district=False).get(None, RescueStats(0, 0, 0, None))


@cached_query
def rescue_summary_by_district(db: Database, filters: Filters) -> dict[str, RescueStats]:
    """`rescue_summary` of every district of the window at once, by adcode (a district without a mission is left
    out): each equals `rescue_summary` of the window naming that district alone."""
    return _rescue_summaries(db, filters, by_district=True)


def _rescue_summaries(db: Database, filters: Filters, by_district: bool) -> dict[str | None, RescueStats]:
    r = RescueMission.__table__.c
    conditions = [r.city_adcode == filters.city, r.local_day >= filters.start, r.local_day <= filters.end]
    if filters.districts:
        conditions.append(r.district_adcode.in_(filters.districts))
    with db.reading() as connection:
        rows = connection.execute(select(r.district_adcode, r.outcome, r.requested_at, r.hospital_at)
                                  .where(*conditions)).all()
    frame = rows_frame(rows, ["district_adcode", "outcome", "requested_at", "hospital_at"])
    took = (pd.to_datetime(frame["hospital_at"]) - pd.to_datetime(frame["requested_at"])).dt.total_seconds()
    frame = frame.assign(within=took <= RESCUE_GOLDEN_HOUR_S, survived=frame["outcome"] == RescueOutcome.SURVIVED.value)
    groups = frame.groupby("district_adcode", sort=False) if by_district else [(None, frame)]
    out = {}
    for key, group in groups:
        within, missions = int(group["within"].sum()), len(group)
        out[None if key is None else str(key)] = RescueStats(missions, int(group["survived"].sum()), within,
                                                             within / missions if missions else None)
    return out


@cached_query
def daily_trend(db: Database, filters: Filters) -> pd.DataFrame:
    table = stat_table(filters)
    with db.reading() as connection:
        rows = connection.execute(
            select(table.c.local_day, func.sum(table.c.alerts), func.sum(table.c.quick), func.sum(table.c.cases))
            .where(stat_where(filters, table)).group_by(table.c.local_day)
        ).all()
    frame = rows_frame(rows, ["day", "alerts", "quick", "cases"])
    frame["day"] = pd.to_datetime(frame["day"])
    days = pd.DataFrame({"day": pd.date_range(filters.start, filters.end, freq="D")})
    frame = days.merge(frame, on="day", how="left").fillna(0)
    for column in ("alerts", "quick", "cases"):
        frame[column] = frame[column].astype(int)
    frame["quick_rate"] = share(frame["quick"], frame["alerts"])
    return frame[["day", "alerts", "quick", "quick_rate", "cases"]]


@cached_query
def district_summary(db: Database, filters: Filters) -> pd.DataFrame:
    """Counts per district of the whole city (the district filter is ignored so every district can be compared):
    alerts, those found by patrol, quick-handled, all cases, and the quick-handling and patrol-found shares."""
    table = stat_table(filters)
    whole_city = filters.whole_city()
    counts_of = ("alerts", "alerts_by_patrol", "quick", "cases")
    with db.reading() as connection:
        rows = connection.execute(
            select(table.c.district_adcode, *[func.sum(table.c[name]) for name in counts_of])
            .where(stat_where(whole_city, table)).group_by(table.c.district_adcode)
        ).all()
    counts = rows_frame(rows, ["district_adcode", *counts_of])
    frame = districts_in_view(db, filters).merge(counts, on="district_adcode", how="left")
    for column in counts_of:
        frame[column] = frame[column].fillna(0).astype(int)
    frame["quick_rate"] = share(frame["quick"], frame["alerts"])
    frame["patrol_share"] = share(frame["alerts_by_patrol"], frame["alerts"])
    return frame[["district_adcode", "name_zh", "name_en", "alerts", "alerts_by_patrol", "quick", "quick_rate",
                  "patrol_share", "cases"]]


def share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """part ÷ whole row by row, NaN where whole is 0: how every share of a breakdown (per day, district, insurer)
    is taken, the same division as the window's share metrics."""
    whole = whole.astype(float)
    return part.astype(float) / whole.where(whole > 0)


def per_month(daily: pd.DataFrame, filters: Filters, columns: list[str]) -> pd.DataFrame:
    """Day rows (a `day` column) summed per calendar month, one row for every month the window touches (a month
    without rows has NaN sums); `month` is the month's first day."""
    months = pd.DataFrame({"month": pd.period_range(pd.Timestamp(filters.start), pd.Timestamp(filters.end),
                                                    freq="M").start_time})
    daily = daily.assign(month=pd.to_datetime(daily["day"]).dt.to_period("M").dt.start_time)
    return months.merge(daily.groupby("month", as_index=False)[columns].sum(), on="month", how="left")


@cached_query
def cleared_within_share(db: Database, filters: Filters, seconds: float = CLEARED_WITHIN_S) -> float | None:
    """Share of the cases cleared within `seconds` (default 3 minutes) of the unit reaching the scene."""
    hist, _ = latency_histogram(db, filters, "clearance")
    return sketch.share_at_most(hist, seconds)


@cached_query
def damage_assessment_latency(db: Database, filters: Filters) -> LatencyStats:
    """Damage assessed − reported, p50 / p90 / p99 / fastest in minutes."""
    return _latency_stats(db, filters, "assessment")
