"""A deployment without the demo: with JINGBAO_DEMO=0 an empty database gets its schema and nothing else, every page
answers (no error, no traceback) with no city and with a city that holds nothing, and the onboarding page lists
every missing kind of data with the command that loads it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from base.settings import load_settings
from dashboard.app import create_app
from dashboard.cli import main
from data_access.db import Database
from data_access.demo.build import is_empty
from data_access.models import AccidentCase, City
from services.runtime import ensure_demo_data
from tests.page_callbacks import call, page_paths, url_callbacks
from tests.servers import fresh_database_url
from tests.signin import signed_in_client

ADMIN = "test-admin"


@pytest.fixture
def empty(tmp_path) -> Database:
    db = Database(fresh_database_url(tmp_path, "empty.db"))
    settings = load_settings({}, database_url=db.url, demo=False)
    assert "schema ready" in ensure_demo_data(db, settings, progress=False)
    return db


def app_of(db: Database):
    return create_app(load_settings({}, database_url=db.url, demo=False), db)


def test_empty001_demo_off_builds_no_demo_data(empty):
    assert empty.has_schema() and is_empty(empty)
    with empty.session() as session:
        assert session.execute(select(func.count()).select_from(AccidentCase)).scalar() == 0


def test_empty002_every_page_answers_an_admin_and_a_leader_with_no_city(empty):
    app = app_of(empty)
    admin = signed_in_client(app, ADMIN, "admin")
    for path in page_paths():                  # an admin opens /admin and /onboarding; the gate turns the rest away
        assert admin.get(path).status_code == (200 if path in ("/admin", "/onboarding") else 403), path
    leader = signed_in_client(app)
    for path in page_paths():
        assert leader.get(path).status_code == (403 if path == "/admin" else 200), path
    leader = signed_in_client(app)
    drawn = []
    for path in page_paths():
        for key, callback in url_callbacks(app).items():
            response = call(leader, key, callback, path)
            assert response.status_code in (200, 204), (path, key, response.get_data(as_text=True)[:300])
            drawn.append(json.dumps(response.get_json() or {}, ensure_ascii=False))
    text = "\n".join(drawn)
    assert "Traceback" not in text and "empty-state" in text and '"href": "/onboarding"' in text


def onboarding(app, client) -> tuple[str, dict[str, str]]:
    """The onboarding page's body as text, and each listed kind of data with its state (done or missing)."""
    key, callback = next((k, cb) for k, cb in url_callbacks(app).items() if k.startswith("onboarding-body."))
    response = call(client, key, callback, "/onboarding")
    assert response.status_code == 200
    body = response.get_json()["response"]
    states = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            if "data-kind" in node:
                states[node["data-kind"]] = node["data-state"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body)
    return json.dumps(body, ensure_ascii=False), states


def test_empty003_onboarding_lists_every_missing_kind_with_its_command(empty):
    app = app_of(empty)
    text, states = onboarding(app, signed_in_client(app, ADMIN, "admin"))
    assert "尚未登记任何城市" in text
    for kind, command in (("city", "jingbao city add ADCODE"), ("insurers", "jingbao import insurers FILE"),
                          ("stations", "jingbao import stations FILE"), ("grids", "jingbao import grids FILE"),
                          ("units", "jingbao import units FILE"), ("cases", "jingbao import cases FILE")):
        assert states[kind] == "missing", kind
        assert command in text
    assert "POST /api/v1/stations" in text


