"""Unit positions fed live: 400 Chongqing units reporting every 10 s (one POST /api/v1/positions of 40 rows each
second, as a dispatch gateway batches them) sustained for a bounded time, on SQLite and on PostgreSQL, while the live
map's tick (the `map-live` interval's callback, posted as the browser posts it) is timed — against the same tick
with no feed running.

    python -m benchmarks.positions [--seconds 20]       # CI-sized by default; e.g. --seconds 300 for a long run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import threading
import time

import numpy as np

from base.settings import load_settings
from benchmarks._common import Row, on_both_backends, row, signed_in_client
from data_access import live
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.timeutil import local_today, utcnow

CHONGQING = "500000"
UNITS = 400
REPORT_EVERY_S = 10
DEFAULT_SECONDS = 20.0
TICK_TARGET_MS = 150          # the live map benchmark's target for one tick (benchmarks/live_map.py)


def _world(url: str):
    from sqlalchemy import select

    from dashboard.app import create_app
    from data_access.demo.build import build_demo
    from data_access.demo.positions import build_positions
    from data_access.models import RiderUnit
    from data_access.tokens import create_token

    db = Database(url, QueryCache.from_url("simple"))
    now = utcnow().replace(microsecond=0)
    build_demo(db, scale=0.01, start=local_today() - dt.timedelta(days=3), end=now, cities=(CHONGQING,))
    build_positions(db, now, hours=0.1, cities=(CHONGQING,))
    app = create_app(load_settings({}, database_url=db.url, demo=False), db)
    client = signed_in_client(app)
    client.get("/map")
    states = live.unit_states(db, CHONGQING)
    placed = states[states["lon"].notna()].head(UNITS)
    with db.session() as session:
        codes = dict(session.execute(select(RiderUnit.id, RiderUnit.code)
                                     .where(RiderUnit.city_adcode == CHONGQING)).all())
    units = [(codes[int(u)], float(x), float(y)) for u, x, y in zip(placed["unit_id"], placed["lon"], placed["lat"],
                                                                    strict=True)]
    token = create_token(db, "bench-positions")
    return db, app, client, units, {"Authorization": f"Bearer {token}"}, states


def _tick_body(app, states) -> tuple[dict, dict]:
    key = next(k for k, cb in app.callback_map.items() if any(i["id"] == "map-live" for i in cb["inputs"]))
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]} for o in key[2:-2].split("...")]
    placed = states[states["lon"].notna()]
    state = {"city": CHONGQING, "lang": "zh", "districts": [], "order": [int(u) for u in placed["unit_id"]],
             "statuses": {}, "since_id": int(states["position_id"].max())}
    return {"output": key, "outputs": outputs, "changedPropIds": ["map-live.n_intervals"],
            "inputs": [{"id": "map-live", "property": "n_intervals", "value": 1}]}, state


def _tick(client, body: dict, state: dict) -> float:
    """One live tick as the browser posts it, asking for what was stored since its previous tick (the state it
    keeps is updated from the answer, as the page's store is); its time in ms."""
    payload = json.dumps({**body, "state": [{"id": "map-unit-state", "property": "data", "value": state}]})
    started = time.perf_counter()
    response = client.post("/_dash-update-component", data=payload, content_type="application/json")
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code not in (200, 204):
        raise RuntimeError(f"tick answered {response.status_code}")
    if response.status_code == 200:
        state.update(response.get_json()["response"].get("map-unit-state", {}).get("data") or {})
    return elapsed


def measure(url: str, seconds: float) -> dict:
    """Quiet ticks, then the feed for `seconds` with ticks timed alongside: rows/s stored, POST and tick times."""
    db, app, client, units, auth, states = _world(url)
    body, state = _tick_body(app, states)
    quiet = [_tick(client, body, state) for _ in range(20)]
    rng = np.random.default_rng(1)
    feed_client = app.server.test_client()
    posts, stored, rejected = [], [0], [0]
    stop = threading.Event()
    per_second = len(units) // REPORT_EVERY_S

    def feed() -> None:
        second = 0
        began = time.monotonic()
        while not stop.is_set():
            batch = units[(second % REPORT_EVERY_S) * per_second:(second % REPORT_EVERY_S + 1) * per_second]
            at = utcnow().replace(microsecond=0, tzinfo=dt.UTC).isoformat()
            rows = [{"unit_id": code, "at": at, "lon": round(x + rng.normal(0, 3e-4), 6),
                     "lat": round(y + rng.normal(0, 3e-4), 6), "status": "patrolling"} for code, x, y in batch]
            started = time.perf_counter()
            response = feed_client.post("/api/v1/positions", json=rows, headers=auth)
            posts.append((time.perf_counter() - started) * 1000)
            answer = response.get_json()
            stored[0] += answer.get("inserted", 0)
            rejected[0] += answer.get("rejected", 0)
            second += 1
            stop.wait(max(0.0, began + second - time.monotonic()))       # keep one request a second

    thread = threading.Thread(target=feed, daemon=True)
    began = time.monotonic()
    thread.start()
    loaded = []
    while time.monotonic() - began < seconds:
        loaded.append(_tick(client, body, state))
        time.sleep(0.25)                                                 # a few map clients' ticks, interleaved
    stop.set()
    thread.join()
    elapsed = time.monotonic() - began
    db.dispose()
    return {"rows_per_s": stored[0] / elapsed, "rejected": rejected[0], "posts": posts, "quiet": quiet,
            "loaded": loaded, "seconds": elapsed, "units": len(units)}


def _p95(samples: list[float]) -> float:
    return float(np.percentile(samples, 95))


def run(seconds: float = DEFAULT_SECONDS) -> list[tuple[str, dict | None, str]]:
    """(backend, figures or None, note) for SQLite and PostgreSQL."""
    return on_both_backends(lambda url: measure(url, seconds), "positions")


def table(results: list[tuple[str, dict | None, str]]) -> str:
    header = (f"{'backend':<12}{'rows/s stored':>15}{'rejected':>10}{'POST p50':>10}{'POST p95':>10}"
              f"{'tick p95 quiet':>16}{'tick p95 fed':>14}{'ticks':>7}")
    lines = [header, "-" * len(header)]
    for backend, figures, note in results:
        if figures is None:
            lines.append(f"{backend:<12}{note}")
            continue
        lines.append(f"{backend:<12}{figures['rows_per_s']:>15.1f}{figures['rejected']:>10}"
                     f"{statistics.median(figures['posts']):>8.1f}ms{_p95(figures['posts']):>8.1f}ms"
                     f"{_p95(figures['quiet']):>14.1f}ms{_p95(figures['loaded']):>12.1f}ms{len(figures['loaded']):>7}")
    return "\n".join(lines)


def run_rows(repeat: int = 15) -> list[Row]:
    """The rows of `python -m benchmarks`: the feed's POST time, and the tick under the feed against its target."""
    rows = []
    for backend, figures, note in run():
        if figures is None:
            rows.append(Row(f"positions feed · {backend}", "—", "—", note, None))
            continue
        rows.append(row(f"positions feed · {UNITS} units / {REPORT_EVERY_S} s · {figures['rows_per_s']:.0f} rows/s "
                        f"· POST · {backend}", figures["posts"], None))
        rows.append(row(f"live map tick quiet · {backend}", figures["quiet"], TICK_TARGET_MS))
        rows.append(row(f"live map tick under the positions feed · {backend}", figures["loaded"], TICK_TARGET_MS))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.positions")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS,
                        help=f"how long the feed runs on each backend (default {DEFAULT_SECONDS:g})")
    args = parser.parse_args()
    results = run(args.seconds)
    print(f"{UNITS} units reporting every {REPORT_EVERY_S} s (one POST of {UNITS // REPORT_EVERY_S} rows a second) "
          f"for {args.seconds:g} s; the live map tick asks for what was stored since its previous tick")
    print(table(results))
    return 0 if all(f is None or _p95(f["loaded"]) < TICK_TARGET_MS for _, f, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
