"""Load: wall displays and one heavy user at once against `jingbao serve` (gunicorn, the default production server)
on the full demo database, as issue 15 asks: 50 walls for 10 minutes, 0 errors, wall callbacks p95 < 300 ms, the
wall's as-of poll p95 < 100 ms.

Each wall is a browser as far as the server can tell: it signs in through its kiosk link, loads the page, the layout
and the callback graph, fires the callbacks the renderer fires on load (read from `/_dash-dependencies` and the
layout, never written out here), then every Interval's callbacks at the interval the layout gives it and the as-of
poll of assets/wall.js at the wall's own `poll_ms`. Walls open at random moments of the first half-minute, so their
timers do not fire together. Beside them one leader runs the heavy views back to back: coverage of Chongqing over
all data, payouts of Chongqing for 12 months, the briefing PDF, and the live map's playback of yesterday.

    python -m benchmarks.load [--minutes 10] [--walls 50] [--url http://127.0.0.1:PORT]

Without --url the benchmark starts `jingbao serve` itself on a free 127.0.0.1 port (JINGBAO_DEMO=0: no top-up) and
stops it at the end; with --url it uses a server already running on this machine against the same database
(JINGBAO_DATABASE_URL, default var/jingbao.db: the accounts are created there). Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import os
import random
import re
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np
import requests
from requests.adapters import HTTPAdapter

from benchmarks._common import BENCH_ACCOUNT, Row
from services.warm import Callback, Screen, callback_named, server_callbacks

DEFAULT_MINUTES = 10.0        # the figure; `--minutes 1` for a quick run
DEFAULT_WALLS = 50
WALL_CALLBACK_TARGET_MS = 300
AS_OF_TARGET_MS = 100
WALL_LIMIT_S = 5.0            # a wall request slower than this is an error (the wall's own as-of timeout)
HEAVY_LIMIT_S = 60.0          # a heavy view slower than the server's worker timeout is an error
REQUEST_TIMEOUT_S = 30.0      # a callback is still waited for this long, to measure how slow it was
OPEN_WITHIN_S = 30.0          # walls open at random moments of this first stretch (one charts interval)
BROWSER_CONNECTIONS = 6       # a browser's connections to one host
START_TIMEOUT_S = 180.0       # `jingbao serve` opening the full demo database
STOP_TIMEOUT_S = 15.0
PLAYBACK_FRAMES = 30          # frames of the live map's playback per heavy loop, back to back
WALL_CITIES = ("500000", "350600")   # walls alternate between the two demo cities
HEAVY_CITY = "500000"
CALLBACK_PATH = "/_dash-update-component"
WALL_JS = "/assets/wall.js"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
NO_CACHE = {"Cache-Control": "no-cache", "Pragma": "no-cache"}     # what fetch(..., {cache: "no-store"}) sends


# ----------------------------------------------------------------------------------------------- measurement
@dataclass
class Tally:
    """Every request's latency and every error, by kind; safe to call from many threads."""

    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    retried: Counter = field(default_factory=Counter)
    throttles: Counter = field(default_factory=Counter)       # 429s with Retry-After, waited out and tried again
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float, error: str | None) -> None:
        with self.lock:
            self.samples[kind].append(ms)
            if error:
                self.errors[kind][error] += 1

    def request(self, kind: str, session: requests.Session, method: str, url: str, *, limit_s: float,
                timeout_s: float = REQUEST_TIMEOUT_S, check=None, **kwargs) -> requests.Response | None:
        """One timed request; an error is an exception, a status other than 2xx, a time over `limit_s`, or what
        `check(response)` says is wrong with the answer. A connection that breaks before any answer is tried once
        more on a new connection, as a browser does when a kept-alive connection was closed under it (counted in
        `retried`, and the time includes both tries)."""
        started = time.perf_counter()
        response = None
        attempt = 0
        while attempt < 2:
            attempt += 1
            try:
                response = session.request(method, url, timeout=timeout_s, **kwargs)
                wait = _retry_after(response)
                if wait is not None and self.throttles.get(kind, 0) < MAX_THROTTLES:
                    with self.lock:            # the rate limit working: wait as it says, as a browser user would
                        self.throttles[kind] += 1
                    time.sleep(wait)
                    started, attempt = time.perf_counter(), 0
                    continue
                break
            except requests.ConnectionError as exc:
                if attempt == 1 and not isinstance(exc, requests.Timeout):
                    with self.lock:
                        self.retried[f"{kind}: {_reason(exc)}"] += 1
                    continue
                self.add(kind, (time.perf_counter() - started) * 1000, _reason(exc))
                return None
            except requests.RequestException as exc:
                self.add(kind, (time.perf_counter() - started) * 1000, _reason(exc))
                return None
        ms = (time.perf_counter() - started) * 1000
        error = None
        if not 200 <= response.status_code < 300:
            error = f"HTTP {response.status_code}"
        elif ms > limit_s * 1000:
            error = f"slower than {limit_s:g} s"
        elif check is not None:
            error = check(response)
        self.add(kind, ms, error)
        return response if error is None else None


