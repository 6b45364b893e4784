"""Ingest: the one contract by which the 12123 platform, insurers, police dispatch and the rider teams feed the
database, shared by the REST API and the CSV import.

Rows are validated one by one (unknown district, coordinates outside the city, stage times out of order, bad
enums, bad numbers); the good ones are upserted on (source, id) in one transaction, the bad ones reported with
their index, field and reason. Sending a row again changes nothing; sending it with more stages filled updates
the record. Every write refreshes the rollups of the days it touched and bumps the data version; a request that
changes nothing leaves both alone, so the query caches stay warm.

Rider units' positions come through the same door (kind "positions"): validated alike, appended rather than upserted,
and read live by the map, so they move no rollup and no data version.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from data_access.db import Database, bump_data_version
from data_access.models import (
    AccidentCase,
    Channel,
    District,
    HandledBy,
    Insurer,
    MediationCase,
    MediationOutcome,
    RescueMission,
    RescueOutcome,
    RiderUnit,
    Severity,
    StageMode,
    UnitPosition,
    UnitStatus,
)
from data_access.rollups import refresh_days
from data_access.timeutil import local_day, local_hour, utcnow

MAX_ROWS_PER_REQUEST = 5_000
CITY_MARGIN_DEG = 0.02       # about 2 km of slack around the city's outline for GPS error at its edge
KINDS = ("cases", "mediations", "rescues", "positions")
# Times a row may carry: from 2000-01-01 00:00 in Asia/Shanghai (as naive UTC) to a little past the clock, the slack
# being for a sender's clock running ahead. A case in 2100 would make the data look fresh forever; one in 1900 would
# stretch every "all" window back to it.
EARLIEST_TIME = dt.datetime(1999, 12, 31, 16, 0)
FUTURE_SLACK = dt.timedelta(minutes=10)


class IngestError(ValueError):
    """The request as a whole cannot be taken (not rows: a wrong kind, an empty body, too many rows)."""


@dataclass(frozen=True)
class RowProblem:
    index: int          # 0-based position in the request (the CSV import reports the file line instead)
    field: str
    reason: str

    def as_dict(self) -> dict:
        return {"index": self.index, "field": self.field, "reason": self.reason}


@dataclass
class IngestResult:
    received: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return self.inserted + self.updated + self.unchanged

    @property
    def rejected_rows(self) -> int:
        return len({p.index for p in self.problems})

    def as_dict(self) -> dict:
        return {"received": self.received, "stored": self.stored, "inserted": self.inserted,
                "updated": self.updated, "unchanged": self.unchanged, "rejected": self.rejected_rows,
                "problems": [p.as_dict() for p in self.problems]}


# ----------------------------------------------------------------------------------------------- field parsers
class Bad(ValueError):
    pass


def _text(value) -> str | None:
    """A cell as stripped text, None when empty. Refused: NaN and infinities (never a silent null), objects and
    arrays, and text the database cannot store (a lone surrogate such as \\ud800)."""
    if value is None:
        return None
    if type(value) is str and value.isascii():       # the common case, quickly: ASCII always encodes
        return value.strip() or None
    if isinstance(value, float) and not math.isfinite(value):
        raise Bad(f"{value!r} is not a finite number")
    if isinstance(value, (dict, list, tuple, set)):
        raise Bad("a single value is expected, not an object or array")
    try:
        text = str(value).strip()
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Bad("not valid Unicode text (a lone surrogate?)") from None
    except ValueError:                                 # an integer of more than 4,300 digits
        raise Bad("not a usable value") from None
    return text or None


def latest_time() -> dt.datetime:
    """The latest time (naive UTC) a row may carry now."""
    return utcnow() + FUTURE_SLACK


def parse_time(value) -> dt.datetime | None:
    """ISO 8601 with an offset ("2020-06-01T08:30:00+08:00"), or an aware datetime, as naive UTC; empty is None.
    Refused: a time before 2000-01-01 (Asia/Shanghai) or more than ten minutes after the clock."""
    if isinstance(value, dt.datetime):
        moment, text = value, value.isoformat()
    else:
        text = _text(value)
        if text is None:
            return None
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise Bad(f"{text[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise Bad(f"{text[:40]!r} has no UTC offset (write e.g. +08:00)")
    try:
        utc = moment.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:                              # 0001-01-01T00:00+14:00 is before year 1 in UTC
        raise Bad(f"{text[:40]!r} is before 2000-01-01") from None
    if utc < EARLIEST_TIME:
        raise Bad(f"{text[:40]!r} is before 2000-01-01")
    if utc > latest_time():
        raise Bad(f"{text[:40]!r} is in the future (more than {FUTURE_SLACK.seconds // 60} minutes after now)")
    return utc


def parse_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value)
    if text is None:
        return None
    lowered = text.lower()
    if lowered in ("true", "1", "yes", "y", "t", "是"):
        return True
    if lowered in ("false", "0", "no", "n", "f", "否"):
        return False
    raise Bad(f"{text[:40]!r} is not true or false")


def parse_number(value, low: float | None = None, high: float | None = None) -> float | None:
    if isinstance(value, bool):
        raise Bad("a number is expected")
    if type(value) is float and math.isfinite(value):          # the common case, quickly
        number = value
    else:
        number = _number(value)
        if number is None:
            return None
    if (low is not None and number < low) or (high is not None and number > high):
        raise Bad(f"{number:g} is outside {low:g}…{high:g}" if high is not None else f"{number:g} is below {low:g}")
    return number


def _number(value) -> float | None:
    text = _text(value)
    if text is None:
        return None
    try:
        number = float(value) if isinstance(value, int) else float(text)
    except OverflowError:                              # an integer too large for a float
        raise Bad(f"{text[:40]} is not a finite number") from None
    except ValueError:
        raise Bad(f"{text[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise Bad(f"{text[:40]!r} is not a finite number")
    return number


def parse_choice(choices: Iterable[str]) -> Callable:
    allowed = tuple(choices)

    def parse(value) -> str | None:
        text = _text(value)
        if text is None:
            return None
        if text.lower() not in allowed:
            raise Bad(f"{text[:40]!r} is not one of {', '.join(allowed)}")
        return text.lower()

    return parse


def parse_id(value) -> str | None:
    text = _text(value)
    if text is not None and len(text) > 64:
        raise Bad("longer than 64 characters")
    if text is not None and not text.isprintable() and any(unicodedata.category(c) == "Cc" for c in text):
        raise Bad("holds a control character")
    return text


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable
    required: bool = False


def _amount(value):
    return parse_number(value, 0, 1e10)


CASE_FIELDS = (
    Field("case_id", parse_id, True), Field("city", parse_id, True), Field("district", parse_id, True),
    Field("reported_at", parse_time, True), Field("found_by_patrol", parse_bool),
    Field("handled_by", parse_choice(h.value for h in HandledBy)),
    Field("lon", lambda v: parse_number(v, -180, 180)), Field("lat", lambda v: parse_number(v, -90, 90)),
    Field("on_scene_at", parse_time), Field("cleared_at", parse_time), Field("quick_handled", parse_bool),
    Field("liability_at", parse_time), Field("liability_mode", parse_choice(("remote", "on_site"))),
    Field("assessed_at", parse_time), Field("assessment_mode", parse_choice(("online", "on_site"))),
    Field("handled_online", parse_bool), Field("insurer", parse_id), Field("paid_at", parse_time),
    Field("paid_amount_yuan", _amount),
    # optional beyond the contract's minimum
    Field("channel", parse_choice(c.value for c in Channel)),
    Field("severity", parse_choice(s.value for s in Severity)),
    Field("one_click_claim", parse_bool),
)
MEDIATION_FIELDS = (
    Field("mediation_id", parse_id, True), Field("city", parse_id, True), Field("district", parse_id, True),
    Field("opened_at", parse_time, True), Field("closed_at", parse_time),
    Field("outcome", parse_choice(o.value for o in MediationOutcome), True), Field("pre_litigation", parse_bool),
    Field("amount_yuan", _amount), Field("insurer", parse_id),
)
RESCUE_FIELDS = (
    Field("mission_id", parse_id, True), Field("city", parse_id, True), Field("district", parse_id, True),
    Field("requested_at", parse_time, True), Field("takeoff_at", parse_time), Field("on_scene_at", parse_time),
    Field("hospital_at", parse_time), Field("outcome", parse_choice(o.value for o in RescueOutcome)),
)
POSITION_FIELDS = (
    Field("unit_id", parse_id, True), Field("at", parse_time, True),
    Field("lon", lambda v: parse_number(v, -180, 180), True), Field("lat", lambda v: parse_number(v, -90, 90), True),
    Field("status", parse_choice(s.value for s in UnitStatus), True), Field("case_id", parse_id),
)
FIELDS = {"cases": CASE_FIELDS, "mediations": MEDIATION_FIELDS, "rescues": RESCUE_FIELDS,
          "positions": POSITION_FIELDS}
ORDERS = {   # stage chains that must not go back in time
    "cases": (("reported_at", "on_scene_at", "cleared_at"),
              ("reported_at", "liability_at", "assessed_at", "paid_at")),
    "mediations": (("opened_at", "closed_at"),),
    "rescues": (("requested_at", "takeoff_at", "on_scene_at", "hospital_at"),),
    "positions": (),
}


# ---------------------------------------------------------------------------------------------- reference data
@dataclass
class Places:
    """What rows are checked against: districts of each city, each city's outline, insurers by code."""

    districts: dict[str, str]                     # district adcode -> city adcode
    outlines: dict[str, object]                   # city adcode -> prepared shapely geometry (with margin)
    insurers: dict[tuple[str, str], int]          # (city, code or name) -> insurer id
    units: dict[str, tuple[int, str]] = field(default_factory=dict)   # unit code -> (rider_unit.id, city adcode)

    @classmethod
    def load(cls, db: Database) -> Places:
        with db.session() as session:
            rows = session.execute(select(District.adcode, District.city_adcode, District.boundary_geojson)).all()
            insurers = session.execute(select(Insurer.id, Insurer.city_adcode, Insurer.code, Insurer.name_zh,
                                              Insurer.name_en)).all()
            units = session.execute(select(RiderUnit.code, RiderUnit.id, RiderUnit.city_adcode)
                                    .where(RiderUnit.code != "")).all()
        shapes: dict[str, list] = {}
        for _adcode, city, boundary in rows:
            shapes.setdefault(city, []).append(shape(json.loads(boundary)))
        outlines = {}
        for city, parts in shapes.items():
            outline = shapely.union_all(parts).buffer(CITY_MARGIN_DEG)
            shapely.prepare(outline)
            outlines[city] = outline
        by_code = {}
        for insurer_id, city, *names in insurers:
            for name in names:
                by_code[(city, name)] = insurer_id
            by_code[(city, str(insurer_id))] = insurer_id
        return cls({adcode: city for adcode, city, _ in rows}, outlines, by_code,
                   {code: (unit_id, city) for code, unit_id, city in units})

    def insurer_id(self, city: str, insurer: str | None) -> int | None:
        """The id of the insurer a row names (code, name or id as registered for its city); None if it names none."""
        return self.insurers.get((city, insurer)) if insurer else None


