"""What the server accepts and what it gives away: bounded request bodies, JSON nested no deeper than a person's data
ever is, callback requests of Dash's own shape, and security headers on every answer, with no versions in them.

Installed by `create_app` after Flask-Compress, so the page is rewritten before it is compressed."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
from urllib.parse import urlparse

import numpy as np
from dash import Dash
from dash.fingerprint import check_fingerprint
from flask import Response, current_app, g, jsonify, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from base.settings import Settings
from data_access.db import pin_data_versions, unpin_data_versions

MAX_BODY_BYTES = 8 * 1024 * 1024       # ingest's 5,000 rows of cases are 2.5–5 MB of JSON
MAX_JSON_DEPTH = 64                    # a callback body is about 8 levels deep, an ingest body 2
CALLBACK_PATH = "/_dash-update-component"
COMPONENT_SUITES = "/_dash-component-suites/"
RELOAD_HASH = "/_reload-hash"
JSON_PREFIXES = ("/api/", "/_dash")
_BODY_METHODS = ("POST", "PUT", "PATCH")

# Dash's page puts its settings in a JSON script; in production nothing reads these from it (only the dev tools do)
_CONFIG_SCRIPT = re.compile(r'(<script id="_dash-config" type="application/json">)(.*?)(</script>)', re.DOTALL)
_VERSION_KEYS = ("dash_version", "python_version", "plotly_version", "ddk_version", "dash_version_url")
_FAVICON_VERSION = re.compile(r"(_favicon\.ico)\?v=[^\"']*")
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", re.DOTALL)
_DATA_BLOCK = re.compile(r"""type=["']application/json["']""")

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SCAN_CHUNK = 1 << 20


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text `body` nests arrays and objects deeper than `limit`, found without parsing it (the
    parser itself recurses, and a few thousand brackets exhaust Python's stack). Brackets inside strings do not
    count; a malformed body may be over-counted, which only turns one 400 into another."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b'""', body).translate(None, _NOT_BRACKETS)
    depth = 0
    for start in range(0, len(brackets), _SCAN_CHUNK):
        chunk = np.frombuffer(brackets[start:start + _SCAN_CHUNK], dtype=np.uint8)
        steps = np.where((chunk == ord("[")) | (chunk == ord("{")), 1, -1).astype(np.int32)
        levels = depth + np.cumsum(steps, dtype=np.int32)
        if int(levels.max()) > limit:
            return True
        depth = int(levels[-1])
    return False


def _is_reference(item: object) -> bool:
    """{"id": <str or pattern dict>, "property": <str>, ...}: one component property of a callback request."""
    return isinstance(item, dict) and isinstance(item.get("id"), str | dict) and isinstance(item.get("property"), str)


def _is_reference_or_group(item: object) -> bool:
    """A reference, or the list of references an ALL / ALLSMALLER pattern expands to."""
    return _is_reference(item) or (isinstance(item, list) and all(_is_reference(each) for each in item))


def callback_shape_problem(body: object) -> str | None:
    """Why `body` is not shaped like a Dash callback request (so that dash would fail on it with a 500), or None.
    Whether it names a callback of this app is checked after this, by `dashboard.app.callback_request_problem`."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("output"), str):
        return "output must be a string"
    outputs = body.get("outputs")
    if isinstance(outputs, list):
        if not all(_is_reference_or_group(item) for item in outputs):
            return "each of outputs must have an id and a property"
    elif not _is_reference(outputs):
        return "outputs must be an object with an id and a property, or a list of them"
    for key in ("inputs", "state"):
        items = body.get(key, [])
        if not isinstance(items, list) or not all(_is_reference_or_group(item) for item in items):
            return f"{key} must be a list of objects with an id and a property"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(item, str) for item in changed):
        return "changedPropIds must be a list of strings"
    return None


def content_security_policy(settings: Settings, frame_ancestors: str, script_hashes: tuple[str, ...] = (),
                            debug: bool = False) -> str:
    """The page's CSP: scripts and styles from this server (inline scripts by hash: Dash's renderer start and the
    clientside callbacks; inline styles are allowed, Plotly and Leaflet set them); map tiles from the tile host.
    With --debug Dash's development bundles need eval()."""
    images = ["'self'", "data:", "blob:"]
    tiles = urlparse(settings.tile_url) if settings.tile_url else None
    if tiles is not None and tiles.scheme in ("http", "https") and tiles.netloc:
        # a template host such as {s}.tile.example.org: any subdomain of what follows the placeholder
        host = tiles.netloc if "{" not in tiles.netloc else "*." + tiles.netloc.split(".", 1)[-1]
        images.append(f"{tiles.scheme}://{host}")
    scripts = " ".join(["'self'", *(f"'{digest}'" for digest in script_hashes), *(["'unsafe-eval'"] if debug else [])])
    return "; ".join((
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        f"img-src {' '.join(images)}",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ))


def inline_script_hashes(html: str) -> tuple[str, ...]:
    """sha256 sources of the page's inline scripts that run (JSON data blocks do not)."""
    digests = []
    for attributes, source in _INLINE_SCRIPT.findall(html):
        if _DATA_BLOCK.search(attributes):
            continue
        digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")
        digests.append(f"sha256-{digest}")
    return tuple(dict.fromkeys(digests))


def without_versions(html: str) -> str:
    """The page without the Dash, Plotly and Python versions Dash writes into its config and favicon address."""
    def scrub(match: re.Match) -> str:
        try:
            config = json.loads(match.group(2))
        except ValueError:
            return match.group(0)
        for key in _VERSION_KEYS:
            config.pop(key, None)
        text = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
        return match.group(1) + text + match.group(3)

    return _FAVICON_VERSION.sub(r"\1", _CONFIG_SCRIPT.sub(scrub, html, count=1))


def trusted_networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return tuple(networks)


class TrustedProxyScheme:
    """WSGI middleware: a request that reached a trusted proxy over https counts as https (its session cookie is
    Secure), told by X-Forwarded-Proto from an address of JINGBAO_TRUSTED_PROXIES only. The client address and the
    Host stay as the connection gave them: the proxy sign-in and the lock-out key read the proxy's own address."""

    def __init__(self, wsgi_app, trusted: tuple[str, ...]) -> None:
        self.wsgi_app = wsgi_app
        self.networks = trusted_networks(trusted)

    def __call__(self, environ, start_response):
        if self.networks:
            try:
                address = ipaddress.ip_address(environ.get("REMOTE_ADDR") or "")
            except ValueError:
                address = None
            if address is not None and any(address in network for network in self.networks):
                scheme = (environ.get("HTTP_X_FORWARDED_PROTO") or "").split(",")[-1].strip().lower()
                if scheme in ("http", "https"):
                    environ["wsgi.url_scheme"] = scheme
        return self.wsgi_app(environ, start_response)


def _refuse(status: int, message: str):
    if request.path.startswith(JSON_PREFIXES) or request.is_json:
        return jsonify(error=message), status
    return Response(message + "\n", status=status, mimetype="text/plain")


def install_guard(app: Dash, settings: Settings) -> None:
    """The limits, the checks before dash sees a request, and the headers of every answer, on `app`'s server."""
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    server.wsgi_app = TrustedProxyScheme(server.wsgi_app, settings.trusted_proxies)
    # JINGBAO_FRAME_ANCESTORS: origins that may frame the pages (the wall in a portal), comma or space separated
    frame_ancestors = " ".join(re.split(r"[\s,;]+", settings.frame_ancestors)).strip() \
        or "'none'"
    page_policy_base = content_security_policy(settings, frame_ancestors)
    policies: dict[tuple[tuple[str, ...], bool], str] = {}

    @server.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc):
        return _refuse(413, f"the request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB")

    @server.before_request
    def _one_data_version_per_request():
        g.data_version_pin = pin_data_versions()

    @server.teardown_request
    def _unpin(_exc):
        token = g.pop("data_version_pin", None)
        if token is not None:
            unpin_data_versions(token)

    @server.before_request
    def _check_request():
        path = request.path
        if path.startswith(COMPONENT_SUITES):
            return _check_component_suite(app, path)
        if path == RELOAD_HASH and not current_app.debug:
            return _refuse(404, "not found")
        if request.method not in _BODY_METHODS:
            return None
        callback = path.endswith(CALLBACK_PATH)
        if not (callback or request.is_json):
            return None
        body = request.get_data(cache=True)             # past MAX_CONTENT_LENGTH: 413, read no further
        if json_too_deep(body):
            return _refuse(400, f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
        if callback:
            try:
                parsed = request.get_json(force=True)      # parsed once: dash reads the cached value
            except BadRequest:
                parsed = None
            problem = callback_shape_problem(parsed)
            if problem is not None:
                return jsonify(error=f"bad callback request: {problem}"), 400
        return None

    @server.after_request
    def _secure_headers(response: Response) -> Response:
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"   # tile servers see the origin, not the page
        if frame_ancestors == "'none'":
            headers["X-Frame-Options"] = "DENY"
        policy = page_policy_base
        if response.mimetype == "text/html" and not response.direct_passthrough and not response.is_streamed:
            html = response.get_data(as_text=True)
            if not current_app.debug:
                html = without_versions(html)
                response.set_data(html)
            key = (inline_script_hashes(html), current_app.debug)
            if key not in policies:
                if len(policies) > 64:                  # pages are alike: a handful of hash sets in practice
                    policies.clear()
                policies[key] = content_security_policy(settings, frame_ancestors, *key)
            policy = policies[key]
        headers["Content-Security-Policy"] = policy
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000"
        return response


def _check_component_suite(app: Dash, path: str):
    """An address under /_dash-component-suites/ that names no file Dash registered: 404 (dash itself raises)."""
    package, _, fingerprinted = path[len(COMPONENT_SUITES):].partition("/")
    path_in_package, _ = check_fingerprint(fingerprinted)
    if path_in_package not in app.registered_paths.get(package, ()):
        return _refuse(404, "not found")
    return None
