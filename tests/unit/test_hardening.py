"""Production hardening of the HTTP surface (#15): security headers and no versions, bounded and well-formed request
bodies (400/413/404, never a 500), the monitor's /healthz, /readyz and /metrics, and text safe for a terminal."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import threading
import urllib.request

import pytest
from werkzeug.serving import make_server

from base.settings import load_settings
from base.text_safety import printable
from dashboard.app import create_app
from dashboard.guard import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    callback_shape_problem,
    content_security_policy,
    json_too_deep,
)
from dashboard.server import QuietRequestHandler, default_workers
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.tokens import create_token
from tests.servers import free_port
from tests.signin import signed_in_client
from tests.unit import handmade

SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", re.DOTALL)


def make_app(tmp_path, **overrides):
    db = handmade.empty_city(tmp_path)
    db.cache = QueryCache.from_url(overrides.pop("cache_url", "simple"))
    return create_app(load_settings({}, database_url=db.url, demo=False, **overrides), db)


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    client = signed_in_client(app)
    assert client.get("/").status_code == 200        # the page answers (create_app has set up its callbacks)
    return client


def overview_callback(app) -> dict:
    key = next(key for key in app.callback_map if "overview-kpis.children" in key)
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key[2:-2].split("...")]
    return {"output": key, "outputs": outputs, "changedPropIds": ["app-url.search"],
            "inputs": [{"id": "app-url", "property": "search", "value": "?range=30d"},
                       {"id": "app-refresh", "property": "n_intervals", "value": None}]}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# ------------------------------------------------------------------------------------------------ headers, leaks
def test_pages_and_api_answers_carry_the_security_headers(client):
    page = client.get("/")
    api = client.get(f"/api/v1/kpis?city={handmade.CITY}&range=30d&compare=none")
    assert page.status_code == 200 and api.status_code == 200
    for response in (page, api):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert "'unsafe-eval'" not in policy and "script-src 'self'" in policy


def test_the_csp_allows_exactly_the_inline_scripts_of_the_page(client):
    page = client.get("/")
    html = page.get_data(as_text=True)
    running = [source for attributes, source in SCRIPT.findall(html) if "application/json" not in attributes]
    assert len(running) >= 2                              # Dash's renderer start and the clientside callbacks
    script_src = next(part for part in page.headers["Content-Security-Policy"].split("; ")
                      if part.startswith("script-src"))
    allowed = set(re.findall(r"'sha256-([^']+)'", script_src))
    assert allowed == {base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in running}
    assert "'unsafe-inline'" not in script_src


def test_the_page_names_no_dash_plotly_or_python_version(client):
    html = client.get("/").get_data(as_text=True)
    config = json.loads(re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', html,
                                  re.DOTALL).group(1))
    assert not {"dash_version", "python_version", "plotly_version"} & set(config)
    assert sys.version.split()[0] not in html
    assert "_favicon.ico?v=" not in html
    assert config["url_base_pathname"] is None or isinstance(config["url_base_pathname"], str)   # the rest is kept


def test_the_csp_names_the_tile_host_and_the_allowed_framers():
    settings = load_settings({}, tile_url="https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    policy = content_security_policy(settings, "https://portal.example.gov.cn", ("sha256-abc",))
    assert "img-src 'self' data: blob: https://*.tiles.example.org" in policy
    assert "frame-ancestors https://portal.example.gov.cn" in policy
    assert "script-src 'self' 'sha256-abc';" in policy
    assert "'unsafe-eval'" in content_security_policy(settings, "'none'", debug=True)


def test_reload_hash_is_404_without_debug(client):
    assert client.get("/_reload-hash").status_code == 404


def test_the_host_header_is_not_copied_into_the_page(tmp_path):
    app = make_app(tmp_path, auth="none")                  # no sign-in: the page itself answers any Host
    response = app.server.test_client().get("/", headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert "evil.example" not in response.get_data(as_text=True)


def test_the_development_server_names_no_version():
    from flask import Flask

    bare = Flask("bare")
    bare.add_url_rule("/", view_func=lambda: "ok")
    port = free_port()
    server = make_server("127.0.0.1", port, bare, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.headers["Server"] == "jingbao"
    finally:
        server.shutdown()


def test_the_session_cookie_is_secure_behind_a_trusted_https_proxy_only(tmp_path):
    app = make_app(tmp_path, trusted_proxies=("10.0.0.0/24",))

    def cookie(remote: str, proto: str) -> str:
        response = app.server.test_client().get("/login", headers={"X-Forwarded-Proto": proto},
                                                environ_base={"REMOTE_ADDR": remote})
        return response.headers["Set-Cookie"]

    assert "Secure" in cookie("10.0.0.7", "https")
    assert "Secure" not in cookie("10.0.0.7", "http")
    assert "Secure" not in cookie("192.0.2.9", "https")    # anyone else may say what they like
    assert "Secure" not in cookie("127.0.0.1", "https")


# ------------------------------------------------------------------------------------------------ request bodies
@pytest.mark.parametrize("depth, too_deep", [(1, False), (MAX_JSON_DEPTH, False), (MAX_JSON_DEPTH + 1, True),
                                             (100_000, True)])
def test_json_depth_is_measured_without_parsing(depth, too_deep):
    assert json_too_deep(nested(depth).encode()) is too_deep
    assert json_too_deep(('{"a": ' * depth + "1" + "}" * depth).encode()) is too_deep


def test_brackets_inside_strings_do_not_count():
    body = json.dumps([{"note": "[" * 500 + '\\"{' * 200}]).encode()
    assert not json_too_deep(body)
    assert json.loads(body)                               # what was measured is valid JSON


@pytest.mark.parametrize("path", ["/_dash-update-component", "/api/v1/cases"])
def test_deeply_nested_json_is_400_not_a_recursion_error(client, path):
    response = client.post(path, data=nested(50_000), content_type="application/json")
    assert response.status_code == 400
    assert f"deeper than {MAX_JSON_DEPTH}" in response.get_json()["error"]


@pytest.mark.parametrize("path", ["/_dash-update-component", "/api/v1/cases"])
def test_a_body_over_the_limit_is_413(client, path):
    body = b"[" + b"1," * (MAX_BODY_BYTES // 2) + b"1]"
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 413
    assert "larger than 8 MB" in response.get_json()["error"]


def test_ingest_bodies_of_5000_rows_fit_under_the_limit():
    row = {"case_id": "DISPATCH-2024-000000000001", "city": handmade.CITY, "district": handmade.D1,
           "reported_at": "2024-06-30T08:15:00+08:00", "on_scene_at": "2024-06-30T08:31:00+08:00",
           "cleared_at": "2024-06-30T09:02:00+08:00", "liability_at": "2024-06-30T09:40:00+08:00",
           "assessed_at": "2024-07-01T10:00:00+08:00", "paid_at": "2024-07-03T16:20:00+08:00",
           "lon": 117.6512345, "lat": 24.5123456, "paid_amount_yuan": 12345.67, "insurer": "INS07",
           "handled_by": "traffic_police", "channel": "police_call", "severity": "minor", "quick_handled": True,
           "found_by_patrol": False, "handled_online": True, "one_click_claim": False,
           "liability_mode": "remote", "assessment_mode": "online"}
    assert len(json.dumps([row] * 5000, indent=2).encode()) < MAX_BODY_BYTES / 2


@pytest.mark.parametrize("body, problem", [
    ([], "a JSON object"),
    ({"output": 1, "outputs": {}, "inputs": []}, "output must be a string"),
    ({"output": "a.children", "outputs": {"property": "children"}, "inputs": []}, "outputs must be an object"),
    ({"output": "..a.children...b.children..", "outputs": [{"id": "a", "property": "children"}, "b"]},
     "each of outputs"),
    ({"output": "a.children", "outputs": {"id": "a", "property": "children"}, "inputs": "x"}, "inputs must be"),
    ({"output": "a.children", "outputs": {"id": "a", "property": "children"}, "inputs": [],
      "state": [{"id": "s"}]}, "state must be"),
    ({"output": "a.children", "outputs": {"id": "a", "property": "children"}, "inputs": [],
      "changedPropIds": [1]}, "changedPropIds"),
])
def test_malformed_callback_bodies_are_400_before_dash_sees_them(client, body, problem):
    assert problem in callback_shape_problem(body)
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 400 and problem in response.get_json()["error"]


def test_a_well_formed_callback_passes_the_guard(app, client):
    body = overview_callback(app)
    assert callback_shape_problem(body) is None
    pattern = {"output": "x.children", "outputs": [[{"id": {"type": "t", "index": 1}, "property": "value"}]],
               "inputs": [[{"id": {"type": "t", "index": 1}, "property": "value", "value": 3}]]}
    assert callback_shape_problem(pattern) is None       # ALL-pattern groups are lists of references
    assert client.post("/_dash-update-component", json=body).status_code == 200


def test_unknown_component_suite_paths_are_404(client):
    html = client.get("/").get_data(as_text=True)
    known = re.search(r'src="(/_dash-component-suites/dash/dash-renderer/[^"]+)"', html).group(1)
    assert client.get(known).status_code == 200
    for path in ("/_dash-component-suites/no_such_package/x.js", "/_dash-component-suites/dash/no/such/file.js",
                 "/_dash-component-suites/dash/../../etc/passwd", "/_dash-component-suites/dash"):
        assert client.get(path).status_code == 404, path


# ------------------------------------------------------------------------------------------------ monitoring
def test_health_readiness_and_metrics_answer_without_signing_in(app, client):
    assert client.post("/_dash-update-component", json=overview_callback(app)).status_code == 200
    anonymous = app.server.test_client()
    assert anonymous.get("/healthz").get_json() == {"status": "ok"}
    ready = anonymous.get("/readyz")
    assert ready.status_code == 200 and ready.get_json() == {"status": "ready", "database": "ok", "cache": "ok"}
    metrics = anonymous.get("/metrics")
    assert metrics.status_code == 200 and metrics.mimetype == "text/plain"
    text = metrics.get_data(as_text=True)
    key = overview_callback(app)["output"]
    assert f'route="callback {key}",status="200"' in text                   # a callback by its outputs
    assert 'jingbao_http_request_duration_seconds_count{method="GET",route="/",status="200"} 1.0' in text
    db = app.server.config["JINGBAO_DB"]
    assert db.cache.misses > 0
    assert f'jingbao_cache_lookups_total{{result="miss"}} {float(db.cache.misses)}' in text
    assert f"jingbao_data_version {float(db.data_version())}" in text


def test_callbacks_outside_the_app_share_one_metrics_label(app, client):
    client.post("/_dash-update-component", json={"output": "made.up", "outputs": {"id": "made", "property": "up"},
                                                  "inputs": []})
    text = app.server.test_client().get("/metrics").get_data(as_text=True)
    assert 'route="callback ?"' in text and "made.up" not in text


def test_metrics_count_the_rows_the_ingest_api_stored_and_rejected(app):
    db = app.server.config["JINGBAO_DB"]
    token = create_token(db, "dispatch-test")
    client = app.server.test_client()
    response = client.post("/api/v1/cases", json=[{"case_id": "c-1"}, {"case_id": "c-2"}],
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422 and response.get_json()["rejected"] == 2
    text = client.get("/metrics").get_data(as_text=True)
    assert 'jingbao_ingest_rows_total{kind="cases",outcome="rejected"} 2.0' in text
    assert 'jingbao_ingest_rows_total{kind="cases",outcome="stored"} 0.0' in text


@pytest.mark.sqlite_pass                     # it moves the database file away
def test_readyz_is_503_naming_the_database_when_it_is_away(app, tmp_path):
    db: Database = app.server.config["JINGBAO_DB"]
    db.engine.dispose()
    (tmp_path / "handmade.db").rename(tmp_path / "moved-away.db")
    response = app.server.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unavailable", "cache": "ok"}
    assert app.server.test_client().get("/healthz").status_code == 200    # alive all the same


def test_readyz_is_503_naming_the_cache_when_redis_is_away(tmp_path):
    app = make_app(tmp_path, cache_url=f"redis://127.0.0.1:{free_port()}/0")
    response = app.server.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "ok", "cache": "unavailable"}


def test_gunicorn_workers_are_sized_to_the_machine():
    assert [default_workers(cores) for cores in (1, 2, 3, 8)] == [2, 4, 4, 4]


# ------------------------------------------------------------------------------------------------ the terminal
@pytest.mark.parametrize("cell, shown", [
    ("芗城区", "芗城区"),
    ("bad\x1b]0;owned\x07title", "bad?]0;owned?title"),
    ("\x1b[2J\x1b[31mred", "?[2J?[31mred"),
    ("right\u202eto-left", "right?to-left"),
    ("line\r\nbreak\tand tab", "line break and tab"),
    ("lone \ud800 surrogate", "lone ? surrogate"),
    ("c1 \x9b control", "c1 ? control"),
])
def test_printable_strips_what_would_drive_the_terminal(cell, shown):
    assert printable(cell) == shown
    assert printable(cell).isprintable()


def coverage_callback(app, search: str = "?k=3") -> dict:
    key = next(key for key in app.callback_map if "coverage-problems.children" in key)
    spec = app.callback_map[key]
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]} for o in key[2:-2].split("...")]
    values = {"search": search, "n_intervals": None}
    return {"output": key, "outputs": outputs, "changedPropIds": ["app-url.search"],
            "inputs": [{**i, "value": values[i["property"]]} for i in spec["inputs"]],
            "state": [{**s, "value": None} for s in spec.get("state", [])]}


def test_heavy_callbacks_are_limited_per_account(app, client):
    from dashboard.signin import HEAVY_PER_MINUTE

    body = coverage_callback(app)
    answers = [client.post("/_dash-update-component", json=body).status_code for _ in range(HEAVY_PER_MINUTE + 1)]
    assert answers[:-1] == [200] * HEAVY_PER_MINUTE and answers[-1] == 429
    refused = client.post("/_dash-update-component", json=body)
    assert refused.status_code == 429 and "coverage plans" in refused.get_json()["error"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60          # when the window lets the next one through
    # a cheap callback of the same account, and the same plan for another account, are not held back
    assert client.post("/_dash-update-component", json=overview_callback(app)).status_code == 200
    other = signed_in_client(app, "test-planner", "planner")
    assert other.post("/_dash-update-component", json=body).status_code == 200
