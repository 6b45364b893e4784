"""A fuzzer of the whole HTTP surface: every Dash callback the app declares (read from /_dash-dependencies, as a
browser reads it), every page path with mangled query strings, and every API operation, with values a browser would
send and values nobody should. The only assertion is the one that matters to an operator: no answer is a 5xx.

Bounded in `make test` (JINGBAO_FUZZ_EXAMPLES, default 400 callback requests, derandomized so a run is repeatable);
`make bench` runs it with many more examples and a fresh random seed.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from base.settings import load_settings
from dashboard.app import create_app
from data_access import tokens
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.timeutil import local_today, utcnow
from tests.servers import fresh_database_url
from tests.signin import signed_in_client

ZZ = "350600"
EXAMPLES = int(os.environ.get("JINGBAO_FUZZ_EXAMPLES", "400"))
RANDOM = os.environ.get("JINGBAO_FUZZ_RANDOM") == "1"
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

PATHS = ("/", "/throughput", "/payouts", "/teams", "/fraud", "/stations", "/coverage", "/map", "/rescue",
         "/briefing", "/district/350602", "/wall", "/onboarding")
QUERY_KEYS = ("city", "districts", "range", "start", "end", "compare", "lang", "grain", "mission", "kinds", "t",
              "k", "weight", "rec", "speeds", "insurer", "day", "layers", "at", "play", "view", "playlist")
PLAUSIBLE = ("350600", "500000", "350602", "30d", "7d", "12m", "all", "today", "yoy", "pop", "none", "zh", "en",
             "day", "week", "month", "severity", "2026-01-01", "1", "0", "-1", "9223372036854775808", "1e400",
             "nan", "", " ", "<script>alert(1)</script>", "' OR 1=1 --", "\x1b[31m", "𝔘", "9" * 40)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db = Database(fresh_database_url(tmp_path_factory.mktemp("fuzz"), "fuzz.db"), QueryCache.from_url("simple"))
    build_demo(db, scale=0.02, cities=(ZZ,), start=local_today() - dt.timedelta(days=40), end=utcnow())
    return create_app(load_settings({}, database_url=db.url, demo=False), db, refresh_ms=3_600_000)


@pytest.fixture(scope="module")
def client(app):
    client = signed_in_client(app, "fuzz-admin", "admin")
    for path in PATHS:                      # the first visit of each page registers its callbacks
        assert client.get(path).status_code < 500
    return client


@pytest.fixture(scope="module")
def callbacks(client) -> list[dict]:
    found = client.get("/_dash-dependencies").get_json()
    assert len(found) >= 20, "the app declares its callbacks"
    return found


# ---------------------------------------------------------------------------------------------------- values
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30), st.sampled_from(PLAUSIBLE))
hostile = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=5)),
                       max_leaves=12)
queries = st.lists(st.tuples(st.sampled_from(QUERY_KEYS), st.one_of(st.sampled_from(PLAUSIBLE), st.text(max_size=20))),
                   max_size=6).map(lambda pairs: "?" + "&".join(f"{k}={v}" for k, v in pairs))
clicks = st.fixed_dictionaries({"points": st.lists(st.dictionaries(
    st.sampled_from(["customdata", "x", "y", "location", "pointIndex", "label"]), hostile, max_size=4), max_size=3)})


def value_for(prop: str):
    """Values of one property: mostly ones its component could hold, the rest anything at all."""
    plausible = {
        "search": queries, "pathname": st.sampled_from(PATHS), "value": st.one_of(st.sampled_from(PLAUSIBLE),
                                                                                 st.lists(st.sampled_from(PLAUSIBLE))),
        "n_clicks": st.integers(0, 5), "n_intervals": st.integers(0, 5), "clickData": clicks,
        "start_date": st.sampled_from(["2026-11-01", "2026-02-30", "x"]), "end_date": st.sampled_from(["2026-11-20"]),
        "zoom": st.integers(0, 20), "center": st.just([24.5, 117.6]),
    }.get(prop, hostile)
    return st.one_of(plausible, hostile)


def reference(item_id: str, prop: str, value=None, with_value: bool = True) -> dict:
    concrete = json.loads(item_id) if item_id.startswith("{") else item_id
    if isinstance(concrete, dict):          # a pattern id: wildcards become a concrete index
        concrete = {k: (1 if isinstance(v, list) else v) for k, v in concrete.items()}
    ref = {"id": concrete, "property": prop}
    if with_value:
        ref["value"] = value
    return ref


def split(name: str) -> tuple[str, str]:
    item_id, _, prop = name.rpartition(".")
    return item_id, prop


@st.composite
def callback_bodies(draw, callbacks: list[dict]) -> dict:
    spec = draw(st.sampled_from(callbacks))
    output = spec["output"]
    names = output[2:-2].split("...") if output.startswith("..") else [output]
    outputs = [reference(*split(name), with_value=False) for name in names]
    body = {"output": output, "outputs": outputs if output.startswith("..") else outputs[0],
            "inputs": [reference(i["id"], i["property"], draw(value_for(i["property"]))) for i in spec["inputs"]],
            "state": [reference(s["id"], s["property"], draw(value_for(s["property"]))) for s in spec["state"]],
            "changedPropIds": [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"] if spec["inputs"] else []}
    return body


# ------------------------------------------------------------------------------------------------------ tests
def test_no_callback_request_gets_a_5xx(client, callbacks):
    answered: dict[int, int] = {}

    @FUZZ
    @given(st.data())
    def fuzz(data):
        body = data.draw(callback_bodies(callbacks))
        response = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
        answered[response.status_code] = answered.get(response.status_code, 0) + 1
        assert response.status_code < 500, (body["output"], response.get_data(as_text=True)[:500])

    fuzz()
    assert answered.get(200, 0) + answered.get(204, 0) > 0, f"some requests must be valid: {answered}"
    assert answered.get(400, 0) > 0, f"some requests must be refused: {answered}"


def test_no_page_query_gets_a_5xx(client):
    @settings(FUZZ, max_examples=max(EXAMPLES // 4, 20))
    @given(st.sampled_from(PATHS), queries)
    def fuzz(path, query):
        response = client.get(path + query)
        assert response.status_code < 500, (path + query, response.status_code)

    fuzz()


def test_no_api_request_gets_a_5xx(app, client):
    token = tokens.create_token(app.server.config["JINGBAO_DB"], "fuzz-feed")
    headers = {"Authorization": f"Bearer {token}"}
    kinds = ("cases", "mediations", "rescues", "positions", "insurers", "stations", "grids", "units", "duty-periods")
    rows = st.lists(st.dictionaries(st.sampled_from(["case_id", "city", "district", "reported_at", "lon", "lat",
                                                     "unit_id", "at", "status", "code", "station_id", "kind"]),
                                    hostile, max_size=6), max_size=4)

    @settings(FUZZ, max_examples=max(EXAMPLES // 4, 20))
    @given(st.sampled_from(kinds), st.one_of(rows, hostile), queries, st.sampled_from(["GET", "POST"]))
    def fuzz(kind, body, query, method):
        if method == "POST":
            response = client.post(f"/api/v1/{kind}", data=json.dumps(body), content_type="application/json",
                                   headers=headers)
        else:
            response = client.get(f"/api/v1/{kind}{query}")
        assert response.status_code < 500, (method, kind, response.get_data(as_text=True)[:300])
        for path in ("/api/v1/kpis", "/api/v1/as-of", "/api/v1/metrics"):
            answer = client.get(path + query)
            assert answer.status_code < 500, (path + query, answer.get_data(as_text=True)[:300])

    fuzz()
