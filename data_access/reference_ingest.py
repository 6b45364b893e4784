"""Reference data through the contract of the cases: a bureau registers its insurers, stations, patrol grids (with
their rider teams), rider units and duty periods from CSV files or GeoJSON (`jingbao import <kind>`) or through
`POST /api/v1/<kind>` with an admin token.

Rows are validated one by one (unknown city or district, a station outside its district, a grid that does not
close, a unit on an unknown grid, a code twice in one file, names with control characters); the good ones are
upserted on (source, code) in one transaction and the bad ones reported with their index, field and reason. Sending
a file again changes nothing, not even the data version. Nothing is ever deleted: a later file closes a station
(`closed_on`) or retires an insurer (`active` false) and its history stays.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import shapely
from shapely.geometry import shape
from sqlalchemy import func, select

from data_access.db import Database, bump_data_version
from data_access.geo import gcj02_to_wgs84_array, transform_geometry
from data_access.ingest import (
    CITY_MARGIN_DEG,
    MAX_ROWS_PER_REQUEST,
    Bad,
    Field,
    IngestError,
    IngestResult,
    Places,
    RowProblem,
    parse_bool,
    parse_choice,
    parse_fields,
    parse_number,
)
from data_access.models import (
    City,
    District,
    DutyPeriod,
    Insurer,
    PatrolGrid,
    RiderTeam,
    RiderUnit,
    Station,
    StationKind,
    VehicleKind,
)

KINDS = ("insurers", "stations", "grids", "units", "duty-periods")
SHAPE_KINDS = ("grids",)                 # sent as a GeoJSON FeatureCollection, one feature a row
DATUMS = ("wgs84", "gcj02")
DEFAULT_SOURCE = "bureau"                # the source of `jingbao import <reference kind>` without --source
STATION_KINDS = ("police_booth", "claim_point", "quick_centre", "vehicle_admin", "persuasion", "helipad", "hospital")
VEHICLES = tuple(v.value for v in VehicleKind)
COORDINATE_DECIMALS = 6                  # about 0.1 m: a grid converted from GCJ-02 stores the same text every time
MAX_STAFF = 100_000


# ----------------------------------------------------------------------------------------------- field parsers
def _cell(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = value.strip() if isinstance(value, str) else str(value).strip()
    return text or None


def parse_text(limit: int) -> Callable:
    """Text of at most `limit` characters; a control or format character or a lone surrogate (which JSON can carry
    and no database column can store) is refused."""

    def parse(value) -> str | None:
        if isinstance(value, bool | dict | list):
            raise Bad("text is expected")
        text = _cell(value)
        if text is None:
            return None
        for char in text:
            if unicodedata.category(char) in ("Cc", "Cf", "Cs"):
                raise Bad(f"holds the control character U+{ord(char):04X}")
        if len(text) > limit:
            raise Bad(f"longer than {limit} characters")
        return text

    return parse


def parse_adcode(value) -> str | None:
    text = _cell(value)
    if text is None:
        return None
    if len(text) != 6 or not text.isascii() or not text.isdigit():
        raise Bad(f"{text[:12]!r} is not a 6-digit adcode")
    return text


def parse_date(value) -> dt.date | None:
    """A calendar day, 2024-05-01 (Asia/Shanghai, as every day a person reads)."""
    text = _cell(value)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Bad(f"{text[:24]!r} is not a date like 2024-05-01") from None


def parse_count(value) -> int | None:
    number = parse_number(value, 0, MAX_STAFF)
    if number is None:
        return None
    if number != int(number):
        raise Bad(f"{number:g} is not a whole number")
    return int(number)


CODE, LONG_CODE = parse_text(24), parse_text(40)
NAME_ZH, NAME_EN = parse_text(60), parse_text(80)

FIELDS: dict[str, tuple[Field, ...]] = {
    "insurers": (Field("code", CODE, True), Field("name_zh", NAME_ZH, True), Field("name_en", NAME_EN),
                 Field("city", parse_adcode, True), Field("active", parse_bool)),
    "stations": (Field("station_id", CODE, True), Field("kind", parse_choice(STATION_KINDS), True),
                 Field("name", NAME_ZH, True), Field("name_en", NAME_EN), Field("city", parse_adcode, True),
                 Field("district", parse_adcode, True), Field("lon", lambda v: parse_number(v, -180, 180), True),
                 Field("lat", lambda v: parse_number(v, -90, 90), True), Field("opened_on", parse_date),
                 Field("closed_on", parse_date), Field("staff", parse_count)),
    "grids": (Field("grid_id", CODE, True), Field("booth_id", CODE, True), Field("team", CODE, True),
              Field("city", parse_adcode, True), Field("name", NAME_ZH), Field("name_en", NAME_EN),
              Field("team_name", NAME_ZH), Field("team_name_en", NAME_EN), Field("members", parse_count),
              Field("founded_on", parse_date)),
    "units": (Field("unit_id", LONG_CODE, True), Field("callsign", CODE, True), Field("team", CODE, True),
              Field("vehicle", parse_choice(VEHICLES), True), Field("grid_id", CODE, True),
              Field("city", parse_adcode, True)),
    "duty-periods": (Field("name_zh", parse_text(40), True), Field("name_en", parse_text(60)),
                     Field("start", parse_date, True), Field("end", parse_date, True), Field("city", parse_adcode)),
}
# What makes two rows of one file the same thing (a duplicate is rejected), and the field its problem names.
KEYS = {"insurers": ("city", "code"), "stations": ("station_id",), "grids": ("grid_id",), "units": ("unit_id",),
        "duty-periods": ("city", "name_zh", "start")}


# ---------------------------------------------------------------------------------------- what rows refer to
@dataclass
class Register:
    """What reference rows are checked against: registered cities and their districts' outlines, and the booths,
    grids, teams, insurers and units already stored (with the source that stored them)."""

    places: Places
    cities: dict[str, dt.date]                              # adcode -> programme start
    districts: dict[str, object]                            # district adcode -> its outline with margin (prepared)
    district_shapes: dict[str, tuple[str, object]]          # district adcode -> (city, exact outline)
    booths: dict[tuple[str, str], list[tuple[str, int]]]    # (city, code) -> [(source, station id)]
    grids: dict[tuple[str, str], list[tuple[str, int]]]     # (city, code) -> [(source, grid id)]
    teams: dict[tuple[str, str], list[tuple[str, int]]]     # (city, code) -> [(source, team id)]
    insurers: dict[tuple[str, str], str]                    # (city, code) -> source
    units: dict[str, str]                                   # unit code -> source

    @classmethod
    def load(cls, db: Database) -> Register:
        places = Places.load(db)
        with db.session() as session:
            cities = dict(session.execute(select(City.adcode, City.programme_start)).all())
            districts = session.execute(select(District.adcode, District.city_adcode,
                                               District.boundary_geojson)).all()
            booths = session.execute(select(Station.city_adcode, Station.code, Station.source, Station.id)
                                     .where(Station.kind == StationKind.POLICE_BOOTH.value)).all()
            grids = session.execute(select(PatrolGrid.city_adcode, PatrolGrid.code, PatrolGrid.source,
                                           PatrolGrid.id)).all()
            teams = session.execute(select(RiderTeam.city_adcode, RiderTeam.code, RiderTeam.source,
                                           RiderTeam.id)).all()
            insurers = session.execute(select(Insurer.city_adcode, Insurer.code, Insurer.source)).all()
            units = session.execute(select(RiderUnit.code, RiderUnit.source)).all()
        outlines, exact = {}, {}
        for adcode, city, boundary in districts:
            outline = shape(json.loads(boundary))
            exact[adcode] = (city, outline)
            with_margin = outline.buffer(CITY_MARGIN_DEG)
            shapely.prepare(with_margin)
            outlines[adcode] = with_margin
        return cls(places, cities, outlines, exact, _by_code(booths), _by_code(grids), _by_code(teams),
                   {(city, code): source for city, code, source in insurers}, dict(units))

    def district_at(self, city: str, point) -> str | None:
        """The district of `city` holding `point` (or the nearest within the margin), None when none does."""
        near = [(outline.distance(point), adcode) for adcode, (c, outline) in self.district_shapes.items()
                if c == city]
        near = [(distance, adcode) for distance, adcode in near if distance <= CITY_MARGIN_DEG]
        return min(near)[1] if near else None


def _by_code(rows) -> dict[tuple[str, str], list[tuple[str, int]]]:
    found: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for city, code, source, row_id in rows:
        found.setdefault((city, code), []).append((source, row_id))
    return found


def _pick(candidates: list[tuple[str, int]] | None, source: str) -> int | None:
    """The row a code refers to: the caller's own source's first, else the first registered by any source."""
    if not candidates:
        return None
    own = [row_id for s, row_id in candidates if s == source]
    return own[0] if own else min(row_id for _s, row_id in candidates)


# -------------------------------------------------------------------------------------------------- validation
def features_of(document) -> list:
    """The features of a GeoJSON FeatureCollection (the body of a grids file or request), or IngestError."""
    if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        raise IngestError("a GeoJSON FeatureCollection is needed: {\"type\": \"FeatureCollection\", \"features\": […]}")
    return document["features"]


def validate(kind: str, rows: list, register: Register, source: str,
             datum: str = "wgs84") -> tuple[list[tuple[int, dict]], list[RowProblem]]:
    """The rows that pass every rule, parsed (coordinates in WGS-84), with their index; a problem per failed rule of
    the others. A key seen earlier in the same request rejects the later row."""
    if kind not in FIELDS:
        raise IngestError(f"unknown kind {kind!r}: use {', '.join(KINDS)}")
    if datum not in DATUMS:
        raise IngestError(f"unknown datum {datum!r}: use {' or '.join(DATUMS)}")
    good, problems = [], []
    seen: set[tuple] = set()
    teams_seen: set[tuple] = set()
    for index, raw in enumerate(rows):
        row, row_problems = _parse(kind, raw, index)
        if not row_problems:
            key = tuple(row[name] for name in KEYS[kind])
            if key in seen:
                row_problems.append(RowProblem(index, KEYS[kind][-1] if kind != "duty-periods" else "name_zh",
                                               f"{' '.join(str(k) for k in key if k)} appears more than once "
                                               "in this file"))
            seen.add(key)
        if not row_problems:
            row_problems = RULES[kind](row, register, source, datum, index)
        if kind == "grids" and not row_problems:
            team = (row["city"], row["team"])
            if team in teams_seen:
                row_problems.append(RowProblem(index, "team", f"team {row['team']} patrols another grid of this file"))
            teams_seen.add(team)
        if row_problems:
            problems.extend(row_problems)
        else:
            good.append((index, row))
    return good, problems


def _parse(kind: str, raw, index: int) -> tuple[dict, list[RowProblem]]:
    geometry = None
    if kind in SHAPE_KINDS:
        if not isinstance(raw, Mapping) or raw.get("type") != "Feature" \
                or not isinstance(raw.get("properties"), Mapping):
            return {}, [RowProblem(index, "", "a GeoJSON Feature with properties is expected")]
        geometry = raw.get("geometry")
        raw = raw["properties"]
    elif not isinstance(raw, Mapping):
        return {}, [RowProblem(index, "", "a row must be an object of field: value")]
    row, problems = parse_fields(FIELDS[kind], raw, index)
    if kind in SHAPE_KINDS:
        row["geometry"] = geometry
    return row, problems


def _city_problem(row: dict, register: Register, index: int) -> list[RowProblem]:
    if row["city"] not in register.cities:
        return [RowProblem(index, "city", f"unknown city {row['city']}: register it first (jingbao city add)")]
    return []


def _insurer_rules(row: dict, register: Register, source: str, _datum: str, index: int) -> list[RowProblem]:
    problems = _city_problem(row, register, index)
    owner = register.insurers.get((row["city"], row["code"]))
    if not problems and owner is not None and owner != source:
        # The insurer's cases already point at the row another source registered: it stays that source's.
        problems.append(RowProblem(index, "code", f"insurer {row['code']} of city {row['city']} is registered by "
                                                  f"source {owner}; send it with --source {owner} to change it"))
    return problems


def _station_rules(row: dict, register: Register, _source: str, datum: str, index: int) -> list[RowProblem]:
    problems = _city_problem(row, register, index)
    if row["opened_on"] and row["closed_on"] and row["closed_on"] < row["opened_on"]:
        problems.append(RowProblem(index, "closed_on", "closed_on is before opened_on"))
    if problems:
        return problems
    city, district = row["city"], row["district"]
    if register.district_shapes.get(district, ("",))[0] != city:
        return [RowProblem(index, "district", f"{district} is not a district of {city}")]
    if datum == "gcj02":
        lon, lat = gcj02_to_wgs84_array(row["lon"], row["lat"])
        row["lon"], row["lat"] = round(float(lon), COORDINATE_DECIMALS), round(float(lat), COORDINATE_DECIMALS)
    where = f"({row['lon']}, {row['lat']})"
    if not shapely.contains_xy(register.places.outlines[city], row["lon"], row["lat"]):
        problems.append(RowProblem(index, "lon", f"{where} is outside city {city}"))
    elif not shapely.contains_xy(register.districts[district], row["lon"], row["lat"]):
        problems.append(RowProblem(index, "lon", f"{where} is outside district {district}"))
    return problems


def _grid_rules(row: dict, register: Register, source: str, datum: str, index: int) -> list[RowProblem]:
    problems = _city_problem(row, register, index)
    geometry, reason = _grid_geometry(row.pop("geometry"), datum)
    if reason:
        problems.append(RowProblem(index, "geometry", reason))
    if problems:
        return problems
    city = row["city"]
    polygon = shape(geometry)
    if not register.places.outlines[city].contains(polygon):
        return [RowProblem(index, "geometry", f"the grid is outside city {city}")]
    district = register.district_at(city, polygon.representative_point())
    if district is None:
        return [RowProblem(index, "geometry", f"the grid lies in no district of city {city}")]
    booth = _pick(register.booths.get((city, row["booth_id"])), source)
    if booth is None:
        problems.append(RowProblem(index, "booth_id", f"no police booth {row['booth_id']} in city {city}"))
    row.update(geometry=geometry, district=district, booth=booth)
    return problems


def _grid_geometry(geometry, datum: str) -> tuple[dict | None, str]:
    """The grid's geometry in WGS-84 with rounded coordinates, or the reason it cannot be one."""
    if not isinstance(geometry, Mapping) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return None, "a Polygon or MultiPolygon geometry is needed"
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    try:
        rings = [ring for polygon in polygons for ring in polygon]
        points = [(float(x), float(y)) for ring in rings for x, y, *_ in ring]
    except (TypeError, ValueError):
        return None, "coordinates must be [lon, lat] number pairs"
    if not rings or not all(math.isfinite(v) for p in points for v in p):
        return None, "coordinates must be finite [lon, lat] number pairs"
    for ring in rings:
        if len(ring) < 4 or [float(v) for v in ring[0][:2]] != [float(v) for v in ring[-1][:2]]:
            return None, "a ring does not close (its last position must repeat its first, 4 positions at least)"
    plain = {"type": geometry["type"], "coordinates": coordinates}
    if datum == "gcj02":
        plain = transform_geometry(plain, gcj02_to_wgs84_array)
    plain = transform_geometry(plain, lambda lon, lat: (lon.round(COORDINATE_DECIMALS), lat.round(COORDINATE_DECIMALS)))
    polygon = shape(plain)
    if not polygon.is_valid:
        return None, f"the polygon is invalid: {shapely.is_valid_reason(polygon)}"
    return plain, ""


