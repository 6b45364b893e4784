"""`jingbao briefing`: the daily briefing of a city or district as PDF, PNG, JSON or Markdown (for cron and mail)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from dashboard.arguments import EXIT_USAGE, adcode_arg, date_arg

NAME = "jingbao briefing"


def register(commands) -> None:
    p = commands.add_parser("briefing", help="the daily briefing (default: yesterday) as pdf, png, json or md")
    p.add_argument("--date", type=date_arg, help="the local day (Asia/Shanghai); default yesterday")
    p.add_argument("--city", type=adcode_arg, help="city adcode (default: the configured default city)")
    p.add_argument("--district", type=adcode_arg, action="append", default=[],
                   help="a district adcode of the city (repeat for several)")
    p.add_argument("--format", choices=("pdf", "png", "json", "md"), default="pdf")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--out", help="the file to write; '-' or none writes json/md to standard output")
    p.set_defaults(handler=run)


def _error(message: str) -> int:
    print(f"{NAME}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def run(args, settings) -> int:
    from components import briefing as sheet
    from data_access import metrics
    from data_access.briefing import briefing_report, daily_briefing
    from data_access.db import DatabaseUnavailable
    from data_access.timeutil import local_now
    from services.briefing_render import RenderError, render
    from services.runtime import open_database

    if args.format in ("pdf", "png") and (not args.out or args.out == "-"):
        return _error(f"--format {args.format} needs --out FILE")
    out = Path(args.out) if args.out and args.out != "-" else None
    if out is not None and not out.parent.is_dir():
        return _error(f"{out.parent} is not a folder")
    day = args.date or local_now().date() - dt.timedelta(days=1)
    city_code = args.city or settings.default_city
    try:
        db = open_database(settings)
        if not db.has_schema():
            return _error("the database is empty; run `jingbao seed` first")
        city = metrics.catalogue(db).city(city_code)
        if city is None:
            return _error(f"unknown city {city_code}")
        unknown = [d for d in args.district if d not in city.districts]
        if unknown:
            return _error(f"{', '.join(unknown)} is not a district of {city_code}")
        districts = tuple(sorted(set(args.district)))
        briefing = daily_briefing(db, city.adcode, day, districts)
        place = place_name(db, city, districts, args.lang)
    except DatabaseUnavailable as exc:
        print(f"{NAME}: error: cannot reach the database: {exc}", file=sys.stderr)
        return 1

    if args.format == "json":
        data = json.dumps(briefing_report(briefing), ensure_ascii=False, indent=2).encode("utf-8")
    elif args.format == "md":
        data = sheet.markdown(briefing, args.lang, place).encode("utf-8")
    else:
        try:
            data = render(briefing, args.lang, place, args.format, local_now().replace(tzinfo=None))
        except RenderError as exc:
            print(f"{NAME}: error: {exc}", file=sys.stderr)
            return 1
    if out is None:
        sys.stdout.write(data.decode("utf-8"))
        return 0
    out.write_bytes(data)
    print(f"wrote {out} ({len(data):,} bytes)", file=sys.stderr)
    return 0


def place_name(db, city, districts: tuple[str, ...], lang: str) -> str:
    """"漳州市" or "漳州市 · 芗城区、龙文区"."""
    from data_access import metrics

    name = city.name_zh if lang == "zh" else city.name_en
    if not districts:
        return name
    names = metrics.district_names(db, city.adcode).set_index("district_adcode")[
        "name_zh" if lang == "zh" else "name_en"]
    return f"{name} · " + ("、" if lang == "zh" else ", ").join(str(names.get(d, d)) for d in districts)
