"""The places and organisations of the two demo programmes: districts, stations, grids, rider teams, insurers and
special-duty periods, laid out deterministically from the seed on the shipped district boundaries.

Counts that FACTS.md publishes (grids, members, vehicles, claim points, insurers, persuasion and vehicle-admin
stations) are exact here; the rest are plausible. Names are generic labels ("保险机构07", "芗城区固定理赔点03"),
never a real person, plate or company.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from data_access.boundaries import city_row, district_rows
from data_access.demo import places, seasons
from data_access.models import DutyKind, StationKind, VehicleKind

ZHANGZHOU, CHONGQING = "350600", "500000"


@dataclass(frozen=True)
class Programme:
    """What one city's programme looks like: when it started and how big its fixed parts are."""

    city: str
    start: dt.date
    id_base: int                              # ids of this city's reference rows start here
    insurers: int
    grids: dict[str, int]                     # district -> patrol grids (each around one police booth)
    members: int
    vehicles: int
    cars: int                                 # of the vehicles, survey cars (the rest are motorcycles)
    station_plan: dict[StationKind, dict[str, int]]   # kind -> district -> stations
    persuasion_staff_extra: int = 0           # persuasion stations with a third staff member


def _spread(total: int, districts: list[str], weights: list[float] | None = None) -> dict[str, int]:
    """`total` split over districts by weights with largest remainders (exact, deterministic)."""
    w = np.asarray(weights if weights is not None else [1.0] * len(districts), dtype=float)
    counts = allocate(total, w)
    return {d: int(c) for d, c in zip(districts, counts, strict=True) if c}


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to `weights` that sum to exactly `total` (largest remainder)."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    raw = weights / weights.sum() * total
    counts = np.floor(raw).astype(np.int64)
    short = int(total - counts.sum())
    if short:
        order = np.argsort(-(raw - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


ZZ_DISTRICTS = ["350602", "350603", "350604", "350605", "350622", "350623", "350624", "350625", "350626",
                "350627", "350628", "350629"]
ZZ_MAIN = ["350602", "350603"]
CQ_CENTRAL = ["500103", "500104", "500105", "500106", "500107", "500108", "500109", "500112", "500113"]
FENGJIE = "500236"


def _programmes() -> dict[str, Programme]:
    zz_rest = [d for d in ZZ_DISTRICTS if d not in ZZ_MAIN]
    cq_all = [r["adcode"] for r in district_rows(CHONGQING)]
    cq_outer = [d for d in cq_all if d not in CQ_CENTRAL]
    cq_rural = [d for d in cq_outer if d != FENGJIE]
    zz_rest = [d for d in zz_rest if d in {r["adcode"] for r in district_rows(ZHANGZHOU)}]
    zhangzhou = Programme(
        city=ZHANGZHOU, start=dt.date(2019, 12, 2), id_base=1_000_000, insurers=12,
        grids={"350602": 3, "350603": 2}, members=104, vehicles=83, cars=13,
        station_plan={
            StationKind.CLAIM_POINT: {**_spread(8, ZZ_MAIN, [5, 3]), **_spread(10, zz_rest)},
            StationKind.POLICE_BOOTH: {**_spread(9, ZZ_MAIN, [5, 4]), **_spread(16, zz_rest)},
            StationKind.QUICK_CENTRE: {"350602": 1, "350603": 1, "350604": 1},
            StationKind.VEHICLE_ADMIN: _spread(8, zz_rest),
            StationKind.PERSUASION: _spread(64, [d for d in zz_rest if d != "350604"]),
            StationKind.HOSPITAL: {**_spread(4, ZZ_MAIN, [3, 1]), **_spread(6, zz_rest)},
            StationKind.HELIPAD: {"350602": 1, "350623": 1},
            StationKind.RIDER_BASE: {"350602": 1},
        },
        persuasion_staff_extra=20,
    )
    chongqing = Programme(
        city=CHONGQING, start=dt.date(2018, 4, 16), id_base=2_000_000, insurers=24,
        grids={"500103": 2, "500104": 1, "500105": 3, "500106": 2, "500107": 3, "500108": 2, "500109": 1,
               "500112": 4, "500113": 2},
        members=349, vehicles=404, cars=96,
        station_plan={
            StationKind.CLAIM_POINT: _spread(9, CQ_CENTRAL),
            StationKind.POLICE_BOOTH: {**_spread(30, CQ_CENTRAL), **_spread(30, cq_outer)},
            StationKind.QUICK_CENTRE: {**_spread(9, CQ_CENTRAL), **_spread(6, cq_outer)},
            StationKind.VEHICLE_ADMIN: {d: 2 for d in cq_all if d != "500103"},     # 74 in 37 districts
            StationKind.PERSUASION: {FENGJIE: 139, **_spread(966, cq_rural)},     # 1,105
            StationKind.HOSPITAL: {**_spread(16, CQ_CENTRAL), **{d: 1 for d in cq_outer}},
            StationKind.HELIPAD: {**_spread(3, CQ_CENTRAL), **_spread(9, cq_outer)},
            StationKind.RIDER_BASE: _spread(4, CQ_CENTRAL),
        },
        persuasion_staff_extra=505,                       # 2,715 staff
    )
    return {ZHANGZHOU: zhangzhou, CHONGQING: chongqing}


_PROGRAMMES: dict[str, Programme] | None = None


def programmes() -> dict[str, Programme]:
    global _PROGRAMMES
    if _PROGRAMMES is None:
        _PROGRAMMES = _programmes()
    return _PROGRAMMES


def programme(city: str) -> Programme:
    try:
        return programmes()[city]
    except KeyError:
        raise ValueError(f"no demo programme for city {city}; demo cities: {', '.join(programmes())}") from None


def programme_year(prog: Programme, k: int) -> tuple[dt.date, dt.date]:
    """Programme year k as [first day, first day of the next]; k = −1 is the year before the start."""
    return prog.start.replace(year=prog.start.year + k), prog.start.replace(year=prog.start.year + k + 1)


def year_index(prog: Programme, day: dt.date) -> int:
    k = day.year - prog.start.year
    while programme_year(prog, k)[0] > day:
        k -= 1
    while programme_year(prog, k)[1] <= day:
        k += 1
    return k


STATION_LABELS = {
    StationKind.POLICE_BOOTH: ("交警岗亭", "police booth"),
    StationKind.CLAIM_POINT: ("固定理赔点", "claim point"),
    StationKind.QUICK_CENTRE: ("快处快赔中心", "quick-handling centre"),
    StationKind.VEHICLE_ADMIN: ("车驾管服务站", "vehicle-admin station"),
    StationKind.PERSUASION: ("劝导站", "persuasion station"),
    StationKind.HOSPITAL: ("医院", "hospital"),
    StationKind.HELIPAD: ("直升机起降点", "helipad"),
    StationKind.RIDER_BASE: ("快骑队驻点", "rider-team base"),
}
STATION_CODES = {
    StationKind.POLICE_BOOTH: "PB", StationKind.CLAIM_POINT: "CP", StationKind.QUICK_CENTRE: "QC",
    StationKind.VEHICLE_ADMIN: "VA", StationKind.PERSUASION: "RP", StationKind.HOSPITAL: "HO",
    StationKind.HELIPAD: "HP", StationKind.RIDER_BASE: "RB",
}
STATION_STAFF = {StationKind.POLICE_BOOTH: 4, StationKind.CLAIM_POINT: 3, StationKind.QUICK_CENTRE: 8,
                 StationKind.VEHICLE_ADMIN: 3, StationKind.PERSUASION: 2, StationKind.HOSPITAL: 0,
                 StationKind.HELIPAD: 2, StationKind.RIDER_BASE: 6}
# Stations opened with the programme within this many days (the rest existed before it).
OPENS_WITH_PROGRAMME = {StationKind.CLAIM_POINT: 120, StationKind.QUICK_CENTRE: 90, StationKind.VEHICLE_ADMIN: 180,
                        StationKind.PERSUASION: 180, StationKind.RIDER_BASE: 0, StationKind.HELIPAD: 365}


@dataclass
class World:
    """Every reference row of one city, and the geometry the generators draw locations from."""

    prog: Programme
    city: dict
    districts: pd.DataFrame
    places: dict[str, places.DistrictPlaces]
    district_weight: dict[str, float]
    stations: pd.DataFrame
    grids: pd.DataFrame
    grid_shapes: dict[int, object]
    teams: pd.DataFrame
    units: pd.DataFrame
    insurers: pd.DataFrame
    insurer_share: np.ndarray
    duty: pd.DataFrame = field(default_factory=pd.DataFrame)

    def main_urban(self) -> list[str]:
        return list(self.districts.loc[self.districts["main_urban"], "adcode"])

    def pick_insurers(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` insurer ids of the city drawn by market share: the insurers of cases, mediations and fraud leads."""
        return self.insurers["id"].to_numpy()[rng.choice(len(self.insurers), size=n, p=self.insurer_share)]


def build_world(city: str, seed: int) -> World:
    prog = programme(city)
    rng = np.random.default_rng([seed, int(city), 0])
    districts = pd.DataFrame(district_rows(city))
    row = city_row(city)
    city_values = dict(adcode=city, name_zh=row["name_zh"], name_en=row["name_en"], programme_start=prog.start,
                       center_lon=row["center_lon"], center_lat=row["center_lat"])
    district_places = {
        d.adcode: places.district_places(d.adcode, d.boundary_geojson, (d.center_lon, d.center_lat),
                                         bool(d.main_urban), rng)
        for d in districts.itertuples()
    }
    # Accident volume by district: the main urban area is busiest; rural counties quieter.
    weight = {d.adcode: (5.0 if d.main_urban else (1.0 if d.rural else 2.0)) * rng.uniform(0.8, 1.25)
              for d in districts.itertuples()}

    stations = _stations(prog, districts, district_places, rng)
    grids, grid_shapes, booths = _grids(prog, districts, district_places, rng)
    stations = pd.concat([stations, booths], ignore_index=True)
    teams, units = _teams(prog, grids, rng)
    insurers = pd.DataFrame({
        "id": prog.id_base + 90_000 + np.arange(1, prog.insurers + 1),
        "city_adcode": city,
        "code": [f"INS{n:02d}" for n in range(1, prog.insurers + 1)],
        "name_zh": [f"保险机构{n:02d}" for n in range(1, prog.insurers + 1)],
        "name_en": [f"Insurer {n:02d}" for n in range(1, prog.insurers + 1)],
        "on_platform": True,
    })
    share = 1.0 / np.arange(1, prog.insurers + 1) ** 0.9          # a few large insurers, a long tail
    return World(prog, city_values, districts, district_places, weight, stations, grids, grid_shapes, teams,
                 units, insurers, share / share.sum(), _duty_periods(city))


def _stations(prog: Programme, districts: pd.DataFrame, district_places: dict, rng) -> pd.DataFrame:
    names = districts.set_index("adcode")
    rows = []
    next_id = prog.id_base + 1
    for kind, plan in prog.station_plan.items():
        label_zh, label_en = STATION_LABELS[kind]
        extra_staff = set()
        if kind == StationKind.PERSUASION and prog.persuasion_staff_extra:
            extra_staff = set(rng.choice(sum(plan.values()), size=prog.persuasion_staff_extra, replace=False))
        ordinal = 0
        for district, count in plan.items():
            if district not in names.index or count == 0:
                continue
            place = district_places[district]
            if kind in (StationKind.PERSUASION, StationKind.HELIPAD):
                points = places.uniform_points(place.geometry, count, rng)    # junctions out in the country
            else:
                points = place.sample(count, rng, jitter_km=0.4)
            opens_within = OPENS_WITH_PROGRAMME.get(kind)
            for n in range(count):
                opened = None
                if opens_within is not None:
                    opened = prog.start + dt.timedelta(days=int(rng.integers(0, opens_within + 1)))
                rows.append(dict(
                    id=next_id, city_adcode=prog.city, district_adcode=district, kind=kind.value,
                    code=f"{STATION_CODES[kind]}-{district}-{n + 1:03d}",
                    name_zh=f"{names.loc[district, 'name_zh']}{label_zh}{n + 1:02d}",
                    name_en=f"{names.loc[district, 'name_en']} {label_en} {n + 1:02d}",
                    lon=round(float(points[n, 0]), 6), lat=round(float(points[n, 1]), 6),
                    staff=STATION_STAFF[kind] + (1 if ordinal in extra_staff else 0), opened_on=opened,
                ))
                next_id += 1
                ordinal += 1
    return pd.DataFrame(rows)


GRID_RADIUS_KM = 1.6


def _grids(prog: Programme, districts: pd.DataFrame, district_places: dict, rng):
    """Patrol grids: a hexagon around a police booth, booths spaced around the district's busy core."""
    names = districts.set_index("adcode")
    grids, booths, shapes = [], [], {}
    grid_id = prog.id_base + 50_001
    booth_id = prog.id_base + 40_001
    for district, count in prog.grids.items():
        place = district_places[district]
        cx, cy = place.center
        core = shapely.Point(cx, cy)
        for n in range(count):
            # Booths on a ring around the centre, far enough apart that the hexagons barely touch.
            angle = 2 * np.pi * n / max(count, 1) + rng.uniform(-0.2, 0.2)
            radius_km = 0.0 if count == 1 else 2.9 / (2 * np.sin(np.pi / count)) if count > 2 else 1.5
            lat = cy + radius_km / places.KM_PER_DEGREE * np.sin(angle)
            lon = cx + radius_km / places.KM_PER_DEGREE / np.cos(np.radians(cy)) * np.cos(angle)
            if not shapely.contains_xy(place.geometry, lon, lat):
                lon, lat = core.x, core.y
            hexagon = places.hexagon(lon, lat, GRID_RADIUS_KM).intersection(place.geometry)
            if hexagon.is_empty:
                hexagon = places.hexagon(lon, lat, GRID_RADIUS_KM)
            shapes[grid_id] = hexagon
            label = f"{names.loc[district, 'name_zh']}{n + 1}号网格"
            grids.append(dict(id=grid_id, city_adcode=prog.city, district_adcode=district, booth_id=booth_id,
                              code=f"G-{district}-{n + 1}", name_zh=label,
                              name_en=f"{names.loc[district, 'name_en']} grid {n + 1}",
                              polygon_geojson=places.to_geojson(hexagon)))
            booths.append(dict(id=booth_id, city_adcode=prog.city, district_adcode=district,
                               kind=StationKind.POLICE_BOOTH.value, code=f"PB-{district}-G{n + 1}",
                               name_zh=f"{names.loc[district, 'name_zh']}{n + 1}号网格岗亭",
                               name_en=f"{names.loc[district, 'name_en']} grid {n + 1} booth",
                               lon=round(float(lon), 6), lat=round(float(lat), 6), staff=4, opened_on=None))
            grid_id += 1
            booth_id += 1
    return pd.DataFrame(grids), shapes, pd.DataFrame(booths)


def _teams(prog: Programme, grids: pd.DataFrame, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One rider team per grid; the published members and vehicles shared out exactly."""
    n = len(grids)
    members = allocate(prog.members, np.ones(n))
    vehicles = allocate(prog.vehicles, np.ones(n))
    cars = allocate(prog.cars, np.ones(n))
    teams, units = [], []
    unit_id = prog.id_base + 70_001
    for i, grid in enumerate(grids.itertuples()):
        team_id = prog.id_base + 60_001 + i
        teams.append(dict(id=team_id, city_adcode=prog.city, grid_id=grid.id, code=f"T{i + 1:02d}",
                          name_zh=f"快骑{i + 1}队", name_en=f"Rider team {i + 1}", members=int(members[i]),
                          founded_on=prog.start))
        for v in range(int(vehicles[i])):
            kind = VehicleKind.CAR if v < cars[i] else VehicleKind.MOTORCYCLE
            units.append(dict(id=unit_id, team_id=team_id, city_adcode=prog.city,
                              callsign=f"快骑{i + 1:02d}-{v + 1:02d}", vehicle_kind=kind.value,
                              code=f"{prog.city}-T{i + 1:02d}-{v + 1:02d}", grid_id=grid.id))
            unit_id += 1
    return pd.DataFrame(teams), pd.DataFrame(units)


def _duty_periods(city: str) -> pd.DataFrame:
    rows = []
    for year in range(2017, 2031):
        travel = seasons.spring_travel(year)
        rows.append((DutyKind.SPRING_FESTIVAL, f"{year}年春运", f"Spring Festival travel {year}", *travel))
        rows.append((DutyKind.COLLEGE_EXAM, f"{year}年高考", f"College entrance exam {year}",
                     dt.date(year, 6, 7), dt.date(year, 6, 10)))
        rows.append((DutyKind.NATIONAL_DAY, f"{year}年国庆中秋", f"National Day {year}",
                     dt.date(year, 10, 1), dt.date(year, 10, 8)))
    rows.append((DutyKind.BACK_TO_WORK, "2020年复工复产", "Back to work 2020", *seasons.BACK_TO_WORK))
    frame = pd.DataFrame(rows, columns=["kind", "name_zh", "name_en", "start_day", "end_day"])
    frame["kind"] = frame["kind"].map(lambda k: k.value)
    frame.insert(0, "city_adcode", city)
    return frame.sort_values("start_day").reset_index(drop=True)
