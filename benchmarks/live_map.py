"""Live map (实时地图): bytes and server time of one live tick with 404 Chongqing units (target: under 50 kB), and the
map's first render with about 10,000 incidents in the window on the full demo data (uncached and cached).

The tick runs on its own small database (the simulator writes), never on the shared demo file."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from functools import partial
from pathlib import Path

from sqlalchemy import func, select

from base.settings import load_settings
from benchmarks._common import Row, payload, post_callback, row, signed_in_client, timed
from data_access import live, live_layers
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.models import AccidentCase
from data_access.timeutil import local_today
from services.runtime import ensure_demo_data, open_database

CHONGQING = "500000"
TICK_BYTES_TARGET = 50_000


def _window_with(db: Database, city: str, incidents: int) -> tuple[dt.date, dt.date]:
    """The last local days of the data that together hold about `incidents` located incidents."""
    with db.session() as session:
        rows = session.execute(select(AccidentCase.local_day, func.count()).where(
            AccidentCase.city_adcode == city, AccidentCase.lon.is_not(None), AccidentCase.local_day <= local_today())
            .group_by(AccidentCase.local_day).order_by(AccidentCase.local_day.desc())).all()
    total, end = 0, rows[0][0]
    for day, count in rows:
        total += count
        if total >= incidents:
            return day, end
    return rows[-1][0], end


def first_render_rows(repeat: int) -> list[Row]:
    from dashboard.app import create_app

    settings = load_settings()
    ensure_demo_data(open_database(settings), settings)
    rows = []
    for kind, target in (("uncached", 1500), ("cached", 500)):
        db = Database(settings.database_url, QueryCache.from_url("simple"))
        start, end = _window_with(db, CHONGQING, 10_000)
        count = live.incidents(db, live_filters(db, start, end), dt.datetime.now(dt.UTC).replace(tzinfo=None)).total
        app = create_app(settings, db)
        client = signed_in_client(app)
        client.get("/map")
        search = f"?city={CHONGQING}&start={start}&end={end}"
        body = json.dumps(payload(app, "/map", search, "map-problems"))
        post = partial(post_callback, client, body, db if kind == "uncached" else None)
        post()
        response = client.post("/_dash-update-component", data=body, content_type="application/json")
        size = len(response.get_data())
        rows.append(row(f"live map first render {kind} · Chongqing {count:,} incidents ({size / 1e6:.1f} MB)",
                        timed(post, max(3, repeat // 3) if kind == "uncached" else repeat), target))
    return rows


def live_filters(db: Database, start: dt.date, end: dt.date):
    from data_access import metrics
    from data_access.filters import parse_filters

    return parse_filters({"city": CHONGQING, "start": start.isoformat(), "end": end.isoformat()},
                         metrics.catalogue(db), local_today(), CHONGQING).filters


def tick_rows(repeat: int) -> list[Row]:
    from dashboard.app import create_app
    from data_access.demo.build import build_demo
    from data_access.simulator import Simulator

    folder = Path(tempfile.mkdtemp(prefix="jingbao-bench-live-"))
    db = Database(f"sqlite:///{folder / 'live.db'}", QueryCache.from_url("simple"))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    build_demo(db, scale=0.01, start=local_today() - dt.timedelta(days=3), end=now, cities=(CHONGQING,))
    # ten minutes of patrols, ending early enough that each measured tick can follow 15 s more of them
    sim = Simulator(db, CHONGQING, seed=3, start=now - dt.timedelta(minutes=10, seconds=15 * repeat), rate_scale=3)
    sim.run(600, step_s=15)
    settings = load_settings({}, database_url=db.url, demo=False)
    app = create_app(settings, db)
    client = signed_in_client(app)
    client.get("/map")
    key = next(k for k, cb in app.callback_map.items() if any(i["id"] == "map-live" for i in cb["inputs"]))
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]} for o in key[2:-2].split("...")]
    units = live.unit_states(db, CHONGQING)
    placed = units[units["lon"].notna()]
    samples, sizes, moved = [], [], []
    for _ in range(repeat):
        now_states = live.unit_states(db, CHONGQING)
        state = {"city": CHONGQING, "lang": "zh", "districts": [], "order": [int(u) for u in placed["unit_id"]],
                 "since_id": int(now_states["position_id"].max()), "statuses": live_layers.status_keys(now_states)}
        sim.step(15)
        sim.flush()
        body = json.dumps({"output": key, "outputs": outputs, "changedPropIds": ["map-live.n_intervals"],
                           "inputs": [{"id": "map-live", "property": "n_intervals", "value": 1}],
                           "state": [{"id": "map-unit-state", "property": "data", "value": state}]})
        started = time.perf_counter()
        response = client.post("/_dash-update-component", data=body, content_type="application/json")
        samples.append((time.perf_counter() - started) * 1000)
        raw = response.get_data()
        sizes.append(len(raw))
        moved.append(len(json.loads(raw)["response"]["map-unit-delta"]["data"]["i"]))
    db.dispose()
    biggest = max(sizes)
    return [row(f"live map tick · {len(placed)} units, ~{max(moved)} moved", samples, 150),
            Row(f"live map tick bytes · {len(placed)} units", f"{sorted(sizes)[len(sizes) // 2]:,} B",
                f"{biggest:,} B", f"< {TICK_BYTES_TARGET:,} B", biggest < TICK_BYTES_TARGET)]


def playback_rows(repeat: int) -> list[Row]:
    """A whole simulated day of Chongqing (404 units, one position a minute, about 300 incidents) replayed: the
    server side of one playback frame (the slider's minute → every unit's place then), as the browser posts it."""
    from dashboard.app import create_app
    from data_access.demo.build import build_demo
    from data_access.simulator import Simulator
    from data_access.timeutil import local_midnight_utc

    folder = Path(tempfile.mkdtemp(prefix="jingbao-bench-playback-"))
    db = Database(f"sqlite:///{folder / 'playback.db'}", QueryCache.from_url("simple"))
    day = local_today() - dt.timedelta(days=1)
    build_demo(db, scale=0.01, start=day - dt.timedelta(days=2), end=local_midnight_utc(day),
               cities=(CHONGQING,))
    Simulator(db, CHONGQING, seed=4, start=local_midnight_utc(day)).run(86_400, step_s=60)
    settings = load_settings({}, database_url=db.url, demo=False)
    app = create_app(settings, db)
    client = signed_in_client(app)
    client.get("/map")
    first = json.loads(client.post("/_dash-update-component", data=json.dumps(payload(
        app, "/map", f"?city={CHONGQING}&date={day}", "map-problems")), content_type="application/json").get_data())
    state = first["response"]["map-unit-state"]["data"]
    key = next(k for k, cb in app.callback_map.items() if any(i["id"] == "map-clock" for i in cb["inputs"]))
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]} for o in key[2:-2].split("...")]
    samples, sizes = [], []
    for k in range(repeat):
        minute = 60 + (k * 97) % 1380
        body = json.dumps({"output": key, "outputs": outputs, "changedPropIds": ["map-clock.value"],
                           "inputs": [{"id": "map-clock", "property": "value", "value": minute}],
                           "state": [{"id": "map-unit-state", "property": "data", "value": state}]})
        started = time.perf_counter()
        response = client.post("/_dash-update-component", data=body, content_type="application/json")
        samples.append((time.perf_counter() - started) * 1000)
        sizes.append(len(response.get_data()))
    db.dispose()
    return [row(f"live map playback frame · Chongqing busy day, {len(state['order'])} units (≤ {max(sizes):,} B)",
                samples, 1000)]


def run_rows(repeat: int = 15) -> list[Row]:
    return tick_rows(repeat) + first_render_rows(repeat) + playback_rows(repeat)
