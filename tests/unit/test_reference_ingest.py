"""Reference data through the contract of the cases (issue 14): insurers, stations, grids with their teams, units and
duty periods from CSV/GeoJSON and the API, each rule's problem, idempotent resends, closed stations, admin tokens."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from sqlalchemy import select

from base.settings import load_settings
from dashboard.app import create_app
from dashboard.cli import main
from data_access import coverage, reference_ingest, stations
from data_access.boundaries import city_row, district_rows
from data_access.db import Database
from data_access.filters import Filters
from data_access.geo import wgs84_to_gcj02
from data_access.models import (
    City,
    District,
    DutyPeriod,
    Insurer,
    PatrolGrid,
    PersuasionKind,
    PersuasionRecord,
    RiderTeam,
    RiderUnit,
    Station,
)
from data_access.rollups import rebuild_rollups
from data_access.tokens import authenticate, create_token, list_tokens
from tests.signin import signed_in_client

CITY = "350600"                                       # Zhangzhou with its real district outlines
XIANGCHENG, LONGWEN = "350602", "350603"
CENTRES = {d["adcode"]: (d["center_lon"], d["center_lat"]) for d in district_rows(CITY)}
SHANGHAI = (121.47, 31.23)


@pytest.fixture
def db(database_url) -> Database:
    db = Database(database_url)
    db.create_schema()
    with db.transaction() as session:
        session.add(City(**city_row(CITY), programme_start=dt.date(2019, 12, 2)))
        session.flush()
        session.add_all(District(**row) for row in district_rows(CITY))
    return db


def store(db, kind, rows, source="bureau", **options):
    return reference_ingest.store(db, kind, source, rows, **options)


def insurer(code="PICC", **changes) -> dict:
    return {"code": code, "name_zh": "人保财险", "name_en": "PICC P&C", "city": CITY, "active": "true", **changes}


def station(code="XC-PB-01", kind="police_booth", district=XIANGCHENG, **changes) -> dict:
    lon, lat = CENTRES.get(district, CENTRES[XIANGCHENG])
    return {"station_id": code, "kind": kind, "name": "芗城一号岗亭", "name_en": "Xiangcheng booth 1", "city": CITY,
            "district": district, "lon": lon, "lat": lat, "opened_on": "2020-01-01", "closed_on": "", "staff": "4",
            **changes}


def square(lon: float, lat: float, size: float = 0.004) -> list:
    return [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]]


def grid(code="XC-G01", booth="XC-PB-01", team="XC-T01", district=XIANGCHENG, coordinates=None, **changes) -> dict:
    lon, lat = CENTRES.get(district, CENTRES[XIANGCHENG])
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": coordinates or square(lon, lat)},
            "properties": {"grid_id": code, "booth_id": booth, "team": team, "city": CITY, **changes}}


def unit(code="XC-U01", grid_code="XC-G01", **changes) -> dict:
    return {"unit_id": code, "callsign": "芗城快骑01", "team": "XC-T01", "vehicle": "motorcycle",
            "grid_id": grid_code, "city": CITY, **changes}


def duty(**changes) -> dict:
    return {"name_zh": "五一安保", "name_en": "May Day duty", "start": "2024-05-01", "end": "2024-05-05", "city": "",
            **changes}


def registered(db):
    """A booth, a grid with its team, for the units to refer to."""
    assert store(db, "stations", [station()]).inserted == 1
    assert store(db, "grids", [grid()]).inserted == 1


def assert_resend_changes_nothing(db, kind, rows, **options):
    version = db.data_version()
    again = store(db, kind, rows, **options)
    assert (again.inserted, again.updated, again.unchanged, again.problems) == (0, 0, len(rows), [])
    assert db.data_version() == version


# ------------------------------------------------------------------------------------- good files store them
def test_insurers_store_what_the_file_says_and_a_resend_changes_nothing(db):
    before = db.data_version()
    result = store(db, "insurers", [insurer(), insurer("PAIC", name_zh="平安产险", name_en="", active="false")])
    assert (result.inserted, result.problems) == (2, [])
    assert db.data_version() > before
    with db.session() as session:
        rows = session.execute(select(Insurer.code, Insurer.name_zh, Insurer.name_en, Insurer.active, Insurer.source)
                               .order_by(Insurer.code)).all()
    assert [tuple(r) for r in rows] == [("PAIC", "平安产险", "平安产险", False, "bureau"),
                                        ("PICC", "人保财险", "PICC P&C", True, "bureau")]
    assert_resend_changes_nothing(db, "insurers", [insurer(), insurer("PAIC", name_zh="平安产险", name_en="",
                                                                      active="false")])


def test_stations_store_in_wgs84_from_either_datum_and_a_resend_changes_nothing(db):
    lon, lat = CENTRES[LONGWEN]
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    rows = [station(), station("LW-CP-01", "claim_point", LONGWEN, lon=g_lon, lat=g_lat, staff="", closed_on="",
                               name_en="")]
    assert store(db, "stations", rows, datum="gcj02").inserted == 2
    with db.session() as session:
        stored = {s.code: s for s in session.scalars(select(Station))}
    assert stored["LW-CP-01"].lon == pytest.approx(lon, abs=1e-6)
    assert stored["LW-CP-01"].lat == pytest.approx(lat, abs=1e-6)
    assert (stored["LW-CP-01"].staff, stored["LW-CP-01"].name_en, stored["LW-CP-01"].district_adcode) == \
        (0, "芗城一号岗亭", LONGWEN)
    assert (str(stored["XC-PB-01"].kind.value), stored["XC-PB-01"].opened_on, stored["XC-PB-01"].staff) == \
        ("police_booth", dt.date(2020, 1, 1), 4)
    assert_resend_changes_nothing(db, "stations", rows, datum="gcj02")


def test_grids_store_their_polygon_district_booth_and_team(db):
    assert store(db, "stations", [station()]).inserted == 1
    features = [grid(members="12", team_name="芗城快骑一队")]
    assert store(db, "grids", features).inserted == 1
    with db.session() as session:
        stored = session.scalars(select(PatrolGrid)).one()
        team = session.scalars(select(RiderTeam)).one()
        booth = session.scalars(select(Station)).one()
    assert (stored.code, stored.district_adcode, stored.booth_id, stored.name_en) == \
        ("XC-G01", XIANGCHENG, booth.id, "Grid XC-G01")
    assert json.loads(stored.polygon_geojson)["coordinates"] == square(*CENTRES[XIANGCHENG])
    assert (team.code, team.grid_id, team.members, team.name_zh, team.founded_on) == \
        ("XC-T01", stored.id, 12, "芗城快骑一队", dt.date(2019, 12, 2))
    assert_resend_changes_nothing(db, "grids", features)
    moved = store(db, "grids", [grid(members="14", team_name="芗城快骑一队")])
    assert (moved.updated, moved.inserted) == (1, 0)


def test_units_store_their_team_and_grid(db):
    registered(db)
    rows = [unit(), unit("XC-U02", vehicle="car", callsign="芗城快骑02")]
    assert store(db, "units", rows).inserted == 2
    with db.session() as session:
        units = session.execute(select(RiderUnit.code, RiderUnit.vehicle_kind, RiderUnit.grid_id, RiderUnit.team_id)
                                .order_by(RiderUnit.code)).all()
        grid_id, team_id = session.execute(select(RiderTeam.grid_id, RiderTeam.id)).one()
    assert [(code, str(v.value), g, t) for code, v, g, t in units] == [
        ("XC-U01", "motorcycle", grid_id, team_id), ("XC-U02", "car", grid_id, team_id)]
    assert_resend_changes_nothing(db, "units", rows)


def test_duty_periods_without_a_city_go_to_every_registered_city(db):
    rows = [duty(), duty(name_zh="国庆安保", name_en="", start="2024-10-01", end="2024-10-07", city=CITY)]
    assert store(db, "duty-periods", rows).inserted == 2
    with db.session() as session:
        periods = session.execute(select(DutyPeriod.city_adcode, DutyPeriod.name_zh, DutyPeriod.name_en,
                                         DutyPeriod.start_day, DutyPeriod.end_day, DutyPeriod.kind)
                                  .order_by(DutyPeriod.start_day)).all()
    assert [tuple(p) for p in periods] == [
        (CITY, "五一安保", "May Day duty", dt.date(2024, 5, 1), dt.date(2024, 5, 5), None),
        (CITY, "国庆安保", "国庆安保", dt.date(2024, 10, 1), dt.date(2024, 10, 7), None)]
    assert_resend_changes_nothing(db, "duty-periods", rows)


# ---------------------------------------------------------------------------------------- each rule's problem
def open_ring(lon, lat):
    return [[[lon, lat], [lon + 0.004, lat], [lon + 0.004, lat + 0.004], [lon, lat + 0.004]]]


def bow_tie(lon, lat):
    return [[[lon, lat], [lon + 0.004, lat + 0.004], [lon + 0.004, lat], [lon, lat + 0.004], [lon, lat]]]


XC = CENTRES[XIANGCHENG]
RULES = [
    ("insurers", insurer("X1", city="999999"), "city", "unknown city 999999"),
    ("insurers", insurer("X1", active="maybe"), "active", "true or false"),
    ("insurers", insurer("X1", name_zh="人保\x1b]0;x"), "name_zh", "control character U+001B"),
    ("insurers", insurer("X1", name_zh="人保\ud800"), "name_zh", "control character U+D800"),
    ("insurers", insurer("X1", colour="red"), "colour", "unknown field"),
    ("stations", station("S1", district=LONGWEN, lon=XC[0], lat=XC[1]), "lon", f"outside district {LONGWEN}"),
    ("stations", station("S1", lon=SHANGHAI[0], lat=SHANGHAI[1]), "lon", f"outside city {CITY}"),
    ("stations", station("S1", district="350699"), "district", f"350699 is not a district of {CITY}"),
    ("stations", station("S1", city="350200"), "city", "unknown city 350200"),
    ("stations", station("S1", closed_on="2019-12-31"), "closed_on", "before opened_on"),
    ("stations", station("S1", kind="castle"), "kind", "is not one of"),
    ("stations", station("S1", staff="2.5"), "staff", "not a whole number"),
    ("stations", station("S1", opened_on="01/02/2020"), "opened_on", "not a date"),
    ("stations", station("S1", lat=""), "lat", "required"),
    ("stations", station("XC-PB-01"), "station_id", "appears more than once"),
    ("grids", grid("G9", coordinates=open_ring(*XC)), "geometry", "does not close"),
    ("grids", grid("G9", coordinates=bow_tie(*XC)), "geometry", "invalid: Self-intersection"),
    ("grids", grid("G9", coordinates=square(*SHANGHAI)), "geometry", f"outside city {CITY}"),
    ("grids", grid("G9", booth="NOPE"), "booth_id", "no police booth NOPE"),
    ("grids", grid("G9", team="XC-T01"), "team", "patrols another grid of this file"),
    ("grids", grid("XC-G01", team="T9"), "grid_id", "appears more than once"),
    ("units", unit("U9", grid_code="NOPE"), "grid_id", "unknown grid NOPE"),
    ("units", unit("U9", team="NOPE"), "team", "no rider team NOPE"),
    ("units", unit("U9", vehicle="horse"), "vehicle", "is not one of"),
    ("units", unit("XC-U01"), "unit_id", "appears more than once"),
    ("duty-periods", duty(name_zh="X", end="2024-04-30"), "end", "end is before start"),
    ("duty-periods", duty(name_zh="X", start="May"), "start", "not a date"),
    ("duty-periods", duty(), "name_zh", "appears more than once"),
]
GOOD = {"insurers": insurer(), "stations": station(), "grids": grid(), "units": unit(), "duty-periods": duty()}


@pytest.mark.parametrize("kind, bad, field, reason", RULES, ids=[f"{r[0]}-{r[2]}-{i}" for i, r in enumerate(RULES)])
def test_each_rule_rejects_its_row_with_field_and_reason_and_keeps_the_good_one(db, kind, bad, field, reason):
    if kind in ("grids", "units"):
        assert store(db, "stations", [station()]).inserted == 1
    if kind == "units":
        assert store(db, "grids", [grid()]).inserted == 1
    result = store(db, kind, [GOOD[kind], bad])
    assert [(p.index, p.field) for p in result.problems] == [(1, field)]
    assert reason in result.problems[0].reason
    assert result.stored == 1


def test_an_insurer_another_source_registered_is_refused_not_taken_over(db):
    assert store(db, "insurers", [insurer()], source="bureau").inserted == 1
    result = store(db, "insurers", [insurer(name_zh="别的名字")], source="platform")
    assert [(p.index, p.field) for p in result.problems] == [(0, "code")]
    assert "registered by source bureau" in result.problems[0].reason
    with db.session() as session:
        assert session.scalars(select(Insurer.name_zh)).all() == ["人保财险"]


def test_a_unit_code_of_another_source_is_refused(db):
    registered(db)
    assert store(db, "units", [unit()]).inserted == 1
    result = store(db, "units", [unit()], source="other")
    assert "registered by source bureau" in result.problems[0].reason


def test_a_grids_request_is_a_feature_collection_and_bounded(db):
    with pytest.raises(reference_ingest.IngestError):
        reference_ingest.features_of([grid()])
    with pytest.raises(reference_ingest.IngestError, match="at most 5,000"):
        store(db, "stations", [station(f"S{i}") for i in range(reference_ingest.MAX_ROWS_PER_REQUEST + 1)])


# ----------------------------------------------------------------------------- closing a station keeps history
def test_a_closed_station_leaves_the_now_figures_but_keeps_its_history(db):
    persuasion = station("XC-PS-01", "persuasion", staff="3")
    assert store(db, "stations", [station(), persuasion]).inserted == 2
    with db.transaction() as session:
        station_id = session.scalars(select(Station.id).where(Station.code == "XC-PS-01")).one()
        session.add(PersuasionRecord(station_id=station_id, city_adcode=CITY, district_adcode=XIANGCHENG,
                                     local_day=dt.date(2024, 3, 1), kind=PersuasionKind.NO_HELMET, count=7))
    rebuild_rollups(db, CITY, dt.date(2024, 3, 1), dt.date(2024, 3, 1))     # as every writer of day rows does
    march = Filters(CITY, dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert stations.persuasion_stations(db, march) == 1
    assert set(coverage.city_stations(db, CITY, march.end)["code"]) == {"XC-PB-01", "XC-PS-01"}
    closed = store(db, "stations", [station(closed_on="2024-03-15"), persuasion | {"closed_on": "2024-03-15"}])
    assert closed.updated == 2
    assert stations.persuasion_stations(db, march) == 0
    assert stations.violations_stopped(db, march) == 7            # what it stopped before closing still counts
    assert coverage.city_stations(db, CITY, march.end).empty
    assert set(coverage.city_stations(db, CITY, dt.date(2024, 3, 14))["code"]) == {"XC-PB-01", "XC-PS-01"}
    assert stations.closed_stations(db, CITY, march.end) == frozenset({station_id, station_id - 1})
    with db.session() as session:
        assert session.scalar(select(Station.closed_on).where(Station.code == "XC-PB-01")) == dt.date(2024, 3, 15)


# -------------------------------------------------------------------------------------------------------- API
@pytest.fixture
def client(db):
    app = create_app(load_settings({}, database_url=db.url, demo=False), db)
    client = signed_in_client(app)
    client.admin = {"Authorization": f"Bearer {create_token(db, 'bureau', admin=True)}"}
    client.feed = {"Authorization": f"Bearer {create_token(db, 'dispatch')}"}
    return client


def test_api_stores_reference_data_for_admin_tokens_only(client, db):
    ok = client.post("/api/v1/insurers", json=[insurer()], headers=client.admin)
    assert ok.status_code == 200 and ok.get_json()["inserted"] == 1 and ok.get_json()["source"] == "bureau"
    mixed = client.post("/api/v1/stations", json=[station(), station("S2", city="999999")], headers=client.admin)
    assert mixed.status_code == 207
    assert mixed.get_json()["problems"] == [{"index": 1, "field": "city",
                                             "reason": "unknown city 999999: register it first (jingbao city add)"}]
    collection = {"type": "FeatureCollection", "features": [grid(coordinates=open_ring(*XC))]}
    bad = client.post("/api/v1/grids", json=collection, headers=client.admin)
    assert bad.status_code == 422 and bad.get_json()["problems"][0]["field"] == "geometry"
    good = client.post("/api/v1/grids", json={"type": "FeatureCollection", "features": [grid()]},
                       headers=client.admin)
    assert good.status_code == 200 and good.get_json()["inserted"] == 1
    assert client.post("/api/v1/grids", json=[grid()], headers=client.admin).status_code == 400
    refused = client.post("/api/v1/units", json=[unit()], headers=client.feed)
    assert refused.status_code == 403 and refused.get_json()["error"] == "reference data needs an admin token"
    assert client.post("/api/v1/units", json=[unit()]).status_code == 401
    assert client.post("/api/v1/units?datum=bd09", json=[unit()], headers=client.admin).status_code == 400
    with db.session() as session:
        assert session.scalar(select(RiderUnit.code)) is None


def test_api_gets_of_collections_answer_json_not_a_page(client):
    for path, status in (("/api/v1/stations", 405), ("/api/v1/cases", 405), ("/api/v1/pizzas", 404)):
        response = client.get(path)
        assert (response.status_code, response.content_type) == (status, "application/json")
    document = client.get("/api/v1/openapi.json").get_json()
    grids = document["paths"]["/api/v1/grids"]["post"]
    schema = grids["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["type"] == {"const": "FeatureCollection"}
    assert set(schema["properties"]["features"]["items"]["properties"]["properties"]["required"]) == \
        {"grid_id", "booth_id", "team", "city"}
    stations_schema = document["paths"]["/api/v1/stations"]["post"]["requestBody"]["content"]["application/json"]
    assert "closed_on" in stations_schema["schema"]["items"]["properties"]
    assert grids["parameters"][0]["name"] == "datum"


def test_admin_tokens_are_listed_and_authenticate_as_admin(db):
    token = create_token(db, "bureau", admin=True)
    assert authenticate(db, f"Bearer {token}").admin is True
    assert authenticate(db, f"Bearer {create_token(db, 'feed')}").admin is False
    assert [(t.source, t.admin) for t in list_tokens(db)] == [("bureau", True), ("feed", False)]
    with pytest.raises(ValueError, match="not both"):
        create_token(db, "x", insurer="PICC", admin=True)


# -------------------------------------------------------------------------------------------------------- CLI
def write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_cli_imports_reference_files_prints_problems_by_line_and_exits_1(db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    path = write_csv(tmp_path / "stations.csv", [station(), station("S2", district="350699"), station("S3")])
    assert main(["import", "stations", str(path), "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "would store 2" in out
    assert out.splitlines()[0].split() == ["line", "field", "reason"]
    assert out.splitlines()[1].split()[:2] == ["3", "district"]
    assert main(["import", "stations", str(path)]) == 1
    assert "stored 2 (inserted 2, updated 0, unchanged 0), rejected 1" in capsys.readouterr().out
    grids_file = tmp_path / "grids.geojson"
    grids_file.write_text(json.dumps({"type": "FeatureCollection", "features": [grid()]}), encoding="utf-8")
    assert main(["import", "grids", str(grids_file), "--source", "bureau"]) == 0
    assert "inserted 1" in capsys.readouterr().out
    assert main(["import", "grids", str(grids_file)]) == 0
    assert "unchanged 1" in capsys.readouterr().out
    grids_file.write_text(json.dumps({"type": "FeatureCollection", "features": [grid("G2", booth="NOPE")]}))
    assert main(["import", "grids", str(grids_file)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["feature", "field", "reason"]
    assert out.splitlines()[1].split()[:2] == ["0", "booth_id"]
    with db.session() as session:
        assert session.scalars(select(Station.source).distinct()).all() == ["bureau"]


def test_cli_flags_cases_need_a_source_and_tokens_create_admin(db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    cases = tmp_path / "cases.csv"
    cases.write_text("case_id\n", encoding="utf-8")
    assert main(["import", "cases", str(cases)]) == 2
    assert "need --source" in capsys.readouterr().err
    assert main(["import", "cases", str(cases), "--source", "x", "--datum", "gcj02"]) == 2
    not_geojson = tmp_path / "grids.geojson"
    not_geojson.write_text("[]", encoding="utf-8")
    assert main(["import", "grids", str(not_geojson)]) == 2
    assert "FeatureCollection" in capsys.readouterr().err
    assert main(["tokens", "create", "--source", "bureau", "--admin"]) == 0
    token = capsys.readouterr().out.strip()
    assert authenticate(db, f"Bearer {token}").admin
    assert main(["tokens", "list"]) == 0
    assert capsys.readouterr().out.split()[-1] == "admin"
