"""Signing in and out, and the gate in front of every request.

- `local`: accounts and argon2 passwords of `jingbao users`, a form at /login, Flask-Login sessions in a signed
  cookie; after 10 failed sign-ins for one account from one address (50 from one address) Flask-Limiter locks
  further attempts for 15 minutes.
- `proxy`: the bureau's sign-on gateway names the account in `JINGBAO_AUTH_HEADER`, believed only from
  `JINGBAO_TRUSTED_PROXIES`.
- `oidc`: an OpenID Connect issuer (Authlib); the account is matched by its `preferred_username`.
- `none`: no sign-in at all, only when set explicitly; every page then says so in red.

Roles and scopes always come from the accounts table. A wall screen signs in with its kiosk link
(`/wall?kiosk=<token>`) and may open nothing but the wall. Pages without a session redirect to /login; the API and
Dash's callback endpoints answer 401. A page the role may not open answers 403."""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, abort, current_app, g, jsonify, redirect, render_template_string, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter, RateLimitExceeded
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from base.i18n import normalize_language, t
from base.settings import DEFAULT_DATA_DIR, Settings
from data_access import accounts, audit
from data_access.db import Database, DatabaseUnavailable
from services.identity import Viewer, current_viewer

log = logging.getLogger(__name__)

LOCK_MINUTES = 15
FAILURES_PER_ACCOUNT = f"10 per {LOCK_MINUTES} minutes"
FAILURES_PER_ADDRESS = f"50 per {LOCK_MINUTES} minutes"
PUBLIC_PATHS = ("/login", "/login/callback", "/logout", "/_favicon.ico", "/favicon.ico", "/api/v1/openapi.json",
                "/healthz", "/readyz", "/metrics")          # the operator's monitor signs in nowhere
PUBLIC_PREFIXES = ("/assets/",)
CALLBACK_PREFIX = "/_dash-"
WALL_PATHS = ("/wall", "/api/v1/as-of")
MAX_NEXT = 1000
SEEN_EVERY_S = 60

LOGIN_PAGE = """<!DOCTYPE html>
<html lang="{{ html_lang }}">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<link rel="icon" href="/_favicon.ico"><link rel="stylesheet" href="/assets/00-bootstrap-5.3.3.min.css">
<link rel="stylesheet" href="/assets/style.css">
</head>
<body class="signin-body">
<main class="signin">
  <div class="signin-card">
    <p class="signin-brand"><span class="brand-mark" aria-hidden="true">警</span>{{ app_name }}</p>
    <h1 class="signin-title">{{ heading }}</h1>
    <p class="signin-lead">{{ lead }}</p>
    {% if message %}<div class="alert alert-{{ message_kind }}" role="alert" id="signin-message">{{ message }}</div>
    {% endif %}
    {% if sso %}
    <a class="btn btn-primary w-100" href="/login?sso=1{{ lang_suffix }}">{{ sso }}</a>
    {% else %}
    <form method="post" action="/login{{ lang_query }}" class="signin-form">
      <input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="next" value="{{ next }}">
      <label class="form-label" for="username">{{ username_label }}</label>
      <input class="form-control mb-3" id="username" name="username" autocomplete="username" required
             maxlength="64" value="{{ username }}" autofocus>
      <label class="form-label" for="password">{{ password_label }}</label>
      <input class="form-control mb-4" id="password" name="password" type="password" required maxlength="200"
             autocomplete="current-password">
      <button class="btn btn-primary w-100" type="submit" id="signin-submit">{{ submit }}</button>
    </form>
    {% endif %}
    <p class="signin-language">
      <a href="/login?lang={{ other_lang }}{{ next_suffix }}" lang="{{ other_lang }}">{{ other_lang_name }}</a></p>
    {% if demo_accounts %}
    <section class="signin-demo" aria-labelledby="signin-demo-title">
      <h2 id="signin-demo-title" class="signin-demo-title">{{ demo_title }}</h2>
      <table class="table table-sm mb-0"><thead><tr><th scope="col">{{ role_label }}</th>
        <th scope="col">{{ username_label }}</th><th scope="col">{{ password_label }}</th></tr></thead>
      <tbody>{% for row in demo_accounts %}<tr><td>{{ row.role }}</td><td><code>{{ row.name }}</code></td>
        <td><code>{{ row.password }}</code></td></tr>{% endfor %}</tbody></table>
    </section>
    {% endif %}
  </div>
</main>
</body>
</html>"""

