"""The values a callback request may carry, checked before any page callback sees them.

A browser running this app only ever sends what its components hold: a URL's search string, a radio's value, a
click count, a store the server filled, a map's zoom. A forged request can send anything in their place (a string
where a store holds an object, 1e400 for a slider, a string of a megabyte). Every input and state of every callback
is checked here, by the component property it reads, against the kind of value that property has; a request with
any other value answers 400 with the property's name, and the callback never runs.

`dashboard.guard` checks the body's shape (and `dashboard.app.callback_request_problem` that it names a callback of
this app) before this runs; this module checks only the values.
"""

from __future__ import annotations

import math
from collections.abc import Callable

MAX_TEXT = 4_096              # a URL's search string, a date, a radio's value
MAX_ITEMS = 500               # a checklist's values, a click's points
MAX_STORE_CHARS = 200_000     # a dcc.Store the server filled (the live map's layers are the largest, ~60 kB)
MAX_COUNT = 2**31 - 1         # n_clicks, n_intervals
MAX_NUMBER = 1e9              # any number a control holds (a slider's value, a radius in km)

Check = Callable[[object], str | None]


def _finite(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            and abs(value) <= MAX_NUMBER)


def _text(value: object, limit: int = MAX_TEXT) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > limit:
        return f"must be at most {limit:,} characters"
    return None


def optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def path(value: object) -> str | None:
    """A location's pathname: the browser always has one."""
    if not isinstance(value, str) or not value.startswith("/"):
        return "must be a path starting with /"
    return _text(value)


def count(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        return f"must be a whole number from 0 to {MAX_COUNT:,}"
    return None


def _scalar(value: object) -> str | None:
    if value is None or isinstance(value, bool) or _finite(value):
        return None
    if isinstance(value, int | float):
        return f"must be a finite number within ±{MAX_NUMBER:g}"
    return _text(value)


def control_value(value: object) -> str | None:
    """A radio's, dropdown's, checklist's, slider's or input's value: a short string, a bounded finite number, a
    boolean, nothing, or a short list of those."""
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            return f"must hold at most {MAX_ITEMS} items"
        for item in value:
            if (problem := _scalar(item)) is not None:
                return problem
        return None
    return _scalar(value)


def flag(value: object) -> str | None:
    return None if value is None or isinstance(value, bool) else "must be true or false"


def zoom(value: object) -> str | None:
    if value is None or (_finite(value) and 0 <= value <= 30):
        return None
    return "must be a number from 0 to 30"


def center(value: object) -> str | None:
    """A leaflet map's centre: [lat, lon] or {"lat": , "lng": }."""
    if value is None:
        return None
    pair = [value.get("lat"), value.get("lng")] if isinstance(value, dict) else value
    if isinstance(pair, list) and len(pair) == 2 and all(_finite(v) for v in pair) \
            and -90 <= pair[0] <= 90 and -360 <= pair[1] <= 360:
        return None
    return "must be a latitude and a longitude"


def click(value: object) -> str | None:
    """A figure's or map's clickData: an object whose `points` (when present) is a short list of objects."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return "must be an object"
    points = value.get("points", [])
    if not isinstance(points, list) or len(points) > MAX_ITEMS or not all(isinstance(p, dict) for p in points):
        return "points must be a list of objects"
    return _bounded_json(value)


def _bounded_json(value: object, depth: int = 0, budget: list[int] | None = None) -> str | None:
    """Plain JSON of bounded depth and size, with finite numbers only."""
    budget = [MAX_STORE_CHARS] if budget is None else budget
    if depth > 12:
        return "is nested too deeply"
    if isinstance(value, str):
        budget[0] -= len(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            return "holds a number that is not finite"
        budget[0] -= 8
    elif isinstance(value, list):
        budget[0] -= len(value)
        for item in value:
            if (problem := _bounded_json(item, depth + 1, budget)) is not None:
                return problem
    elif isinstance(value, dict):
        budget[0] -= len(value)
        for key, item in value.items():
            budget[0] -= len(key)
            if (problem := _bounded_json(item, depth + 1, budget)) is not None:
                return problem
    if budget[0] < 0:
        return f"must be smaller than {MAX_STORE_CHARS:,} characters"
    return None


def store(value: object) -> str | None:
    """What the server put into a dcc.Store: an object, a list or nothing (bounded, finite)."""
    if value is None:
        return None
    if not isinstance(value, dict | list):
        return "must be an object or a list"
    return _bounded_json(value)


def any_json(value: object) -> str | None:
    return _bounded_json(value)


# The check of each component property a callback of this app reads. A property not named here is held to plain
# bounded JSON; `test_every_callback_input_has_a_check` keeps this table complete.
CHECKS: dict[str, Check] = {
    "search": optional_text, "pathname": path, "hash": optional_text, "href": optional_text,
    "value": control_value, "start_date": optional_text, "end_date": optional_text, "date": optional_text,
    "n_clicks": count, "n_intervals": count, "n_submit": count, "n_blur": count,
    "disabled": flag, "is_open": flag, "hidden": flag,
    "data": store, "clickData": click, "hoverData": click, "selectedData": click,
    "zoom": zoom, "center": center,
}


def value_problems(body: dict) -> list[str]:
    """Why the values of a callback request's inputs and state cannot be what its components hold, as
    "<id>.<property> <reason>" lines; [] when every value is one a browser could send."""
    problems = []
    for key in ("inputs", "state"):
        for item in body.get(key) or []:
            for reference in item if isinstance(item, list) else [item]:
                prop = reference.get("property")
                problem = CHECKS.get(prop, any_json)(reference.get("value"))
                if problem is not None:
                    name = reference.get("id")
                    name = name if isinstance(name, str) else "pattern"
                    problems.append(f"{name[:60]}.{str(prop)[:40]} {problem}")
    return problems