# -------------------------------------------------------------------------------------------------- validation
def validate(kind: str, rows: list[Mapping], places: Places) -> tuple[list[tuple[int, dict]], list[RowProblem]]:
    """The rows that pass every rule, parsed (with their index), and a problem per failed rule of the others."""
    if kind not in FIELDS:
        raise IngestError(f"unknown kind {kind!r}: use {', '.join(KINDS)}")
    good, problems = [], []
    for index, raw in enumerate(rows):
        if not isinstance(raw, Mapping):
            problems.append(RowProblem(index, "", "a row must be an object of field: value"))
            continue
        row, row_problems = _validate_row(kind, raw, places, index)
        if row_problems:
            problems.extend(row_problems)
        else:
            good.append((index, row))
    return good, problems


def parse_fields(fields: Iterable[Field], raw: Mapping, index: int) -> tuple[dict, list[RowProblem]]:
    """A row's fields parsed by their specs (the contract of every kind, cases and reference data alike): the
    values, and a problem for each unknown field, each value that does not parse and each required one missing."""
    fields = tuple(fields)
    known = {f.name for f in fields}
    problems = [RowProblem(index, str(name)[:40], "unknown field") for name in raw if name not in known]
    row: dict = {}
    for spec in fields:
        try:
            value = spec.parse(raw.get(spec.name))
        except Bad as exc:
            problems.append(RowProblem(index, spec.name, str(exc)))
            continue
        if value is None and spec.required:
            problems.append(RowProblem(index, spec.name, "required"))
        row[spec.name] = value
    return row, problems


