"""Datum conversion against published reference points, and distances."""

from __future__ import annotations

import numpy as np
import pytest

from data_access.geo import (
    gcj02_to_wgs84,
    gcj02_to_wgs84_array,
    haversine_km,
    transform_geometry,
    wgs84_to_gcj02,
    wgs84_to_gcj02_array,
)

# The reference results published with the widely used coordtransform library (wandergis/coordtransform,
# test/app.js) for the point (116.404, 39.915) in central Beijing.
POINT = (116.404, 39.915)
WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
GCJ_TO_WGS = (116.39775550083061, 39.91359571849836)   # their one-step inverse, good to about 1e-6 degrees


def test_wgs84_to_gcj02_matches_the_reference_point():
    assert wgs84_to_gcj02(*POINT) == pytest.approx(WGS_TO_GCJ, abs=1e-9)


def test_gcj02_to_wgs84_inverts_within_a_ten_millionth_of_a_degree():
    assert gcj02_to_wgs84(*POINT) == pytest.approx(GCJ_TO_WGS, abs=2e-6)
    assert wgs84_to_gcj02(*gcj02_to_wgs84(*POINT)) == pytest.approx(POINT, abs=1e-9)
    rng = np.random.default_rng(1)
    lons, lats = rng.uniform(98, 125, 500), rng.uniform(20, 45, 500)
    back = gcj02_to_wgs84_array(*wgs84_to_gcj02_array(lons, lats))
    assert np.abs(back[0] - lons).max() < 1e-7
    assert np.abs(back[1] - lats).max() < 1e-7


def test_the_offset_is_a_few_hundred_metres_in_zhangzhou():
    lon, lat = 117.65, 24.51
    shifted = wgs84_to_gcj02(lon, lat)
    assert 0.2 < haversine_km(lon, lat, *shifted) < 0.8


def test_outside_china_nothing_moves():
    assert wgs84_to_gcj02(2.3522, 48.8566) == (2.3522, 48.8566)
    assert gcj02_to_wgs84(-74.006, 40.7128) == (-74.006, 40.7128)


def test_haversine_beijing_shanghai():
    assert haversine_km(116.4074, 39.9042, 121.4737, 31.2304) == pytest.approx(1068, abs=3)
    distances = haversine_km(np.array([116.4074, 0.0]), np.array([39.9042, 0.0]), 121.4737, 31.2304)
    assert distances[0] == pytest.approx(1068, abs=3)


def test_vectorised_equals_scalar_and_geometries_transform():
    lons, lats = np.array([117.6, 106.5]), np.array([24.5, 29.5])
    array = wgs84_to_gcj02_array(lons, lats)
    for i in range(2):
        assert wgs84_to_gcj02(lons[i], lats[i]) == pytest.approx((array[0][i], array[1][i]))
    polygon = {"type": "Polygon", "coordinates": [[[117.6, 24.5], [117.7, 24.5], [117.7, 24.6], [117.6, 24.5]]]}
    moved = transform_geometry(polygon, wgs84_to_gcj02_array)
    assert moved["type"] == "Polygon"
    assert moved["coordinates"][0][0] == pytest.approx(list(wgs84_to_gcj02(117.6, 24.5)))
