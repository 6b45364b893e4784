"""The HTTP API under /api/v1: ingest (cases, mediations, rescues) for token holders and reference data (insurers,
stations, grids, units, duty periods) for admin tokens, KPIs for anyone who may see the dashboard, and the OpenAPI
description of both. Errors are JSON with a reason and a 4xx, never a 500."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request

from data_access import audit, ingest, reference_ingest
from data_access.db import DatabaseUnavailable
from data_access.filters import COMPARISONS, RANGES, parse_filters
from data_access.models import UnitStatus
from data_access.timeutil import local_today
from data_access.tokens import TokenRejected, authenticate
from services.identity import current_viewer
from services.runtime import get_db, get_settings

api = Blueprint("api_v1", __name__, url_prefix="/api/v1")
COLLECTIONS = (*ingest.KINDS, *reference_ingest.KINDS)


def error(status: int, message: str, **extra):
    return jsonify(error=message, **extra), status


# The server reconnects on the first request after the database is back, so a short wait is enough.
RETRY_AFTER_S = 10


@api.errorhandler(DatabaseUnavailable)
def _database_away(exc):
    response, status = error(503, f"the database is unavailable: {exc}")
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response, status


@api.post("/<kind>")
def post_rows(kind: str):
    """Store the rows of a request for the caller's source: 200 all stored, 207 some rejected, 422 none stored. Cases,
    mediations and rescues are a JSON array of rows; reference data (admin tokens only) too, but grids are a GeoJSON
    FeatureCollection, and `?datum=gcj02` converts reference coordinates to WGS-84 on the way in."""
    if kind not in COLLECTIONS:
        return error(404, f"no such collection {kind!r}; use {', '.join(COLLECTIONS)}")
    db = get_db()
    try:
        caller = authenticate(db, request.headers.get("Authorization"))
    except TokenRejected as exc:
        response = error(exc.status, exc.message)
        if exc.status == 401:
            response[0].headers["WWW-Authenticate"] = 'Bearer realm="jingbao"'
        return response
    reference = kind in reference_ingest.KINDS
    if reference and not caller.admin:
        return error(403, "reference data needs an admin token")
    datum = request.args.get("datum", "wgs84")
    if datum not in reference_ingest.DATUMS or (datum != "wgs84" and not reference):
        return error(400, f"datum must be {' or '.join(reference_ingest.DATUMS)} (reference data only)")
    body = request.get_json(silent=True)
    if kind in reference_ingest.SHAPE_KINDS:
        try:
            rows = reference_ingest.features_of(body)
        except ingest.IngestError as exc:
            return error(400, str(exc))
    elif isinstance(body, list):
        rows = body
    else:
        return error(400, "the body must be a JSON array of row objects (Content-Type: application/json)")
    if not rows:
        return error(400, "the array is empty" if isinstance(body, list) else "the collection has no feature")
    if len(rows) > ingest.MAX_ROWS_PER_REQUEST:
        return error(413, f"{len(rows)} rows: send at most {ingest.MAX_ROWS_PER_REQUEST:,} per request")
    source = caller.source
    if reference:
        result = reference_ingest.store(db, kind, source, rows, datum=datum)
    else:
        result = ingest.store(db, kind, source, rows, insurer=caller.insurer_code)
    audit.record(db, "import", source, (request.remote_addr or "")[:64], via="api", kind=kind,
                 received=result.received, stored=result.stored, rejected=result.rejected_rows)
    status = 200 if not result.problems else (207 if result.stored else 422)
    return jsonify(source=source, **result.as_dict()), status


@api.get("/<kind>")
def get_rows(kind: str):
    """The collections are written, not read, here: a JSON 405 (or 404 for a name that is none), never a page."""
    if kind not in COLLECTIONS:
        return error(404, f"no such collection {kind!r}; use {', '.join(COLLECTIONS)}")
    response, status = error(405, f"{kind} are sent with POST; the figures are read at /api/v1/kpis")
    response.headers["Allow"] = "POST"
    return response, status


@api.get("/kpis")
def get_kpis():
    """The overview KPIs of ?city=&districts=&start=&end=&compare=, computed by the same functions as the pages."""
    from data_access import metrics
    from services.reports import kpi_report

    db = get_db()
    catalogue = metrics.catalogue(db)
    if not catalogue.cities:
        return error(404, "the database holds no city yet")
    viewer = current_viewer()
    if viewer is None or viewer.role == "wall":
        return error(403, "this account may not read KPIs")
    parsed = parse_filters(request.args, catalogue, local_today(), get_settings().default_city, viewer.scope)
    if parsed.problems:
        return error(400, "bad query values", problems=list(parsed.problems))
    if parsed.out_of_scope is not None:
        return error(403, str(parsed.out_of_scope), outside=parsed.out_of_scope.what)
    return jsonify(kpi_report(db, parsed.filters))


@api.get("/metrics")
def get_metrics():
    """Every metric the dashboard shows: key, name and one-sentence definition (?lang=zh|en), unit, format and which
    direction is good — the registry the pages, the briefing and the KPIs read."""
    from base.i18n import LANGUAGES
    from services.reports import metric_catalogue

    lang = request.args.get("lang", "zh")
    if lang not in LANGUAGES:
        return error(400, "lang must be zh or en")
    return jsonify(metrics=metric_catalogue(lang))


@api.get("/as-of")
def get_as_of():
    """How fresh a city's data is, cheaply: what the wall display polls to mark itself stale. A status report, so an
    absent database is an answer (200, database "unavailable", stale) rather than an error the screen's console logs."""
    from data_access import metrics
    from data_access.timeutil import to_local, utcnow

    settings = get_settings()
    viewer = current_viewer()
    city = request.args.get("city") or settings.default_city
    if viewer is not None and viewer.scope.cities and not request.args.get("city"):
        city = viewer.scope.cities[0]
    if viewer is None or not viewer.scope.allows_city(city):
        return error(403, f"city {city[:12]} is not in your scope")
    try:
        db = get_db()
        if metrics.catalogue(db).city(city) is None:
            return error(400, f"unknown city {city[:12]!r}")
        newest = metrics.data_as_of(db, city)
    except DatabaseUnavailable:
        return jsonify(city=city, database="unavailable", as_of_utc=None, as_of_local=None, age_minutes=None,
                       stale_after_minutes=settings.stale_after_minutes, stale=True)
    age = None if newest is None else (utcnow() - newest).total_seconds() / 60
    return jsonify(city=city, database="ok", as_of_utc=newest.isoformat() if newest else None,
                   as_of_local=to_local(newest).strftime("%H:%M") if newest else None,
                   age_minutes=None if age is None else round(age, 1),
                   stale_after_minutes=settings.stale_after_minutes,
                   stale=age is None or age > settings.stale_after_minutes)


