"""The database going away and coming back (#15): while it is away pages keep their figures with the stale mark and
ingest answers 503 with Retry-After (never a 500, never a new empty database in place of a moved SQLite file); once
it is back the server reconnects by itself, well within 30 s, and serves fresh data. SQLite moved, replaced or
locked; PostgreSQL stopped with `pg_ctl stop -m fast` and started again on the same port."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from base.settings import load_settings
from dashboard.app import create_app
from data_access.cache import QueryCache
from data_access.db import Database, DatabaseUnavailable, sqlite_path
from data_access.models import City, Insurer
from data_access.tokens import authenticate, create_token
from tests.servers import PostgresServer
from tests.signin import signed_in_client
from tests.unit import handmade

pytestmark = pytest.mark.sqlite_pass      # both backends are tested here explicitly: the PostgreSQL pass would repeat

RECOVERY_LIMIT_S = 30
POLL_S = 0.2
CLIENTS = 8                  # screens polling at once
CITY, D1 = handmade.CITY, handmade.D1
OVERVIEW_KPIS = "overview-kpis"
DB_MESSAGE = "db-message"


def case_row(case_id: str, reported_at: str) -> dict:
    return {"case_id": case_id, "city": CITY, "district": D1, "reported_at": reported_at, "found_by_patrol": False,
            "handled_by": "rider_team", "lon": 117.62, "lat": 24.52}


FIRST = case_row("OUT-1", "2020-06-01T08:00:00+08:00")
DURING = case_row("OUT-2", "2020-06-02T09:30:00+08:00")
AFTER = case_row("OUT-3", "2020-06-03T10:45:00+08:00")


# ------------------------------------------------------------------------------------- ways a database goes away
class MovedFile:
    """The SQLite file is moved aside (its -wal and -shm stay), as an operator's `mv` does, and moved back."""

    name = "sqlite moved"

    def __init__(self, url: str) -> None:
        self.path = sqlite_path(url)
        self.aside = self.path.with_name("aside.db")

    def away(self) -> None:
        self.path.rename(self.aside)

    def back(self) -> None:
        self.aside.rename(self.path)

    def check_nothing_created(self) -> None:
        assert not self.path.exists(), "a database file appeared in place of the moved one"


class ReplacedFile(MovedFile):
    """The file is moved aside and an empty one is put in its place (an old release, a stray `touch`): its missing
    tables are an outage too, and moving the real file back over it is a recovery."""

    name = "sqlite replaced"

    def away(self) -> None:
        super().away()
        sqlite3.connect(self.path).close()

    def check_nothing_created(self) -> None:
        assert self.path.stat().st_size == 0, "the server wrote into the empty file put in place of the database"


class StoppedServer:
    """PostgreSQL stopped with `pg_ctl stop -m fast` (open connections are ended) and started on the same port."""

    name = "postgresql stopped"

    def __init__(self, server: PostgresServer) -> None:
        self.server = server

    def away(self) -> None:
        self.server.run(self.server.pg_ctl, "-D", str(self.server.data), "-m", "fast", "-w", "stop")

    def back(self) -> None:
        options = (f"-p {self.server.port} -k {self.server.socket_dir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off")
        self.server.run(self.server.pg_ctl, "-D", str(self.server.data), "-l", str(self.server.root / "log"),
                        "-o", options, "-w", "start")

    def check_nothing_created(self) -> None:
        pass