FORBIDDEN_PAGE = """<!DOCTYPE html>
<html lang="{{ html_lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title><link rel="icon" href="/_favicon.ico">
<link rel="stylesheet" href="/assets/00-bootstrap-5.3.3.min.css">
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="signin-body"><main class="signin"><div class="signin-card">
<h1 class="signin-title">{{ title }}</h1><p id="forbidden-message">{{ message }}</p>
{% if home %}<p><a class="btn btn-primary" href="{{ home }}">{{ go_home }}</a></p>{% endif %}
</div></main></body></html>"""


def secret_key(settings: Settings) -> str:
    """JINGBAO_SECRET_KEY, or a random key kept in var/secret_key so that every worker of the host shares it."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.extra.get("secret_key_path", DEFAULT_DATA_DIR / "secret_key"))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        draft.chmod(0o600)
        try:
            os.link(draft, path)       # atomic: the first worker to start wins, the others read its key
        except FileExistsError:
            pass
        finally:
            draft.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()


def client_address() -> str:
    return (request.remote_addr or "")[:64]


def _lang() -> str:
    return normalize_language(request.args.get("lang"), current_app.config["JINGBAO_SETTINGS"].language)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never another host), else the start page."""
    if not target or len(target) > MAX_NEXT or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or target.startswith(("/login", "/logout")):
        return ""
    return target


def _viewer_of(db: Database, account: accounts.AccountInfo, kiosk_token: int | None = None) -> Viewer:
    return Viewer(account, accounts.scope_of(db, account), kiosk=kiosk_token is not None, token_id=kiosk_token)


class SessionCookie(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over https: directly, or through a trusted proxy
    that said so (dashboard.guard.TrustedProxyScheme); plain http on localhost keeps working."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def install_sign_in(server: Flask, settings: Settings, db: Database) -> None:
    """Sessions, the sign-in routes and the gate on `server`."""
    server.secret_key = secret_key(settings)
    server.session_interface = SessionCookie()
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_NAME="jingbao",
                         PERMANENT_SESSION_LIFETIME=400 * 24 * 3600, JINGBAO_SIGN_IN=True)
    manager = LoginManager()
    manager.init_app(server)
    manager.session_protection = None     # the epoch in the id ends sessions; the address of a wall may change

    @manager.user_loader
    def _load(user_id: str) -> Viewer | None:
        return load_viewer(db, user_id)

    storage = settings.cache_url if settings.cache_url.startswith("redis://") else "memory://"
    limiter = Limiter(key_func=client_address, app=server, storage_uri=storage, default_limits=[],
                      strategy="fixed-window")
    server.extensions["jingbao_limiter"] = limiter
    _limit_heavy_requests(server, limiter)

    def account_key() -> str:
        return f"{client_address()}|{(request.form.get('username') or '')[:64].strip().lower()}"

    failed = lambda response: response.status_code == 401   # noqa: E731 - only failures count

    @server.route("/login", methods=["GET", "POST"])
    @limiter.limit(FAILURES_PER_ACCOUNT, key_func=account_key, methods=["POST"], deduct_when=failed)
    @limiter.limit(FAILURES_PER_ADDRESS, methods=["POST"], deduct_when=failed)
    def login():
        try:
            return _login(db, settings)
        except (DatabaseUnavailable, SQLAlchemyError):
            return _login_page(settings, t("message.db_unavailable", _lang()), status=503)

    @server.route("/login/callback")
    def login_callback():
        return _oidc_callback(db, settings)

    @server.route("/logout", methods=["GET", "POST"])
    def logout():
        viewer = current_viewer()
        if viewer is not None and viewer.account is not None:
            audit.record(db, "sign_out", viewer.name, client_address())
        logout_user()
        session.clear()
        return redirect("/login?out=1" + ("&lang=en" if _lang() == "en" else ""))

    @server.errorhandler(RateLimitExceeded)
    def _locked(_exc):
        if request.path == "/login":
            return _login_page(settings, t("signin.locked", _lang(), minutes=LOCK_MINUTES), "danger", status=429)
        return jsonify(error="too many requests"), 429

    @server.before_request
    def _gate():
        return gate(db, settings)


