"""KPI query time from rollups (uncached and cached), the overview callback through Flask, and the naive baseline."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import partial

import pandas as pd

from base.settings import load_settings
from benchmarks._common import Row, payload, post_callback, row, signed_in_client, timed
from data_access import metrics, registry
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.filters import Filters
from data_access.models import ALERT_CHANNELS
from services.runtime import ensure_demo_data, open_database

# The overview page's main callback is timed on these views (label, query string).
OVERVIEW_SEARCHES = (
    ("default view (Zhangzhou, 30 days, yoy)", ""),
    ("Zhangzhou main urban, first year, yoy", "?city=350600&start=2019-12-02&end=2020-12-01&districts=350602,350603"),
    ("Chongqing, 12 months, pop", "?city=500000&range=12m&compare=pop"),
)


def naive_kpis(db: Database, filters: Filters) -> dict[str, float]:
    """The overview KPIs the way a quick dashboard would do it: read every case of the window into pandas."""
    query = ("SELECT channel, quick_handled, liability_mode, handled_online, reported_at, paid_at "
             "FROM accident_case WHERE city_adcode = :city AND local_day BETWEEN :start AND :end")
    frame = pd.read_sql_query(
        _text(query), db.engine, params={"city": filters.city, "start": filters.start, "end": filters.end}
    )
    alerts = frame["channel"].isin([c.value for c in ALERT_CHANNELS])
    quick = int((alerts & frame["quick_handled"].astype(bool)).sum())
    latency = (pd.to_datetime(frame["paid_at"]) - pd.to_datetime(frame["reported_at"])).dt.total_seconds().dropna()
    return {
        "alerts": int(alerts.sum()), "quick": quick, "quick_rate": quick / max(int(alerts.sum()), 1),
        "remote": int((frame["liability_mode"] == "remote").sum()),
        "online_share": float(frame["handled_online"].astype(bool).mean()),
        "payout_p50": float(latency.quantile(0.5)) / 60, "payout_p90": float(latency.quantile(0.9)) / 60,
    }


def _text(sql: str):
    from sqlalchemy import text

    return text(sql)


def windows(today: dt.date) -> list[tuple[str, Filters]]:
    return [
        ("Zhangzhou main urban, rider team's first year, yoy",
         Filters("350600", dt.date(2019, 12, 2), dt.date(2020, 12, 1), ("350602", "350603"), "yoy")),
        ("Chongqing, all data (~1.5 M cases), pop",
         Filters("500000", dt.date(2017, 4, 16), today, (), "pop")),
    ]


def run(repeat: int = 15) -> list[Row]:
    settings = load_settings()
    db = open_database(settings)
    ensure_demo_data(db, settings)
    # "Uncached" is a cold cache: what the first viewer after new data waits for (one request still reuses
    # its own sub-results, as any request does); "cached" is every later viewer of the same view.
    uncached = Database(settings.database_url, QueryCache.from_url("simple"))
    cached = Database(settings.database_url, QueryCache.from_url("simple"))
    today = dt.date.today()
    rows: list[Row] = []
    for label, filters in windows(today):
        rows.append(row(f"overview KPIs uncached · {label}",
                        timed(partial(cold, uncached, metrics.overview_kpis, filters), repeat), 500))
        registry.kpis(cached, filters, registry.OVERVIEW)
        rows.append(row(f"overview KPIs cached · {label}",
                        timed(partial(metrics.overview_kpis, cached, filters), repeat), 150))
        rows.append(row(f"naive pandas over raw cases · {label}",
                        timed(partial(naive_kpis, uncached, filters), max(3, repeat // 5)), None))
    rows.extend(callback_rows(settings, repeat))
    return rows


def cold(db: Database, func: Callable, *args) -> object:
    """`func(db, *args)` with nothing cached before it."""
    db.cache.clear()
    return func(db, *args)


def callback_rows(settings, repeat: int) -> list[Row]:
    """The overview page's main callback, posted through the Flask test client as a browser would."""
    from dashboard.app import create_app

    rows = []
    for kind, target in (("uncached", 500), ("cached", 150)):
        db = Database(settings.database_url, QueryCache.from_url("simple"))
        app = create_app(settings, db)
        client = signed_in_client(app)
        client.get("/")
        for label, search in OVERVIEW_SEARCHES:
            body = json.dumps(payload(app, "/", search, "overview-problems"))
            post = partial(post_callback, client, body, db if kind == "uncached" else None)
            post()
            rows.append(row(f"overview callback {kind} · {label}", timed(post, repeat), target))
    return rows
