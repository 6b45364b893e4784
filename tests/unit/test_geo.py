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

# Beijing's geocoded centre (WGS-84) and its GCJ-02 image as the eviltransform package computes it.
BEIJING_WGS = (116.3912757, 39.906217)
BEIJING_GCJ = (116.3975168, 39.9076182)


def test_wgs84_to_gcj02_matches_the_reference_points():
    assert wgs84_to_gcj02(*POINT) == pytest.approx(WGS_TO_GCJ, abs=1e-9)
    assert wgs84_to_gcj02(*BEIJING_WGS) == pytest.approx(BEIJING_GCJ, abs=1e-5)


def test_gcj02_to_wgs84_inverts_within_a_millionth_of_a_degree():
    assert gcj02_to_wgs84(*POINT) == pytest.approx(GCJ_TO_WGS, abs=2e-6)
    assert gcj02_to_wgs84(*BEIJING_GCJ) == pytest.approx(BEIJING_WGS, abs=1e-6)
    assert wgs84_to_gcj02(*gcj02_to_wgs84(*POINT)) == pytest.approx(POINT, abs=1e-9)
    rng = np.random.default_rng(1)
    lons, lats = rng.uniform(98, 125, 500), rng.uniform(20, 45, 500)
    back = gcj02_to_wgs84_array(*wgs84_to_gcj02_array(lons, lats))
    assert np.abs(back[0] - lons).max() < 1e-6
    assert np.abs(back[1] - lats).max() < 1e-6


def test_the_offset_is_a_few_hundred_metres_in_zhangzhou():
    lon, lat = 117.65, 24.51
    shifted = wgs84_to_gcj02(lon, lat)
    assert 0.2 < haversine_km(lon, lat, *shifted) < 0.8


def test_outside_china_nothing_moves():
    assert wgs84_to_gcj02(2.3522, 48.8566) == (2.3522, 48.8566)
    assert gcj02_to_wgs84(-74.006, 40.7128) == (-74.006, 40.7128)
    lons, lats = np.array([2.3522, 151.2093]), np.array([48.8566, -33.8688])
    for moved in (wgs84_to_gcj02_array(lons, lats), gcj02_to_wgs84_array(lons, lats)):
        assert np.array_equal(moved[0], lons) and np.array_equal(moved[1], lats)


def test_haversine_beijing_shanghai():
    assert 1067 <= haversine_km(116.4074, 39.9042, 121.4737, 31.2304) <= 1070
    assert haversine_km(117.65, 24.51, 117.65, 24.51) == 0.0
    distances = haversine_km(np.array([116.4074, 121.4737]), np.array([39.9042, 31.2304]), 121.4737, 31.2304)
    assert distances[0] == pytest.approx(haversine_km(116.4074, 39.9042, 121.4737, 31.2304))
    assert distances[1] == 0.0


def test_vectorised_equals_scalar():
    rng = np.random.default_rng(7)
    lons, lats = rng.uniform(105, 118.5, 50), rng.uniform(23, 32, 50)
    gcj = wgs84_to_gcj02_array(lons, lats)
    wgs = gcj02_to_wgs84_array(lons, lats)
    for i in range(len(lons)):
        assert wgs84_to_gcj02(lons[i], lats[i]) == (gcj[0][i], gcj[1][i])
        assert gcj02_to_wgs84(lons[i], lats[i]) == pytest.approx((wgs[0][i], wgs[1][i]), abs=1e-12)


def test_transform_geometry_maps_every_position_and_keeps_the_input():
    polygon = {"type": "Polygon", "coordinates": [[[117.6, 24.5], [117.7, 24.5], [117.7, 24.6], [117.6, 24.5]]]}
    moved = transform_geometry(polygon, wgs84_to_gcj02_array)
    assert moved["type"] == "Polygon"
    assert moved["coordinates"][0][0] == pytest.approx(list(wgs84_to_gcj02(117.6, 24.5)))
    assert polygon["coordinates"][0][0] == [117.6, 24.5]
    multi = {"type": "MultiPolygon", "coordinates": [polygon["coordinates"], polygon["coordinates"]]}
    back = transform_geometry(transform_geometry(multi, wgs84_to_gcj02_array), gcj02_to_wgs84_array)
    assert back["type"] == "MultiPolygon"
    assert np.allclose(np.asarray(back["coordinates"], dtype=float), np.asarray(multi["coordinates"]), atol=1e-9)
    with pytest.raises(ValueError):
        transform_geometry({"type": "GeometryCollection", "geometries": []}, wgs84_to_gcj02_array)