def _unit_rules(row: dict, register: Register, source: str, _datum: str, index: int) -> list[RowProblem]:
    problems = _city_problem(row, register, index)
    if problems:
        return problems
    city = row["city"]
    owner = register.units.get(row["unit_id"])
    if owner is not None and owner != source:
        problems.append(RowProblem(index, "unit_id", f"unit {row['unit_id']} is registered by source {owner}"))
    row["team_ref"] = _pick(register.teams.get((city, row["team"])), source)
    if row["team_ref"] is None:
        problems.append(RowProblem(index, "team", f"no rider team {row['team']} in city {city}: import its grid "
                                                  "first"))
    row["grid_ref"] = _pick(register.grids.get((city, row["grid_id"])), source)
    if row["grid_ref"] is None:
        problems.append(RowProblem(index, "grid_id", f"unknown grid {row['grid_id']} in city {city}"))
    return problems


def _duty_rules(row: dict, register: Register, _source: str, _datum: str, index: int) -> list[RowProblem]:
    problems = []
    if row["end"] < row["start"]:
        problems.append(RowProblem(index, "end", "end is before start"))
    if row["city"]:
        problems += _city_problem(row, register, index)
    elif not register.cities:
        problems.append(RowProblem(index, "city", "no city is registered yet (jingbao city add)"))
    return problems


