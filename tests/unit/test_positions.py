"""Real unit positions through the contract (POST /api/v1/positions): rows of unit code, time, place, status and
optional case, validated like cases, appended without repeats, and on the live map at its next tick."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from base.settings import load_settings
from dashboard.app import create_app
from data_access import ingest, live, live_layers
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.demo.positions import build_positions
from data_access.models import AccidentCase, UnitPosition
from data_access.timeutil import local_today, utcnow
from data_access.tokens import create_token
from tests.servers import fresh_database_url
from tests.signin import signed_in_client

ZHANGZHOU = "350600"
UNIT = f"{ZHANGZHOU}-T01-01"          # the demo's first unit of the first team
INSIDE = (117.655, 24.515)            # Zhangzhou's main urban area
SHANGHAI = (121.47, 31.23)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small Zhangzhou with its units placed half an hour ago, the app, and a feed's token."""
    db = Database(fresh_database_url(tmp_path_factory.mktemp("positions")), QueryCache.from_url("simple"))
    placed_at = utcnow().replace(microsecond=0) - dt.timedelta(minutes=30)
    build_demo(db, scale=0.01, start=local_today() - dt.timedelta(days=2), end=placed_at, cities=(ZHANGZHOU,))
    build_positions(db, placed_at, hours=0.25, cities=(ZHANGZHOU,))
    app = create_app(load_settings({}, database_url=db.url, demo=False), db)
    client = signed_in_client(app)
    token = create_token(db, "dispatch")
    return db, client, {"Authorization": f"Bearer {token}"}, placed_at


def iso(at: dt.datetime) -> str:
    return at.replace(tzinfo=dt.UTC).isoformat()


def unit_id_of(db: Database, code: str) -> int:
    return ingest.Places.load(db).units[code][0]


def stored_rows(db: Database, unit_id: int) -> int:
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(UnitPosition)
                                   .where(UnitPosition.unit_id == unit_id)).scalar())


def test_pos001_a_posted_position_is_on_the_live_map_at_its_next_tick(world):
    db, client, auth, placed_at = world
    unit = unit_id_of(db, UNIT)
    before = live_layers.unit_layer(db, ZHANGZHOU, "en", "wgs84")
    assert before.latest == placed_at
    at = utcnow().replace(microsecond=0)
    response = client.post("/api/v1/positions", headers=auth, json=[
        {"unit_id": UNIT, "at": iso(at), "lon": INSIDE[0], "lat": INSIDE[1], "status": "en_route"}])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["inserted"] == 1
    tick = live_layers.unit_tick(db, ZHANGZHOU, before.order, before.statuses, "en", "wgs84", after_id=before.latest_id)
    index = before.order.index(unit)
    assert tick is not None and tick.delta["i"] == [index]
    assert (tick.delta["x"], tick.delta["y"]) == ([INSIDE[0]], [INSIDE[1]])
    assert tick.statuses[str(unit)] == "en_route:" and tick.latest == at
    after = live_layers.unit_layer(db, ZHANGZHOU, "en", "wgs84")
    feature = after.data["features"][after.order.index(unit)]
    assert feature["geometry"]["coordinates"] == [INSIDE[0], INSIDE[1]]
    assert feature["properties"]["st"] == "en_route"


def test_pos002_every_rule_rejects_its_row_with_index_field_and_reason(world):
    db, client, auth, _ = world
    now = utcnow().replace(microsecond=0)
    good = {"unit_id": f"{ZHANGZHOU}-T01-02", "at": iso(now - dt.timedelta(minutes=1)), "lon": INSIDE[0],
            "lat": INSIDE[1], "status": "patrolling"}
    bad = [
        ({"unit_id": "NO-SUCH-UNIT"}, "unit_id", "unknown unit"),
        ({"lon": SHANGHAI[0], "lat": SHANGHAI[1]}, "lon", "outside the unit's city"),
        ({"at": iso(now + dt.timedelta(minutes=11))}, "at", "in the future"),
        ({"at": "1999-06-01T08:00:00+08:00"}, "at", "before 2000-01-01"),
        ({"at": "2026-06-01T08:00:00"}, "at", "no UTC offset"),
        ({"status": "napping"}, "status", "is not one of"),
        ({"lat": float("nan")}, "lat", "finite"),
        ({"lon": None}, "lon", "required"),
        ({"case_id": "NEVER-SENT"}, "case_id", "no case 'NEVER-SENT' from source 'dispatch'"),
        ({"unit_id": "U\ud800"}, "unit_id", "Unicode"),
        ({"speed": 40}, "speed", "unknown field"),
    ]
    rows = [good] + [{**good, **changes} for changes, _, _ in bad]
    result = ingest.store(db, "positions", "dispatch", rows)
    assert result.inserted == 1 and result.stored == 1
    assert [(p.index, p.field) for p in result.problems] == [(i + 1, f) for i, (_, f, _) in enumerate(bad)]
    for problem, (_, _, reason) in zip(result.problems, bad, strict=True):
        assert reason in problem.reason
    response = client.post("/api/v1/positions", headers=auth, json=[{**good, "unit_id": "NO-SUCH-UNIT"}])
    assert response.status_code == 422
    assert response.get_json()["problems"] == [{"index": 0, "field": "unit_id",
                                                "reason": "unknown unit 'NO-SUCH-UNIT'"}]


