"""Signing in, roles and scope over HTTP, as an outsider would try them: anonymous requests, wrong and locked-out
passwords, tampered and expired sessions, kiosk links, read tokens, the gateway header, and forged callback and API
requests that name another district, city or insurer."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from base.settings import load_settings
from dashboard.app import create_app
from data_access import accounts, audit
from data_access.models import City, District, Insurer
from tests.signin import PASSWORD, ensure_account, sign_in, signed_in_client
from tests.unit import handmade
from tests.unit.handmade import CITY, D1, D2
from tests.unit.test_http import callback_body

OTHER_CITY, OTHER_DISTRICT = "500000", "500103"


def make_app(tmp_path, **settings):
    """The hand-made city, a second city, two insurers, and an app on them (sign-in on, as by default)."""
    db = handmade.empty_city(tmp_path)
    with db.transaction() as session:
        session.add(City(adcode=OTHER_CITY, name_zh="重庆市", name_en="Chongqing", programme_start=dt.date(2017, 4, 16),
                         center_lon=106.55, center_lat=29.56))
        session.flush()
        session.add(District(adcode=OTHER_DISTRICT, city_adcode=OTHER_CITY, name_zh="渝中区", name_en="Yuzhong",
                             main_urban=True, center_lon=106.57, center_lat=29.55,
                             boundary_geojson=handmade.square(106.5, 29.5)))
        session.add_all([Insurer(city_adcode=CITY, code="INS01", name_zh="甲保险", name_en="Insurer A"),
                         Insurer(city_adcode=CITY, code="INS02", name_zh="乙保险", name_en="Insurer B")])
    app = create_app(load_settings({}, database_url=db.url, demo=False, secret_key="k" * 40, **settings), db)
    return app, db


@pytest.fixture
def app_db(tmp_path):
    return make_app(tmp_path)


def overview(client, app, search: str) -> dict:
    response = client.post("/_dash-update-component", json=callback_body(app, search))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["response"]


# ------------------------------------------------------------------------------------------ anonymous
def test_sig001_anonymous_pages_go_to_login_api_and_callbacks_get_401(app_db):
    app, _ = app_db
    client = app.server.test_client()
    page = client.get("/payouts?range=7d")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=%2Fpayouts%3Frange%3D7d")
    assert client.get("/api/v1/kpis").status_code == 401
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json=callback_body(app, "")).status_code == 401
    login = client.get("/login")
    assert login.status_code == 200
    text = login.get_data(as_text=True)
    assert 'name="username"' in text and 'name="password"' in text and "登录" in text
    assert "Sign in" in client.get("/login?lang=en").get_data(as_text=True)


# ------------------------------------------------------------------------------------------ passwords
def test_sig002_wrong_password_unknown_and_disabled_accounts_get_the_same_clear_message(app_db):
    app, db = app_db
    ensure_account(db, "lead")
    ensure_account(db, "gone")
    accounts.disable_account(db, "gone")
    client = app.server.test_client()
    for name, password in (("lead", "wrong-password"), ("nobody", PASSWORD), ("gone", PASSWORD)):
        response = sign_in(client, name, password)
        assert response.status_code == 401
        assert "账号或密码不正确" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    failures = [e for e in audit.entries(db) if e.event == "sign_in_failed"]
    assert [e.account for e in failures] == ["lead", "nobody", "gone"]
    assert all(e.address == "127.0.0.1" for e in failures)
    assert sign_in(client, "lead").status_code == 302
    assert client.get("/").status_code == 200
    assert audit.entries(db)[-1].event == "sign_in"


def test_sig003_ten_failed_sign_ins_lock_the_account_for_a_while(app_db):
    app, db = app_db
    ensure_account(db, "lead")
    client = app.server.test_client()
    statuses = [sign_in(client, "lead", "wrong-password").status_code for _ in range(10)]
    assert statuses == [401] * 10
    locked = sign_in(client, "lead")                       # even the right password, for now
    assert locked.status_code == 429
    assert "已暂时锁定" in locked.get_data(as_text=True) and "15 分钟" in locked.get_data(as_text=True)
    assert sign_in(app.server.test_client(), "other-name", "wrong-password").status_code == 401   # others unaffected


def test_sig004_a_form_without_its_csrf_field_is_refused(app_db):
    app, db = app_db
    ensure_account(db, "lead")
    client = app.server.test_client()
    response = client.post("/login", data={"username": "lead", "password": PASSWORD})
    assert response.status_code == 400 and client.get("/").status_code == 302


def test_sig005_after_sign_in_only_a_path_of_this_site_is_followed(app_db):
    app, db = app_db
    ensure_account(db, "lead")
    for target, expected in (("/payouts?range=7d", "/payouts?range=7d"), ("//elsewhere.example/x", "/"),
                             ("https://elsewhere.example/", "/")):
        client = app.server.test_client()
        page = client.get("/login?next=" + target)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        response = client.post("/login", data={"username": "lead", "password": PASSWORD, "csrf": csrf,
                                               "next": target})
        assert response.headers["Location"] == expected


# ------------------------------------------------------------------------------------------ sessions
def test_sig006_tampered_cookie_expired_session_and_password_reset_send_back_to_login(app_db):
    app, db = app_db
    client = signed_in_client(app, "lead")
    assert client.get("/").status_code == 200
    cookie = client.get_cookie("jingbao")
    client.set_cookie("jingbao", cookie.value[:-3] + ("AAA" if not cookie.value.endswith("AAA") else "BBB"))
    assert client.get("/").status_code == 302                      # a forged signature: nobody
    client = signed_in_client(app, "lead")
    with client.session_transaction() as session:
        session["seen"] -= 13 * 3600                               # idle longer than JINGBAO_SESSION_HOURS (12)
    expired = client.get("/")
    assert expired.status_code == 302 and "expired=1" in expired.headers["Location"]
    assert "会话已过期" in client.get(expired.headers["Location"]).get_data(as_text=True)
    client = signed_in_client(app, "lead")
    accounts.set_password(db, "lead", "a-new-password-2")
    assert client.get("/").status_code == 302                      # a reset ends the open sessions
    assert client.get("/api/v1/kpis").status_code == 401


def test_sig007_sign_out_ends_the_session_and_is_audited(app_db):
    app, db = app_db
    client = signed_in_client(app, "lead")
    assert client.get("/logout").status_code == 302
    assert client.get("/").status_code == 302
    assert audit.entries(db)[-1].event == "sign_out"


# ------------------------------------------------------------------------------------------ roles and scope
def test_sig008_each_role_opens_its_pages_only(app_db):
    app, db = app_db
    roles = {"lead": ("leader", {}), "dist": ("district", dict(city=CITY, districts=(D1,))),
             "ins": ("insurer", dict(insurer="INS01")), "plan": ("planner", {}), "adm": ("admin", {})}
    expected = {"lead": {"/": 200, "/payouts": 200, "/coverage": 200, "/map": 200, "/wall": 200, "/admin": 403},
                "dist": {"/": 200, "/payouts": 200, f"/district/{D1}": 200, "/coverage": 403, "/map": 403,
                         "/wall": 403},
                "ins": {"/": 403, "/payouts": 200, "/fraud": 200, "/mediation": 200, "/throughput": 403},
                "plan": {"/coverage": 200, "/map": 200, "/": 403, "/payouts": 403},
                "adm": {"/": 403, "/payouts": 403}}
    for name, (role, scope) in roles.items():
        client = signed_in_client(app, name, role, **scope)
        seen = {path: client.get(path).status_code for path in expected[name]}
        assert seen == expected[name], name
        assert "无权打开此页面" in client.get(next(p for p, s in expected[name].items() if s == 403)).get_data(
            as_text=True)


def test_sig009_forged_callbacks_naming_another_district_or_city_get_the_scope_message_and_no_figures(app_db):
    app, _ = app_db
    client = signed_in_client(app, "dist", "district", city=CITY, districts=(D1,))
    assert client.get("/").status_code == 200
    own = overview(client, app, "")
    assert "scope-message" not in json.dumps(own)
    assert "overview-kpis" in own
    for search in (f"?districts={D2}", f"?districts={D1},{D2}", f"?city={OTHER_CITY}"):
        answer = overview(client, app, search)
        text = json.dumps(answer, ensure_ascii=False)
        assert "scope-message" in text, search
        assert "龙文区" not in text and "渝中区" not in text and "Longwen" not in text
    anonymous = app.server.test_client()
    assert anonymous.post("/_dash-update-component", json=callback_body(app, "")).status_code == 401


def test_sig010_api_reads_obey_the_scope_and_take_read_tokens(app_db):
    app, db = app_db
    client = signed_in_client(app, "dist", "district", city=CITY, districts=(D1,))
    mine = client.get("/api/v1/kpis?range=30d")
    assert mine.status_code == 200 and mine.get_json()["districts"] == [D1]
    for query in (f"districts={D2}", f"city={OTHER_CITY}"):
        refused = client.get("/api/v1/kpis?" + query)
        assert refused.status_code == 403 and "not in your scope" in refused.get_json()["error"]
    assert client.get(f"/api/v1/as-of?city={OTHER_CITY}").status_code == 403
    token = accounts.create_token(db, "dist", "read")
    reader = app.server.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert reader.get("/api/v1/kpis?range=7d", headers=headers).get_json()["districts"] == [D1]
    assert reader.get(f"/api/v1/kpis?districts={D2}", headers=headers).status_code == 403
    accounts.revoke_tokens(db, "dist", "read")
    assert reader.get("/api/v1/kpis", headers=headers).status_code == 403
    assert reader.get("/api/v1/kpis", headers={"Authorization": "Bearer jbr_nonsense"}).status_code == 401


def test_sig011_a_kiosk_link_opens_the_wall_only_until_revoked(app_db):
    app, db = app_db
    accounts.create_account(db, "wall-zz", "wall", city=CITY)
    token = accounts.create_token(db, "wall-zz", "kiosk")
    screen = app.server.test_client()
    first = screen.get(f"/wall?kiosk={token}&playlist=overview:30")
    assert first.status_code == 302 and first.headers["Location"] == "/wall?playlist=overview%3A30"
    assert screen.get("/wall?playlist=overview:30").status_code == 200
    assert screen.get("/api/v1/as-of").status_code == 200
    assert screen.get("/").status_code == 403 and screen.get("/payouts").status_code == 403
    assert screen.get("/api/v1/kpis").status_code == 403
    assert screen.get(f"/api/v1/as-of?city={OTHER_CITY}").status_code == 403
    accounts.revoke_tokens(db, "wall-zz", "kiosk")
    assert screen.get("/wall").status_code == 302                     # its session ended with the token
    refused = app.server.test_client().get(f"/wall?kiosk={token}")
    assert refused.status_code == 403 and "撤销" in refused.get_data(as_text=True)
    assert token not in refused.get_data(as_text=True)
    assert [e.event for e in audit.entries(db, account="wall-zz")] == ["kiosk_sign_in"]


# ------------------------------------------------------------------------------------------ other modes
def test_sig012_without_sign_in_every_page_says_so_in_red(tmp_path):
    app, _ = make_app(tmp_path, auth="none")
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    layout = json.dumps(client.get("/_dash-layout").get_json(), ensure_ascii=False)
    assert "未启用登录" in layout
    assert client.get("/api/v1/kpis?range=7d").status_code == 200


def test_sig013_the_gateway_header_is_believed_only_from_the_trusted_proxy(tmp_path):
    app, db = make_app(tmp_path, auth="proxy", auth_header="X-Remote-User", trusted_proxies=("127.0.0.1",))
    ensure_account(db, "dist", "district", city=CITY, districts=(D1,))
    client = app.server.test_client()
    trusted = client.get("/api/v1/kpis?range=7d", headers={"X-Remote-User": "dist"})
    assert trusted.status_code == 200 and trusted.get_json()["districts"] == [D1]
    assert client.get("/", headers={"X-Remote-User": "nobody"}).status_code == 403
    untrusted = client.get("/", headers={"X-Remote-User": "dist"}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert untrusted.status_code == 302


def test_sig014_bad_auth_settings_are_refused_with_the_variable_named():
    from base.settings import SettingsError

    with pytest.raises(SettingsError, match="JINGBAO_AUTH must be one of"):
        load_settings({"JINGBAO_AUTH": "maybe"})
    with pytest.raises(SettingsError, match="JINGBAO_AUTH_HEADER"):
        load_settings({"JINGBAO_AUTH": "proxy"})
    with pytest.raises(SettingsError, match="JINGBAO_OIDC_ISSUER"):
        load_settings({"JINGBAO_AUTH": "oidc"})


def test_sig015_an_insurers_ingest_token_writes_only_its_own_rows(app_db):
    from data_access.tokens import create_token

    app, db = app_db
    token = create_token(db, "insurer-a-feed", insurer="INS01")
    reported = "2026-11-30T09:00:00+08:00"
    rows = [{"case_id": "A1", "city": CITY, "district": D1, "reported_at": reported, "insurer": "INS01"},
            {"case_id": "A2", "city": CITY, "district": D1, "reported_at": reported, "insurer": "INS02"},
            {"case_id": "A3", "city": CITY, "district": D2, "reported_at": reported}]
    response = app.server.test_client().post("/api/v1/cases", json=rows, headers={"Authorization": f"Bearer {token}"})
    body = response.get_json()
    assert response.status_code == 207 and body["stored"] == 1
    assert [(p["index"], p["field"]) for p in body["problems"]] == [(1, "insurer"), (2, "insurer")]
    assert all("INS01" in p["reason"] for p in body["problems"])
    rescue = [{"mission_id": "R1", "city": CITY, "district": D1, "requested_at": reported}]
    refused = app.server.test_client().post("/api/v1/rescues", json=rescue,
                                            headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422 and "cannot write rescues" in refused.get_json()["problems"][0]["reason"]
    assert [e.event for e in audit.entries(db, account="insurer-a-feed")] == ["import", "import"]
    with pytest.raises(ValueError, match="no active insurer"):
        create_token(db, "feed", insurer="NOPE")


def test_sig016_oidc_signs_in_the_account_the_issuer_names(tmp_path):
    """A real OpenID Connect round trip against an issuer served on localhost: discovery, authorize, code → token,
    the signed ID token checked against the issuer's keys; the account is matched by its name."""
    import threading
    import time
    import urllib.parse

    import requests
    from authlib.jose import JsonWebKey, jwt
    from flask import Flask, jsonify, redirect
    from flask import request as issuer_request
    from werkzeug.serving import make_server

    from tests.servers import free_port

    port = free_port()
    issuer_url = f"http://127.0.0.1:{port}"
    key = JsonWebKey.generate_key("RSA", 2048, is_private=True)
    key_dict = key.as_dict(is_private=False)
    key_dict.update(kid="k1", use="sig", alg="RS256")
    pending: dict[str, dict] = {}
    issuer = Flask("issuer")

    @issuer.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify(issuer=issuer_url, authorization_endpoint=issuer_url + "/authorize",
                       token_endpoint=issuer_url + "/token", jwks_uri=issuer_url + "/jwks",
                       response_types_supported=["code"], id_token_signing_alg_values_supported=["RS256"],
                       subject_types_supported=["public"])

    @issuer.get("/jwks")
    def jwks():
        return jsonify(keys=[key_dict])

    @issuer.get("/authorize")
    def authorize():                 # the person signed in at the issuer as "dist"
        code = f"code-{len(pending)}"
        pending[code] = {"nonce": issuer_request.args.get("nonce"), "user": issuer_request.args.get("login_hint")}
        query = urllib.parse.urlencode({"code": code, "state": issuer_request.args["state"]})
        return redirect(issuer_request.args["redirect_uri"] + "?" + query)

    @issuer.post("/token")
    def token():
        grant = pending.pop(issuer_request.form.get("code", ""), None)
        if grant is None:
            return jsonify(error="invalid_grant"), 400
        now = int(time.time())
        claims = {"iss": issuer_url, "aud": "jingbao", "sub": "s-1", "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"], "preferred_username": grant["user"]}
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key).decode("ascii")
        return jsonify(access_token="at", token_type="Bearer", expires_in=300, id_token=id_token)

    server = make_server("127.0.0.1", port, issuer, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app, db = make_app(tmp_path, auth="oidc", oidc_issuer=issuer_url, oidc_client_id="jingbao",
                           oidc_client_secret="client-secret")
        ensure_account(db, "dist", "district", city=CITY, districts=(D1,))

        def round_trip(name: str):
            client = app.server.test_client()
            assert "统一身份认证" in client.get("/login").get_data(as_text=True)
            start = client.get("/login?sso=1")
            assert start.status_code == 302 and start.headers["Location"].startswith(issuer_url + "/authorize")
            back = requests.get(start.headers["Location"] + "&login_hint=" + name, allow_redirects=False, timeout=10)
            callback = urllib.parse.urlsplit(back.headers["Location"])
            return client, client.get(f"{callback.path}?{callback.query}")

        client, answer = round_trip("dist")
        assert answer.status_code == 302 and answer.headers["Location"] == "/"
        assert client.get("/api/v1/kpis?range=7d").get_json()["districts"] == [D1]
        _, stranger = round_trip("nobody-here")
        assert stranger.status_code == 403 and "未在本系统登记" in stranger.get_data(as_text=True)
        forged = app.server.test_client().get("/login/callback?code=code-x&state=forged")
        assert forged.status_code == 401 and "统一身份认证未能完成登录" in forged.get_data(as_text=True)
        assert [e.event for e in audit.entries(db)][-3:] == ["sign_in", "sign_in_failed", "sign_in_failed"]
    finally:
        server.shutdown()


def test_sig017_the_audit_log_is_append_only_on_every_database(database_url):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from data_access.db import Database

    db = Database(database_url)
    db.create_schema()
    audit.record(db, "sign_in", "someone", "10.0.0.1")
    for statement in ("UPDATE audit_event SET account = 'nobody'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
            session.execute(text(statement))
    assert [(e.account, e.address) for e in audit.entries(db)] == [("someone", "10.0.0.1")]


def page_body(app, path: str, search: str, marker: str) -> dict:
    """The callback request that draws the page at `path` (its main callback's first output is `marker`)."""
    key = next(k for k in app.callback_map if f"{marker}.children" in k)
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in key[2:-2].split("...")]
    values = {"search": search, "pathname": path, "n_intervals": None}
    inputs = [{"id": i["id"], "property": i["property"], "value": values.get(i["property"])}
              for i in app.callback_map[key]["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": None} for s in app.callback_map[key]["state"]]
    return {"output": key, "outputs": outputs, "inputs": inputs, "state": state, "changedPropIds": ["app-url.search"]}


ANALYTICS = ("throughput", "teams", "payouts", "fraud", "mediation", "rescue", "stations")


@pytest.mark.parametrize("name", ANALYTICS)
def test_sig018_every_analytics_callback_refuses_what_the_account_may_not_see(app_db, name):
    app, _ = app_db
    district = signed_in_client(app, "dist", "district", city=CITY, districts=(D1,))
    insurer = signed_in_client(app, "ins", "insurer", insurer="INS01")
    path, marker = f"/{name}", f"{name}-problems"

    def answer(client, search):
        response = client.post("/_dash-update-component", json=page_body(app, path, search, marker))
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return json.dumps(response.get_json()["response"], ensure_ascii=False)

    assert "scope-message" not in answer(district, "")
    for search in (f"?districts={D2}", f"?city={OTHER_CITY}"):
        text = answer(district, search)
        assert "scope-message" in text and "龙文区" not in text and "渝中区" not in text
    insurer_answer = answer(insurer, "?insurer=2" if name in ("payouts", "fraud", "mediation") else "")
    assert "scope-message" in insurer_answer                 # another insurer, or a page not of its role
    assert "乙保险" not in insurer_answer
    anonymous = app.server.test_client().post("/_dash-update-component", json=page_body(app, path, "", marker))
    assert anonymous.status_code == 401