@pytest.fixture(scope="module")
def own_postgres():
    """A PostgreSQL of this module's own: it is stopped and started, which the suite's shared server must not be."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite moved", "sqlite replaced", "postgresql stopped"])
def outage(request, tmp_path):
    if request.param == "postgresql stopped":
        server = request.getfixturevalue("own_postgres")
        return server.create_database(), StoppedServer(server)
    url = f"sqlite:///{tmp_path / 'outage.db'}"
    return url, (MovedFile if request.param == "sqlite moved" else ReplacedFile)(url)


# --------------------------------------------------------------------------------------------- the app's doors
class Dashboard:
    """A signed-in browser's and a data source's view of the app: the overview's callback, the as-of poll, ingest."""

    def __init__(self, url: str, busy_timeout_s: float = 30) -> None:
        seeded = handmade.empty_city(url)
        with seeded.transaction() as session:
            session.add(Insurer(id=1, city_adcode=CITY, code="INS01", name_zh="保险机构01", name_en="Insurer 01"))
        self.token = create_token(seeded, "outage-feed")
        seeded.dispose()
        self.db = Database(url, QueryCache.from_url("simple"), busy_timeout_s=busy_timeout_s)
        self.app = create_app(load_settings({}, database_url=url, demo=False), self.db)
        self.client = signed_in_client(self.app)
        assert self.client.get("/").status_code == 200      # the page answers (create_app has set up its callbacks)

        cookie = self.app.server.config.get("SESSION_COOKIE_NAME", "session")
        self.walls = [self.app.server.test_client() for _ in range(CLIENTS)]     # the same signed-in session
        for wall in self.walls:
            wall.set_cookie(cookie, self.client.get_cookie(cookie).value)

    def ingest(self, row: dict):
        return self.client.post("/api/v1/cases", json=[row], headers={"Authorization": f"Bearer {self.token}"})

    def polls_together(self) -> list[str]:
        """What CLIENTS signed-in screens polling the as-of at once hear ("ok" or "unavailable"); each request holds
        its own pooled connection, so the pool has several when the database goes."""
        with ThreadPoolExecutor(CLIENTS) as pool:
            return list(pool.map(lambda wall: self.as_of(wall)["database"], self.walls))

    def as_of(self, client=None) -> dict:
        response = (client or self.client).get(f"/api/v1/as-of?city={CITY}")
        assert response.status_code == 200
        return response.get_json()

    def overview(self) -> str:
        """The overview callback's answer for June 2020 (status 200 asserted), as text."""
        key = next(key for key in self.app.callback_map if f"{OVERVIEW_KPIS}.children" in key)
        outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key[2:-2].split("...")]
        body = {"output": key, "outputs": outputs, "changedPropIds": ["app-url.search"],
                "inputs": [{"id": "app-url", "property": "search", "value": "?start=2020-06-01&end=2020-06-30"},
                           {"id": "app-refresh", "property": "n_intervals", "value": 1}]}
        response = self.client.post("/_dash-update-component", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return json.dumps(response.get_json(), ensure_ascii=False)


def local_clock(row: dict) -> str:
    return dt.datetime.fromisoformat(row["reported_at"]).strftime("%H:%M")


def wait_until_back(dashboard: Dashboard) -> float:
    """Seconds from now until ingest stores a row again, polled every POLL_S; fails after RECOVERY_LIMIT_S."""
    began = time.monotonic()
    while time.monotonic() - began < RECOVERY_LIMIT_S:
        response = dashboard.ingest(AFTER)
        if response.status_code == 200:
            return time.monotonic() - began
        assert response.status_code == 503, response.get_data(as_text=True)[:300]
        time.sleep(POLL_S)
    pytest.fail(f"ingest still refused {RECOVERY_LIMIT_S} s after the database came back")


# ------------------------------------------------------------------------------------------------------ the tests
def test_out001_away_means_stale_pages_and_503_then_back_by_itself(outage, record_property):
    url, way = outage
    dashboard = Dashboard(url)
    assert dashboard.ingest(FIRST).status_code == 200
    assert dashboard.polls_together() == ["ok"] * CLIENTS
    before = dashboard.overview()
    assert OVERVIEW_KPIS in before and DB_MESSAGE not in before
    assert dashboard.as_of()["as_of_local"] == local_clock(FIRST)

    way.away()
    try:
        assert dashboard.polls_together() == ["unavailable"] * CLIENTS
        refused = dashboard.ingest(DURING)
        assert refused.status_code == 503
        assert int(refused.headers["Retry-After"]) > 0
        assert "unavailable" in refused.get_json()["error"]
        during = dashboard.overview()        # the message, and no_update for the figures: the last ones stay
        assert DB_MESSAGE in during and OVERVIEW_KPIS not in during
        status = dashboard.as_of()
        assert status["database"] == "unavailable" and status["stale"] is True
        assert dashboard.client.get(f"/api/v1/kpis?city={CITY}").status_code == 503
        with pytest.raises(DatabaseUnavailable):
            authenticate(dashboard.db, f"Bearer {dashboard.token}")
        way.check_nothing_created()
    finally:
        way.back()

    seconds = wait_until_back(dashboard)
    record_property("recovery_seconds", round(seconds, 2))
    print(f"\n{way.name}: ingest stored again {seconds:.2f} s after the database came back")
    assert seconds < RECOVERY_LIMIT_S
    assert dashboard.as_of()["as_of_local"] == local_clock(AFTER)     # fresh data, not a cached answer
    assert dashboard.polls_together() == ["ok"] * CLIENTS
    after = dashboard.overview()
    assert OVERVIEW_KPIS in after and DB_MESSAGE not in after
    dashboard.db.dispose()


def test_out002_a_locked_sqlite_file_answers_503_and_recovers_when_unlocked(tmp_path):
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    dashboard = Dashboard(url, busy_timeout_s=0.5)
    assert dashboard.ingest(FIRST).status_code == 200
    holder = sqlite3.connect(sqlite_path(url), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        refused = dashboard.ingest(DURING)
        assert refused.status_code == 503 and "locked" in refused.get_json()["error"]
        assert "Retry-After" in refused.headers
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert dashboard.ingest(AFTER).status_code == 200
    assert dashboard.as_of()["as_of_local"] == local_clock(AFTER)
    dashboard.db.dispose()


def test_out003_only_the_first_start_creates_a_sqlite_file(tmp_path):
    path = tmp_path / "new" / "jingbao.db"
    db = Database(f"sqlite:///{path}")
    with pytest.raises(DatabaseUnavailable, match="unable to open"):
        db.data_version()
    with pytest.raises(DatabaseUnavailable, match="unable to open"), db.session() as session:
        session.execute(City.__table__.select())
    assert not db.has_schema()
    assert not path.exists() and not path.parent.exists()
    db.create_schema()
    assert path.is_file() and db.has_schema() and db.data_version() == 0
    assert not db.create_file()          # there is one now: nothing to do
    db.dispose()


def test_out006_an_empty_file_is_no_database_until_a_first_start_makes_it_one(tmp_path):
    path = tmp_path / "touched.db"
    path.touch()
    db = Database(f"sqlite:///{path}")
    with pytest.raises(DatabaseUnavailable, match="empty"):
        db.data_version()
    assert not db.has_schema() and path.stat().st_size == 0
    db.create_schema()
    assert db.has_schema() and db.data_version() == 0
    db.dispose()


def test_out004_errors_that_are_no_outage_stay_what_they_are(tmp_path):
    """A broken constraint is a bug to see, not a database to wait for."""
    from sqlalchemy.exc import IntegrityError

    db = handmade.empty_city(tmp_path)
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(City(adcode=CITY, name_zh="漳州市", name_en="Zhangzhou", programme_start=dt.date(2019, 12, 2),
                         center_lon=117.65, center_lat=24.51))
    db.dispose()


def test_out005_the_wal_and_pragmas_hold_on_connections_that_never_create(tmp_path):
    db = handmade.empty_city(tmp_path)
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert Path(sqlite_path(db.url)).with_name("handmade.db-wal").exists()
    db.dispose()