MAX_THROTTLES = 1000


def _retry_after(response: requests.Response) -> float | None:
    """The seconds a 429 asks to wait (its Retry-After, at most a minute), or None for any other answer."""
    if response.status_code != 429:
        return None
    try:
        return min(60.0, max(0.0, float(response.headers.get("Retry-After", ""))))
    except ValueError:
        return None


def _reason(exc: Exception) -> str:
    """The exception's class and the innermost cause's class, e.g. "ConnectionError (RemoteDisconnected)"."""
    inner = exc
    while inner.__context__ is not None and inner.__context__ is not inner:
        inner = inner.__context__
    text = str(exc)
    for name in ("RemoteDisconnected", "ConnectionResetError", "ConnectionRefusedError", "BrokenPipeError",
                 "Read timed out", "timed out"):
        if name in text or type(inner).__name__ == name:
            return f"{type(exc).__name__} ({name})"
    return f"{type(exc).__name__} ({type(inner).__name__})"


# ---------------------------------------------------------------------------------------------------- a wall
class Wall(Screen):
    """One wall screen: a session signed in by its kiosk link, and the renderer's side of the callback graph."""

    def __init__(self, base: str, token: str, city: str, tally: Tally, pools: tuple[ThreadPoolExecutor, ...],
                 stop: threading.Event) -> None:
        super().__init__()
        self.base, self.token, self.city = base, token, city
        # timer firings wait for their requests: two pools, so that a request never waits for a free thread held
        # by a firing that waits for it
        self.tally, (self.timer_pool, self.request_pool), self.stop = tally, pools, stop
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=BROWSER_CONNECTIONS))
        self.lock = threading.Lock()
        self.poll_ms = 10_000
        self.as_of_path = "/api/v1/as-of"

    # -- loading, as the browser does it
    def open(self) -> bool:
        page = self.tally.request("wall · page load (kiosk link, page, layout, dependencies)", self.session, "GET",
                                  f"{self.base}/wall?" + urlencode({"kiosk": self.token, "city": self.city}),
                                  limit_s=WALL_LIMIT_S)
        if page is None:
            return False
        referer = {"Referer": page.url}
        layout = self._get_json("/_dash-layout", referer)
        dependencies = self._get_json("/_dash-dependencies", referer)
        if layout is None or dependencies is None:
            return False
        self.callbacks = server_callbacks(dependencies)
        self._settle(self.mount(layout, "/wall", f"?city={self.city}"))
        return True

    def _get_json(self, path: str, headers: dict):
        response = self.tally.request("wall · page load (kiosk link, page, layout, dependencies)", self.session,
                                      "GET", self.base + path, limit_s=WALL_LIMIT_S, headers=headers)
        return None if response is None else response.json()

    def add(self, found: dict[str, dict]) -> set[str]:
        added = super().add(found)
        for spec in found.values():
            if spec["type"] == "Div" and "data-wall" in spec["props"]:
                config = json.loads(spec["props"]["data-wall"])
                self.poll_ms = int(config.get("poll_ms", self.poll_ms))
        return added

    def _settle(self, due: list[tuple[Callback, list[str]]], depth: int = 0) -> None:
        """Post the due callbacks together, apply their answers, and post what those answers trigger in turn."""
        if not due or depth > 4 or self.stop.is_set():
            return
        futures = [(cb, self.request_pool.submit(self._post, cb, changed)) for cb, changed in due]
        follow: dict[Callback, list[str]] = {}
        for cb, future in futures:
            answer = future.result()
            if answer:
                new, changed = self._apply(answer)
                for due_cb, triggers in self.due(new, changed, fired=cb):
                    follow[due_cb] = sorted({*follow.get(due_cb, []), *triggers})
        self._settle(list(follow.items()), depth + 1)

    def _post(self, cb: Callback, changed: list[str]) -> dict | None:
        with self.lock:
            body = cb.body(self.props, changed)
        response = self.tally.request(f"wall · callback {cb.label}", self.session, "POST", self.base + CALLBACK_PATH,
                                      limit_s=WALL_LIMIT_S, data=body,
                                      headers={"Content-Type": "application/json"})
        if response is None or response.status_code == 204:
            return None
        return response.json().get("response") or {}

    def _apply(self, answer: dict) -> tuple[set[str], set[tuple[str, str]]]:
        with self.lock:
            return self.apply(answer)

    # -- running, on the layout's own timers
    def timers(self) -> list[tuple[float, str, float]]:
        """(first fire in s, what, period in s): each Interval with server callbacks, and the as-of poll."""
        found = []
        for item, kind in self.types.items():
            if kind != "Interval" or self.props.get((item, "disabled")):
                continue
            if any((item, "n_intervals") in cb.inputs and self.on_screen(cb) for cb in self.callbacks):
                period = float(self.props.get((item, "interval")) or 1000) / 1000
                found.append((period, item, period))
        found.append((0.3, "as-of", self.poll_ms / 1000))      # wall.js polls 300 ms after it starts
        return found

    def run(self, until: float) -> None:
        queue = [(time.monotonic() + first, what, period) for first, what, period in self.timers()]
        heapq.heapify(queue)
        busy: dict[str, Future] = {}
        while queue and not self.stop.is_set():
            at, what, period = heapq.heappop(queue)
            if self.stop.wait(max(0.0, at - time.monotonic())) or time.monotonic() >= until:
                break
            running = busy.get(what)
            if running is None or running.done():              # a disabled Interval, a poll still out: skip
                busy[what] = self.timer_pool.submit(self._fire, what)
            heapq.heappush(queue, (at + period, what, period))

    def _fire(self, what: str) -> None:
        if what == "as-of":
            self.tally.request("wall · as-of poll", self.session, "GET",
                               f"{self.base}{self.as_of_path}?city={self.city}", limit_s=WALL_LIMIT_S,
                               timeout_s=WALL_LIMIT_S, headers=NO_CACHE, check=_as_of_problem)
            return
        with self.lock:
            ticks = int(self.props.get((what, "n_intervals")) or 0) + 1
            self.props[(what, "n_intervals")] = ticks
        self._settle([(cb, [f"{what}.n_intervals"]) for cb in self.callbacks
                      if (what, "n_intervals") in cb.inputs and self.on_screen(cb)])


