"""`jingbao serve` and `jingbao simulate` as a person runs them: real processes on free localhost ports, each bounded
in time and stopped by the test. `jingbao serve` is gunicorn unless --dev, sized to the machine, its feeds run once in
the master; an empty database gets a (small) demo build and every page answers; a restart tops the data up;
`--workers 2` answers from two gunicorn workers; a short simulation writes patrols and incidents.

About 45 s on SQLite, a minute on PostgreSQL: they run in the SQLite pass of `make test` only. What they add is the
processes; the PostgreSQL side of those (multi-worker reads, the simulator's writes, the demo build) is proven by
test_workers.py, test_simulator.py and test_demo_build.py in the PostgreSQL pass."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dash
import pytest
from sqlalchemy import func, select

from base.settings import PROJECT_ROOT, SettingsError, load_settings
from dashboard.app import create_app
from dashboard.cli import main
from dashboard.server import THREADS, default_workers
from data_access import metrics
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.models import AccidentCase, DemoBuild, UnitPosition
from data_access.simulator import SOURCE as SIMULATOR
from data_access.timeutil import LOCAL_OFFSET, local_today
from tests.servers import free_port, fresh_database_url
from tests.signin import LEADER, PASSWORD, ensure_account
from tests.unit import handmade

pytestmark = pytest.mark.sqlite_pass

ZHANGZHOU, CHONGQING = "350600", "500000"
DEMO_DAYS = 30
DEMO_SCALE = "0.01"        # a month of both cities at a hundredth of the volume: built in a few seconds
START_TIMEOUT_S = 120      # a busy two-core machine: demo build, imports, first request
STOP_TIMEOUT_S = 30


def small_demo() -> dict[str, str]:
    return {"JINGBAO_DEMO_SCALE": DEMO_SCALE, "JINGBAO_DEMO_START": str(local_today() - dt.timedelta(days=DEMO_DAYS))}


class Jingbao:
    """One `jingbao` process with its own environment; its output goes to a file the test reads as it grows."""

    def __init__(self, log: Path, database_url: str, *args: str, environment: dict[str, str] | None = None) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("JINGBAO_", "GUNICORN_"))}
        env.update(JINGBAO_DATABASE_URL=database_url, JINGBAO_CACHE_URL="simple", PYTHONUNBUFFERED="1",
                   JINGBAO_WARM="0", **(environment or {}))
        self.log = log
        self.handle = log.open("wb")
        # a session of its own, so that stopping it also stops what it started (gunicorn's workers)
        self.process = subprocess.Popen([sys.executable, "-m", "dashboard.cli", *args], cwd=PROJECT_ROOT, env=env,
                                        stdout=self.handle, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_output(self, pattern: str, timeout: float = START_TIMEOUT_S) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output())
            if found:
                return found
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in the output (exit code {self.process.poll()}):\n{self.output()}")

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"still running after {timeout} s:\n{self.output()}") from None

    def stop(self) -> None:
        """SIGTERM to the process group, as a service manager stops it; SIGKILL if it lingers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT_S)
        self.handle.close()


class Server(Jingbao):
    """`jingbao serve` on a free localhost port."""

    def __init__(self, log: Path, database_url: str, *args: str, environment: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.router: dict | None = None
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        super().__init__(log, database_url, "serve", "--host", "127.0.0.1", "--port", str(self.port), *args,
                         environment=environment)

    def wait_until_serving(self) -> None:
        """Until the login page answers 200 (the demo build, imports and start-up come first)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"jingbao serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if self.get("/login")[0] == 200:
                    return
            except OSError:
                pass                                     # not listening yet
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"jingbao serve did not answer within {START_TIMEOUT_S} s:\n{self.output()}")

    def wait_until_healthy(self) -> None:
        """Until /healthz answers 200 (it needs no data, no sign-in and no database)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"jingbao serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass                                     # not listening yet
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"jingbao serve did not answer /healthz within {START_TIMEOUT_S} s:\n{self.output()}")

    def headers(self, path: str) -> dict[str, str]:
        try:
            with self.opener.open(self.url + path, timeout=30) as response:
                return dict(response.headers)
        except urllib.error.HTTPError as error:
            return dict(error.headers)

    def sign_in(self, name: str, password: str) -> None:
        """Sign in through the login form, as a browser does; the session cookie is kept for every later request."""
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        csrf = re.search(r'name="csrf" value="([^"]+)"', self.get("/login")[1]).group(1)
        form = urllib.parse.urlencode({"username": name, "password": password, "csrf": csrf}).encode("utf-8")
        with self.opener.open(urllib.request.Request(self.url + "/login", data=form), timeout=30) as response:
            assert "/login" not in response.url, f"signing in as {name} failed"

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.url + path, timeout=30) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", errors="replace")

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode("utf-8"), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, {"error": error.read().decode("utf-8", errors="replace")}

    def page_content(self, path: str) -> tuple[int, dict]:
        """The page's layout as the server renders it when a browser opens `path`: the request Dash's page router
        callback receives (its inputs read from the server's own `/_dash-dependencies`)."""
        if self.router is None:
            status, text = self.get("/_dash-dependencies")
            assert status == 200
            self.router = next(c for c in json.loads(text) if c["output"].startswith(".._pages_content.children"))
        router = self.router
        values = {("_pages_location", "pathname"): path, ("_pages_location", "search"): ""}
        inputs = [{**i, "value": values.get((i["id"], i["property"]))} for i in router["inputs"]]
        outputs = [dict(zip(("id", "property"), part.split("."), strict=True))
                   for part in router["output"].strip(".").split("...")]
        return self.post("/_dash-update-component", {
            "output": router["output"], "outputs": outputs, "inputs": inputs,
            "state": [{**s, "value": None} for s in router["state"]], "changedPropIds": ["_pages_location.pathname"],
        })


