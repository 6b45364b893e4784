"""The HTTP surface with Flask's test client: pages, the 404 status, and 4xx (never 500) for bad requests."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from base.settings import load_settings
from dashboard.app import create_app
from tests.signin import signed_in_client
from tests.unit import handmade


@pytest.fixture
def client(tmp_path):
    db = handmade.empty_city(tmp_path)
    app = create_app(load_settings({}, database_url=db.url, demo=False), db)
    client = signed_in_client(app)
    client.app = app
    assert client.get("/").status_code == 200      # the page answers (create_app has set up its callbacks)
    return client


def overview_key(app) -> str:
    return next(key for key in app.callback_map if "overview-kpis.children" in key)


def callback_body(app, search) -> dict:
    key = overview_key(app)
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key[2:-2].split("...")]
    return {"output": key, "outputs": outputs, "changedPropIds": ["app-url.search"],
            "inputs": [{"id": "app-url", "property": "search", "value": search},
                       {"id": "app-refresh", "property": "n_intervals", "value": None}]}


@pytest.mark.parametrize("path", ["/", "/?city=%ZZ", "/?city=999999&range=banana", "/?districts=" + "x," * 3000])
def test_pages_answer_200_whatever_the_query(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b'<html lang="zh-CN">' in response.data


def test_unknown_path_draws_the_app_with_status_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"_dash-renderer" in response.data or b"dash_renderer" in response.data


@pytest.mark.parametrize("body", [b"garbage", b"[1, 2]", b"{}", json.dumps({"output": "x.y", "inputs": []}).encode()])
def test_malformed_callback_requests_get_400(client, body):
    response = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "bad callback request" in response.get_json()["error"]


def test_callback_with_wrong_inputs_gets_400(client):
    body = callback_body(client.app, "?city=350600")
    body["inputs"] = body["inputs"][:1]
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 400


def test_callback_with_bad_values_reports_them_in_the_page(client):
    response = client.post("/_dash-update-component", json=callback_body(client.app, "?city=999999&compare=x"))
    assert response.status_code == 200
    text = json.dumps(response.get_json(), ensure_ascii=False)
    assert "999999" in text and "problems-message" in text


def test_callback_with_a_value_no_component_holds_gets_400(client):
    response = client.post("/_dash-update-component", json=callback_body(client.app, 12))
    assert response.status_code == 400
    assert "app-url.search must be a string" in response.get_json()["error"]


def test_a_city_without_data_says_what_to_import(client):
    body = callback_body(client.app, "?start=2020-06-01&end=2020-06-07")
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    text = json.dumps(response.get_json(), ensure_ascii=False)
    assert "empty-state" in text and "jingbao import insurers" in text     # the first thing missing


def test_pattern_matching_callback_ids_are_not_refused():
    from dashboard.app import callback_request_problem

    pattern = '{"index":["MATCH"],"type":"download"}'
    callback_map = {f"{pattern}.data": {"inputs": [{"id": pattern, "property": "n_clicks"}], "state": [],
                                        "callback": lambda n_clicks: None}}
    body = {"output": f"{pattern}.data", "outputs": {"id": {"index": 2, "type": "download"}, "property": "data"},
            "inputs": [{"id": {"index": 2, "type": "download"}, "property": "n_clicks", "value": 1}]}
    assert callback_request_problem(body, callback_map) is None


def test_a_new_app_is_set_up_before_its_first_request_and_answers_many_at_once(tmp_path):
    # Dash sets itself up in its first request's hooks, without a lock: two first requests at once on a threaded
    # worker made one of them a 500 (plotly/dash#2925). create_app does that set-up itself.
    db = handmade.empty_city(tmp_path)
    app = create_app(load_settings({}, database_url=db.url, demo=False), db)
    assert any("coverage-problems.children" in key for key in app.callback_map)     # the pages' callbacks
    assert any("_pages_content.children" in key for key in app.callback_map)        # the pages router's
    paths = ["/assets/briefing.css", "/assets/style.css", "/login", "/healthz"] * 4
    start = threading.Barrier(len(paths))

    def first_request(path: str) -> int:
        client = app.server.test_client()
        start.wait(timeout=30)
        return client.get(path).status_code

    with ThreadPoolExecutor(len(paths)) as pool:
        assert set(pool.map(first_request, paths)) == {200}
