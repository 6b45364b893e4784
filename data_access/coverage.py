"""Station coverage (DESIGN.md "coverage"): the demand-weighted share of accidents within T minutes of a station, the
what-if of added or switched-off stations, and the greedy choice of the k sites that add the most covered demand.

Travel time is straight-line distance × circuity ÷ speed, the speed set by the station's vehicle (riders leave the
police booths on motorcycles, every other station sends a car) and by the area the accident lies in (urban or
rural district). Points are projected to a local equirectangular plane in km around the city centre (no pyproj
here; the scale error stays under 3 % across Chongqing, under 0.5 % across Zhangzhou) and searched with scipy's
cKDTree. `JINGBAO_ROUTING_URL` may name a routing engine; it is probed, and until one is wired in the straight-line
model is used and the page says so.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree
from sqlalchemy import select

from data_access import demand_rollup, metrics, offload
from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.demand_rollup import DemandArrays
from data_access.filters import Filters
from data_access.geo import EARTH_RADIUS_KM
from data_access.models import City, District, Station
from data_access.stations import open_on

KINDS = ("police_booth", "claim_point", "quick_centre", "vehicle_admin", "persuasion", "helipad", "hospital")
DEFAULT_KINDS = ("police_booth", "claim_point", "quick_centre")
THRESHOLDS = (5, 10, 15, 30)
DEFAULT_MINUTES = 10.0
MAX_MINUTES = 180.0
WEIGHTINGS = ("equal", "severity")
SEVERITY_WEIGHTS = {"minor": 1.0, "injury": 3.0, "major": 10.0}   # a major accident counts as ten minor ones
VEHICLES = ("motorcycle", "car")
KIND_VEHICLE = {kind: ("motorcycle" if kind == "police_booth" else "car") for kind in KINDS}
DEFAULT_SPEEDS = {("motorcycle", "urban"): 25.0, ("motorcycle", "rural"): 40.0,
                  ("car", "urban"): 30.0, ("car", "rural"): 55.0}   # km/h along the road
DEFAULT_CIRCUITY = 1.3            # road distance ÷ straight-line distance, a common urban figure
MAX_K = 20
DEFAULT_K = 3
MAX_ADDED = 50
MAX_CANDIDATES = 200              # a user-supplied candidate list travels in the URL
# Bounds of one evaluation, so that no window, time or speed makes a request run for minutes or take gigabytes:
# beyond MAX_DEMAND_POINTS accidents, or PAIR_BUDGET (demand points × candidate sites), the accidents are merged into
# cells of 1/CELLS_PER_RADIUS of the shortest reach (the weighted centre of each district's accidents in a cell: off
# by at most 3.5% of that reach); recommendations pick among the MAX_HEX_CANDIDATES hexagons with the most demand
# left uncovered.
MAX_DEMAND_POINTS = 50_000
PAIR_BUDGET = 4_000_000
CELLS_PER_RADIUS = 20
MAX_HEX_CANDIDATES = 600
DENSE_CELLS = 1 << 23          # (cell, district) groups are numbered through a table of at most this many cells
OFFLOAD_ABOVE_POINTS = 100_000    # a plan over more accidents than this is computed in a process of its own (offload)
ADDED_DECIMALS = 5
ROUTING_ENV = "JINGBAO_ROUTING_URL"


# --------------------------------------------------------------------------------------------- the travel model
@dataclass(frozen=True)
class TravelModel:
    """Straight-line distance × circuity ÷ speed; speeds in km/h by (vehicle, area)."""

    circuity: float = DEFAULT_CIRCUITY
    speeds: tuple[tuple[str, str, float], ...] = tuple((v, a, s) for (v, a), s in DEFAULT_SPEEDS.items())

    def speed(self, vehicle: str, area: str) -> float:
        return next(s for v, a, s in self.speeds if v == vehicle and a == area)

    def radius_km(self, minutes: float, vehicle: str, rural) -> np.ndarray:
        """How far (straight line) a `vehicle` gets in `minutes` towards points of the given area flags."""
        rural = np.asarray(rural, dtype=bool)
        per_hour = np.where(rural, self.speed(vehicle, "rural"), self.speed(vehicle, "urban"))
        return minutes / 60.0 * per_hour / self.circuity


@dataclass(frozen=True)
class Plane:
    """A local equirectangular projection in km around (lon0, lat0)."""

    lon0: float
    lat0: float

    def xy(self, lon, lat) -> np.ndarray:
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        scale = math.radians(1.0) * EARTH_RADIUS_KM
        return np.column_stack([(lon - self.lon0) * scale * math.cos(math.radians(self.lat0)),
                                (lat - self.lat0) * scale]).reshape(-1, 2)

    def lonlat(self, xy) -> tuple[np.ndarray, np.ndarray]:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        scale = math.radians(1.0) * EARTH_RADIUS_KM
        return (self.lon0 + xy[:, 0] / (scale * math.cos(math.radians(self.lat0))), self.lat0 + xy[:, 1] / scale)


@dataclass(frozen=True, eq=False)
class Demand:
    """Accident locations: plane coordinates (km), weight, rural flag and district of each."""

    xy: np.ndarray
    weight: np.ndarray
    rural: np.ndarray
    district: np.ndarray

    @classmethod
    def of(cls, xy, weight=None, rural=None, district=None) -> Demand:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        n = len(xy)
        return cls(xy, np.ones(n) if weight is None else np.asarray(weight, dtype=float),
                   np.zeros(n, dtype=bool) if rural is None else np.asarray(rural, dtype=bool),
                   np.full(n, "", dtype=object) if district is None else np.asarray(district, dtype=object))

    def __len__(self) -> int:
        return len(self.xy)


@dataclass(frozen=True, eq=False)
class Sites:
    """Stations that serve demand: plane coordinates (km) and the vehicle each sends."""

    xy: np.ndarray
    vehicle: np.ndarray

    @classmethod
    def of(cls, xy, vehicle: str | Sequence[str] = "car") -> Sites:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        vehicles = np.full(len(xy), vehicle, dtype=object) if isinstance(vehicle, str) else np.asarray(vehicle,
                                                                                                        dtype=object)
        return cls(xy, vehicles)

    def __len__(self) -> int:
        return len(self.xy)


@dataclass(frozen=True, eq=False)
class Coverage:
    covered: np.ndarray          # per demand point
    weight: float                # total demand weight
    covered_weight: float

    @property
    def share(self) -> float | None:
        return self.covered_weight / self.weight if self.weight > 0 else None


def coverage(demand: Demand, sites: Sites, minutes: float, model: TravelModel) -> Coverage:
    """THE coverage metric: a demand point is covered when some site reaches it within `minutes`; the share is the
    covered demand weight over all demand weight (None without demand)."""
    covered = np.zeros(len(demand), dtype=bool)
    if len(demand) and len(sites):
        for vehicle in np.unique(sites.vehicle):
            tree = cKDTree(sites.xy[sites.vehicle == vehicle])
            distance, _ = tree.query(demand.xy, k=1)
            covered |= distance <= model.radius_km(minutes, str(vehicle), demand.rural)
    total = float(demand.weight.sum())
    return Coverage(covered, total, float(demand.weight[covered].sum()))


def coverage_by_district(demand: Demand, result: Coverage, districts: Sequence[str]) -> pd.DataFrame:
    """Per district: demand weight, covered and uncovered weight, and the share (None without demand)."""
    frame = pd.DataFrame({"district_adcode": demand.district, "weight": demand.weight,
                          "covered": np.where(result.covered, demand.weight, 0.0)})
    sums = frame.groupby("district_adcode")[["weight", "covered"]].sum()
    sums = sums.reindex(list(districts), fill_value=0.0)
    out = pd.DataFrame({"district_adcode": list(sums.index), "demand": sums["weight"].to_numpy(),
                        "covered": sums["covered"].to_numpy()})
    out["uncovered"] = out["demand"] - out["covered"]
    out["share"] = (out["covered"] / out["demand"]).where(out["demand"] > 0)
    return out


# ------------------------------------------------------------------------------------------------- recommending
@dataclass(frozen=True)
class Step:
    candidate: int               # index into the candidate list
    gain: float                  # demand weight newly covered by this site
    covered_weight: float        # after this step


def reach_matrix(demand: Demand, candidates_xy: np.ndarray, vehicle: str, minutes: float,
                 model: TravelModel) -> sparse.csr_matrix:
    """Candidates × demand points, True where the candidate (sending `vehicle`) reaches the point in time."""
    candidates_xy = np.asarray(candidates_xy, dtype=float).reshape(-1, 2)
    shape = (len(candidates_xy), len(demand))
    if not len(candidates_xy) or not len(demand):
        return sparse.csr_matrix(shape, dtype=bool)
    radius = model.radius_km(minutes, vehicle, demand.rural)
    tree = cKDTree(candidates_xy)
    rows, columns = [], []
    for reach in np.unique(radius):            # one search per area: each with its own exact radius
        part = np.flatnonzero(radius == reach)
        pairs = tree.sparse_distance_matrix(cKDTree(demand.xy[part]), float(reach), output_type="ndarray")
        keep = pairs["v"] <= reach
        rows.append(pairs["i"][keep])
        columns.append(part[pairs["j"][keep]])
    rows, columns = np.concatenate(rows), np.concatenate(columns)
    return sparse.csr_matrix((np.ones(len(rows), dtype=bool), (rows, columns)), shape=shape)


def greedy_sites(demand: Demand, covered: np.ndarray, candidates_xy, vehicle: str, minutes: float,
                 model: TravelModel, k: int) -> list[Step]:
    """Up to k candidates picked one at a time, each adding the most not-yet-covered demand weight (ties: the
    first candidate); stops early when no candidate adds anything."""
    still_open = ~np.asarray(covered, dtype=bool) & (demand.weight > 0)
    if not still_open.any():
        return []
    # only the demand not yet covered can be gained: the search runs on that part alone
    open_demand = Demand(demand.xy[still_open], demand.weight[still_open], demand.rural[still_open],
                         demand.district[still_open])
    open_weight = open_demand.weight.copy()
    reach = reach_matrix(open_demand, candidates_xy, vehicle, minutes, model)
    total_covered = float(demand.weight[covered].sum())
    steps: list[Step] = []
    for _ in range(k):
        gains = reach @ open_weight
        if not len(gains) or gains.max() <= 0:
            break
        best = int(np.argmax(gains))
        gain = float(gains[best])
        open_weight[reach.indices[reach.indptr[best]:reach.indptr[best + 1]]] = 0.0
        total_covered += gain
        steps.append(Step(best, gain, total_covered))
    return steps


def merged_demand(demand: Demand, cell_km: float, district_codes: np.ndarray | None = None,
                  extents: DistrictExtents | None = None) -> Demand:
    """The demand with its points merged per cell of `cell_km` and district: one point at the weighted centre of
    each group, carrying the group's weight (a district's rural flag is the same for all its points). Groups are
    numbered in the order of their first point; when one demand is merged at several sizes its `district_codes`
    (`district_codes_of`, or any numbering with one number per district) and their `extents` may be passed."""
    if not len(demand):
        return demand
    codes = district_codes_of(demand) if district_codes is None else district_codes
    group = _cell_groups(demand.xy, cell_km, codes, extents or DistrictExtents.of(demand.xy, codes))
    n = int(group.max()) + 1
    weight = np.bincount(group, weights=demand.weight, minlength=n)
    # the weighted centre (the plain centre where a group weighs nothing)
    use = np.where(weight[group] > 0, demand.weight, 1.0)
    total = np.bincount(group, weights=use, minlength=n)
    x = np.bincount(group, weights=demand.xy[:, 0] * use, minlength=n) / total
    y = np.bincount(group, weights=demand.xy[:, 1] * use, minlength=n) / total
    first = np.full(n, -1)
    first[group[::-1]] = np.arange(len(group))[::-1]
    return Demand(np.column_stack([x, y]), weight, demand.rural[first], demand.district[first])


def district_codes_of(demand: Demand) -> np.ndarray:
    """Each point's district as a small integer (the same district, the same number)."""
    return pd.factorize(demand.district)[0].astype(np.int64)


