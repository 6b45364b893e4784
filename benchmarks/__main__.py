"""Run every benchmark against the full demo database and print one table of results against their targets.

The database is the one `make run` uses (built first if empty), so the figures are those a user sees.
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks import ingest, kpis
from benchmarks._common import Row, render


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per row (default 15)")
    parser.add_argument("--skip-10m", action="store_true",
                        help="skip the 10-million-case PostgreSQL run (its first run builds the data: ~15 min)")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = kpis.run(repeat=args.repeat)
    if not args.skip_10m:
        from benchmarks import pg_scale

        for name, p50, detail, ok in pg_scale.run():
            rows.append(Row(name, p50, detail, "< 300 ms" if ok is not None else "once", ok))
    for suite in feature_suites():
        rows.extend(suite.run_rows(repeat=args.repeat))
    for backend, rate, note in ingest.run():
        rows.append(Row(f"ingest · {ingest.ROWS:,} case rows via ingest.store · {backend}",
                             "—" if rate is None else f"{rate:,.0f} rows/s", "", note or "throughput", None))
    print(render(rows))
    print(f"\n{len(rows)} rows in {time.perf_counter() - started:.0f} s")
    return 0 if all(row.ok is not False for row in rows) else 1


def feature_suites() -> list:
    """Benchmark modules of one feature each: any module of this package with `run_rows(repeat) -> list[Row]`."""
    import importlib
    import pkgutil

    import benchmarks

    suites = []
    for module in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        loaded = importlib.import_module(f"benchmarks.{module.name}")
        if hasattr(loaded, "run_rows"):
            suites.append(loaded)
    return suites


if __name__ == "__main__":
    sys.exit(main())