RULES = {"insurers": _insurer_rules, "stations": _station_rules, "grids": _grid_rules, "units": _unit_rules,
         "duty-periods": _duty_rules}


# ------------------------------------------------------------------------------------------------------ storing
@dataclass
class _Writer:
    """Upserts within one transaction: compares each record with the stored row and counts what changed."""

    session: object
    changed: bool = False
    next_ids: dict = field(default_factory=dict)

    def put(self, model, existing, values: dict) -> tuple[str, object]:
        """Insert `values` as a new `model` row, or update `existing` where it differs: ("inserted" | "updated" |
        "unchanged", the row)."""
        if existing is None:
            # Explicit ids: the demo builder writes its own ids, which leaves PostgreSQL's sequences behind.
            if model not in self.next_ids:
                self.next_ids[model] = (self.session.scalar(select(func.max(model.id))) or 0) + 1
            row = model(id=self.next_ids[model], **values)
            self.next_ids[model] += 1
            self.session.add(row)
            self.session.flush()
            self.changed = True
            return "inserted", row
        different = {k: v for k, v in values.items() if not _same(getattr(existing, k), v)}
        if not different:
            return "unchanged", existing
        for name, value in different.items():
            setattr(existing, name, value)
        self.changed = True
        return "updated", existing


def _same(stored, new) -> bool:
    stored, new = getattr(stored, "value", stored), getattr(new, "value", new)
    if isinstance(stored, float) or isinstance(new, float):
        return stored is not None and new is not None and math.isclose(stored, new, abs_tol=1e-9)
    return stored == new