@dataclass(frozen=True, eq=False)
class DistrictExtents:
    """The lowest and highest plane coordinates of each district's points (row: district code; ±inf for a code
    without points): a district's cells at any size lie in the box these give."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, xy: np.ndarray, codes: np.ndarray) -> DistrictExtents:
        n = int(codes.max()) + 1 if len(codes) else 0
        low, high = np.full((n, 2), np.inf), np.full((n, 2), -np.inf)
        if len(codes) and codes.min() < 0:                # pandas numbers a missing district -1
            known = codes >= 0
            xy, codes = xy[known], codes[known]
        for axis in (0, 1):
            np.minimum.at(low[:, axis], codes, xy[:, axis])
            np.maximum.at(high[:, axis], codes, xy[:, axis])
        return cls(low, high)


def _dense_cell_keys(xy: np.ndarray, cell_km: float, codes: np.ndarray,
                     extents: DistrictExtents) -> tuple[np.ndarray, int] | None:
    """Each point's (cell, district) as one integer below the returned count: each district's cells numbered inside
    its own box of cells, the boxes one after another; None when the boxes hold more than DENSE_CELLS cells. (The
    box is exact: floor(x / cell) of the district's lowest x is the lowest cell any of its points falls in.)"""
    if not len(codes) or codes.min() < 0:
        return None
    present = np.isfinite(extents.low[:, 0])[:, None]
    low = np.floor(np.where(present, extents.low, 0.0) / cell_km)
    high = np.floor(np.where(present, extents.high, 0.0) / cell_km)
    size = np.where(present, high - low + 1, 0.0)
    cells_of = size[:, 0] * size[:, 1]
    if float(cells_of.sum()) > DENSE_CELLS or float(np.abs([low, high]).max() + 1) * float(size.max()) >= 2**52:
        return None
    # key = offset + (cx - low_x) * rows + (cy - low_y) = cx * rows + cy + base: one gather of (rows, base) per
    # point; in float64 every term is a whole number far below 2**53, so the sum is exact
    offset = np.cumsum(cells_of) - cells_of
    per_district = np.column_stack([size[:, 1], offset - low[:, 0] * size[:, 1] - low[:, 1]])[codes]
    cells = np.floor(xy / cell_km)
    keys = cells[:, 0] * per_district[:, 0] + cells[:, 1] + per_district[:, 1]
    return keys.astype(np.int64), int(cells_of.sum())


def _cell_groups(xy: np.ndarray, cell_km: float, codes: np.ndarray, extents: DistrictExtents) -> np.ndarray:
    """The group number of each point's (cell of `cell_km`, district), groups numbered by first appearance (as
    pandas' ngroup without sorting): through a table of every cell of the districts' boxes, or else hashed."""
    dense = _dense_cell_keys(xy, cell_km, codes, extents)
    if dense is None:
        cells = np.floor(xy / cell_km).astype(np.int64)
        return _first_seen_groups(cells[:, 0], cells[:, 1], codes)
    keys, count = dense
    first = np.full(count, len(keys), dtype=np.int64)          # each cell's first point
    np.minimum.at(first, keys, np.arange(len(keys), dtype=np.int64))
    used = np.flatnonzero(first < len(keys))
    number = np.empty(count, dtype=np.int64)
    number[used[np.argsort(first[used])]] = np.arange(len(used))
    return number[keys]


def _group_count(xy: np.ndarray, cell_km: float, codes: np.ndarray, extents: DistrictExtents) -> int:
    """How many (cell, district) groups `merged_demand` would make at `cell_km`: the cells marked in a table of
    the districts' boxes, or else the groups hashed."""
    dense = _dense_cell_keys(xy, cell_km, codes, extents)
    if dense is None:
        return int(_cell_groups(xy, cell_km, codes, extents).max()) + 1
    keys, count = dense
    seen = np.zeros(count, dtype=bool)
    seen[keys] = True
    return int(np.count_nonzero(seen))


def _first_seen_groups(cx: np.ndarray, cy: np.ndarray, district: np.ndarray) -> np.ndarray:
    """The group number of each (cx, cy, district) triple, groups numbered by first appearance (as pandas' ngroup
    without sorting): the three packed into one integer and factorized by a hash table."""
    cx, cy = cx - cx.min(), cy - cy.min()
    spans = [int(cx.max()) + 1, int(cy.max()) + 1, int(district.max()) + 1]
    if spans[0] * spans[1] * spans[2] >= 2**62:         # too wide to pack: group the triples as they are
        keys = pd.DataFrame({"cx": cx, "cy": cy, "district": district})
        return keys.groupby(["cx", "cy", "district"], sort=False).ngroup().to_numpy()
    return pd.factorize((cx * spans[1] + cy) * spans[2] + district)[0]


def bounded_demand(demand: Demand, shortest_reach_km: float, candidates: int,
                   district_codes: np.ndarray | None = None) -> tuple[Demand, float | None]:
    """The demand an evaluation uses: as it is while it is small enough, else merged into cells (see the bounds
    above) growing until at most MAX_DEMAND_POINTS remain; returns it and the cell size (None when not merged).
    Only the groups are counted at the sizes passed over; `district_codes` as in `merged_demand`."""
    if len(demand) <= MAX_DEMAND_POINTS and len(demand) * max(candidates, 1) <= PAIR_BUDGET:
        return demand, None
    cell = max(shortest_reach_km / CELLS_PER_RADIUS, 0.01)
    codes = district_codes_of(demand) if district_codes is None else district_codes
    extents = DistrictExtents.of(demand.xy, codes)
    while _group_count(demand.xy, cell, codes, extents) > MAX_DEMAND_POINTS:
        cell *= 1.5
    return merged_demand(demand, cell, codes, extents), round(cell, 3)


# ------------------------------------------------------------------------------------------------------- hexbins
def hex_size_km(xy: np.ndarray) -> float:
    """Hexagon circumradius for a demand cloud: about 80 hexagons across its extent, at least 0.5 km."""
    if not len(xy):
        return 1.0
    extent = np.ptp(xy, axis=0)
    return max(0.5, round(float(math.sqrt(max(extent[0] * extent[1], 1.0))) / 80.0, 2))


def hexbin(xy: np.ndarray, size_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Each point's hexagon on a pointy-top lattice of circumradius `size_km`: (centres of the used hexagons,
    index of each point's hexagon in them). A point belongs to its nearest lattice centre (the hexagon is that
    centre's Voronoi cell), found with a cKDTree."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if not len(xy):
        return np.zeros((0, 2)), np.zeros(0, dtype=int)
    dx, dy = size_km * math.sqrt(3.0), size_km * 1.5
    low, high = xy.min(axis=0) - 2 * size_km, xy.max(axis=0) + 2 * size_km
    rows = np.arange(math.floor(low[1] / dy), math.ceil(high[1] / dy) + 1)
    cols = np.arange(math.floor(low[0] / dx) - 1, math.ceil(high[0] / dx) + 1)
    cc, rr = np.meshgrid(cols, rows)
    lattice = np.column_stack([(cc + 0.5 * (rr % 2)).ravel() * dx, rr.ravel() * dy])
    _, nearest = cKDTree(lattice).query(xy, k=1)
    used, index = np.unique(nearest, return_inverse=True)
    return lattice[used], index


def hexagon(centre_xy, size_km: float) -> np.ndarray:
    """The closed ring (7 points) of a pointy-top hexagon, in plane km."""
    angles = np.radians(30 + 60 * np.arange(7))
    return np.column_stack([centre_xy[0] + size_km * np.cos(angles), centre_xy[1] + size_km * np.sin(angles)])


# ---------------------------------------------------------------------------------------------- the scenario
@dataclass(frozen=True)
class Scenario:
    """Everything the URL says about a plan."""

    kinds: tuple[str, ...] = DEFAULT_KINDS
    minutes: float = DEFAULT_MINUTES
    weighting: str = "equal"
    model: TravelModel = field(default_factory=TravelModel)
    added: tuple[tuple[float, float], ...] = ()       # (lon, lat) of candidate stations
    off: tuple[int, ...] = ()                         # ids of stations switched off
    k: int = DEFAULT_K
    site_vehicle: str = "car"                         # what added and recommended sites send
    candidates: tuple[tuple[float, float], ...] = ()  # (lon, lat) where sites may be recommended; (): hexbin centres

    def to_params(self) -> dict[str, str | None]:
        """The query parameters of this scenario (None: the default, left out of the URL)."""
        default = Scenario()
        speeds = ",".join(f"{s:g}" for _, _, s in self.model.speeds)
        return {
            "kinds": None if self.kinds == default.kinds else ",".join(self.kinds) or "none",
            "t": None if self.minutes == default.minutes else f"{self.minutes:g}",
            "weight": None if self.weighting == default.weighting else self.weighting,
            "circuity": None if self.model.circuity == default.model.circuity else f"{self.model.circuity:g}",
            "speeds": None if self.model.speeds == default.model.speeds else speeds,
            "add": ";".join(f"{lon:.5f},{lat:.5f}" for lon, lat in self.added) or None,
            "off": ",".join(str(i) for i in self.off) or None,
            "k": None if self.k == default.k else str(self.k),
            "vehicle": None if self.site_vehicle == default.site_vehicle else self.site_vehicle,
            "cands": ";".join(f"{lon:.5f},{lat:.5f}" for lon, lat in self.candidates) or None,
        }




def _number(text: str, low: float, high: float) -> float:
    value = float(text)
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(text)
    return value


def parse_points(text: str, most: int) -> tuple[tuple[float, float], ...]:
    """`lon,lat;lon,lat` (also one pair a line) as (lon, lat) pairs rounded to 5 decimals, duplicates dropped."""
    points = []
    for pair in text.replace("\n", ";").split(";"):
        if not pair.strip():
            continue
        lon, lat = (float(p) for p in pair.split(","))
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(pair)
        points.append((round(lon, ADDED_DECIMALS), round(lat, ADDED_DECIMALS)))
    if not points or len(points) > most:
        raise ValueError(text)
    return tuple(dict.fromkeys(points))


def _whole(text: str, low: int, high: int) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(text)
    return int(text)


def parse_scenario(query: Mapping[str, str]) -> tuple[Scenario, list[str]]:
    """The scenario of a query string and the names of the parameters that were malformed (each falls back to its
    default)."""
    scenario, problems = Scenario(), []

    def read(key: str, parse) -> None:
        nonlocal scenario
        text = query.get(key)
        if text is None or str(text).strip() == "":
            return
        try:
            scenario = parse(str(text).strip(), scenario)
        except (ValueError, TypeError, IndexError):
            problems.append(key)

    def kinds(text: str, s: Scenario) -> Scenario:
        chosen = () if text == "none" else tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
        if any(kind not in KINDS for kind in chosen):
            raise ValueError(text)
        return replace(s, kinds=tuple(kind for kind in KINDS if kind in chosen))

    def speeds(text: str, s: Scenario) -> Scenario:
        values = [_number(p, 1.0, 200.0) for p in text.split(",")]
        if len(values) != len(DEFAULT_SPEEDS):
            raise ValueError(text)
        model = replace(s.model, speeds=tuple((v, a, x) for (v, a), x in zip(DEFAULT_SPEEDS, values, strict=True)))
        return replace(s, model=model)

    def added(text: str, s: Scenario) -> Scenario:
        return replace(s, added=parse_points(text, MAX_ADDED))

    def candidates(text: str, s: Scenario) -> Scenario:
        return replace(s, candidates=parse_points(text, MAX_CANDIDATES))

    def off(text: str, s: Scenario) -> Scenario:
        ids = tuple(sorted({int(p) for p in text.split(",")}))
        if any(i < 0 for i in ids):
            raise ValueError(text)
        return replace(s, off=ids)

    def weighting(text: str, s: Scenario) -> Scenario:
        if text not in WEIGHTINGS:
            raise ValueError(text)
        return replace(s, weighting=text)

    def vehicle(text: str, s: Scenario) -> Scenario:
        if text not in VEHICLES:
            raise ValueError(text)
        return replace(s, site_vehicle=text)

    read("kinds", kinds)
    read("t", lambda text, s: replace(s, minutes=_number(text, 1.0, MAX_MINUTES)))
    read("weight", weighting)
    read("circuity", lambda text, s: replace(s, model=replace(s.model, circuity=_number(text, 1.0, 3.0))))
    read("speeds", speeds)
    read("add", added)
    read("cands", candidates)
    read("off", off)
    read("k", lambda text, s: replace(s, k=_whole(text, 1, MAX_K)))
    read("vehicle", vehicle)
    return scenario, problems


# ------------------------------------------------------------------------------------------- the database side
@cached_query
def district_areas(db: Database, city: str) -> pd.DataFrame:
    """Districts of the city with their rural flag (rural districts use the rural speeds)."""
    with db.reading() as connection:
        rows = connection.execute(select(District.adcode, District.name_zh, District.name_en, District.rural)
                                  .where(District.city_adcode == city).order_by(District.adcode)).all()
    frame = rows_frame(rows, ["district_adcode", "name_zh", "name_en", "rural"])
    frame["rural"] = frame["rural"].astype(bool)
    return frame


@cached_query
def city_centre(db: Database, city: str) -> tuple[float, float]:
    """(lon, lat) the local plane is centred on: the city's stored centre."""
    with db.reading() as connection:
        row = connection.execute(select(City.center_lon, City.center_lat).where(City.adcode == city)).one()
    return float(row[0]), float(row[1])


@cached_query
def city_stations(db: Database, city: str, day: dt.date | None = None) -> pd.DataFrame:
    """Every station of the planning kinds in the city (with `day`: those still open on it): id, kind, names,
    district, lon, lat."""
    s = Station.__table__
    conditions = [s.c.city_adcode == city, s.c.kind.in_(KINDS)]
    if day is not None:
        conditions.append(open_on(s, day))
    with db.reading() as connection:
        rows = connection.execute(select(s.c.id, s.c.kind, s.c.code, s.c.name_zh, s.c.name_en, s.c.district_adcode,
                                      s.c.lon, s.c.lat).where(*conditions).order_by(s.c.id)).all()
    frame = rows_frame(rows, ["id", "kind", "code", "name_zh", "name_en", "district_adcode", "lon", "lat"])
    frame["kind"] = frame["kind"].map(lambda k: str(getattr(k, "value", k)))
    return frame


@cached_query
def located_demand(db: Database, filters: Filters) -> DemandArrays:
    """The located accidents of the window (lon, lat, district, severity) in the order of the raw cases (local day,
    then id); the whole city whatever the districts. Its whole months are read from the demand rollup, the cut
    months at its edges from the raw cases (data_access.demand_rollup)."""
    span, edges = metrics.months_and_edges(db, filters)
    parts: list[tuple[dt.date, DemandArrays]] = []
    with db.reading() as connection:
        for lo, hi in edges:
            parts.append((lo, demand_rollup.raw_demand(connection, filters.city, lo, hi)))
        if span is not None:
            parts.append((span[0], demand_rollup.stored_demand(connection, filters.city, *span)))
    return DemandArrays.joined([part for _, part in sorted(parts, key=lambda item: item[0])])


def located_count(db: Database, filters: Filters) -> int:
    """How many accidents `located_demand` reads for the window, counted without reading them."""
    span, edges = metrics.months_and_edges(db, filters)
    with db.reading() as connection:
        count = sum(demand_rollup.raw_count(connection, filters.city, lo, hi) for lo, hi in edges)
        return count + (demand_rollup.stored_count(connection, filters.city, *span) if span is not None else 0)


def demand_of(points: DemandArrays, areas: pd.DataFrame, plane: Plane, weighting: str) -> Demand:
    """The demand of located accidents: plane coordinates, weight (by severity with the "severity" weighting), the
    rural flag of each one's district (unknown districts urban) and the district."""
    rural_of = areas.set_index("district_adcode")["rural"]
    rural = np.array([bool(rural_of.get(code, False)) for code in points.districts], dtype=bool)[points.district]
    weight = (np.array([SEVERITY_WEIGHTS.get(s, 1.0) for s in points.severities], dtype=float)[points.severity]
              if weighting == "severity" else np.ones(len(points)))
    return Demand(plane.xy(points.lon, points.lat), weight, rural, points.district_values())


@dataclass(frozen=True, eq=False)
class Plan:
    """A scenario evaluated: coverage with every station of the chosen kinds (before) and with the scenario's
    switched-off stations and added sites (after), per district, the hexbins and the recommended sites."""

    scenario: Scenario
    plane: Plane
    stations: pd.DataFrame        # chosen kinds, with `on`, `vehicle`, `radius_km` (in the station's own area)
    added: pd.DataFrame           # lon, lat, radius_km
    before: Coverage
    after: Coverage
    districts: pd.DataFrame       # district_adcode, names, demand, covered/share before and after
    hexes: pd.DataFrame           # lon, lat (centre), weight, covered (after), ring (list of [lon, lat])
    hex_km: float
    recommended: pd.DataFrame     # step, lon, lat, gain, covered, share
    demand_points: int            # the accidents of the window
    merged_km: float | None = None    # when that many were merged into cells of this size (see `bounded_demand`)
    evaluated_points: int = 0     # the demand points evaluated (demand_points unless merged)


def _sites(frame: pd.DataFrame, plane: Plane, vehicles) -> Sites:
    return Sites.of(plane.xy(frame["lon"], frame["lat"]), vehicles)


@cached_query
def evaluate_plan(db: Database, filters: Filters, scenario: Scenario, center: tuple[float, float]) -> Plan:
    """The plan a page, an export or a benchmark shows (`plan_of`). Over more than OFFLOAD_ABOVE_POINTS accidents
    it is computed in a process of its own, so that the second a city's million accidents take never holds up a cheap
    request (`offload`), and raises offload.WorkRefused when it takes more than a minute or too much memory."""
    if located_count(db, filters) <= OFFLOAD_ABOVE_POINTS:       # a fraction of a second: not worth a process hop
        return plan_of(db, filters, scenario, center)
    return offload.run(db, plan_of, filters, scenario, center)


def plan_of(db: Database, filters: Filters, scenario: Scenario, center: tuple[float, float]) -> Plan:
    """Every figure of a plan comes from `coverage` and `greedy_sites`. Recommended sites are picked from the
    scenario's candidates, or else from the centres of the demand hexbins."""
    plane = Plane(*center)
    areas = district_areas(db, filters.city)
    rural_of = areas.set_index("district_adcode")["rural"]
    points = located_demand(db, filters)
    demand = demand_of(points, areas, plane, scenario.weighting)
    accidents = len(demand)
    shortest = min(float(np.min(scenario.model.radius_km(scenario.minutes, vehicle, [False, True])))
                   for vehicle in VEHICLES)
    candidate_count = len(scenario.candidates) or MAX_HEX_CANDIDATES
    demand, merged_km = bounded_demand(demand, shortest, candidate_count, points.district)
    stations = city_stations(db, filters.city, filters.end)      # a station closed by the window's end serves none
    stations = stations[stations["kind"].isin(scenario.kinds)].reset_index(drop=True)
    stations["on"] = ~stations["id"].isin(scenario.off)
    stations["vehicle"] = stations["kind"].map(KIND_VEHICLE)
    stations["radius_km"] = [float(scenario.model.radius_km(scenario.minutes, v, bool(rural_of.get(d, False))))
                             for v, d in zip(stations["vehicle"], stations["district_adcode"], strict=True)]
    added = pd.DataFrame(list(scenario.added), columns=["lon", "lat"], dtype=float)
    added_xy = plane.xy(added["lon"], added["lat"])
    added["radius_km"] = float(scenario.model.radius_km(scenario.minutes, scenario.site_vehicle, False))
    if len(added_xy):
        # an added site's ring is drawn with the speed of the area it stands in: the nearest accident's area
        if len(demand):
            _, nearest = cKDTree(demand.xy).query(added_xy, k=1)
            added["radius_km"] = scenario.model.radius_km(scenario.minutes, scenario.site_vehicle,
                                                          demand.rural[nearest])

    before = coverage(demand, _sites(stations, plane, stations["vehicle"]), scenario.minutes, scenario.model)
    on = stations[stations["on"]]
    after_sites = Sites(np.vstack([plane.xy(on["lon"], on["lat"]), added_xy]),
                        np.concatenate([on["vehicle"].to_numpy(dtype=object),
                                        np.full(len(added_xy), scenario.site_vehicle, dtype=object)]))
    after = coverage(demand, after_sites, scenario.minutes, scenario.model)

    codes = list(areas["district_adcode"])
    was = coverage_by_district(demand, before, codes)
    now = coverage_by_district(demand, after, codes)
    districts = areas[["district_adcode", "name_zh", "name_en"]].merge(
        was.rename(columns={"covered": "covered_before", "uncovered": "uncovered_before", "share": "share_before"}),
        on="district_adcode").merge(
        now[["district_adcode", "covered", "uncovered", "share"]].rename(
            columns={"covered": "covered_after", "uncovered": "uncovered_after", "share": "share_after"}),
        on="district_adcode")

    size = hex_size_km(demand.xy)
    centres, index = hexbin(demand.xy, size)
    weights = np.bincount(index, weights=demand.weight, minlength=len(centres))
    covered = np.bincount(index, weights=np.where(after.covered, demand.weight, 0.0), minlength=len(centres))
    lon, lat = plane.lonlat(centres)
    rings = [np.column_stack(plane.lonlat(hexagon(c, size))).round(5).tolist() for c in centres]
    hexes = pd.DataFrame({"lon": lon, "lat": lat, "weight": weights, "covered": covered, "ring": rings})

    candidates = scenario.candidates
    if candidates:
        candidate_xy = plane.xy(*zip(*candidates, strict=True))
    elif len(centres) > MAX_HEX_CANDIDATES:    # the hexagons with the most demand still uncovered, in lattice order
        candidate_xy = centres[np.sort(np.argsort(-(weights - covered), kind="stable")[:MAX_HEX_CANDIDATES])]
    else:
        candidate_xy = centres
    steps = greedy_sites(demand, after.covered, candidate_xy, scenario.site_vehicle, scenario.minutes,
                         scenario.model, scenario.k)
    c_lon, c_lat = plane.lonlat(candidate_xy)
    recommended = pd.DataFrame({
        "step": [i + 1 for i in range(len(steps))],
        "lon": [round(float(c_lon[s.candidate]), 5) for s in steps],
        "lat": [round(float(c_lat[s.candidate]), 5) for s in steps],
        "gain": [s.gain for s in steps], "covered": [s.covered_weight for s in steps],
        "share": [s.covered_weight / after.weight if after.weight else None for s in steps]})
    return Plan(scenario, plane, stations, added, before, after, districts, hexes, size, recommended, accidents,
                merged_km, len(demand))


# ------------------------------------------------------------------------------------------------ routing engine
@dataclass(frozen=True)
class RoutingStatus:
    url: str | None
    reachable: bool

    @property
    def key(self) -> str:
        """Text key of what the page says: no engine configured, configured but unreachable, or reachable."""
        if not self.url:
            return "coverage.routing.none"
        return "coverage.routing.reachable" if self.reachable else "coverage.routing.unreachable"


_PROBED: dict[str, bool] = {}


def routing_status(timeout_s: float = 1.0) -> RoutingStatus:
    """Whether `JINGBAO_ROUTING_URL` is set and answers (probed once per process and URL)."""
    url = os.environ.get(ROUTING_ENV, "").strip() or None
    if url is None:
        return RoutingStatus(None, False)
    if url not in _PROBED:
        try:
            with urllib.request.urlopen(url, timeout=timeout_s):      # noqa: S310 - an operator-set URL
                _PROBED[url] = True
        except urllib.error.HTTPError:
            _PROBED[url] = True           # it answered, if only with an error status
        except (OSError, ValueError):
            _PROBED[url] = False
    return RoutingStatus(url, _PROBED[url])