def _validate_row(kind: str, raw: Mapping, places: Places, index: int) -> tuple[dict, list[RowProblem]]:
    row, problems = parse_fields(FIELDS[kind], raw, index)
    if problems:
        return row, problems
    if kind == "positions":
        return row, _position_rules(row, places, index)
    city, district = row["city"], row["district"]
    if city not in places.outlines:
        problems.append(RowProblem(index, "city", f"unknown city {city}"))
    elif places.districts.get(district) != city:
        problems.append(RowProblem(index, "district", f"{district} is not a district of {city}"))
    for chain in ORDERS[kind]:
        reached = [(name, row[name]) for name in chain if row.get(name) is not None]
        for (earlier, at_earlier), (later, at_later) in zip(reached, reached[1:], strict=False):
            if at_later < at_earlier:
                problems.append(RowProblem(index, later, f"{later} is before {earlier}"))
    if kind == "cases":
        problems += _case_rules(row, places, index)
    if kind == "mediations" and row["outcome"] != MediationOutcome.OPEN.value and row["closed_at"] is None:
        problems.append(RowProblem(index, "closed_at", f"required when the outcome is {row['outcome']}"))
    if (row.get("insurer") is not None and city in places.outlines
            and places.insurer_id(city, row["insurer"]) is None):
        problems.append(RowProblem(index, "insurer", f"unknown insurer {row['insurer']!r} in city {city}"))
    return row, problems