def load_viewer(db: Database, user_id: str) -> Viewer | None:
    """The viewer a session's id names ("<account>:<epoch>" or "<account>:<epoch>:k<kiosk token>"), or None when the
    account is gone, disabled, its password was reset since, or its kiosk token was revoked."""
    parts = (user_id or "").split(":")
    if len(parts) not in (2, 3) or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    try:
        account = accounts.get_account(db, int(parts[0]))
        token_live = len(parts) < 3 or (parts[2].startswith("k") and parts[2][1:].isdigit() and account is not None
                                        and accounts.token_is_live(db, int(parts[2][1:]), account.id))
    except (DatabaseUnavailable, SQLAlchemyError):
        # The database is away: the signed session still says who this is, so pages can say "data delayed" and keep
        # their last figures instead of sending everyone to a login that cannot work either.
        return snapshot_viewer(user_id)
    if account is None or account.disabled or account.session_epoch != int(parts[1]):
        return None
    if not token_live:
        return None
    token_id = int(parts[2][1:]) if len(parts) == 3 else None
    try:
        viewer = _viewer_of(db, account, token_id)
    except (DatabaseUnavailable, SQLAlchemyError):
        return snapshot_viewer(user_id)
    remembered = snapshot(viewer)
    if session.get("viewer") != remembered:
        session["viewer"] = remembered
    return viewer


def snapshot(viewer: Viewer) -> dict:
    """What the signed session remembers of its viewer, for when the database cannot be asked."""
    a, s = viewer.account, viewer.scope
    return {"id": viewer.get_id(), "name": a.name, "role": a.role, "city": a.city, "districts": list(a.districts),
            "insurer_code": a.insurer_code, "cities": list(s.cities),
            "insurers": [list(pair) for pair in s.insurers], "kiosk": viewer.kiosk, "token": viewer.token_id}


def snapshot_viewer(user_id: str) -> Viewer | None:
    """The viewer the session remembered, when its id is still the one signed in; None otherwise."""
    from data_access.scope import Scope

    saved = session.get("viewer")
    if not isinstance(saved, dict) or saved.get("id") != user_id:
        return None
    try:
        account = accounts.AccountInfo(int(user_id.split(":")[0]), saved["name"], saved["role"], saved["city"],
                                       tuple(saved["districts"]), saved["insurer_code"],
                                       int(user_id.split(":")[1]), False, True)
        scope = Scope(role=saved["role"], user=saved["name"], cities=tuple(saved["cities"]),
                      districts=tuple(saved["districts"]), insurers=tuple((c, int(i)) for c, i in saved["insurers"]),
                      insurer_code=saved["insurer_code"])
    except (KeyError, TypeError, ValueError):
        return None
    return Viewer(account, scope, kiosk=bool(saved.get("kiosk")), token_id=saved.get("token"))


def _login_page(settings: Settings, message: str = "", kind: str = "danger", status: int = 200, username: str = "",
                next_target: str = ""):
    lang = _lang()
    session.setdefault("csrf", secrets.token_urlsafe(16))
    demo_rows = []
    if settings.demo:
        demo_rows = [{"role": t(f"role.{role}", lang), "name": name, "password": password}
                     for name, role, password in current_app.config.get("JINGBAO_DEMO_ACCOUNTS", ())]
    other = "en" if lang == "zh" else "zh"
    html = render_template_string(
        LOGIN_PAGE, html_lang="zh-CN" if lang == "zh" else "en", title=f"{t('signin.title', lang)} · "
        f"{t('app.name', lang)}", app_name=t("app.name", lang), heading=t("signin.title", lang),
        lead=t("signin.lead", lang), message=message, message_kind=kind, csrf=session["csrf"], next=next_target,
        username=username[:64], username_label=t("signin.username", lang), password_label=t("signin.password", lang),
        submit=t("signin.submit", lang), other_lang=other, other_lang_name="English" if other == "en" else "中文",
        lang_query="?lang=en" if lang == "en" else "", lang_suffix="&lang=en" if lang == "en" else "",
        next_suffix=("&" + urlencode({"next": next_target})) if next_target else "",
        sso=t("signin.sso", lang) if settings.auth == "oidc" else "",
        demo_accounts=demo_rows, demo_title=t("signin.demo", lang), role_label=t("signin.demo.role", lang))
    return html, status, {"Cache-Control": "no-store"}