def _as_of_problem(response: requests.Response) -> str | None:
    body = response.json()
    return None if body.get("database") == "ok" else f"database {body.get('database')}"


def as_of_path(base: str, session: requests.Session) -> str:
    """The address assets/wall.js polls, read from the script the wall loads."""
    script = session.get(base + WALL_JS, timeout=REQUEST_TIMEOUT_S).text
    found = re.search(r'fetch\("(/[^"?]+)\?city=', script)
    if found is None:
        raise RuntimeError(f"{WALL_JS} no longer polls `fetch(\"/...?city=\"`: update benchmarks/load.py")
    return found.group(1)


# ------------------------------------------------------------------------------------------- the heavy user
class HeavyUser:
    """A leader running the expensive views one after another until stopped."""

    def __init__(self, base: str, password: str, tally: Tally, stop: threading.Event) -> None:
        self.base, self.tally, self.stop = base, tally, stop
        self.session = requests.Session()
        form = self.session.get(f"{base}/login", timeout=REQUEST_TIMEOUT_S).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        answer = self.session.post(f"{base}/login", data={"username": BENCH_ACCOUNT, "password": password,
                                                          "csrf": csrf}, allow_redirects=False,
                                   timeout=REQUEST_TIMEOUT_S)
        if answer.status_code != 302:
            raise RuntimeError(f"the heavy user could not sign in: {answer.status_code}")
        self.callbacks = server_callbacks(self.session.get(f"{base}/_dash-dependencies",
                                                           timeout=REQUEST_TIMEOUT_S).json())
        self.yesterday = (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date() - dt.timedelta(days=1))

    def views(self) -> list[tuple[str, object]]:
        """(label, a function posting that view) for each heavy view this app has."""
        day = self.yesterday.isoformat()
        found = []
        for label, marker, path, search in (
                ("coverage · Chongqing all data", "coverage-problems.children", "/coverage",
                 f"?city={HEAVY_CITY}&range=all"),
                ("payouts · Chongqing 12 months", "payouts-problems.children", "/payouts",
                 f"?city={HEAVY_CITY}&range=12m")):
            try:
                cb = callback_named(self.callbacks, output=marker)
            except LookupError:
                continue
            found.append((f"heavy · {label}", lambda cb=cb, path=path, search=search, label=label:
                          self._page(f"heavy · {label}", cb, path, search)))
        try:
            pdf = callback_named(self.callbacks, input_="briefing-download-pdf.n_clicks")
            found.append(("heavy · briefing PDF · Chongqing yesterday", lambda: self._pdf(pdf, day)))
        except LookupError:
            pass
        try:
            show = callback_named(self.callbacks, output="map-problems.children")
            clock = callback_named(self.callbacks, input_="map-playback.n_intervals")
            frame = callback_named(self.callbacks, input_="map-clock.value")
            found.append(("heavy · live map playback · Chongqing yesterday",
                          lambda: self._playback(show, clock, frame, day)))
        except LookupError:
            pass
        return found

    def run(self) -> None:
        views = self.views()
        while not self.stop.is_set():
            for _, post in views:
                if self.stop.is_set():
                    return
                post()

    def _post(self, kind: str, cb: Callback, values: dict, changed: list[str], check=None) -> dict | None:
        response = self.tally.request(kind, self.session, "POST", self.base + CALLBACK_PATH, limit_s=HEAVY_LIMIT_S,
                                      timeout_s=HEAVY_LIMIT_S + 30, data=cb.body(values, changed),
                                      headers={"Content-Type": "application/json"}, check=check)
        return None if response is None or response.status_code == 204 else response.json().get("response", {})

    def _page(self, kind: str, cb: Callback, path: str, search: str) -> dict | None:
        values = {(i, "search"): search for i, p in cb.inputs if p == "search"}
        values |= {(i, "pathname"): path for i, p in cb.inputs if p == "pathname"}
        return self._post(kind, cb, values, [f"{i}.{p}" for i, p in cb.inputs if p in ("search", "pathname")])

    def _pdf(self, cb: Callback, day: str) -> None:
        (button, prop), = cb.inputs
        values = {(button, prop): 1, **{(i, p): f"?city={HEAVY_CITY}&date={day}" for i, p in cb.state}}

        def has_file(response: requests.Response) -> str | None:
            answer = response.json().get("response", {})
            sent = [v.get("data") for v in answer.values() if isinstance(v.get("data"), dict)]
            return None if sent and sent[0].get("content") else f"no file: {json.dumps(answer)[:120]}"

        self._post("heavy · briefing PDF · Chongqing yesterday", cb, values, [f"{button}.{prop}"], check=has_file)

    def _playback(self, show: Callback, clock: Callback, frame: Callback, day: str) -> None:
        """The map of a past day, then PLAYBACK_FRAMES frames as the play button's ticks ask for them."""
        kind = "heavy · live map playback · Chongqing yesterday"
        answer = self._page(kind, show, "/map", f"?city={HEAVY_CITY}&date={day}")
        if not answer:
            return
        state_id, state_prop = frame.state[0]
        state = answer.get(state_id, {}).get(state_prop)
        (tick_id, tick_prop), = clock.inputs
        (clock_id, clock_prop), = clock.state
        minute = 0
        for n in range(1, PLAYBACK_FRAMES + 1):
            if self.stop.is_set():
                return
            moved = self._post("heavy · live map playback frame (clock + frame)", clock,
                               {(tick_id, tick_prop): n, (clock_id, clock_prop): minute}, [f"{tick_id}.{tick_prop}"])
            minute = (moved or {}).get(clock_id, {}).get(clock_prop, minute + 1)
            self._post("heavy · live map playback frame (clock + frame)", frame,
                       {(clock_id, clock_prop): minute, (state_id, state_prop): state}, [f"{clock_id}.{clock_prop}"])