def _merge(outcomes: list[str]) -> str:
    for outcome in ("inserted", "updated"):
        if outcome in outcomes:
            return outcome
    return "unchanged"


def _store_insurers(writer: _Writer, good, source: str, register: Register) -> list[str]:
    stored = {(i.city_adcode, i.code): i for i in writer.session.scalars(
        select(Insurer).where(Insurer.city_adcode.in_({row["city"] for _i, row in good})))}
    return [writer.put(Insurer, stored.get((row["city"], row["code"])), {
        "city_adcode": row["city"], "code": row["code"], "name_zh": row["name_zh"],
        "name_en": row["name_en"] or row["name_zh"], "active": True if row["active"] is None else row["active"],
        "source": source})[0] for _index, row in good]


def _store_stations(writer: _Writer, good, source: str, register: Register) -> list[str]:
    stored = {s.code: s for s in writer.session.scalars(
        select(Station).where(Station.source == source, Station.code.in_([row["station_id"] for _i, row in good])))}
    return [writer.put(Station, stored.get(row["station_id"]), {
        "city_adcode": row["city"], "district_adcode": row["district"], "kind": StationKind(row["kind"]),
        "code": row["station_id"], "name_zh": row["name"], "name_en": row["name_en"] or row["name"],
        "lon": row["lon"], "lat": row["lat"], "staff": row["staff"] or 0, "opened_on": row["opened_on"],
        "closed_on": row["closed_on"], "source": source})[0] for _index, row in good]


