"""Station coverage: the coverage metric on 100,000 demand points against 1,200 stations, the greedy choice of 10
sites from 2,000 candidates, the coverage page's whole plan on the demo database (Chongqing, 30 days), and the page's
main callback for all of Chongqing over all its data, uncached, as a signed-in browser posts it (target: the
browser's settled screen under 2 s, so the server's part under 1.5 s).

The first two run on synthetic points shaped like Chongqing (a dense core, town clusters, a rural spread over
about 400 × 400 km), so that they need no database and always measure the same work.

    python -m benchmarks.coverage [--repeat N] [--only synthetic|plan|callback]
"""

from __future__ import annotations

import datetime as dt

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


PARTS = ("synthetic", "plan", "callback")
CALLBACK_TARGET_MS = 1500
CALLBACK_SEARCH = f"?city={CHONGQING}&range=all"


def run_rows(repeat: int = 15, parts: tuple[str, ...] = PARTS) -> list[Row]:
    rows = _synthetic_rows(repeat) if "synthetic" in parts else []
    if "plan" in parts:
        rows.extend(_page_rows(repeat))
    if "callback" in parts:
        rows.extend(_callback_rows(repeat))
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
