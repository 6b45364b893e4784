"""The view's state as it lives in the URL query string: read it, change one part, write it back in a fixed order."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from dash import dcc

PARAM_ORDER = ("city", "range", "start", "end", "districts", "compare", "insurer", "lang")


def parse_search(search: str | None) -> dict[str, str]:
    """`?a=1&b=2` as a dict; a repeated key keeps its first value."""
    params: dict[str, str] = {}
    if not isinstance(search, str):
        return params
    for key, value in parse_qsl(search.lstrip("?"), keep_blank_values=False):
        params.setdefault(key, value)
    return params


def to_search(params: dict[str, object]) -> str:
    """A query string with the known keys first, in a fixed order, and empty values left out."""
    ordered = [key for key in PARAM_ORDER if key in params] + sorted(k for k in params if k not in PARAM_ORDER)
    pairs = [(key, str(params[key])) for key in ordered if params[key] not in (None, "")]
    return "?" + urlencode(pairs, safe=",") if pairs else ""


def with_params(search: str | None, **changes: object) -> str:
    """The query string with some keys set, or removed when set to None or ""."""
    params: dict[str, object] = dict(parse_search(search))
    params.update(changes)
    return to_search({k: v for k, v in params.items() if v not in (None, "")})


def districts_of(search: str | None) -> tuple[str, ...]:
    raw = parse_search(search).get("districts") or parse_search(search).get("district") or ""
    return tuple(code for code in (c.strip() for c in raw.split(",")) if code)


def toggle_district(search: str | None, adcode: str) -> str:
    """Focus on one district, or back on the whole city when that district is already the one shown."""
    chosen = districts_of(search)
    params = dict(parse_search(search))
    params.pop("district", None)
    params["districts"] = "" if chosen == (adcode,) else adcode
    return to_search({k: v for k, v in params.items() if v})


def page_address(location_id: str) -> dcc.Location:
    """A page's own writer of the address. Callbacks of the page that change the URL (a district clicked, a choice
    made) write here instead of to the shell's app-url: as a page's content mounts, Dash runs every callback with an
    input in it whose outputs are not all in it too, prevent_initial_call or not, so each of those was a request and
    a round of renderer work on every page load. This Location pushes the new address into the browser's history and
    the shell's app-url follows, as it follows the back button."""
    return dcc.Location(id=location_id, refresh="callback-nav")
