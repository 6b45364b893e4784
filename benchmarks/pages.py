"""Each page's main callback on the full demo data, posted through the Flask test client as a browser sends it:
uncached (a cold cache, the first viewer after new data) and cached (every later viewer). Target: cached p95
under 150 ms (DESIGN.md, callback budget)."""

from __future__ import annotations

import json
from functools import partial

from base.settings import load_settings
from benchmarks._common import Row, payload, post_callback, row, signed_in_client, timed
from data_access.cache import QueryCache
from data_access.db import Database
from services.runtime import ensure_demo_data, open_database

# (label, path, query string, the id prefix of the page's main callback outputs)
VIEWS = (
    ("payouts · Chongqing 12 months", "/payouts", "?city=500000&range=12m", "payouts-problems"),
    ("throughput · Chongqing 12 months", "/throughput", "?city=500000&range=12m", "throughput-problems"),
    ("throughput · Zhangzhou all data, per month", "/throughput", "?city=350600&range=all&grain=month",
     "throughput-problems"),
    ("mediation · Chongqing 12 months", "/mediation", "?city=500000&range=12m", "mediation-problems"),
    ("rescue · Chongqing all data", "/rescue", "?city=500000&range=all", "rescue-problems"),
    ("stations · Chongqing 12 months", "/stations", "?city=500000&range=12m", "stations-problems"),
    ("anti-fraud · Chongqing 12 months", "/fraud", "?city=500000&range=12m", "fraud-problems"),
    ("district · Chongqing 渝中区 12 months", "/district/500103", "?city=500000&range=12m", "district-problems"),
)
# The same pages as an insurer's account sees them: every figure restricted to its cases, peers anonymised.
INSURER_VIEWS = (
    ("payouts · insurer INS01 · Chongqing 12 months", "/payouts", "?city=500000&range=12m", "payouts-problems"),
    ("anti-fraud · insurer INS01 · Chongqing 12 months", "/fraud", "?city=500000&range=12m", "fraud-problems"),
    ("mediation · insurer INS01 · Chongqing 12 months", "/mediation", "?city=500000&range=12m",
     "mediation-problems"),
)


def run_rows(repeat: int = 15, only: tuple[str, ...] = (),
             kinds: tuple[str, ...] = ("uncached", "cached")) -> list[Row]:
    """Every view's main callback, uncached then cached; `only` keeps the views whose label holds one of its words,
    `kinds` the kinds of run."""
    from dashboard.app import create_app

    settings = load_settings()
    ensure_demo_data(open_database(settings), settings)
    rows = []
    for kind, target in (("uncached", 500), ("cached", 150)):
        if kind not in kinds:
            continue
        db = Database(settings.database_url, QueryCache.from_url("simple"))
        app = create_app(settings, db)
        leader = signed_in_client(app)
        leader.get("/")
        insurer = signed_in_client(app, "bench-insurer", "insurer", insurer="INS01")
        for client, views in ((leader, VIEWS), (insurer, INSURER_VIEWS)):
            for label, path, search, marker in views:
                if only and not any(word in label for word in only):
                    continue
                body = json.dumps(payload(app, path, search, marker))
                post = partial(post_callback, client, body, db if kind == "uncached" else None)
                post()
                rows.append(row(f"page callback {kind} · {label}",
                                timed(post, max(3, repeat // 3) if kind == "uncached" else repeat), target))
    return rows


def main() -> int:
    import argparse

    from benchmarks._common import render

    parser = argparse.ArgumentParser(prog="python -m benchmarks.pages", description=__doc__)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per cached row (uncached: a third)")
    parser.add_argument("--only", action="append", default=[], metavar="WORD",
                        help="only the views whose label holds WORD (repeatable), e.g. --only stations")
    parser.add_argument("--kind", choices=("uncached", "cached"), action="append",
                        help="only this kind of run (repeatable; default both)")
    args = parser.parse_args()
    rows = run_rows(args.repeat, tuple(args.only), tuple(args.kind or ("uncached", "cached")))
    print(render(rows))
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
