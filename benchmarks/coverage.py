"""Station coverage: the coverage metric on 100,000 demand points against 1,200 stations, the greedy choice of 10
sites from 2,000 candidates, the coverage page's whole plan on the demo database (Chongqing, 30 days), the page's
main callback for all of Chongqing over all its data, uncached, as a signed-in browser posts it (the server's part of
the target, under 1.5 s), and the target itself in a browser: on a freshly started `jingbao serve`, a viewer on
/coverage picks "all data" and waits for the settled screen (under 2 s), then picks it again (cached).

The first two run on synthetic points shaped like Chongqing (a dense core, town clusters, a rural spread over
about 400 × 400 km), so that they need no database and always measure the same work.

    python -m benchmarks.coverage [--repeat N] [--only synthetic|plan|callback|browser]
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np

from benchmarks._common import Row, row, timed
from data_access import coverage as cv

DEMAND_POINTS = 100_000
STATIONS = 1_200
CANDIDATES = 2_000
K = 10
MINUTES = 10.0
CHONGQING = "500000"


def synthetic_city(seed: int = 6) -> tuple[cv.Demand, cv.Sites, np.ndarray]:
    """Demand, stations and candidate sites in plane km: 60 % in the core, 30 % in 40 towns, 10 % spread out."""
    rng = np.random.default_rng(seed)
    towns = rng.uniform(-200, 200, (40, 2))

    def points(n: int) -> np.ndarray:
        core = rng.normal(0, 12, (int(n * 0.6), 2))
        town = towns[rng.integers(0, len(towns), int(n * 0.3))] + rng.normal(0, 3, (int(n * 0.3), 2))
        spread = rng.uniform(-200, 200, (n - len(core) - len(town), 2))
        return np.vstack([core, town, spread])

    xy = points(DEMAND_POINTS)
    rural = np.hypot(xy[:, 0], xy[:, 1]) > 40
    demand = cv.Demand.of(xy, rng.choice([1.0, 3.0, 10.0], len(xy), p=[0.93, 0.06, 0.01]), rural)
    stations = cv.Sites.of(points(STATIONS), list(rng.choice(list(cv.VEHICLES), STATIONS)))
    candidates = points(CANDIDATES)
    return demand, stations, candidates


PARTS = ("synthetic", "plan", "callback", "browser")
CALLBACK_TARGET_MS = 1500
SETTLED_TARGET_MS = 2000
CALLBACK_SEARCH = f"?city={CHONGQING}&range=all"


def run_rows(repeat: int = 15, parts: tuple[str, ...] = PARTS) -> list[Row]:
    rows = _synthetic_rows(repeat) if "synthetic" in parts else []
    if "plan" in parts:
        rows.extend(_page_rows(repeat))
    if "callback" in parts:
        rows.extend(_callback_rows(repeat))
    if "browser" in parts:
        rows.extend(_browser_rows(max(2, repeat // 5)))
    return rows


def _synthetic_rows(repeat: int) -> list[Row]:
    demand, stations, candidates = synthetic_city()
    model = cv.TravelModel()
    covered = cv.coverage(demand, stations, MINUTES, model).covered
    rows = [
        row(f"coverage · {DEMAND_POINTS:,} demand points × {STATIONS:,} stations",
            timed(lambda: cv.coverage(demand, stations, MINUTES, model), repeat), 1000),
        row(f"coverage · greedy k={K} of {CANDIDATES:,} sites, {DEMAND_POINTS:,} pts ({covered.mean():.0%} covered)",
            timed(lambda: cv.greedy_sites(demand, covered, candidates, "car", MINUTES, model, K), max(3, repeat // 3)),
            3000),
        row(f"coverage · greedy k={K} of {CANDIDATES:,} sites, {DEMAND_POINTS:,} pts, no station yet",
            timed(lambda: cv.greedy_sites(demand, np.zeros(len(demand), dtype=bool), candidates, "car", MINUTES,
                                          model, K), max(3, repeat // 3)), 3000),
    ]
    return rows


def _page_rows(repeat: int) -> list[Row]:
    """The page's plan (demand query, coverage before/after, hexbins, greedy k=3) on the demo database."""
    from base.settings import load_settings
    from data_access.cache import QueryCache
    from data_access.db import Database
    from data_access.filters import Filters
    from services.runtime import open_database

    settings = load_settings()
    open_database(settings)
    end = dt.date.today() - dt.timedelta(days=1)
    filters = Filters(city=CHONGQING, start=end - dt.timedelta(days=29), end=end)
    uncached = Database(settings.database_url, QueryCache.from_url("null"))
    if not len(cv.city_stations(uncached, CHONGQING)):
        return []
    centre = cv.city_centre(uncached, CHONGQING)
    cached = Database(settings.database_url, QueryCache.from_url("simple"))
    cv.evaluate_plan(cached, filters, cv.Scenario(), centre)
    return [
        row("coverage · page plan, Chongqing 30 days (uncached)",
            timed(lambda: cv.evaluate_plan(uncached, filters, cv.Scenario(), centre), max(3, repeat // 3)), None),
        row("coverage · page plan, Chongqing 30 days (cached)",
            timed(lambda: cv.evaluate_plan(cached, filters, cv.Scenario(), centre), repeat), 150),
    ]


def _callback_rows(repeat: int) -> list[Row]:
    """The coverage page's main callback for Chongqing over all data, each run with the query cache emptied first
    (the plan itself is computed anew every time: its offload process keeps no cache)."""
    import json
    from functools import partial

    from base.settings import load_settings
    from benchmarks._common import payload, post_callback, signed_in_client
    from dashboard.app import create_app
    from data_access.cache import QueryCache
    from data_access.db import Database

    settings = load_settings()
    db = Database(settings.database_url, QueryCache.from_url("simple"))
    if not len(cv.city_stations(db, CHONGQING)):
        return []
    app = create_app(settings, db)
    client = signed_in_client(app)
    body = json.dumps(payload(app, "/coverage", CALLBACK_SEARCH, "coverage-problems"))
    post = partial(post_callback, client, body, db)
    post()                           # the offload process started, the pages imported
    return [row("page callback uncached · coverage · Chongqing all data", timed(post, max(3, repeat // 3)),
                CALLBACK_TARGET_MS)]


SETTLED = """return !!document.querySelector('#coverage-table td')
    && !document.querySelector('[data-dash-is-loading="true"]')
    && document.getElementById('coverage-window').textContent !== arguments[0];"""


def _browser_rows(servers: int) -> list[Row]:
    """Each of `servers` times: start `jingbao serve` (4 workers, the warm-up on) on the demo database, let its
    warm-up finish its first pass, open /coverage for Chongqing in headless Chromium, pick "all data" in the range
    control and time until the screen is settled (the plan's table drawn, no callback pending); then pick 30 days
    and "all data" again, which the cache answers."""
    import shutil
    import tempfile
    from pathlib import Path

    from benchmarks.load import Server

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        return [Row("coverage · browser settled, Chongqing all data", "—", "—", "needs chromium and chromedriver",
                    None)]
    cold, cached = [], []
    for _ in range(servers):
        with tempfile.TemporaryDirectory(prefix="jingbao-bench-") as folder:
            server = Server(Path(folder), {"JINGBAO_AUTH": "none", "JINGBAO_WARM": "1"})
            try:
                server.wait_ready()
                server.wait_for_log(r"warm pass \(data version")
                with _browser(chromium, driver_path) as browser:
                    browser.get(f"{server.base}/coverage?city={CHONGQING}")
                    _settle(browser, "")
                    cold.append(_pick(browser, "all"))
                    _pick(browser, "30d")
                    cached.append(_pick(browser, "all"))
            finally:
                server.stop()
    return [row("coverage · browser settled after picking all data, Chongqing, fresh server", cold,
                SETTLED_TARGET_MS),
            row("coverage · browser settled after picking all data, Chongqing, cached", cached, SETTLED_TARGET_MS)]


def _browser(chromium: str, driver_path: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1440,900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def _settle(browser, window_before: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 60, poll_frequency=0.02).until(lambda b: b.execute_script(SETTLED, window_before))


def _pick(browser, range_key: str) -> float:
    """Milliseconds from choosing `range_key` in the range control to the settled screen of its window."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    window = browser.find_element(By.ID, "coverage-window").text
    started = time.perf_counter()
    Select(browser.find_element(By.ID, "app-range")).select_by_value(range_key)
    _settle(browser, window)
    return (time.perf_counter() - started) * 1000


def main() -> int:
    import argparse

    from benchmarks._common import render

    parser = argparse.ArgumentParser(prog="python -m benchmarks.coverage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per row (uncached: a third, at least 3)")
    parser.add_argument("--only", choices=PARTS, action="append",
                        help="only these rows (repeatable; default all): synthetic points, the plan, the page callback")
    args = parser.parse_args()
    rows = run_rows(args.repeat, tuple(args.only or PARTS))
    print(render(rows))
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