def test_pos003_positions_are_appended_and_an_identical_row_is_not_added_twice(world):
    db, client, auth, _ = world
    code = f"{ZHANGZHOU}-T01-03"
    unit = unit_id_of(db, code)
    at = utcnow().replace(microsecond=0) - dt.timedelta(minutes=2)
    row = {"unit_id": code, "at": iso(at), "lon": INSIDE[0], "lat": INSIDE[1], "status": "patrolling"}
    count = stored_rows(db, unit)
    version = db.data_version()
    first = ingest.store(db, "positions", "dispatch", [row, dict(row)])
    assert (first.inserted, first.unchanged) == (1, 1)
    assert db.data_version() == version              # positions are read live: the query caches stay warm
    again = ingest.store(db, "positions", "dispatch", [row])
    assert (again.inserted, again.unchanged) == (0, 1)
    moved = ingest.store(db, "positions", "dispatch", [{**row, "lon": INSIDE[0] + 0.001},
                                                       {**row, "at": iso(at + dt.timedelta(seconds=10))}])
    assert moved.inserted == 2
    assert stored_rows(db, unit) == count + 3


def test_pos004_a_case_is_named_by_its_id_in_the_same_source(world):
    db, client, auth, _ = world
    reported = utcnow().replace(microsecond=0) - dt.timedelta(minutes=5)
    case = {"case_id": "D-1", "city": ZHANGZHOU, "district": "350602", "reported_at": iso(reported),
            "lon": INSIDE[0], "lat": INSIDE[1]}
    assert client.post("/api/v1/cases", headers=auth, json=[case]).status_code == 200
    assert ingest.store(db, "cases", "other-feed", [{**case, "case_id": "D-2"}]).inserted == 1
    code = f"{ZHANGZHOU}-T01-04"
    row = {"unit_id": code, "at": iso(reported + dt.timedelta(minutes=3)), "lon": INSIDE[0], "lat": INSIDE[1],
           "status": "on_scene"}
    response = client.post("/api/v1/positions", headers=auth, json=[{**row, "case_id": "D-1"},
                                                                   {**row, "case_id": "D-2"}])
    assert response.status_code == 207
    assert response.get_json()["problems"] == [{"index": 1, "field": "case_id",
                                                "reason": "no case 'D-2' from source 'dispatch'"}]
    with db.session() as session:
        case_id = session.execute(select(AccidentCase.id).where(AccidentCase.source == "dispatch",
                                                                AccidentCase.external_id == "D-1")).scalar_one()
    state = live.unit_states(db, ZHANGZHOU).set_index("unit_id").loc[unit_id_of(db, code)]
    assert (state["status"], int(state["case_id"])) == ("on_scene", case_id)


def test_pos005_an_insurer_token_cannot_write_positions_and_5000_rows_is_the_limit(world):
    db, client, auth, _ = world
    at = utcnow().replace(microsecond=0) - dt.timedelta(minutes=1)
    row = {"unit_id": f"{ZHANGZHOU}-T01-05", "at": iso(at), "lon": INSIDE[0], "lat": INSIDE[1],
           "status": "off_duty"}
    refused = ingest.store(db, "positions", "an-insurer", [row], insurer="INS01")
    assert refused.stored == 0 and refused.problems[0].reason == "an insurer's token cannot write positions"
    many = [dict(row, at=iso(at - dt.timedelta(seconds=i))) for i in range(ingest.MAX_ROWS_PER_REQUEST + 1)]
    assert client.post("/api/v1/positions", headers=auth, json=many).status_code == 413
    full = client.post("/api/v1/positions", headers=auth, json=many[:ingest.MAX_ROWS_PER_REQUEST])
    assert full.status_code == 200 and full.get_json()["inserted"] == ingest.MAX_ROWS_PER_REQUEST


def test_pos010_a_unit_reporting_for_the_first_time_shows_at_the_next_tick(world):
    """A unit registered but never seen is kept hidden in the layer, so its first position needs no page load."""
    db, client, auth, _ = world
    code = f"{ZHANGZHOU}-T02-01"
    unit = unit_id_of(db, code)
    with db.transaction() as session:
        session.execute(UnitPosition.__table__.delete().where(UnitPosition.unit_id == unit))
    before = live_layers.unit_layer(db, ZHANGZHOU, "en", "wgs84")
    index = before.order.index(unit)
    assert before.statuses[str(unit)] == "gone" and before.data["features"][index]["properties"]["gone"]
    assert before.on_duty == sum(1 for key in before.statuses.values() if not key.startswith(("gone", "off_duty")))
    # a tick sends what is newer than the newest position it has seen: a second later than that one
    at = max(utcnow().replace(microsecond=0), before.latest + dt.timedelta(seconds=1))
    response = client.post("/api/v1/positions", headers=auth, json=[
        {"unit_id": code, "at": iso(at), "lon": INSIDE[0], "lat": INSIDE[1], "status": "patrolling"}])
    assert response.status_code == 200, response.get_json()
    tick = live_layers.unit_tick(db, ZHANGZHOU, before.order, before.statuses, "en", "wgs84", after_id=before.latest_id)
    assert tick is not None and index in tick.delta["i"]
    shown = tick.delta["full"][str(index)]
    assert shown["geometry"]["coordinates"] == [INSIDE[0], INSIDE[1]] and not shown["properties"].get("gone")
    assert tick.statuses[str(unit)].startswith("patrolling")