def page_paths(database_url: str) -> list[str]:
    """Every page of the app, from Dash's page registry (the 404 page aside); a path template such as
    /district/<adcode> is filled with a district of the demo."""
    create_app(load_settings({}, database_url=database_url, demo=False))      # fills dash.page_registry
    district = metrics.district_names(Database(database_url), ZHANGZHOU)["district_adcode"].iloc[0]
    paths = [re.sub(r"<[^/>]+>", district, page.get("path_template") or page["path"])
             for page in dash.page_registry.values() if not page["module"].endswith("not_found_404")]
    assert "/" in paths and f"/district/{district}" in paths and "/wall" in paths
    return sorted(paths)


def count_cases(db: Database, *conditions) -> int:
    with db.session() as session:
        return session.execute(select(func.count()).select_from(AccidentCase).where(*conditions)).scalar()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    """A small demo database for the commands that need one (serve --workers, simulate)."""
    url = fresh_database_url(tmp_path_factory.mktemp("served"), "demo.db")
    build_demo(Database(url), scale=float(DEMO_SCALE), start=local_today() - dt.timedelta(days=DEMO_DAYS))
    return url


@pytest.mark.parametrize("variable, value, problem", [
    ("JINGBAO_DEMO_SCALE", "0", "more than 0 and at most 10"),
    ("JINGBAO_DEMO_SCALE", "10.5", "more than 0 and at most 10"),
    ("JINGBAO_DEMO_SCALE", "nan", "more than 0 and at most 10"),
    ("JINGBAO_DEMO_SCALE", "a tenth", "is not valid"),
    ("JINGBAO_DEMO_START", "2020-13-01", "is not valid"),
    ("JINGBAO_DEMO_START", str(local_today() + dt.timedelta(days=2)), "must not be after today"),
])
def test_demo_size_settings_are_checked_at_start(variable, value, problem, tmp_path, monkeypatch, capsys):
    with pytest.raises(SettingsError, match=problem):
        load_settings({variable: value})
    monkeypatch.setenv("JINGBAO_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    monkeypatch.setenv(variable, value)
    assert main(["db", "current"]) == 2                  # every command: one line, before anything is opened
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and variable in err


def test_demo_size_settings_default_to_the_full_demo():
    assert (load_settings({}).demo_scale, load_settings({}).demo_start) == (1.0, None)
    settings = load_settings({"JINGBAO_DEMO_SCALE": "0.05", "JINGBAO_DEMO_START": "2020-01-01"})
    assert (settings.demo_scale, settings.demo_start) == (0.05, dt.date(2020, 1, 1))


def test_serve_builds_the_demo_into_an_empty_database_serves_every_page_and_tops_up_on_restart(tmp_path):
    url = fresh_database_url(tmp_path, "empty.db")
    first = Server(tmp_path / "first.log", url, environment=small_demo())
    try:
        first.wait_until_serving()
        built = int(first.wait_for_output(r"built demo data: ([\d,]+) accident cases").group(1).replace(",", ""))
        assert built > 0
        demo = dict(re.findall(r"^  \w+ +(demo-\w+) +(\S+)$", first.output(), re.MULTILINE))
        assert set(demo) == {f"demo-{role}" for role in ("leader", "district", "insurer", "planner", "wall", "admin")}
        assert first.get("/")[1].count('name="password"') == 1          # signed out: the login page
        assert "demo-leader" in first.get("/login")[1]                  # demo mode lists the demo accounts
        first.sign_in("demo-leader", demo["demo-leader"])
        missing = first.page_content("/no-such-page")[1]
        paths = page_paths(url)
        for path in paths:
            if path == "/admin":
                continue
            status, html = first.get(path)
            assert status == 200 and '<div id="react-entry-point">' in html, path
            status, content = first.page_content(path)
            assert status == 200, f"{path} answered {status}:\n{first.output()[-4000:]}"
            assert content["response"]["_pages_content"]["children"], path
            assert content != missing, f"{path} shows the 404 page"
        assert first.get("/admin")[0] == 403                            # the leader does not administer
        first.sign_in("demo-admin", demo["demo-admin"])
        assert first.get("/admin")[0] == 200 and first.page_content("/admin")[0] == 200
        first.sign_in("demo-leader", demo["demo-leader"])
        assert first.get("/no-such-page")[0] == 404
        status, text = first.get(f"/api/v1/kpis?city={ZHANGZHOU}&range=all&compare=none")
        assert status == 200 and json.loads(text)["kpis"]["alerts"]["value"] > 0
    finally:
        first.stop()
    db = Database(url)
    assert count_cases(db) == built                      # what the start-up line said it built
    with db.session() as session:                        # built at JINGBAO_DEMO_SCALE from JINGBAO_DEMO_START
        builds = session.execute(select(DemoBuild.city_adcode, DemoBuild.scale, DemoBuild.first_day)).all()
        first_day = session.execute(select(func.min(AccidentCase.local_day))).scalar()
    demo_start = dt.date.fromisoformat(small_demo()["JINGBAO_DEMO_START"])
    assert sorted(builds) == [(ZHANGZHOU, float(DEMO_SCALE), demo_start), (CHONGQING, float(DEMO_SCALE), demo_start)]
    assert first_day >= demo_start
    version, cases = db.data_version(), count_cases(db)

    second = Server(tmp_path / "second.log", url, environment=small_demo())
    try:
        added = second.wait_for_output(r"demo data topped up with ([\d,]+) accident cases")
        second.wait_until_serving()
        assert "built demo data" not in second.output()
    finally:
        second.stop()
    assert count_cases(db) == cases + int(added.group(1).replace(",", ""))
    assert db.data_version() > version                   # the top-up rewrote the last days: caches start afresh


def test_serve_with_two_workers_answers_from_two_gunicorn_workers(demo_url, tmp_path):
    # gunicorn reads extra flags from GUNICORN_CMD_ARGS: the worker's process id in each access-log line
    ensure_account(Database(demo_url))
    server = Server(tmp_path / "gunicorn.log", demo_url, "--workers", "2",
                    environment={"GUNICORN_CMD_ARGS": "--access-logformat 'worker=%(p)s %(r)s %(s)s'"})
    try:
        server.wait_for_output(r"with 2 gunicorn workers")
        server.wait_until_serving()
        server.sign_in(LEADER, PASSWORD)          # the session signed by one worker is honoured by the other
        kpis = f"/api/v1/kpis?city={ZHANGZHOU}&range=all&compare=none"
        answered: set[str] = set()
        deadline = time.monotonic() + START_TIMEOUT_S
        with ThreadPoolExecutor(8) as pool:
            while len(answered) < 2 and time.monotonic() < deadline:
                answers = list(pool.map(lambda _: server.get(kpis), range(16)))
                assert {status for status, _ in answers} == {200}
                assert len({text for _, text in answers}) == 1          # every worker gives the same figures
                answered = set(re.findall(r"worker=<?(\d+)>? GET /api/v1/kpis", server.output()))
        workers = worker_pids(server.process.pid)
        assert len(workers) == 2, server.output()
        assert answered == workers, server.output()
        # and each worker started its process for heavy queries (forkserver, then the pool's child) unasked
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(grandchildren(worker) for worker in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert all(grandchildren(worker) for worker in workers), server.output()
    finally:
        server.stop()
    assert server.process.returncode == 0, server.output()


def grandchildren(pid: str) -> set[str]:
    return {grandchild for child in worker_pids(int(pid)) for grandchild in worker_pids(int(child))}


HEALTHZ_COUNT = re.compile(r'_count\{method="GET",route="/healthz",status="200"\} ([\d.]+)')


def settled_healthz_count(server: Server) -> float:
    """The /healthz requests counted by /metrics, read until two reads a quarter second apart agree (bounded)."""
    last = None
    for _ in range(40):
        found = HEALTHZ_COUNT.search(server.get("/metrics")[1])
        count = float(found.group(1)) if found else 0.0
        if count == last:
            return count
        last = count
        time.sleep(0.25)
    raise AssertionError(f"the /healthz count never settled (last {last})")


def test_serve_is_gunicorn_by_default_sized_to_the_machine_and_counts_for_every_worker(tmp_path):
    db = handmade.empty_city(tmp_path)
    server = Server(tmp_path / "default.log", db.url, environment={"JINGBAO_DEMO": "0"})
    try:
        server.wait_until_healthy()
        workers = default_workers()
        assert f"with {workers} gunicorn workers × {THREADS} threads" in server.output()
        assert server.headers("/healthz")["Server"] == "gunicorn"             # and no version
        assert server.headers("/login")["X-Frame-Options"] == "DENY"
        status, text = server.get("/readyz")
        assert status == 200 and json.loads(text)["status"] == "ready"
        # a request is counted as its answer leaves: read the count once it has settled, before and after
        before = settled_healthz_count(server)
        asked = 40
        for _ in range(asked):
            assert server.get("/healthz")[0] == 200
        answered = set(re.findall(r"Booting worker with pid: (\d+)", server.output()))
        assert len(answered) == workers and worker_pids(server.process.pid) == answered
        # any worker's /metrics counts every worker's requests (PROMETHEUS_MULTIPROC_DIR)
        assert settled_healthz_count(server) == before + asked
    finally:
        server.stop()
    assert server.process.returncode == 0, server.output()


def test_serve_dev_is_the_flask_development_server_without_versions(tmp_path):
    db = handmade.empty_city(tmp_path)
    server = Server(tmp_path / "dev.log", db.url, "--dev", environment={"JINGBAO_DEMO": "0"})
    try:
        server.wait_until_healthy()
        assert "(Flask development server)" in server.output()
        assert server.headers("/healthz")["Server"] == "jingbao"
        assert server.get("/_reload-hash")[0] == 404                         # no --debug: no reloading
    finally:
        server.stop()


def test_serve_live_runs_the_simulator_once_under_gunicorn(demo_url, tmp_path):
    db = Database(demo_url)
    with db.session() as session:
        before = session.execute(select(func.max(UnitPosition.at))).scalar() or dt.datetime(2000, 1, 1)
    server = Server(tmp_path / "live.log", demo_url, "--live", "--workers", "2", environment={"JINGBAO_DEMO": "0"})
    try:
        server.wait_until_healthy()
        master = server.process.pid
        assert re.findall(r"live feed: simulating [\d, ]+ \(process (\d+)\)", server.output()) == [str(master)]
        deadline = time.monotonic() + START_TIMEOUT_S
        written = 0
        while time.monotonic() < deadline and not written:
            with db.session() as session:
                written = session.execute(select(func.count()).select_from(UnitPosition)
                                          .where(UnitPosition.at > before)).scalar()
            time.sleep(0.5)
        assert written > 0, server.output()
        assert len(worker_pids(master)) == 2
    finally:
        server.stop()


def worker_pids(master: int) -> set[str]:
    """The process ids of the children of `master` (gunicorn's workers)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            children.add(stat.parent.name)
    return children


def test_simulate_runs_a_bounded_time_and_writes_patrols_and_incidents(demo_url, tmp_path):
    db = Database(demo_url)
    morning = dt.datetime.combine(local_today() - dt.timedelta(days=1), dt.time(8))   # yesterday's rush hour
    began, ended = morning - LOCAL_OFFSET, morning - LOCAL_OFFSET + dt.timedelta(minutes=20)
    run = Jingbao(tmp_path / "simulate.log", demo_url, "simulate", "--city", ZHANGZHOU, "--minutes", "20",
                  "--start", f"{morning:%Y-%m-%dT%H:%M}", "--rate-scale", "10", "--seed", "5")
    assert run.wait(START_TIMEOUT_S) == 0, run.output()
    summary = re.search(rf"{ZHANGZHOU}: (\d+) incidents, (\d+) units, up to ([\d-]+ [\d:]+) UTC", run.output())
    assert summary, run.output()
    incidents, units = int(summary.group(1)), int(summary.group(2))
    assert incidents > 0 and units == 83
    assert summary.group(3) == f"{ended:%Y-%m-%d %H:%M:%S}"
    simulated = (AccidentCase.source == SIMULATOR, )
    assert count_cases(db, *simulated) == incidents
    assert count_cases(db, *simulated, AccidentCase.reported_at >= began, AccidentCase.reported_at <= ended) \
        == incidents
    with db.session() as session:
        steps, units_seen = session.execute(
            select(func.count(func.distinct(UnitPosition.at)), func.count(func.distinct(UnitPosition.unit_id)))
            .where(UnitPosition.at > began, UnitPosition.at <= ended)).one()
    assert steps == 20 * 60 // 15                        # a position every 15 s step, up to the last
    assert units_seen >= 70                              # nine in ten of the 83 units are on duty by day