# ------------------------------------------------------------------------------------------------ the server
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def jingbao_command() -> list[str]:
    script = Path(sys.executable).with_name("jingbao")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dashboard.cli"]


class Server:
    """`jingbao serve` started in its own process group, logging to a file; stopped (bounded) by `stop`."""

    def __init__(self, folder: Path, environment: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / "serve.log"
        environment = {**os.environ, **(environment or {}), "JINGBAO_DEMO": "0", "JINGBAO_HOST": "127.0.0.1",
                       "JINGBAO_PORT": str(self.port)}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen([*jingbao_command(), "serve"], stdout=log, stderr=subprocess.STDOUT,
                                            env=environment, start_new_session=True)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"`jingbao serve` exited ({self.process.returncode}): {self.tail()}")
            try:
                if requests.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"`jingbao serve` did not answer /readyz within {START_TIMEOUT_S:.0f} s: {self.tail()}")

    def wait_for_log(self, pattern: str, timeout_s: float = START_TIMEOUT_S) -> None:
        """Until the server's log has a line matching `pattern` (the warm-up's first pass, say), bounded."""
        deadline = time.monotonic() + timeout_s
        while not re.search(pattern, self.log.read_text(errors="replace")):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"`jingbao serve` never logged {pattern!r}: {self.tail()}")
            time.sleep(0.5)

    def cpu_seconds(self) -> float | None:
        """CPU time of the server's processes (master and workers) so far, from /proc."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        try:
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == self.process.pid:      # process group: the session started for the server
                    total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            return None
        return total

    def stop(self) -> None:
        """SIGTERM to gunicorn's master (it stops its workers), then SIGKILL to whatever is left of the group."""
        try:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)       # a stuck worker, a worker's pool process
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def log_summary(path: Path) -> list[str]:
    """What the server's log says went wrong: 5xx answers, worker timeouts, tracebacks, error lines."""
    text = path.read_text(errors="replace").split("[INFO] Handling signal:")[0].splitlines()   # not the stop
    statuses = Counter()
    problems = Counter()
    for line in text:
        access = re.search(r'"(GET|POST) (\S+) HTTP/[\d.]+" (\d{3}) ', line)
        if access:
            statuses[access.group(3)[0] + "xx"] += 1
            if access.group(3)[0] == "5":
                problems[f"{access.group(3)} {access.group(1)} {access.group(2).split('?')[0]}"] += 1
        elif "WORKER TIMEOUT" in line or "[ERROR]" in line or "[CRITICAL]" in line or "Error" in line \
                or "Traceback" in line:
            problems[re.sub(r"^\[[^]]*\] \[\d+\] ", "", line)[:160]] += 1
    lines = [f"server log {path}: {sum(statuses.values()):,} requests logged, "
             + ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items()))]
    lines += [f"  {count:>5} × {what}" for what, count in problems.most_common(12)]
    return lines


