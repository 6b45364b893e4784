"""Callback requests of the overview page, built from the app's own callback map as the browser sends them."""

from __future__ import annotations

from dash import Dash

OVERVIEW_SEARCHES = (
    ("default view (Zhangzhou, 30 days, yoy)", ""),
    ("Zhangzhou main urban, first year, yoy", "?city=350600&start=2019-12-02&end=2020-12-01&districts=350602,350603"),
    ("Chongqing, 12 months, pop", "?city=500000&range=12m&compare=pop"),
)


def overview_payload(app: Dash, search: str) -> dict:
    """The body of the POST /_dash-update-component that redraws the overview for `search`."""
    from benchmarks.pages import payload

    return payload(app, "/", search, "overview-problems")


def overview_callback_payloads(app: Dash) -> list[tuple[str, dict]]:
    return [(label, overview_payload(app, search)) for label, search in OVERVIEW_SEARCHES]
