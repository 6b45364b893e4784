"""Coordinates: the GCJ-02 datum of Chinese map providers against WGS-84, and great-circle distances.

GCJ-02 is WGS-84 shifted by a published obfuscation formula; the inverse has no closed form and is found by
fixed-point iteration (below 1e-9 degrees within a few rounds). Outside China the two datums agree.
Every function takes scalars or numpy arrays; the `*_array` forms always return arrays, the others floats.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

_A = 6378245.0                      # Krasovsky 1940 semi-major axis, as the formula uses
_EE = 0.00669342162296594323        # its eccentricity squared
EARTH_RADIUS_KM = 6371.0088         # mean Earth radius (IUGG)
INVERSE_TOLERANCE_DEG = 1e-10
INVERSE_MAX_ROUNDS = 30

PositionsFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def out_of_china(lon, lat) -> np.ndarray:
    """True where the point lies outside the rough bounding box in which GCJ-02 applies (the usual test)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 shift (degrees) at a WGS-84 point."""
    x, y = lon - 105.0, lat - 35.0
    d_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
             + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
             + (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
             + (160.0 * np.sin(y / 12.0 * math.pi) + 320 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    d_lon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
             + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
             + (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
             + (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * math.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, d_lon), np.where(outside, 0.0, d_lat)


def wgs84_to_gcj02_array(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    d_lon, d_lat = _offset(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84_array(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Invert the shift: the WGS-84 point whose GCJ-02 image is (lon, lat), by fixed-point iteration."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w_lon, w_lat = lon.copy(), lat.copy()
    for _ in range(INVERSE_MAX_ROUNDS):
        g_lon, g_lat = wgs84_to_gcj02_array(w_lon, w_lat)
        miss_lon, miss_lat = g_lon - lon, g_lat - lat
        w_lon, w_lat = w_lon - miss_lon, w_lat - miss_lat
        if max(np.max(np.abs(miss_lon), initial=0.0), np.max(np.abs(miss_lat), initial=0.0)) < INVERSE_TOLERANCE_DEG:
            break
    return w_lon, w_lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    g_lon, g_lat = wgs84_to_gcj02_array(lon, lat)
    return float(g_lon), float(g_lat)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    w_lon, w_lat = gcj02_to_wgs84_array(lon, lat)
    return float(w_lon), float(w_lat)


def transform_geometry(geometry: dict, fn: PositionsFn) -> dict:
    """A GeoJSON Polygon or MultiPolygon (or Point / LineString) with every position mapped by `fn(lons, lats)`,
    which takes and returns arrays (e.g. `gcj02_to_wgs84_array`). The input is not changed."""

    def positions(coords) -> list[list[float]]:
        array = np.asarray(coords, dtype=float)
        lon, lat = fn(array[:, 0], array[:, 1])
        return np.column_stack([lon, lat]).tolist()

    kind = geometry["type"]
    coordinates = geometry.get("coordinates")
    if kind == "Point":
        return {"type": kind, "coordinates": positions([coordinates])[0]}
    if kind == "LineString":
        return {"type": kind, "coordinates": positions(coordinates)}
    if kind == "Polygon":
        return {"type": kind, "coordinates": [positions(ring) for ring in coordinates]}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [[positions(ring) for ring in polygon] for polygon in coordinates]}
    raise ValueError(f"cannot transform a {kind} geometry")


def haversine_km(lon1, lat1, lon2, lat2):
    """Great-circle distance in km on the mean-radius sphere; any argument may be an array (then so is the result)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    result = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return float(result) if np.ndim(result) == 0 else result