# ------------------------------------------------------------------------------------------------- accounts
def prepare_accounts(walls: int) -> tuple[list[tuple[str, str]], str]:
    """A wall account per city with one kiosk link per wall ((token, city) each), and the leader's new password.
    Earlier runs' kiosk links are revoked first."""
    from base.settings import load_settings
    from data_access import accounts
    from services.runtime import open_database

    db = open_database(load_settings())
    cities = [city for city in WALL_CITIES if _city_known(db, city)] or [WALL_CITIES[0]]
    for city in cities:
        name = wall_account(city)
        if accounts.find_account(db, name) is None:
            accounts.create_account(db, name, "wall", city=city)
        else:
            accounts.revoke_tokens(db, name, "kiosk")
    links = [(accounts.create_token(db, wall_account(cities[n % len(cities)]), "kiosk"), cities[n % len(cities)])
             for n in range(walls)]
    password = secrets.token_urlsafe(16)
    if accounts.find_account(db, BENCH_ACCOUNT) is None:
        accounts.create_account(db, BENCH_ACCOUNT, "leader", password=password)
    else:
        accounts.set_password(db, BENCH_ACCOUNT, password)
    db.dispose()
    return links, password


def revoke_links() -> None:
    from base.settings import load_settings
    from data_access import accounts
    from services.runtime import open_database

    db = open_database(load_settings())
    for city in WALL_CITIES:
        if accounts.find_account(db, wall_account(city)) is not None:
            accounts.revoke_tokens(db, wall_account(city), "kiosk")
    db.dispose()