def _login(db: Database, settings: Settings):
    lang = _lang()
    if settings.auth == "oidc" and request.args.get("sso"):
        return _oidc_start(settings)
    if request.method == "GET":
        viewer = current_viewer()
        next_target = safe_next(request.args.get("next"))
        if viewer is not None and viewer.account is not None and not viewer.kiosk:
            return redirect(next_target or viewer.home)
        message, kind = "", "danger"
        if request.args.get("out"):
            message, kind = t("signin.signed_out", lang), "success"
        elif request.args.get("expired"):
            message, kind = t("signin.expired", lang), "warning"
        return _login_page(settings, message, kind, next_target=next_target)
    if settings.auth != "local":
        abort(404)
    name = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    next_target = safe_next(request.form.get("next"))
    if not secrets.compare_digest(str(request.form.get("csrf") or ""), str(session.get("csrf") or "-")):
        return _login_page(settings, t("signin.form_expired", lang), status=400, username=name,
                           next_target=next_target)
    if not name or not password:
        return _login_page(settings, t("signin.missing", lang), status=400, username=name, next_target=next_target)
    account = accounts.verify_password(db, name, password)
    if account is None:
        audit.record(db, "sign_in_failed", name, client_address())
        return _login_page(settings, t("signin.failed", lang), status=401, username=name, next_target=next_target)
    session.clear()                       # a fresh session: nothing from before signing in is carried over
    viewer = _viewer_of(db, account)
    login_user(viewer)
    session["seen"] = time.time()
    audit.record(db, "sign_in", account.name, client_address())
    target = next_target if next_target and viewer.may_open(next_target.split("?")[0]) else viewer.home
    return redirect(target)


# -------------------------------------------------------------------------------------------------- OIDC
def _oidc_client(settings: Settings):
    server = current_app
    client = server.extensions.get("jingbao_oidc")
    if client is None:
        from authlib.integrations.flask_client import OAuth

        oauth = OAuth(server)
        client = oauth.register("bureau", client_id=settings.oidc_client_id,
                                client_secret=settings.oidc_client_secret,
                                server_metadata_url=settings.oidc_issuer.rstrip("/")
                                + "/.well-known/openid-configuration",
                                client_kwargs={"scope": "openid profile email"})
        server.extensions["jingbao_oidc"] = client
    return client


def _oidc_start(settings: Settings):
    session["next"] = safe_next(request.args.get("next"))
    return _oidc_client(settings).authorize_redirect(request.url_root.rstrip("/") + "/login/callback")


def _oidc_callback(db: Database, settings: Settings):
    lang = _lang()
    if settings.auth != "oidc":
        abort(404)
    try:
        token = _oidc_client(settings).authorize_access_token()
        claims = token.get("userinfo") or {}
    except Exception as exc:   # a refused or tampered answer of the issuer: say so, never a traceback
        log.warning("OIDC sign-in failed: %s", exc)
        audit.record(db, "sign_in_failed", "-", client_address(), via="oidc", reason=type(exc).__name__)
        return _login_page(settings, t("signin.sso_failed", lang), status=401)
    name = str(claims.get("preferred_username") or claims.get("email") or "")[:64]
    account = accounts.find_account(db, name) if name else None
    if account is None or account.disabled:
        audit.record(db, "sign_in_failed", name or "-", client_address(), via="oidc")
        return _login_page(settings, t("signin.unknown_account", lang), status=403)
    session.clear()
    login_user(_viewer_of(db, account))
    session["seen"] = time.time()
    audit.record(db, "sign_in", account.name, client_address(), via="oidc")
    return redirect(viewer_home(account))


def viewer_home(account: accounts.AccountInfo) -> str:
    from services.identity import HOME

    return HOME.get(account.role, "/")


# -------------------------------------------------------------------------------------------------- the gate
def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _is_ingest(path: str, method: str) -> bool:
    return method == "POST" and path.startswith("/api/v1/")


def _from_trusted_proxy(settings: Settings) -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    for entry in settings.trusted_proxies:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _forbidden(lang: str, message_key: str, home: str | None, status: int = 403):
    html = render_template_string(FORBIDDEN_PAGE, html_lang="zh-CN" if lang == "zh" else "en",
                                  title=t("signin.forbidden.title", lang), message=t(message_key, lang), home=home,
                                  go_home=t("signin.go_home", lang))
    return html, status, {"Cache-Control": "no-store"}


def _wants_json(path: str) -> bool:
    return path.startswith(("/api/", CALLBACK_PREFIX)) or request.method != "GET"


