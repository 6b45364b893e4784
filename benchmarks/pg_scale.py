"""The full-range overview KPIs on PostgreSQL holding ten million accident cases (target < 300 ms uncached).

The database is built once (the demo generator at 4.5 times its volume: about ten million cases over both
cities) into a PostgreSQL data directory kept in var/bench-postgres, and reused by later runs.
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from sqlalchemy import func, select

from data_access import registry
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.filters import Filters
from data_access.models import AccidentCase

ROOT = Path(__file__).resolve().parent.parent / "var" / "bench-postgres"
SCALE = 4.5
TARGET_CASES = 10_000_000


def _server():
    from tests.servers import PostgresServer

    server = PostgresServer()
    shutil.rmtree(server.root, ignore_errors=True)
    server.root = ROOT
    server.data = ROOT / "data"
    server.socket_dir = ROOT / "socket"
    ROOT.mkdir(parents=True, exist_ok=True)
    server.socket_dir.mkdir(exist_ok=True)
    if server.user is not None:                 # running as root: the postgres user owns the directory
        subprocess.run(["chown", "-R", f"{server.user.pw_name}:", str(ROOT)], check=True)
    if not server.data.exists():
        server.run(server.initdb, "-D", str(server.data), "-U", "jingbao", "-A", "trust", "-E", "UTF8",
                    "--no-locale")
    options = (f"-p {server.port} -k {server.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c shared_buffers=1GB -c work_mem=256MB -c max_wal_size=8GB")
    server.run(server.pg_ctl, "-D", str(server.data), "-l", str(ROOT / "log"), "-o", options, "-w", "start")
    return server


def run(repeat: int = 7) -> list[tuple[str, str, str, bool | None]]:
    server = _server()
    try:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=jingbao dbname=postgres",
                             autocommit=True) as connection:
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = 'bench'").fetchone():
                connection.execute("CREATE DATABASE bench")
        db = Database(server.url("bench"), QueryCache.from_url("simple"))
        rows = []
        if not db.has_schema() or _cases(db) < TARGET_CASES * 0.9:
            from data_access.demo.build import build_demo
            from data_access.schema import drop_everything

            drop_everything(db.engine)
            started = time.perf_counter()
            summary = build_demo(db, scale=SCALE, progress=True)
            rows.append(("build 10 M cases on PostgreSQL (once)", f"{summary.cases:,} cases",
                         f"{time.perf_counter() - started:.0f} s", None))
        cases = _cases(db)
        full = Filters("500000", dt.date(2017, 4, 16), dt.date.today(), (), "pop")
        samples = []
        for _ in range(repeat):
            db.cache.clear()
            started = time.perf_counter()
            registry.kpis(db, full, registry.OVERVIEW)
            samples.append((time.perf_counter() - started) * 1000)
        rows.append((f"overview KPIs uncached · PostgreSQL, {cases / 1e6:.1f} M cases, Chongqing all time, pop",
                     f"{statistics.median(samples):.0f} ms", f"p95 {max(samples):.0f} ms", max(samples) < 300))
        return rows
    finally:
        server.run(server.pg_ctl, "-D", str(server.data), "-m", "fast", "-w", "stop")


def _cases(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(AccidentCase)).scalar() or 0)


if __name__ == "__main__":
    for row in run():
        print(row)