def wall_account(city: str) -> str:
    return f"bench-wall-{city}"


def _city_known(db, city: str) -> bool:
    from data_access import metrics

    return metrics.catalogue(db).city(city) is not None


# ------------------------------------------------------------------------------------------------- the run
@dataclass
class Result:
    tally: Tally
    walls: int
    opened: int
    seconds: float
    notes: list[str]


def run(minutes: float = DEFAULT_MINUTES, walls: int = DEFAULT_WALLS, url: str | None = None,
        seed: int | None = None) -> Result:
    if url is not None and urlsplit(url).hostname not in LOCAL_HOSTS:
        raise ValueError(f"--url must be a server on this machine (127.0.0.1), not {url}")
    folder = Path(tempfile.mkdtemp(prefix="jingbao-load-"))
    server = None
    notes: list[str] = []
    links, password = prepare_accounts(walls)
    try:
        if url is None:
            server = Server(folder)
            server.wait_ready()
            base = server.base
            notes.append(f"server: `jingbao serve` (gunicorn, default workers and threads) at {base}, "
                         f"{_workers_line(server.log)}")
        else:
            base = url.rstrip("/")
            notes.append(f"server: the running one at {base}")
        result = _drive(base, links, password, minutes, seed, notes, server)
    finally:
        if server is not None:
            server.stop()
            notes.extend(log_summary(server.log))
        revoke_links()
    return result


def _workers_line(log: Path) -> str:
    found = re.search(r"with (\d+ gunicorn workers × \d+ threads)", log.read_text(errors="replace"))
    return found.group(1) if found else "workers unknown"


