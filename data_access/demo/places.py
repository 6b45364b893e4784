"""Where things happen: points inside the shipped district boundaries, dense near centres and along arterials."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon, shape

JITTER_KM = 0.25
KM_PER_DEGREE = 111.32


def uniform_points(geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` points drawn uniformly inside `geometry` (rejection sampling in its bounding box), as (lon, lat) rows."""
    minx, miny, maxx, maxy = geometry.bounds
    shapely.prepare(geometry)
    found: list[np.ndarray] = []
    have = 0
    while have < n:
        lon = rng.uniform(minx, maxx, size=max(64, 3 * (n - have)))
        lat = rng.uniform(miny, maxy, size=lon.size)
        inside = shapely.contains_xy(geometry, lon, lat)
        found.append(np.column_stack([lon[inside], lat[inside]]))
        have += int(inside.sum())
    return np.vstack(found)[:n]


@dataclass
class DistrictPlaces:
    """Anchor points of one district: a dense core, arterials through it, and the rest of its land."""

    adcode: str
    geometry: object
    center: tuple[float, float]
    anchors: np.ndarray      # (n, 2) lon, lat
    weights: np.ndarray      # sums to 1

    def sample(self, n: int, rng: np.random.Generator, jitter_km: float = JITTER_KM) -> np.ndarray:
        """`n` accident-like locations: an anchor plus a small jitter, kept inside the district."""
        if n == 0:
            return np.empty((0, 2))
        picks = self.anchors[rng.choice(len(self.anchors), size=n, p=self.weights)]
        lat_scale = jitter_km / KM_PER_DEGREE
        lon_scale = lat_scale / math.cos(math.radians(self.center[1]))
        moved = picks + rng.normal(size=(n, 2)) * np.array([lon_scale, lat_scale])
        inside = shapely.contains_xy(self.geometry, moved[:, 0], moved[:, 1])
        moved[~inside] = picks[~inside]
        return moved


def district_places(adcode: str, boundary_geojson: str, center: tuple[float, float], urban: bool,
                    rng: np.random.Generator, n_uniform: int = 400, n_arterial: int = 360) -> DistrictPlaces:
    geometry = shape(json.loads(boundary_geojson))
    if not geometry.is_valid:
        geometry = geometry.buffer(0)
    shapely.prepare(geometry)
    uniform = uniform_points(geometry, n_uniform, rng)
    # Arterials: three straight roads through the centre at random angles, kept where they are on land.
    minx, miny, maxx, maxy = geometry.bounds
    reach = max(maxx - minx, maxy - miny)
    roads = []
    for angle in rng.uniform(0, math.pi, size=3):
        t = rng.uniform(-reach, reach, size=n_arterial * 3)
        lon = center[0] + t * math.cos(angle)
        lat = center[1] + t * math.sin(angle)
        keep = shapely.contains_xy(geometry, lon, lat)
        roads.append(np.column_stack([lon[keep], lat[keep]])[:n_arterial // 3 * 2])
    arterial = np.vstack(roads) if roads else np.empty((0, 2))
    anchors = np.vstack([uniform, arterial]) if len(arterial) else uniform
    # Nearer the centre is busier; urban districts are more concentrated.
    distance = np.hypot(anchors[:, 0] - center[0], anchors[:, 1] - center[1]) / max(reach, 1e-6)
    weights = np.exp(-distance / (0.12 if urban else 0.25))
    weights[len(uniform):] *= 2.0
    return DistrictPlaces(adcode, geometry, center, anchors, weights / weights.sum())


def hexagon(lon: float, lat: float, radius_km: float) -> Polygon:
    lat_r = radius_km / KM_PER_DEGREE
    lon_r = lat_r / math.cos(math.radians(lat))
    return Polygon([(lon + lon_r * math.cos(math.pi / 3 * i), lat + lat_r * math.sin(math.pi / 3 * i))
                    for i in range(6)])


def to_geojson(geometry) -> str:
    return json.dumps(shapely.geometry.mapping(shapely.set_precision(geometry, 1e-5)), separators=(",", ":"))