def _case_rules(row: dict, places: Places, index: int) -> list[RowProblem]:
    problems = []
    if (row["lon"] is None) != (row["lat"] is None):
        problems.append(RowProblem(index, "lat" if row["lat"] is None else "lon", "lon and lat come together"))
    elif row["lon"] is not None and row["city"] in places.outlines:
        if not shapely.contains_xy(places.outlines[row["city"]], row["lon"], row["lat"]):
            problems.append(RowProblem(index, "lon", f"({row['lon']}, {row['lat']}) is outside city {row['city']}"))
    for mode, stage in (("liability_mode", "liability_at"), ("assessment_mode", "assessed_at")):
        if row[mode] is not None and row[stage] is None:
            problems.append(RowProblem(index, mode, f"given without {stage}"))
    if row["paid_amount_yuan"] is not None and row["paid_at"] is None:
        problems.append(RowProblem(index, "paid_amount_yuan", "given without paid_at"))
    return problems


def _position_rules(row: dict, places: Places, index: int) -> list[RowProblem]:
    unit = places.units.get(row["unit_id"])
    if unit is None:
        return [RowProblem(index, "unit_id", f"unknown unit {row['unit_id']!r}")]
    city = unit[1]
    outline = places.outlines.get(city)
    if outline is None or not shapely.contains_xy(outline, row["lon"], row["lat"]):
        return [RowProblem(index, "lon", f"({row['lon']}, {row['lat']}) is outside the unit's city {city}")]
    return []


# ------------------------------------------------------------------------------------------------------ storing
def _case_record(row: dict, source: str, places: Places) -> dict:
    reported = row["reported_at"]
    found = bool(row["found_by_patrol"])
    channel = row["channel"] or (Channel.PATROL.value if found else Channel.POLICE_CALL.value)
    online = row["handled_online"]
    if online is None:
        online = row["liability_mode"] == StageMode.REMOTE.value or row["assessment_mode"] == StageMode.ONLINE.value
    return {
        "source": source, "external_id": row["case_id"], "city_adcode": row["city"],
        "district_adcode": row["district"], "channel": channel, "severity": row["severity"] or Severity.MINOR.value,
        "handled_by": row["handled_by"], "lon": row["lon"], "lat": row["lat"], "reported_at": reported,
        "local_day": local_day(reported), "local_hour": local_hour(reported), "found_by_patrol": found,
        "on_scene_at": row["on_scene_at"], "cleared_at": row["cleared_at"],
        "quick_handled": bool(row["quick_handled"]), "liability_at": row["liability_at"],
        "liability_mode": row["liability_mode"], "assessed_at": row["assessed_at"],
        "assessment_mode": row["assessment_mode"], "handled_online": bool(online),
        "one_click_claim": bool(row["one_click_claim"]),
        "insurer_id": places.insurer_id(row["city"], row["insurer"]),
        "paid_at": row["paid_at"], "paid_amount_yuan": row["paid_amount_yuan"],
    }


