"""Warming (issue 17): after a pass no viewer waits for a cold default view, a change of the data starts a new
pass, and the in-process viewer that warms cannot be used from outside."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest

from base.settings import load_settings
from dashboard.app import create_app
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.timeutil import local_today, utcnow
from services import warm
from services.warm import Screen, Warmer, allow_in_process_requests, default_views, server_callbacks
from tests.servers import fresh_database_url
from tests.signin import ensure_account, signed_in_client

ZZ = "350600"
WAIT_S = 60

pytestmark = pytest.mark.sqlite_pass     # replays page loads through the app: the backend adds nothing here


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    url = fresh_database_url(tmp_path_factory.mktemp("warm"), "warm.db")
    db = Database(url)
    build_demo(db, scale=0.02, cities=(ZZ,), start=local_today() - dt.timedelta(days=20), end=utcnow())
    ensure_account(db)                                        # accounts first: creating one changes the data version
    ensure_account(db, "test-district", "district", city=ZZ, districts=("350602",))
    db.dispose()
    return url


def fresh_app(url: str):
    """The app on the demo database with a fresh in-process cache, warm requests allowed."""
    db = Database(url, QueryCache.from_url("simple"))
    app = create_app(load_settings({}, database_url=url, demo=False), db, refresh_ms=3_600_000)
    allow_in_process_requests(app)
    return app


@pytest.fixture
def app(demo_url):
    app = fresh_app(demo_url)
    yield app
    app.server.config["JINGBAO_DB"].dispose()


@pytest.fixture(scope="module")
def warmed(demo_url):
    """An app after one warm pass, and its report."""
    app = fresh_app(demo_url)
    report = Warmer(app).warm_pass()
    yield app, report
    app.server.config["JINGBAO_DB"].dispose()


def open_page(client, path: str, search: str = "") -> dict[str, dict]:
    """Load `path` as the browser does (the layout, the router, the shell, the page's callbacks) with `client`;
    returns every answer by output id."""
    layout = client.get("/_dash-layout").get_json()
    screen = Screen(server_callbacks(client.get("/_dash-dependencies").get_json()))
    answers: dict[str, dict] = {}

    def post(cb, changed):
        response = client.post(warm.CALLBACK_PATH, data=cb.body(screen.props, changed),
                               content_type="application/json")
        assert response.status_code in (200, 204), f"{path} {cb.label}: {response.status_code}"
        answer = response.get_json()["response"] if response.status_code == 200 else {}
        answers.update(answer)
        return answer

    screen.settle(screen.mount(layout, path, search), post)
    return answers


def cold_lookups(app, client, path: str) -> tuple[int, dict]:
    """How many cached lookups of opening `path` found nothing (each one a computation), and the answers."""
    cache = app.server.config["JINGBAO_DB"].cache
    before = cache.misses
    answers = open_page(client, path)
    return cache.misses - before, answers


def test_warm001_default_views_are_every_leader_page_of_every_city(warmed):
    app, _ = warmed
    paths = [path for path, _ in default_views(app)]
    assert paths[0] == "/"
    assert {"/", "/throughput", "/payouts", "/coverage", "/map", "/wall"} <= set(paths)
    assert "/admin" not in paths and not any(path.startswith("/district") for path in paths)


@pytest.mark.parametrize("path", ["/", "/throughput", "/payouts", "/wall"])
def test_warm002_first_default_view_after_a_pass_is_served_from_the_cache(warmed, path):
    app, report = warmed
    leader = signed_in_client(app)
    assert report.errors == []
    assert report.views == len(default_views(app)) and report.callbacks > report.views
    misses, answers = cold_lookups(app, leader, path)
    assert misses == 0, f"{path}: {misses} cold computations after warming"
    page = "overview" if path == "/" else path.strip("/")
    assert any(key.startswith(f"{page}-") for key in answers), sorted(answers)   # the page's own callbacks ran


@pytest.mark.parametrize("path", ["/", "/throughput"])
def test_warm003_without_a_pass_the_same_view_computes(app, path):
    misses, answers = cold_lookups(app, signed_in_client(app), path)
    assert misses > 0
    assert "overview-kpis" in answers if path == "/" else "throughput-problems" in answers


def test_warm004_another_scope_is_not_served_a_leader_entry(warmed):
    app, _ = warmed
    misses, answers = cold_lookups(app, signed_in_client(app, "test-district"), "/")
    assert misses > 0                         # a district user's figures are its districts': computed for it
    assert "overview-kpis" in answers


def test_warm005_a_data_version_change_starts_a_new_pass(app):
    db = app.server.config["JINGBAO_DB"]
    warmer = Warmer(app, views=[("/throughput", "")])
    first = warmer.step()
    assert first is not None and first.version == db.data_version()
    assert warmer.step() is None                                  # nothing changed: no pass
    with db.transaction():                                        # a write: the data version moves on
        pass
    second = warmer.step()
    assert second is not None and second.version == first.version + 1
    misses, _ = cold_lookups(app, signed_in_client(app), "/throughput")
    assert misses == 0


def test_warm006_the_watching_thread_warms_at_start_and_after_each_change(app):
    db = app.server.config["JINGBAO_DB"]
    warmer = Warmer(app, views=[("/", "")])
    stop = threading.Event()
    thread = threading.Thread(target=warmer.watch, args=(stop, 0.05), daemon=True)
    thread.start()
    try:
        wait_until(lambda: warmer.passes >= 1, "the first pass")
        with db.transaction():
            pass
        version = db.data_version()
        wait_until(lambda: warmer.warmed == version, "a pass of the new data version")
        assert warmer.passes == 2 and warmer.last.errors == []
    finally:
        stop.set()
        thread.join(WAIT_S)
    assert not thread.is_alive()


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {WAIT_S} s"
        threading.Event().wait(0.05)


def test_warm007_the_warm_viewer_cannot_be_claimed_from_outside(app):
    dependencies = signed_in_client(app).get("/_dash-dependencies").get_json()
    body = json.loads(next(cb for cb in server_callbacks(dependencies)
                           if "overview-kpis" in cb.output).body({("app-url", "search"): ""}, []))
    client = app.server.test_client()
    # nothing an HTTP client sends can put the in-process marker object in the environ: a header, or a string
    for extra in ({"headers": {"jingbao.warm": "1", "X-Jingbao-Warm": "1"}},
                  {"environ_base": {"jingbao.warm": "1"}}):
        assert client.post(warm.CALLBACK_PATH, json=body, **extra).status_code == 401
    assert client.get("/throughput").status_code == 302                   # to the sign-in page


def test_warm008_the_switch():
    from base.settings import load_settings
    from dashboard.server import warming

    assert warming(load_settings({})) and warming(load_settings({"JINGBAO_WARM": "1"}))
    for off in ("0", "false", "No", "off"):
        assert not warming(load_settings({"JINGBAO_WARM": off}))
    assert not warming(load_settings({"JINGBAO_CACHE_URL": "null"}))      # nothing would be kept