@api.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


def _row_schema(kind: str) -> dict:
    fields = ingest.FIELDS.get(kind) or reference_ingest.FIELDS[kind]
    properties = {}
    for spec in fields:
        name = spec.name
        if name.endswith("_at") or (kind == "positions" and name == "at"):
            schema = {"type": ["string", "null"], "format": "date-time",
                      "description": "ISO 8601 with a UTC offset; empty or null: not reached / unknown"}
        elif name.endswith("_on") or name in ("start", "end"):
            schema = {"type": ["string", "null"], "format": "date", "description": "a local day, 2024-05-01"}
        elif name in ("lon", "lat", "paid_amount_yuan", "amount_yuan", "staff", "members"):
            schema = {"type": ["number", "null"]}
        elif name in ("found_by_patrol", "quick_handled", "handled_online", "pre_litigation", "one_click_claim",
                      "active"):
            schema = {"type": ["boolean", "null"]}
        elif kind == "positions" and name == "status":
            schema = {"type": "string", "enum": [status.value for status in UnitStatus]}
        else:
            schema = {"type": ["string", "null"]}
        properties[name] = schema
    required = [spec.name for spec in fields if spec.required]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _body_schema(kind: str) -> dict:
    if kind in reference_ingest.SHAPE_KINDS:
        feature = {"type": "object", "required": ["type", "properties", "geometry"], "properties": {
            "type": {"const": "Feature"}, "properties": _row_schema(kind),
            "geometry": {"type": "object", "description": "a closed, valid Polygon or MultiPolygon"}}}
        return {"type": "object", "required": ["type", "features"], "properties": {
            "type": {"const": "FeatureCollection"},
            "features": {"type": "array", "minItems": 1, "maxItems": ingest.MAX_ROWS_PER_REQUEST,
                         "items": feature}}}
    return {"type": "array", "minItems": 1, "maxItems": ingest.MAX_ROWS_PER_REQUEST, "items": _row_schema(kind)}