def _mediation_record(row: dict, source: str, places: Places) -> dict:
    closed = row["closed_at"]
    return {
        "source": source, "external_id": row["mediation_id"], "city_adcode": row["city"],
        "district_adcode": row["district"], "opened_at": row["opened_at"], "opened_day": local_day(row["opened_at"]),
        "closed_at": closed, "closed_day": local_day(closed) if closed else None, "outcome": row["outcome"],
        "pre_litigation": bool(row["pre_litigation"]), "amount_yuan": row["amount_yuan"],
        "insurer_id": places.insurer_id(row["city"], row["insurer"]),
    }


def _rescue_record(row: dict, source: str, _places: Places) -> dict:
    return {
        "source": source, "external_id": row["mission_id"], "city_adcode": row["city"],
        "district_adcode": row["district"], "requested_at": row["requested_at"],
        "local_day": local_day(row["requested_at"]), "takeoff_at": row["takeoff_at"],
        "on_scene_at": row["on_scene_at"], "hospital_at": row["hospital_at"],
        "outcome": row["outcome"] or RescueOutcome.UNKNOWN.value,
    }


TABLES = {"cases": (AccidentCase, _case_record, "local_day"),
          "mediations": (MediationCase, _mediation_record, "opened_day"),
          "rescues": (RescueMission, _rescue_record, "local_day")}


def store(db: Database, kind: str, source: str, rows: list[Mapping], places: Places | None = None,
          dry_run: bool = False, insurer: str = "", links: Mapping[str, Mapping] | None = None) -> IngestResult:
    """Validate `rows` and upsert the good ones for `source` in one transaction; rollups follow. With `insurer` (the
    code an insurer's token is bound to) only rows of that insurer are stored: a row naming another insurer or none,
    and every rescue, is rejected with its reason. `links` (external id -> columns) adds columns the contract does
    not carry, for the feeds that run inside the server (the simulator's grid and unit of a case); when given it
    must name every row's id. Positions are appended, not upserted (`store_positions`)."""
    if not source or len(source) > 40:
        raise IngestError("a source name of 1 to 40 characters is needed")
    places = places or Places.load(db)
    good, problems = validate(kind, rows, places)
    if insurer:
        good, refused = own_insurer_rows(kind, good, insurer, places)
        problems = sorted(problems + refused, key=lambda p: p.index)
    result = IngestResult(received=len(rows), problems=problems)
    if kind == "positions":
        return store_positions(db, source, good, places, result, dry_run)
    if not good or dry_run:
        result.inserted = len(good) if dry_run else 0
        return result
    model, make, day_column = TABLES[kind]
    records = {}
    for _index, row in good:
        record = make(row, source, places)
        if links is not None:
            record.update(links[record["external_id"]])
        records[record["external_id"]] = record          # the last of repeated ids in one request wins
    table = model.__table__
    key_columns = ("source", "external_id")
    # Not db.transaction(): that bumps the data version even when every row comes back unchanged, which would throw
    # every cached query away for nothing. The version moves only when a row was written.
    with db.sessions.begin() as session:
        existing = {}
        ids = list(records)
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            for stored in session.execute(select(table).where(table.c.source == source,
                                                              table.c.external_id.in_(chunk))).mappings():
                existing[stored["external_id"]] = dict(stored)
        touched = set()
        for external_id, record in records.items():
            before = existing.get(external_id)
            if before is None:
                result.inserted += 1
            elif all(_same(before.get(k), v) for k, v in record.items()):
                result.unchanged += 1
                continue
            else:
                result.updated += 1
                touched.add((before["city_adcode"], before[day_column]))
            touched.add((record["city_adcode"], record[day_column]))
        changed = [r for r in records.values() if r["external_id"] not in existing
                   or not all(_same(existing[r["external_id"]].get(k), v) for k, v in r.items())]
        if changed:
            # One statement compiled once, run executemany: compiling multi-row VALUES costs more than storing.
            statement = (postgresql if db.dialect == "postgresql" else sqlite).insert(table)
            updates = {c: statement.excluded[c] for c in changed[0] if c not in key_columns}
            session.execute(statement.on_conflict_do_update(index_elements=list(key_columns), set_=updates), changed)
            bump_data_version(session)
    if kind == "cases" and touched:
        refresh_days(db, touched)
    return result


