"""`jingbao audit [--since D] [--user NAME] [--format json|table]`: the append-only audit log — sign-ins and their
failures with the address, sign-outs, exports with their filters, account and token changes, imports."""

from __future__ import annotations

import datetime as dt
import json

from dashboard.arguments import date_arg


def register(commands) -> None:
    p = commands.add_parser("audit", help="the audit log: sign-ins, exports, account and token changes, imports")
    p.add_argument("--since", type=date_arg, help="from this local day (YYYY-MM-DD)")
    p.add_argument("--user", help="only this account's events")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--limit", type=int, default=10_000, help="at most this many, the newest (default 10000)")
    p.set_defaults(handler=run)


def run(args, settings) -> int:
    from data_access import audit
    from data_access.timeutil import local_midnight_utc, to_local
    from services.runtime import open_database

    db = open_database(settings)
    db.create_schema()
    since = local_midnight_utc(args.since) if args.since else None
    rows = audit.entries(db, since=since, account=args.user, limit=max(1, min(args.limit, 100_000)))
    if args.format == "json":
        print(json.dumps([row.as_dict() for row in rows], ensure_ascii=False, indent=1))
        return 0
    for row in rows:
        when = to_local(row.at.replace(tzinfo=dt.UTC)).strftime("%Y-%m-%d %H:%M:%S")
        detail = " ".join(f"{k}={v}" for k, v in row.detail.items())
        print(f"{when}  {row.event:<16}{row.account:<20}{row.address:<16}{detail}")
    return 0
