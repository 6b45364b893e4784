"""Coordinates: the GCJ-02 datum of Chinese map providers against WGS-84, and great-circle distances.

GCJ-02 is WGS-84 shifted by a published obfuscation formula; the inverse has no closed form and is found by
fixed-point iteration (error below 1e-7 degrees after a few rounds). Outside China the two datums agree.
"""

from __future__ import annotations

import math

import numpy as np

_A = 6378245.0                      # Krasovsky 1940 semi-major axis, as the formula uses
_EE = 0.00669342162296594323        # its eccentricity squared
EARTH_RADIUS_KM = 6371.0088


def out_of_china(lon, lat):
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


def gcj02_to_wgs84_array(lon, lat, iterations: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Invert the shift: find the WGS-84 point whose GCJ-02 image is (lon, lat)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w_lon, w_lat = lon.copy(), lat.copy()
    for _ in range(iterations):
        g_lon, g_lat = wgs84_to_gcj02_array(w_lon, w_lat)
        w_lon, w_lat = w_lon - (g_lon - lon), w_lat - (g_lat - lat)
    return w_lon, w_lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    g_lon, g_lat = wgs84_to_gcj02_array(lon, lat)
    return float(g_lon), float(g_lat)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    w_lon, w_lat = gcj02_to_wgs84_array(lon, lat)
    return float(w_lon), float(w_lat)


def transform_geometry(geometry: dict, fn) -> dict:
    """A GeoJSON Polygon or MultiPolygon (or LineString / Point) with every position mapped by `fn(lon, lat)`,
    where fn takes and returns arrays."""

    def ring(coords):
        array = np.asarray(coords, dtype=float)
        lon, lat = fn(array[:, 0], array[:, 1])
        return np.column_stack([lon, lat]).tolist()

    kind = geometry["type"]
    if kind == "Point":
        lon, lat = fn(np.array([geometry["coordinates"][0]]), np.array([geometry["coordinates"][1]]))
        return {"type": kind, "coordinates": [float(lon[0]), float(lat[0])]}
    if kind == "LineString":
        return {"type": kind, "coordinates": ring(geometry["coordinates"])}
    if kind == "Polygon":
        return {"type": kind, "coordinates": [ring(r) for r in geometry["coordinates"]]}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [[ring(r) for r in polygon] for polygon in geometry["coordinates"]]}
    raise ValueError(f"cannot transform a {kind} geometry")


def haversine_km(lon1, lat1, lon2, lat2):
    """Great-circle distance in km; any argument may be an array."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    result = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
    return float(result) if np.ndim(result) == 0 else result
