"""For the operator's monitor: `/healthz` (the process answers), `/readyz` (the database and the cache answer too) and
`/metrics` in Prometheus' text format (prometheus-flask-exporter), all three without signing in.

/metrics counts requests and their latency per route — a Dash callback by the output it updates, never by its raw
address — the query cache's hits and misses, the data version, and the rows the ingest API stored and rejected.
Under several gunicorn workers `jingbao serve` sets PROMETHEUS_MULTIPROC_DIR, so any worker answers for all."""

from __future__ import annotations

import functools
import logging

from dash import Dash
from flask import jsonify, request
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_flask_exporter import PrometheusMetrics

from data_access import ingest
from data_access.db import Database, DatabaseUnavailable

log = logging.getLogger(__name__)

HEALTH_PATHS = ("/healthz", "/readyz", "/metrics")
CALLBACK_PATH = "/_dash-update-component"
UNKNOWN_CALLBACK = "callback ?"


def install_health(app: Dash, db: Database) -> None:
    """The three monitoring endpoints and the request metrics of `app`; counters of `db`'s cache."""
    server = app.server

    @server.get("/healthz")
    def healthz():
        return jsonify(status="ok"), 200, {"Cache-Control": "no-store"}

    @server.get("/readyz")
    def readyz():
        parts = {"database": "ok", "cache": "ok"}
        try:
            db.data_version()                      # the data-version row: a database with our schema, not just a file
        except DatabaseUnavailable as exc:
            log.warning("readyz: the database is unavailable: %s", exc)
            parts["database"] = "unavailable"      # the reason stays in the log: this answer is public
        if not db.cache.reachable():
            log.warning("readyz: the cache %s is unreachable", db.cache.backend.__class__.__name__)
            parts["cache"] = "unavailable"
        ready = all(value == "ok" for value in parts.values())
        return jsonify(status="ready" if ready else "unavailable", **parts), 200 if ready else 503, \
            {"Cache-Control": "no-store"}

    registry = CollectorRegistry()         # one per app: tests build many apps in one process
    lookups = Counter("jingbao_cache_lookups", "Query cache lookups, by result (hit or miss)", ["result"],
                      registry=registry)
    data_version = Gauge("jingbao_data_version", "The database's data version (bumped by every write)",
                         registry=registry, multiprocess_mode="mostrecent")
    ingest_rows = Counter("jingbao_ingest_rows", "Rows posted to the ingest API, by kind and outcome",
                          ["kind", "outcome"], registry=registry)
    db.cache.on_lookup = lambda hit: lookups.labels("hit" if hit else "miss").inc()

    def read_data_version(view):
        @functools.wraps(view)
        def scrape(*args, **kwargs):
            try:
                data_version.set(db.data_version())
            except DatabaseUnavailable:
                pass                                # /readyz says so; the gauge keeps its last value
            return view(*args, **kwargs)
        return scrape

    def route(req) -> str:
        """The label of a request: its URL rule, or for a callback "callback <its outputs>" (a bounded set: only
        the app's own callbacks, any other output is one label)."""
        if req.path.endswith(CALLBACK_PATH):
            try:
                body = req.get_json(silent=True, force=True)
            except Exception:                       # a refused body (413): nothing to name it by
                return UNKNOWN_CALLBACK
            output = body.get("output") if isinstance(body, dict) else None
            return f"callback {output}" if isinstance(output, str) and output in app.callback_map else UNKNOWN_CALLBACK
        return req.url_rule.rule if req.url_rule is not None else "unmatched"

    PrometheusMetrics(server, registry=registry, group_by=route, defaults_prefix="jingbao",
                      metrics_decorator=read_data_version)

    @server.after_request
    def _count_ingested_rows(response):
        kind = (request.view_args or {}).get("kind") if request.method == "POST" else None
        if kind in ingest.KINDS and response.is_json:
            answer = response.get_json(silent=True)
            if isinstance(answer, dict):
                for outcome in ("stored", "rejected"):
                    if isinstance(answer.get(outcome), int):
                        ingest_rows.labels(kind, outcome).inc(answer[outcome])
        return response