def store_positions(db: Database, source: str, good: list[tuple[int, dict]], places: Places, result: IngestResult,
                    dry_run: bool = False) -> IngestResult:
    """Append the validated position rows: each names its unit by code and, optionally, the case it works on by the
    case's id in the same source (a case the source never sent is a row problem: send the case first). A row equal
    to one stored for its unit at the same time is counted unchanged instead of added again. No data version moves:
    the live map and the wall read positions uncached, and a bump every second would empty every query cache."""
    wanted = sorted({row["case_id"] for _index, row in good if row["case_id"] is not None})
    case_ids: dict[str, int] = {}
    if wanted:
        table = AccidentCase.__table__
        with db.session() as session:
            for start in range(0, len(wanted), 900):
                case_ids.update(session.execute(select(table.c.external_id, table.c.id).where(
                    table.c.source == source, table.c.external_id.in_(wanted[start:start + 900]))).all())
    records: dict[tuple, dict] = {}
    for index, row in good:
        case = row["case_id"]
        if case is not None and case not in case_ids:
            result.problems.append(RowProblem(index, "case_id", f"no case {case!r} from source {source!r}"))
            continue
        record = {"unit_id": places.units[row["unit_id"]][0], "at": row["at"], "lon": row["lon"], "lat": row["lat"],
                  "status": UnitStatus(row["status"]), "case_id": case_ids.get(case) if case is not None else None}
        key = _position_key(record)
        if key in records:
            result.unchanged += 1                      # repeated within the request
        records[key] = record
    result.problems.sort(key=lambda p: p.index)
    if dry_run or not records:
        result.inserted = len(records) if dry_run else 0
        return result
    table = UnitPosition.__table__
    units = sorted({r["unit_id"] for r in records.values()})
    first, last = min(r["at"] for r in records.values()), max(r["at"] for r in records.values())
    with db.sessions.begin() as session:
        stored = set()
        for start in range(0, len(units), 900):
            stored.update(_position_key(dict(r)) for r in session.execute(
                select(table.c.unit_id, table.c.at, table.c.lon, table.c.lat, table.c.status, table.c.case_id)
                .where(table.c.unit_id.in_(units[start:start + 900]), table.c.at >= first, table.c.at <= last)
            ).mappings())
        new = [r for key, r in records.items() if key not in stored]
        result.unchanged += len(records) - len(new)
        result.inserted = len(new)
        if new:
            session.execute(table.insert(), new)
    return result


def _position_key(record: Mapping) -> tuple:
    return (int(record["unit_id"]), record["at"], float(record["lon"]), float(record["lat"]),
            str(getattr(record["status"], "value", record["status"])),
            None if record["case_id"] is None else int(record["case_id"]))


def own_insurer_rows(kind: str, good: list[tuple[int, dict]], insurer: str,
                     places: Places) -> tuple[list[tuple[int, dict]], list[RowProblem]]:
    """The rows an insurer's token may write (those naming its own insurer), and a problem for each other row."""
    kept, refused = [], []
    for index, row in good:
        if kind not in ("cases", "mediations"):
            refused.append(RowProblem(index, "insurer", f"an insurer's token cannot write {kind}"))
            continue
        own = places.insurer_id(row["city"], insurer)
        named = places.insurer_id(row["city"], row.get("insurer"))
        if own is None:
            refused.append(RowProblem(index, "insurer", f"insurer {insurer} is not registered in city {row['city']}"))
        elif named != own:
            refused.append(RowProblem(index, "insurer", f"this token writes only insurer {insurer}'s rows"))
        else:
            kept.append((index, row))
    return kept, refused


def _same(stored, new) -> bool:
    if isinstance(stored, float) or isinstance(new, float):
        return stored is not None and new is not None and np.isclose(float(stored), float(new))
    return getattr(stored, "value", stored) == getattr(new, "value", new)
