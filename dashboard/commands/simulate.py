"""`jingbao simulate`: the live feed — rider units patrolling their grids, incidents opening at realistic rates, the
nearest free unit dispatched, stages advancing — written to the database like any other feed."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from dashboard.arguments import EXIT_USAGE, adcodes_arg, positive_number, scale_arg

NAME = "jingbao simulate"


def register(commands) -> None:
    p = commands.add_parser("simulate", help="run the live feed simulator (units, incidents, dispatch, stages)")
    p.add_argument("--city", type=adcodes_arg, default=None, help="adcodes, comma-separated (default: every city)")
    p.add_argument("--minutes", type=_minutes, default=None,
                   help="simulated minutes to run (default: until interrupted)")
    p.add_argument("--step", type=_minutes, default=15.0, help="seconds of simulated time per step (15)")
    p.add_argument("--fast", action="store_true",
                   help="do not wait for the clock while behind it (with --start); never simulates past now")
    p.add_argument("--rate-scale", type=scale_arg, default=1.0, help="multiply incident rates (default 1)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=_local_time,
                   help="local time (Asia/Shanghai) to start from, e.g. 2020-06-01T07:00, to fill a past day for "
                        "playback (implies --fast); default now")
    p.set_defaults(handler=run)


_minutes = positive_number(525_600, "more than 0 and at most a year")


def _local_time(value: str) -> dt.datetime:
    """A local (Asia/Shanghai) date or date-time as naive UTC."""
    try:
        local = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date-time like 2020-06-01T07:00") from None
    if local.tzinfo is not None:
        raise argparse.ArgumentTypeError("give the local time without a zone (Asia/Shanghai is implied)")
    return local - dt.timedelta(hours=8)


def run(args, settings) -> int:
    from data_access import metrics
    from data_access.db import DatabaseUnavailable
    from data_access.simulator import Simulator
    from services.runtime import open_database

    sims: list = []
    try:
        db = open_database(settings)
        if not db.has_schema():
            print(f"{NAME}: error: the database is empty; run `jingbao seed` first", file=sys.stderr)
            return EXIT_USAGE
        known = tuple(city.adcode for city in metrics.catalogue(db).cities)
        cities = args.city or known
        unknown = [c for c in cities if c not in known]
        if unknown:
            print(f"{NAME}: error: unknown city {', '.join(unknown)}", file=sys.stderr)
            return EXIT_USAGE
        sims = [Simulator(db, city, seed=args.seed + i, rate_scale=args.rate_scale, start=args.start)
                for i, city in enumerate(cities)]
        fast = args.fast or args.start is not None
        seconds = args.minutes * 60 if args.minutes else float("inf")
        done = 0.0
        print(f"simulating {', '.join(cities)} every {args.step:g} s" + (" (fast)" if fast else ""),
              file=sys.stderr)
        # A simulator never runs past the clock: from a past --start it runs as fast as it can, from now (or once it
        # has caught up) each step waits for the clock, so every city keeps the clock's pace.
        while done < seconds:
            for sim in sims:
                sim.run(args.step, step_s=args.step, flush=False)
            done += args.step
        for sim in sims:
            sim.flush()
    except KeyboardInterrupt:
        try:
            for sim in sims:
                sim.flush()
        except DatabaseUnavailable:
            pass
    except DatabaseUnavailable as exc:
        print(f"{NAME}: error: database unavailable: {exc}", file=sys.stderr)
        return 1
    for sim in sims:
        print(f"{sim.city}: {len(sim.dispatches)} incidents, {len(sim.units)} units, "
              f"up to {sim.now:%Y-%m-%d %H:%M:%S} UTC")
    return 0