def _drive(base: str, links: list[tuple[str, str]], password: str, minutes: float, seed: int | None,
           notes: list[str], server: Server | None) -> Result:
    tally = Tally()
    stop = threading.Event()
    rng = random.Random(seed)
    pools = (ThreadPoolExecutor(max_workers=len(links) * 3 + 4, thread_name_prefix="wall-timer"),
             ThreadPoolExecutor(max_workers=len(links) * BROWSER_CONNECTIONS + 4, thread_name_prefix="wall-request"))
    probe = requests.Session()
    polled = as_of_path(base, probe)
    heavy = HeavyUser(base, password, tally, stop)
    notes.append("heavy views: " + ", ".join(label.removeprefix("heavy · ") for label, _ in heavy.views()))
    began = time.monotonic()
    until = began + minutes * 60
    cpu_before, server_before = resource.getrusage(resource.RUSAGE_SELF), server.cpu_seconds() if server else None
    loads: list[float] = []
    opened = [0]
    opened_lock = threading.Lock()

    def one_wall(number: int, token: str, city: str) -> None:
        if stop.wait(delays[number]):
            return
        wall = Wall(base, token, city, tally, pools, stop)
        wall.as_of_path = polled
        try:
            if not wall.open():
                return
            with opened_lock:
                opened[0] += 1
            wall.run(until)
        finally:
            wall.session.close()

    delays = [rng.uniform(0, min(OPEN_WITHIN_S, minutes * 60 / 4)) for _ in links]
    threads = [threading.Thread(target=one_wall, args=(n, token, city), daemon=True, name=f"wall-{n}")
               for n, (token, city) in enumerate(links)]
    threads.append(threading.Thread(target=heavy.run, daemon=True, name="heavy"))
    for thread in threads:
        thread.start()
    try:
        while time.monotonic() < until:
            loads.append(os.getloadavg()[0])
            time.sleep(min(10.0, max(0.0, until - time.monotonic())))
    finally:
        stop.set()
        deadline = time.monotonic() + HEAVY_LIMIT_S + 35
        for thread in threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
    seconds = time.monotonic() - began
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    total = sum(len(samples) for samples in tally.samples.values())
    notes.append(f"{total:,} requests, {total / seconds:.1f} a second")
    notes.append(f"machine: {os.cpu_count()} cores; 1-minute load average over the run mean "
                 f"{statistics.mean(loads or [0]):.1f}, max {max(loads or [0]):.1f}; this client used "
                 f"{client_cpu / seconds:.2f} cores")
    if server is not None and server_before is not None:
        used = (server.cpu_seconds() or 0) - server_before
        notes.append(f"server processes used {used / seconds:.2f} cores")
    if tally.throttles:
        notes.append("refused by the heavy-view rate limit, waited out its Retry-After and sent again (not errors): "
                     + ", ".join(f"{what} × {n}" for what, n in tally.throttles.most_common(5)))
    if tally.retried:
        notes.append("retried once on a new connection (not errors): " + ", ".join(
            f"{what} × {n}" for what, n in tally.retried.most_common(5)))
    still = [t.name for t in threads if t.is_alive()]
    if still:
        notes.append(f"still running at the end (abandoned): {', '.join(still[:5])}")
    return Result(tally, len(links), opened[0], seconds, notes)


# ------------------------------------------------------------------------------------------------ reporting
@dataclass(frozen=True)
class Line:
    kind: str
    count: int
    errors: int
    p50: float
    p95: float
    max: float
    target_ms: float | None
    why: str

    @property
    def ok(self) -> bool | None:
        if self.target_ms is None:
            return self.errors == 0
        return self.errors == 0 and self.p95 < self.target_ms


ALL_WALL_CALLBACKS = "wall · callbacks, all"