def _store_grids(writer: _Writer, good, source: str, register: Register) -> list[str]:
    grids = {g.code: g for g in writer.session.scalars(select(PatrolGrid).where(PatrolGrid.source == source))}
    teams = {(t.city_adcode, t.code): t for t in writer.session.scalars(
        select(RiderTeam).where(RiderTeam.source == source))}
    outcomes = []
    for _index, row in good:
        code = row["grid_id"]
        grid_outcome, grid = writer.put(PatrolGrid, grids.get(code), {
            "city_adcode": row["city"], "district_adcode": row["district"], "booth_id": row["booth"], "code": code,
            "name_zh": row["name"] or f"{code}网格", "name_en": row["name_en"] or f"Grid {code}",
            "polygon_geojson": json.dumps(row["geometry"], separators=(",", ":")), "source": source})
        team = row["team"]
        team_outcome, _ = writer.put(RiderTeam, teams.get((row["city"], team)), {
            "city_adcode": row["city"], "grid_id": grid.id, "code": team,
            "name_zh": row["team_name"] or f"{team}快骑队", "name_en": row["team_name_en"] or f"Rider team {team}",
            "members": row["members"] or 0, "founded_on": row["founded_on"] or register.cities[row["city"]],
            "source": source})
        outcomes.append(_merge([grid_outcome, team_outcome]))
    return outcomes


