"""`jingbao metrics`: every metric the dashboard shows, as the registry declares it (name, definition, unit, format,
which direction is good), so a leader's question "what does this figure count?" has one printed answer."""

from __future__ import annotations

import json


def register(commands) -> None:
    p = commands.add_parser("metrics", help="list every metric: key, name, definition, unit, good direction")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(handler=run)


def run(args, settings) -> int:
    from services.reports import metric_catalogue

    catalogue = metric_catalogue(args.lang)
    if args.format == "json":
        print(json.dumps(catalogue, ensure_ascii=False, indent=2))
        return 0
    good = {True: "↑", False: "↓", None: "·"}
    for item in catalogue:
        print(f"{item['key']:<24}{item['unit']:<9}{good[item['higher_is_better']]}  {item['label']} — "
              f"{item['definition']}")
    return 0
