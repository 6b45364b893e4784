"""What the browser loads on a page's first view, and when: only what the page draws, as late as it can.

Lighthouse on the full demo data found a page's main thread blocked for 0.4-1.5 s. It was spent on:
- script that no page needs in a current browser (@babel/polyfill);
- script that most pages never run (dash-ag-grid, 1.3 MB, on pages without a table; dash-leaflet on pages
  without a map);
- all the charts of a callback answer drawn in one task (assets/plot_queue.js draws one chart per task).

The helpers here change what Dash writes into the page (its script list and a meta tag), never the bundles
themselves; `install_frontend` applies them all to an app."""

from __future__ import annotations

import gzip
import hashlib
import importlib
import os
import pkgutil
from functools import cache
from pathlib import Path

from dash import Dash
from dash.fingerprint import build_fingerprint, check_fingerprint
from flask import Response, request

from base.settings import PROJECT_ROOT

# plotly.js built with only the trace types the dashboard draws (bar, scatter, heatmap, scattergeo, choropleth):
# 1.4 MB instead of 4.8 MB, and a tenth of the full bundle's start-up time on the browser's main thread. How it is
# built is written at the top of the file; a chart of another trace type needs it rebuilt with that type.
PLOTLY_BUNDLE = PROJECT_ROOT / "assets" / "vendor" / "plotly-4.1.1-jingbao.min.js"
# Where dcc.Graph fetches plotly.js from, the first time a page draws a chart (the renderer's fixed local address)
PLOTLY_SUITE_PATH = "_dash-component-suites/plotly/package_data/plotly.min.js"

# @babel/polyfill (core-js 2 + regenerator-runtime) is the first script Dash writes into every page. Every browser
# the dashboard supports has what core-js adds, and core-js still swaps some native built-ins for its own copies
# (String.prototype.trim among them, which plotly.js calls for every label). The bundles need only its global
# `regeneratorRuntime`, which assets/regenerator_runtime.js defines.
BABEL_POLYFILL = "polyfill@"

# Component libraries whose bundle is fetched only when a page first draws one of their components:
# namespace -> the bundle file in the package. assets/on_demand.js stands in for the library until then.
# dash-leaflet: 121 ms of script evaluation on every page, for the two pages with a map (live map, coverage).
ON_DEMAND = {"dash_ag_grid": "dash_ag_grid.min.js", "dash_leaflet": "dash_leaflet.js"}
ON_DEMAND_META = "jingbao-on-demand"

# V8 compiles a function the first time it is called, on the main thread: plotly.js's first chart spent 70 ms there,
# React's first commits and the grid's first table as much again. A script whose first line is this magic comment
# (Chromium 136+; other browsers read a comment) has every function compiled as it is streamed in, on a background
# thread. Only the bundles a first view runs most of get it: (package, file in the package, without fingerprint).
COMPILE_HINT = b"//# allFunctionsCalledOnLoad\n"
COMPILED_AT_LOAD = frozenset({
    ("dash", "deps/react-dom@18.3.1.min.js"),
    ("dash", "dash-renderer/build/dash_renderer.min.js"),
    ("dash", "dcc/dash_core_components.js"),
    ("dash", "dcc/dash_core_components-shared.js"),
    ("dash", "dcc/async-graph.js"),
    ("dash_ag_grid", "dash_ag_grid.min.js"),
    ("dash_leaflet", "dash_leaflet.js"),
})


def install_frontend(app: Dash) -> None:
    """Everything this module changes, on one app (call once, after `Dash(...)`)."""
    drop_babel_polyfill()
    for namespace, bundle in ON_DEMAND.items():
        load_on_demand(app, namespace, bundle)
    serve_partial_plotly(app)
    serve_compiled_at_load(app)