def lines(tally: Tally) -> list[Line]:
    merged = {kind: list(samples) for kind, samples in tally.samples.items()}
    errors = {kind: Counter(counts) for kind, counts in tally.errors.items()}
    wall_kinds = [kind for kind in merged if kind.startswith("wall · callback ")]
    if wall_kinds:
        merged[ALL_WALL_CALLBACKS] = [ms for kind in wall_kinds for ms in merged[kind]]
        errors[ALL_WALL_CALLBACKS] = sum((errors.get(kind, Counter()) for kind in wall_kinds), Counter())
    order = sorted(merged, key=lambda k: (not k.startswith("wall"), k != ALL_WALL_CALLBACKS, k))
    found = []
    for kind in order:
        samples = merged[kind]
        target = (WALL_CALLBACK_TARGET_MS if kind.startswith("wall · callback") else
                  AS_OF_TARGET_MS if kind == "wall · as-of poll" else None)
        why = ", ".join(f"{what} × {n}" for what, n in errors.get(kind, Counter()).most_common(3))
        found.append(Line(kind, len(samples), sum(errors.get(kind, Counter()).values()), statistics.median(samples),
                          float(np.percentile(samples, 95)), max(samples), target, why))
    return found


def table(result: Result) -> str:
    header = f"{'request kind':<66}{'count':>8}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'target':>10}  ok"
    rows = [header, "-" * len(header)]
    for line in lines(result.tally):
        target = f"< {line.target_ms:.0f}" if line.target_ms else "0 errors"
        rows.append(f"{line.kind[:65]:<66}{line.count:>8,}{line.errors:>8,}{line.p50:>9.1f}{line.p95:>9.1f}"
                    f"{line.max:>9.0f}{target:>10}  {'yes' if line.ok else 'NO'}")
        if line.why:
            rows.append(f"{'':<8}errors: {line.why}")
    return "\n".join(rows)


def run_rows(repeat: int = 15) -> list[Row]:
    """The rows of `python -m benchmarks` (`repeat` does not apply: the run lasts DEFAULT_MINUTES)."""
    result = run(DEFAULT_MINUTES, DEFAULT_WALLS)
    print(_heading(result))
    print(table(result))
    print("\n".join(result.notes))
    prefix = f"load · {result.walls} walls + heavy user · {result.seconds / 60:.0f} min · "
    return [Row(f"{prefix}{line.kind} · n={line.count:,} · errors {line.errors} · max {line.max:,.0f} ms",
                f"{line.p50:.1f} ms", f"{line.p95:.1f} ms",
                f"< {line.target_ms:.0f} ms" if line.target_ms else "0 errors", line.ok)
            for line in lines(result.tally)]


def _heading(result: Result) -> str:
    return (f"{result.opened} of {result.walls} walls opened and ran, with one heavy user, for "
            f"{result.seconds / 60:.1f} min; an error is a status other than 2xx, an exception, a wall request over "
            f"{WALL_LIMIT_S:g} s or a heavy one over {HEAVY_LIMIT_S:g} s")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    parser.add_argument("--minutes", type=float, default=DEFAULT_MINUTES,
                        help=f"how long the walls run (default {DEFAULT_MINUTES:g})")
    parser.add_argument("--walls", type=int, default=DEFAULT_WALLS, help=f"wall displays (default {DEFAULT_WALLS})")
    parser.add_argument("--url", help="a running server on 127.0.0.1 instead of starting `jingbao serve`")
    parser.add_argument("--seed", type=int, help="seed of the walls' opening moments")
    args = parser.parse_args()
    if not 0 < args.minutes <= 120 or not 1 <= args.walls <= 500:
        parser.error("--minutes must be in (0, 120] and --walls in [1, 500]")
    if args.url is not None and urlsplit(args.url).hostname not in LOCAL_HOSTS:
        parser.error(f"--url must be a server on this machine (127.0.0.1), not {args.url}")
    result = run(args.minutes, args.walls, args.url, args.seed)
    print(_heading(result))
    print(table(result))
    print("\n".join(result.notes))
    return 0 if all(line.ok for line in lines(result.tally)) and result.opened == result.walls else 1


if __name__ == "__main__":
    raise SystemExit(main())