def gate(db: Database, settings: Settings):
    """Let a request through, or answer it: 401/redirect without a viewer, 403 outside the viewer's role."""
    path = request.path
    if _is_public(path) or _is_ingest(path, request.method) or settings.auth == "none":
        return None
    lang = _lang()
    if path.rstrip("/") == "/wall" and request.args.get("kiosk"):
        return _kiosk_sign_in(db, lang)
    viewer = _request_viewer(db, settings)
    if isinstance(viewer, tuple):        # an answer already (a refused token)
        return viewer
    if viewer is None:
        if _wants_json(path):
            return jsonify(error="sign in first: no session or token"), 401
        target = safe_next(request.full_path.rstrip("?"))
        expired = "&expired=1" if session.pop("_expired", False) or session.get("_user_id") else ""
        return redirect("/login?" + urlencode({"next": target} if target else {}) + expired
                        + ("&lang=en" if lang == "en" else ""))
    g.jingbao_viewer = viewer
    if viewer.kiosk or viewer.role == "wall":
        if not (path.startswith(CALLBACK_PREFIX) or path.rstrip("/") in WALL_PATHS
                or path.startswith("/_dash-component-suites/")):
            return (jsonify(error="a wall screen opens the wall only"), 403) if _wants_json(path) else \
                _forbidden(lang, "signin.forbidden", "/wall")
        return None
    if request.method == "GET" and not path.startswith(("/api/", "/_dash", "/_reload")) and \
            not viewer.may_open(path):
        return _forbidden(lang, "signin.forbidden", viewer.home)
    return None


def _request_viewer(db: Database, settings: Settings):
    """The viewer of this request from, in order: the gateway's header (proxy mode), a read token (API reads), the
    session. None when there is none."""
    if settings.auth == "proxy" and _from_trusted_proxy(settings):
        name = (request.headers.get(settings.auth_header) or "").strip()[:64]
        if name:
            account = accounts.find_account(db, name)
            if account is None or account.disabled:
                return _forbidden(_lang(), "signin.unknown_account", None)
            return _viewer_of(db, account)
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer ") and request.path.startswith("/api/"):
        try:
            account = accounts.account_of_token(db, authorization[7:], "read")
        except accounts.TokenRefused as refused:
            return jsonify(error=refused.message), refused.status
        return _viewer_of(db, account)
    viewer = current_viewer()
    if viewer is None or viewer.account is None:
        return None
    if not viewer.kiosk:
        seen = session.get("seen")
        if not isinstance(seen, int | float) or time.time() - seen > settings.session_hours * 3600:
            logout_user()
            session.pop("seen", None)
            session["_expired"] = True
            return None
        if time.time() - seen > SEEN_EVERY_S:      # not on every request: the cookie is re-sent only when it changes
            session["seen"] = time.time()
    return viewer


def _kiosk_sign_in(db: Database, lang: str):
    """A wall screen's kiosk link: sign the screen in as its wall account, then load the wall without the token in
    the address."""
    try:
        account = accounts.account_of_token(db, request.args.get("kiosk", ""), "kiosk")
    except accounts.TokenRefused as refused:
        return _forbidden(lang, "signin.kiosk_refused", None, refused.status)
    token_id = accounts.token_id_of(db, request.args.get("kiosk", ""))
    session.clear()
    login_user(_viewer_of(db, account, token_id))
    audit.record(db, "kiosk_sign_in", account.name, client_address())
    rest = [(key, value) for key, value in request.args.items(multi=True) if key != "kiosk"]
    return redirect("/wall" + ("?" + urlencode(rest) if rest else ""))


HEAVY_PER_MINUTE = 20          # per account (or address): a person clicks a plan or a PDF a few times a minute


def _limit_heavy_requests(server: Flask, limiter: Limiter) -> None:
    """The callbacks that cost seconds of CPU (a coverage plan, a briefing PDF or PNG) answer 429 past
    HEAVY_PER_MINUTE a minute of one account, so that no one client, script or stuck tab can keep the server busy."""
    from limits import RateLimitItemPerMinute

    from pages import briefing, coverage

    heavy = {*coverage.HEAVY_OUTPUTS, *briefing.HEAVY_OUTPUTS}
    server.config.setdefault("JINGBAO_HEAVY_PER_MINUTE", HEAVY_PER_MINUTE)   # 0: no limit (the benchmarks)

    @server.before_request
    def _heavy_limit():
        per_minute = server.config["JINGBAO_HEAVY_PER_MINUTE"]
        if not per_minute or request.method != "POST" or not request.path.endswith("/_dash-update-component"):
            return None
        body = request.get_json(silent=True)
        output = body.get("output") if isinstance(body, dict) else None
        if not isinstance(output, str) or not any(name in output for name in heavy):
            return None
        viewer = current_viewer()
        who = viewer.name if viewer is not None and viewer.account is not None else client_address()
        item = RateLimitItemPerMinute(per_minute)
        if limiter.limiter.hit(item, "jingbao-heavy", who):
            return None
        reset_at = limiter.limiter.get_window_stats(item, "jingbao-heavy", who).reset_time
        refused = jsonify(error=f"at most {per_minute} coverage plans or briefing files a minute: wait a moment")
        refused.headers["Retry-After"] = str(max(1, min(60, math.ceil(reset_at - time.time()))))
        return refused, 429