@pytest.mark.sqlite_pass
def test_empty004_an_added_city_without_data_shows_the_empty_state_on_every_page(empty, monkeypatch):
    monkeypatch.setenv("JINGBAO_DATABASE_URL", empty.url)
    pytest.importorskip("pypinyin")
    assert main(["city", "add", "350200"]) == 0
    app = app_of(empty)
    admin = signed_in_client(app, ADMIN, "admin")
    text, states = onboarding(app, admin)
    assert "厦门市" in text and states["city"] == "done"
    assert [kind for kind, state in states.items() if state == "missing"] == [
        "insurers", "stations", "grids", "units", "cases"]
    assert states["mediations"] == states["rescues"] == "optional"
    leader = signed_in_client(app)
    for path in page_paths():
        path = "/district/350203" if path.startswith("/district") else path
        for key, callback in url_callbacks(app).items():
            response = call(leader, key, callback, path, "?city=350200")
            assert response.status_code in (200, 204), (path, key, response.get_data(as_text=True)[:300])
    overview = next((k, cb) for k, cb in url_callbacks(app).items() if "overview-kpis.children" in k)
    drawn = call(leader, *overview, "/", "?city=350200").get_json()["response"]
    assert "empty-state" in json.dumps(drawn["overview-problems"]) and "厦门市尚无事故警情数据" in json.dumps(
        drawn["overview-problems"], ensure_ascii=False)
    with empty.session() as session:
        assert session.get(City, "350200") is not None


def test_empty005_a_chart_of_a_station_kind_the_city_has_none_of_says_so(tmp_path):
    """The handmade city with one vehicle-admin station: the stations page draws its vehicle-admin charts, and in
    place of the persuasion charts says that no rural persuasion station is registered."""
    import datetime as dt

    from data_access.models import Station
    from tests.unit import handmade

    db = handmade.empty_city(tmp_path)
    with db.transaction() as session:
        session.add(Station(city_adcode=handmade.CITY, district_adcode=handmade.D1, kind="vehicle_admin",
                            code="VA-1", name_zh="芗城车驾管服务站", name_en="VA 1", lon=117.62, lat=24.52, staff=3,
                            opened_on=dt.date(2020, 1, 1)))
    app = app_of(db)
    leader = signed_in_client(app)
    key, callback = next((k, cb) for k, cb in url_callbacks(app).items() if "stations-districts.figure" in k)
    response = call(leader, key, callback, "/stations", f"?city={handmade.CITY}")
    assert response.status_code == 200
    drawn = response.get_json()["response"]
    title = {graph: figure["figure"]["layout"]["annotations"][0]["text"] if figure["figure"]["layout"].get(
        "annotations") else "" for graph, figure in drawn.items() if graph.startswith("stations-") and
        isinstance(figure, dict) and "figure" in figure}
    assert title["stations-districts"] == title["stations-kinds"] == \
        "本市尚未登记农村劝导站（jingbao import stations FILE）"
    assert "尚未登记" not in title["stations-services"] and "尚未登记" not in title["stations-ebike"]


def test_empty006_coverage_names_the_chosen_station_kinds_the_city_has_none_of(tmp_path):
    import datetime as dt

    from data_access.models import Station
    from data_access.rollups import rebuild_rollups
    from data_access.timeutil import local_today
    from tests.unit import handmade

    db = handmade.empty_city(tmp_path)
    with db.transaction() as session:
        session.add(Station(city_adcode=handmade.CITY, district_adcode=handmade.D1, kind="claim_point", code="CP-1",
                            name_zh="芗城理赔点", name_en="CP 1", lon=117.62, lat=24.52, staff=2,
                            opened_on=dt.date(2020, 1, 1)))
        session.add(handmade.case(handmade.local(local_today() - dt.timedelta(days=2)), lon=117.63, lat=24.53))
    rebuild_rollups(db)
    app = app_of(db)
    leader = signed_in_client(app)
    key, callback = next((k, cb) for k, cb in url_callbacks(app).items() if "coverage-problems.children" in k)
    response = call(leader, key, callback, "/coverage", f"?city={handmade.CITY}")
    assert response.status_code == 200
    text = json.dumps(response.get_json()["response"], ensure_ascii=False)
    assert "本市尚未登记交警岗亭、快处快赔中心（jingbao import stations FILE）" in text    # the claim point is there
