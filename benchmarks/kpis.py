"""KPI query time from rollups (uncached and cached), the overview callback through Flask, the naive baseline, the
same overview figures computed by DuckDB from an in-memory columnar copy of the same cases in the same run (with the
ratio, and whether the figures agree), and the worst error of the sketched percentiles against exact ones.

`python -m benchmarks.kpis` runs the DuckDB comparison and the sketch check alone (JINGBAO_DATABASE_URL picks the
database, e.g. a copy whose rollups were rebuilt)."""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from sqlalchemy import case, select

from base.settings import load_settings
from benchmarks._common import Row, payload, post_callback, row, signed_in_client, timed
from data_access import metrics, registry, sketch
from data_access.cache import QueryCache
from data_access.db import Database, pin_data_versions, unpin_data_versions
from data_access.filters import Filters
from data_access.models import ALERT_CHANNELS, AccidentCase, StageMode
from data_access.rollups import LATENCIES
from data_access.sqlfuncs import seconds_between
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
                        timed(partial(cold, uncached, registry.kpis, filters, registry.OVERVIEW), repeat), 500))
        registry.kpis(cached, filters, registry.OVERVIEW)
        rows.append(row(f"overview KPIs cached · {label}",
                        timed(partial(registry.kpis, cached, filters, registry.OVERVIEW), repeat), 150))
        rows.append(row(f"naive pandas over raw cases · {label}",
                        timed(partial(naive_kpis, uncached, filters), max(3, repeat // 5)), None))
    rows.extend(callback_rows(settings, repeat))
    cases = read_cases(uncached)
    comparisons = duckdb_comparisons(uncached, cases, repeat)
    print(render_comparisons(comparisons))
    rows.extend(comparison_rows(comparisons))
    rows.extend(accuracy_rows(uncached, cases))
    return rows


def cold(db: Database, func: Callable, *args) -> object:
    """`func(db, *args)` with nothing cached before it, the data version read once as a request reads it (the app
    pins it for each request: `dashboard.guard`), not once per cached query."""
    db.cache.clear()
    token = pin_data_versions()
    try:
        return func(db, *args)
    finally:
        unpin_data_versions(token)


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


# ------------------------------------------------------------------ DuckDB beside the rollups, on the same cases
# The overview figures that come from the cases (mediation and rescues come from tables of their own), each window
# against its comparison window: what DuckDB computes from the raw cases and the rollups from their sketches.
CASE_KPIS = ("alerts", "quick", "quick_rate", "remote_liability", "online_share", "payout_p50", "payout_p90")
PERCENTILES = ("payout_p50", "payout_p90")
PERCENTILE_TOLERANCE = 0.005
CASE_COLUMNS = ("city_adcode", "district_adcode", "local_day", "channel", "quick_handled", "liability_mode",
                "handled_online")
ROWS_PER_FETCH = 200_000


@dataclass(frozen=True)
class Comparison:
    label: str
    ours_ms: float
    duckdb_ms: float
    limit: float              # the ratio ours ÷ DuckDB must stay at or under
    differences: tuple[str, ...]
    worst_percentile_error: float

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.duckdb_ms

    @property
    def ok(self) -> bool:
        return self.ratio <= self.limit and not self.differences


def read_cases(db: Database) -> pd.DataFrame:
    """Every case's overview columns and each latency of the rollups (seconds, NaN where unknown): the cases DuckDB
    loads and the exact side of the sketch check."""
    c = AccidentCase.__table__.c
    columns = [c[name] for name in CASE_COLUMNS]
    for name, (later, earlier, extra) in LATENCIES.items():
        value = seconds_between(later, earlier)
        columns.append((value if extra is None else case((extra, value), else_=None)).label(name))
    names = [*CASE_COLUMNS, *LATENCIES]
    parts = []
    with db.session() as session:
        cursor = session.execute(select(*columns)).cursor
        while chunk := cursor.fetchmany(ROWS_PER_FETCH):
            part = pd.DataFrame.from_records(chunk, columns=names)
            for name in ("city_adcode", "district_adcode", "channel", "liability_mode"):
                part[name] = part[name].astype("category")
            part["local_day"] = pd.to_datetime(part["local_day"])
            for name in ("quick_handled", "handled_online"):
                part[name] = part[name].fillna(False).astype(bool)
            for name in LATENCIES:
                part[name] = pd.to_numeric(part[name], errors="coerce").astype(float)
            parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    for name in ("city_adcode", "district_adcode", "channel", "liability_mode"):
        frame[name] = frame[name].astype(str)
    return frame


def duckdb_cases(cases: pd.DataFrame):
    """An in-memory DuckDB holding the cases' overview columns as a columnar table (payout latency in minutes)."""
    import duckdb

    con = duckdb.connect()
    con.register("frame", cases[[*CASE_COLUMNS, "payout"]])
    con.execute("CREATE TABLE cases AS SELECT city_adcode, district_adcode, CAST(local_day AS DATE) AS local_day, "
                "channel, quick_handled, liability_mode, handled_online, "
                "CASE WHEN isnan(payout) THEN NULL ELSE payout / 60.0 END AS payout_minutes FROM frame")
    con.unregister("frame")
    return con


def duckdb_kpis(con, filters: Filters) -> dict[str, dict[str, float | None]]:
    """The CASE_KPIS of the window and of its comparison window ("current", "previous"), from the raw cases, with
    exact percentiles by the project's rule (quantile_disc is numpy's inverted-CDF percentile)."""
    windows = {"current": filters, "previous": filters.comparison_window()}
    alert = ", ".join(f"'{channel.value}'" for channel in ALERT_CHANNELS)
    where = ["city_adcode = ?", "(" + " OR ".join("local_day BETWEEN ? AND ?" for w in windows.values() if w) + ")"]
    params: list[object] = [filters.city]
    for window in windows.values():
        if window:
            params += [window.start, window.end]
    if filters.districts:
        where.append(f"district_adcode IN ({', '.join('?' for _ in filters.districts)})")
        params += list(filters.districts)
    rows = con.execute(
        f"SELECT local_day BETWEEN ? AND ? AS current, count(*) FILTER (WHERE channel IN ({alert})), "
        f"count(*) FILTER (WHERE channel IN ({alert}) AND quick_handled), "
        f"count(*) FILTER (WHERE liability_mode = '{StageMode.REMOTE.value}'), "
        "count(*) FILTER (WHERE handled_online), count(*), quantile_disc(payout_minutes, [0.5, 0.9]) "
        f"FROM cases WHERE {' AND '.join(where)} GROUP BY 1", [filters.start, filters.end, *params]).fetchall()
    # a window without a case has no row: its counts are 0 and its shares and percentiles have no value
    out = {window: {key: 0 if key in ("alerts", "quick", "remote_liability") else None for key in CASE_KPIS}
           for window, filters in windows.items() if filters}
    for current, alerts, quick, remote, online, cases, payout in rows:
        p50, p90 = payout if payout is not None else (None, None)
        out["current" if current else "previous"] = {
            "alerts": alerts, "quick": quick, "quick_rate": quick / alerts if alerts else None,
            "remote_liability": remote, "online_share": online / cases if cases else None,
            "payout_p50": p50, "payout_p90": p90}
    return out


def ours(db: Database, filters: Filters) -> dict[str, dict[str, float | None]]:
    """The same figures as `duckdb_kpis`, as the overview reads them (from the rollups)."""
    kpis = registry.kpis(db, filters, CASE_KPIS)
    return {"current": {k.key: k.value for k in kpis.kpis}, "previous": {k.key: k.previous for k in kpis.kpis}}


def differences(mine: dict, theirs: dict) -> tuple[list[str], float]:
    """Where two figure sets disagree (counts exactly, shares to 1e-9, percentiles within PERCENTILE_TOLERANCE),
    and the worst relative error of a percentile."""
    found, worst = [], 0.0
    for window in ("current", "previous"):
        for key in CASE_KPIS:
            a, b = mine.get(window, {}).get(key), theirs.get(window, {}).get(key)
            if a is None or b is None:
                same = a is None and (b is None or (key not in PERCENTILES and b == 0))
            elif key in PERCENTILES:
                error = abs(a / b - 1) if b else abs(a)
                worst = max(worst, error)
                same = error <= PERCENTILE_TOLERANCE
            else:
                same = abs(a - b) <= 1e-9
            if not same:
                found.append(f"{window} {key}: ours {a} DuckDB {b}")
    return found, worst


def comparison_windows(today: dt.date) -> list[tuple[str, Filters, float]]:
    """(label, window with its comparison, the ratio ours ÷ DuckDB must stay at or under)."""
    return [
        ("Zhangzhou main urban, first year, yoy",
         Filters("350600", dt.date(2019, 12, 2), dt.date(2020, 12, 1), ("350602", "350603"), "yoy"), 1.0),
        ("Chongqing, one year, pop", Filters("500000", today - dt.timedelta(days=364), today, (), "pop"), 1.0),
        ("Chongqing, all data, pop", Filters("500000", dt.date(2017, 4, 16), today, (), "pop"), 2.0),
    ]


def duckdb_comparisons(db: Database, cases: pd.DataFrame, repeat: int) -> list[Comparison]:
    """Each comparison window's CASE_KPIS timed from the rollups (a cold cache each time) and by DuckDB over an
    in-memory columnar copy of the same cases, loaded once beforehand; and whether the figures agree."""
    con = duckdb_cases(cases)
    out = []
    for label, filters, limit in comparison_windows(dt.date.today()):
        duck = duckdb_kpis(con, filters)
        found, worst = differences(ours(db, filters), duck)
        ours_ms = statistics.median(timed(partial(cold, db, ours, filters), repeat))
        duck_ms = statistics.median(timed(partial(duckdb_kpis, con, filters), repeat))
        out.append(Comparison(label, ours_ms, duck_ms, limit, tuple(found), worst))
    con.close()
    return out


def render_comparisons(comparisons: list[Comparison]) -> str:
    header = f"{'overview KPIs from the cases, window + comparison':<52}{'ours':>10}{'DuckDB':>10}{'ratio':>8}" \
             f"{'limit':>7}  figures agree (worst percentile error)"
    lines = [header, "-" * len(header)]
    for c in comparisons:
        agree = "yes" if not c.differences else "NO: " + "; ".join(c.differences)
        lines.append(f"{c.label:<52}{c.ours_ms:>7.1f} ms{c.duckdb_ms:>7.1f} ms{c.ratio:>7.2f}×{c.limit:>6.0f}×  "
                     f"{agree} ({c.worst_percentile_error:.3%})")
    return "\n".join(lines)


def comparison_rows(comparisons: list[Comparison]) -> list[Row]:
    return [Row(f"KPIs ÷ DuckDB ({c.ours_ms:.0f} ÷ {c.duckdb_ms:.0f} ms, "
                f"{'agree' if not c.differences else 'DIFFER'}) · {c.label}",
                f"{c.ratio:.2f}×", "", f"≤ {c.limit:.0f}×", c.ok) for c in comparisons]


# ------------------------------------------------------------------------ sketched percentiles against exact ones
QUANTILES = (50, 90, 99)
SKETCH_TOLERANCE = 0.005


def sketch_errors(db: Database, cases: pd.DataFrame) -> dict[str, tuple[float, str, int]]:
    """For each latency stage, the worst relative error of a sketched p50 / p90 / p99 against the exact one (numpy's
    inverted-CDF rule over the raw cases) over each city's whole data, each district and each month, where it is,
    and how many figures were compared."""
    cases = cases.assign(month=cases["local_day"].dt.to_period("M").dt.start_time.dt.date)
    worst: dict[str, tuple[float, str, int]] = {}
    for city, in_city in cases.groupby("city_adcode"):
        days = metrics.data_days(db, str(city))
        if days is None:
            continue
        filters = Filters(str(city), days[0], days[1], comparison="none")
        for stage in LATENCIES:
            known = in_city[in_city[stage].notna()]
            parts = [("whole city", metrics.latency_histogram(db, filters, stage)[0], known[stage].to_numpy())]
            by_district = metrics.latency_histograms_by_district(db, filters, stage)
            parts += [(str(d), by_district[str(d)][0], g[stage].to_numpy())
                      for d, g in known.groupby("district_adcode")]
            by_month = dict(metrics.monthly_latency_histograms(db, filters, stage))
            parts += [(f"{m:%Y-%m}", by_month[m], g[stage].to_numpy()) for m, g in known.groupby("month")]
            error, where, count = worst.get(stage, (0.0, "", 0))
            for place, hist, values in parts:
                for q in QUANTILES:
                    exact = float(np.percentile(values, q, method="inverted_cdf"))
                    got = sketch.percentile(hist, q)
                    off = abs(got - exact) if exact == 0 else abs(got / exact - 1)
                    count += 1
                    if off > error:
                        error, where = off, f"{city} {place} p{q}"
            worst[stage] = (error, where, count)
    return worst


def accuracy_rows(db: Database, cases: pd.DataFrame) -> list[Row]:
    rows = []
    for stage, (error, where, count) in sketch_errors(db, cases).items():
        rows.append(Row(f"sketch p50/p90/p99 vs exact · {stage} · worst of {count} ({where})", f"{error:.3%}", "",
                        f"< {SKETCH_TOLERANCE:.1%}", error < SKETCH_TOLERANCE))
    return rows


def main() -> int:
    """The DuckDB comparison and the sketch check alone, on the database of the settings."""
    from benchmarks._common import render

    settings = load_settings()
    db = Database(settings.database_url, QueryCache.from_url("simple"))
    cases = read_cases(db)
    comparisons = duckdb_comparisons(db, cases, 15)
    print(render_comparisons(comparisons))
    rows = comparison_rows(comparisons) + accuracy_rows(db, cases)
    print(render(rows))
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