def drop_babel_polyfill() -> None:
    """Leave @babel/polyfill out of the scripts Dash writes into a page (Dash keeps this list per process)."""
    from dash import _dash_renderer

    for dependency in _dash_renderer._js_dist_dependencies:
        for key in ("relative_package_path", "external_url"):
            paths = dependency.get(key)
            for mode, listed in (paths.items() if isinstance(paths, dict) else ()):
                paths[mode] = [path for path in listed if BABEL_POLYFILL not in path]


def load_on_demand(app: Dash, namespace: str, bundle: str) -> None:
    """Serve the library's main bundle but do not write it into pages; a meta tag gives assets/on_demand.js its
    address and the names of its components, for stand-ins that fetch it on first draw."""
    module = importlib.import_module(namespace)
    for resource in module._js_dist:
        if resource.get("relative_package_path") == bundle:
            resource["dynamic"] = True      # served from /_dash-component-suites, no longer a <script> of each page
    entry = f"{namespace}|{bundle_address(app, namespace, bundle)}|{','.join(module.__all__)}"
    tags = app.config.meta_tags
    old = next((tag for tag in tags if tag.get("name") == ON_DEMAND_META), None)
    if old is None:
        tags.append({"name": ON_DEMAND_META, "content": entry})
    elif entry not in old["content"].split(" "):
        old["content"] += " " + entry


def bundle_address(app: Dash, namespace: str, bundle: str) -> str:
    """The address Dash itself would give the bundle (its fingerprint: version and file time, cached for a year)."""
    module = importlib.import_module(namespace)
    path = os.path.join(os.path.dirname(module.__file__), bundle)
    fingerprint = build_fingerprint(bundle, module.__version__, int(os.stat(path).st_mtime))
    return f"{app.config.requests_pathname_prefix}_dash-component-suites/{namespace}/{fingerprint}"


@cache
def _gzipped(body: bytes) -> tuple[bytes, bytes, str]:
    """The script with the compile hint first, its gzip (compressed once, not per request as Flask-Compress would)
    and its ETag."""
    body = COMPILE_HINT + body
    return body, gzip.compress(body, compresslevel=9, mtime=0), hashlib.sha256(body).hexdigest()[:20]


def _script_response(body: bytes, immutable: bool) -> Response:
    """A script with the compile hint, gzipped when the browser takes it; a fingerprinted address is cached for a
    year (as Dash caches it), another is revalidated daily by its ETag."""
    plain, packed, etag = _gzipped(body)
    zipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(packed if zipped else plain, mimetype="application/javascript")
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.cache_control.public = True
    response.cache_control.max_age = 365 * 24 * 3600 if immutable else 24 * 3600
    response.set_etag(etag)
    return response.make_conditional(request)


def serve_partial_plotly(app: Dash) -> None:
    """dcc.Graph loads plotly.js on its first chart, from PLOTLY_SUITE_PATH, unless `window.Plotly` exists: that
    address answers with the partial bundle. Pages without a chart (the live map) never load it; once loaded, it
    stays for every page the browser moves to (Dash pages do not reload)."""
    path = app.config.requests_pathname_prefix + PLOTLY_SUITE_PATH

    @app.server.before_request
    def _partial_plotly():
        if request.path != path or request.method not in ("GET", "HEAD"):
            return None
        return _script_response(_read(PLOTLY_BUNDLE), immutable=False)   # the address carries no version


def serve_compiled_at_load(app: Dash) -> None:
    """The bundles of COMPILED_AT_LOAD from their usual addresses, with the compile hint as their first line."""
    prefix = app.config.requests_pathname_prefix + "_dash-component-suites/"

    @app.server.before_request
    def _compiled_at_load():
        if not request.path.startswith(prefix) or request.method not in ("GET", "HEAD"):
            return None
        package, _, fingerprinted = request.path[len(prefix):].partition("/")
        in_package, fingerprinted = check_fingerprint(fingerprinted)
        if (package, in_package) not in COMPILED_AT_LOAD:
            return None                                      # Dash serves it, unchanged
        return _script_response(pkgutil.get_data(package, in_package), immutable=fingerprinted)


@cache
def _read(path: Path) -> bytes:
    return path.read_bytes()