DATUM_PARAMETER = {"name": "datum", "in": "query", "schema": {"type": "string", "enum": list(reference_ingest.DATUMS)},
                   "description": "the datum of the coordinates sent (default wgs84), converted to WGS-84"}


ADCODE = "^[0-9]{6}$"
KPI_PARAMETERS = {
    "city": {"type": "string", "pattern": ADCODE, "description": "a registered city's adcode"},
    "districts": {"type": "string", "pattern": "^[0-9]{6}(,[0-9]{6})*$",
                  "description": "comma-separated adcodes of the city's districts"},
    "start": {"type": "string", "format": "date"},
    "end": {"type": "string", "format": "date"},
    "range": {"type": "string", "enum": list(RANGES)},
    "compare": {"type": "string", "enum": list(COMPARISONS)},
}


def openapi_document() -> dict:
    result = {"type": "object", "properties": {
        "source": {"type": "string"}, "received": {"type": "integer"}, "stored": {"type": "integer"},
        "inserted": {"type": "integer"}, "updated": {"type": "integer"}, "unchanged": {"type": "integer"},
        "rejected": {"type": "integer"},
        "problems": {"type": "array", "items": {"type": "object", "properties": {
            "index": {"type": "integer"}, "field": {"type": "string"}, "reason": {"type": "string"}}}},
    }}
    paths = {}
    for kind in COLLECTIONS:
        reference = kind in reference_ingest.KINDS
        paths[f"/api/v1/{kind}"] = {"post": {
            "summary": (f"Store {kind} of the caller's source (admin tokens only; upsert on source + code)" if reference
                        else f"Store {kind} of the caller's source (upsert on source + id)"),
            "security": [{"bearer": []}],
            "parameters": [DATUM_PARAMETER] if reference else [],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _body_schema(kind)}}},
            "responses": {
                "200": {"description": "every row stored", "content": {"application/json": {"schema": result}}},
                "207": {"description": "some rows stored, the others listed in problems",
                        "content": {"application/json": {"schema": result}}},
                "422": {"description": "no row stored", "content": {"application/json": {"schema": result}}},
                "400": {"description": "not a JSON array of rows"}, "401": {"description": "no or unknown token"},
                "403": {"description": "revoked token" + (", or not an admin token" if reference else "")},
                "413": {"description": "more than 5,000 rows"},
            },
        }}
    paths["/api/v1/kpis"] = {"get": {
        "summary": "Overview KPIs, computed by the same functions as the dashboard",
        "security": [{"bearer": []}, {"session": []}],
        "parameters": [{"name": name, "in": "query", "schema": schema} for name, schema in KPI_PARAMETERS.items()],
        "responses": {"200": {"description": "the KPIs with their comparison"},
                      "400": {"description": "bad query values, listed in problems (an unknown city or district, "
                                             "a start after the end, a custom range without dates)"},
                      "401": {"description": "no session and no or unknown read token"},
                      "403": {"description": "a city, district or insurer outside the account's scope, a wall "
                                             "account, or a revoked token"},
                      "404": {"description": "the database holds no city yet"}},
    }}
    paths["/api/v1/metrics"] = {"get": {
        "summary": "Every metric: key, name, definition, unit, number format, good direction",
        "security": [{"bearer": []}, {"session": []}],
        "parameters": [{"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["zh", "en"]}}],
        "responses": {"200": {"description": "the metric registry"}, "400": {"description": "bad lang"},
                      "401": {"description": "no session and no or unknown read token"},
                      "403": {"description": "a revoked token"}},
    }}
    return {
        "openapi": "3.1.0",
        "info": {"title": "警保联动 ingest and read API", "version": "1.0.0",
                 "description": "See docs/ingest.md for the contract, validation rules and examples."},
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "ingest: a source token (jingbao tokens create); reads: an account's read "
                                      "token (jingbao users token NAME --kind read)"},
            "session": {"type": "apiKey", "in": "cookie", "name": "jingbao",
                        "description": "the signed-in browser's session"}}},
        "paths": paths,
    }


def register_api(server: Flask) -> None:
    server.register_blueprint(api)
