"""Ingest throughput: validated, upserted case rows per second on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np

from benchmarks._common import on_both_backends
from data_access import ingest
from data_access.db import Database
from data_access.demo.build import build_demo

ROWS = 20_000
BATCH = ingest.MAX_ROWS_PER_REQUEST


def synthetic_rows(db: Database, n: int, seed: int = 1) -> list[dict]:
    """`n` valid case rows inside Zhangzhou's main urban districts, reported over June 2020."""
    rng = np.random.default_rng(seed)
    places = ingest.Places.load(db)
    rows = []
    base = dt.datetime(2020, 6, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for i in range(n):
        reported = base + dt.timedelta(seconds=int(rng.integers(0, 29 * 86400)))
        rows.append({
            "case_id": f"B{i:07d}", "city": "350600", "district": "350602" if i % 2 else "350603",
            "reported_at": reported.isoformat(), "handled_by": "rider_team", "quick_handled": True,
            "lon": 117.655 + rng.normal(0, 0.004), "lat": 24.515 + rng.normal(0, 0.004),
            "liability_at": (reported + dt.timedelta(minutes=3)).isoformat(), "liability_mode": "remote",
            "paid_at": (reported + dt.timedelta(minutes=40)).isoformat(), "paid_amount_yuan": 800.0,
        })
    assert ingest.validate("cases", rows[:50], places)[1] == [], "benchmark rows must be valid"
    return rows


def throughput(db: Database) -> float:
    """Rows per second of ingest.store, in API-sized batches, into a database holding one city's reference."""
    rows = synthetic_rows(db, ROWS)
    places = ingest.Places.load(db)
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        result = ingest.store(db, "cases", "bench", rows[start:start + BATCH], places=places)
        assert result.inserted == len(rows[start:start + BATCH])
    return len(rows) / (time.perf_counter() - started)


def reference_db(url: str) -> Database:
    db = Database(url)
    build_demo(db, scale=0.01, cities=("350600",), start=dt.date(2020, 5, 1), end=dt.datetime(2020, 5, 3))
    return db


def run() -> list[tuple[str, float | None, str]]:
    """(backend, rows/s or None, note)."""
    return on_both_backends(lambda url: throughput(reference_db(url)), "ingest")
