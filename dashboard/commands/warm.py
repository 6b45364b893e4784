"""`jingbao warm`: compute the default view of every page and city into the query cache, as a browser would ask for
them (see services/warm.py).

    jingbao warm             one pass; prints what it warmed and how long it took
    jingbao warm --watch     a pass whenever the data version changes, until stopped (`jingbao serve` runs this)

Useful with a shared cache (JINGBAO_CACHE_URL=redis://… or filesystem://…) after an import; with the in-process
`simple` cache a single pass only measures. Builds nothing and writes nothing to the database."""

from __future__ import annotations

import argparse
import os
import sys
import threading

from dashboard.arguments import EXIT_USAGE

WARM_NICE = 10               # below the serving workers: warming waits, a viewer does not


def register(commands) -> None:
    warm = commands.add_parser("warm", help="compute every page's default view into the cache (once, or on change)")
    warm.add_argument("--watch", action="store_true", help="a pass whenever the data changes, until stopped")
    warm.add_argument("--poll", type=float, default=None, help="seconds between reads of the data version (default 5)")
    warm.add_argument("--nice", type=int, default=0, help="lower this process's CPU priority by N (0–19)")
    # `jingbao serve` passes its pid: the warm-up stops when the server is gone
    warm.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)
    warm.set_defaults(handler=run)


def run(args, settings) -> int:
    import logging

    from dashboard.app import create_app
    from services.runtime import open_database
    from services.warm import POLL_S, Warmer, allow_in_process_requests

    if not 0 <= args.nice <= 19 or (args.poll is not None and not 0.1 <= args.poll <= 3600):
        print("jingbao warm: --nice must be 0–19 and --poll 0.1–3600 seconds", file=sys.stderr)
        return EXIT_USAGE
    if args.nice:
        os.nice(args.nice)
    settings = settings.with_overrides(demo=False)          # never builds or tops up data
    db = open_database(settings)
    db.cache.holds_flights = False      # the servers never wait for this (niced) process; it waits for theirs
    app = create_app(settings, db)
    app.server.config["JINGBAO_HEAVY_PER_MINUTE"] = 0       # this app serves no one: its own passes are not limited
    allow_in_process_requests(app)
    warmer = Warmer(app)
    if not args.watch:
        report = warmer.warm_pass()
        print(report.summary())
        for error in report.errors:
            print(f"  {error}", file=sys.stderr)
        return 1 if report.errors else 0
    logging.basicConfig(level=logging.INFO, format="[warm %(process)d] %(message)s", stream=sys.stderr)
    parent = args.parent
    warmer.watch(threading.Event(), args.poll or POLL_S,
                 keep_going=lambda: parent is None or os.getppid() == parent)
    return 0