def _store_units(writer: _Writer, good, source: str, register: Register) -> list[str]:
    stored = {u.code: u for u in writer.session.scalars(
        select(RiderUnit).where(RiderUnit.code.in_([row["unit_id"] for _i, row in good])))}
    return [writer.put(RiderUnit, stored.get(row["unit_id"]), {
        "team_id": row["team_ref"], "city_adcode": row["city"], "callsign": row["callsign"],
        "vehicle_kind": VehicleKind(row["vehicle"]), "code": row["unit_id"], "grid_id": row["grid_ref"],
        "source": source})[0] for _index, row in good]


def _store_duty_periods(writer: _Writer, good, source: str, register: Register) -> list[str]:
    stored = {(d.city_adcode, d.name_zh, d.start_day): d for d in writer.session.scalars(
        select(DutyPeriod).where(DutyPeriod.source == source))}
    outcomes = []
    for _index, row in good:
        cities = [row["city"]] if row["city"] else sorted(register.cities)
        outcomes.append(_merge([writer.put(DutyPeriod, stored.get((city, row["name_zh"], row["start"])), {
            "city_adcode": city, "name_zh": row["name_zh"], "name_en": row["name_en"] or row["name_zh"],
            "start_day": row["start"], "end_day": row["end"], "source": source})[0] for city in cities]))
    return outcomes


WRITERS = {"insurers": _store_insurers, "stations": _store_stations, "grids": _store_grids, "units": _store_units,
           "duty-periods": _store_duty_periods}


def store(db: Database, kind: str, source: str, rows: list, dry_run: bool = False, datum: str = "wgs84",
          register: Register | None = None) -> IngestResult:
    """Validate `rows` (for grids: the features of a FeatureCollection) and upsert the good ones for `source` in one
    transaction. The data version moves only when a row was written."""
    if kind not in KINDS:
        raise IngestError(f"unknown kind {kind!r}: use {', '.join(KINDS)}")
    if not source or len(source) > 40:
        raise IngestError("a source name of 1 to 40 characters is needed")
    if len(rows) > MAX_ROWS_PER_REQUEST:
        raise IngestError(f"{len(rows)} rows: send at most {MAX_ROWS_PER_REQUEST:,} per request")
    register = register or Register.load(db)
    good, problems = validate(kind, rows, register, source, datum)
    result = IngestResult(received=len(rows), problems=problems)
    if not good or dry_run:
        result.inserted = len(good) if dry_run else 0
        return result
    with db.sessions.begin() as session:
        writer = _Writer(session)
        outcomes = WRITERS[kind](writer, good, source, register)
        if writer.changed:
            bump_data_version(session)
    result.inserted, result.updated = outcomes.count("inserted"), outcomes.count("updated")
    result.unchanged = outcomes.count("unchanged")
    return result
