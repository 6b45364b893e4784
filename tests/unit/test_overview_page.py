"""The overview callback when the data is not there: an unreachable database and a database without cities."""

from __future__ import annotations

import json

from base.i18n import t
from base.settings import load_settings
from dashboard.app import create_app
from data_access.db import Database
from tests.servers import fresh_database_url
from tests.signin import signed_in_client
from tests.unit import handmade
from tests.unit.test_http import callback_body


def overview_response(db: Database, search: str, then=None) -> tuple[int, dict]:
    """The overview callback's answer for `search` to a signed-in leader; `then()` runs after signing in."""
    app = create_app(load_settings({}, database_url=db.url, demo=False), db)
    client = signed_in_client(app)
    assert client.get("/").status_code == 200
    if then is not None:
        then()
    response = client.post("/_dash-update-component", json=callback_body(app, search))
    return response.status_code, response.get_json()["response"]


def test_unreachable_database_says_so_and_keeps_the_last_figures(tmp_path):
    broken = tmp_path / "broken.db"
    db = Database(f"sqlite:///{broken}")
    db.create_schema()

    def break_the_file():   # after signing in: the session still knows who is asking
        db.dispose()
        for suffix in ("-wal", "-shm"):
            broken.with_name(broken.name + suffix).unlink(missing_ok=True)
        broken.write_bytes(b"this is not an SQLite file" * 64)

    status, response = overview_response(db, "?city=350600", then=break_the_file)
    assert status == 200
    assert "db-message" in json.dumps(response["overview-problems"])
    # No update for the KPIs and figures: the browser keeps what it last drew, and the header marks it stale.
    assert not {"overview-kpis", "overview-trend", "overview-map"} & set(response)


def test_database_without_cities_shows_a_message_not_empty_charts(tmp_path):
    db = Database(fresh_database_url(tmp_path, "bare.db"))
    db.create_schema()
    status, response = overview_response(db, "")
    assert status == 200
    assert "empty-state" in json.dumps(response["overview-problems"])
    for graph in ("overview-trend", "overview-map"):
        figure = response[graph]["figure"]
        assert figure["layout"]["title"]["text"]
        assert figure["layout"]["annotations"][0]["text"] == t("empty.figure", "zh")


def test_handmade_city_fills_every_output(tmp_path):
    status, response = overview_response(handmade.empty_city(tmp_path), "?city=" + handmade.CITY)
    assert status == 200
    assert {"overview-kpis", "overview-trend", "overview-map"} <= set(response)
