"""Warming: whenever the data version changes, the default view of every page and city (the wall's included) is
computed in the background before anyone asks, so no viewer waits for a cold one.

A pass replays what a browser does: it reads the app's layout and callback graph, mounts each page's address and
posts the callbacks the renderer fires on load, through the app's own test client, as an in-process viewer with a
leader's whole scope. The cache keys are therefore the viewers' own (`data_access.cache.key_text` leaves out who
holds a scope). The in-process viewer is recognised by an object in the WSGI environ that no network request can
carry; the gate is unchanged for everyone else."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dash

from data_access import metrics
from data_access.accounts import AccountInfo
from data_access.db import DatabaseUnavailable
from data_access.scope import Scope
from services.identity import Viewer

log = logging.getLogger(__name__)

WARM_NAME = "system-warm"             # not an account: no row, no password, no session outside this process
POLL_S = 5.0                          # how often the data version is read
CALLBACK_PATH = "/_dash-update-component"
MAX_DEPTH = 5                         # rounds of callbacks triggered by callbacks, as on the slowest page
SKIPPED = ("/404",)                   # the not-found page draws nothing from the data
_ENVIRON_KEY = "jingbao.warm"
_IN_PROCESS = object()                # only code in this process can put this object in a request's environ

WARM_VIEWER = Viewer(AccountInfo(0, WARM_NAME, "leader", None, (), "", 0, False, False),
                     Scope(role="leader", user=WARM_NAME))


# ------------------------------------------------------------------------------------------- the callback graph
def output_names(output: str) -> list[str]:
    return output[2:-2].split("...") if output.startswith("..") else [output]


@dataclass(frozen=True)
class Callback:
    """One server callback of `/_dash-dependencies`, as the renderer posts it."""

    output: str
    inputs: tuple[tuple[str, str], ...]
    state: tuple[tuple[str, str], ...]
    prevent_initial_call: bool

    @property
    def output_ids(self) -> set[str]:
        return {name.split("@")[0].rsplit(".", 1)[0] for name in output_names(self.output)}

    @property
    def label(self) -> str:
        names = output_names(self.output)
        first = names[0].split("@")[0]
        return first + (f" +{len(names) - 1}" if len(names) > 1 else "")

    def body(self, values: dict[tuple[str, str], object], changed: list[str]) -> str:
        outputs = [dict(zip(("id", "property"), name.split("@")[0].rsplit(".", 1), strict=True))
                   for name in output_names(self.output)]
        return json.dumps({
            "output": self.output, "outputs": outputs if self.output.startswith("..") else outputs[0],
            "inputs": [{"id": i, "property": p, "value": values.get((i, p))} for i, p in self.inputs],
            "state": [{"id": i, "property": p, "value": values.get((i, p))} for i, p in self.state],
            "changedPropIds": changed,
        })


def server_callbacks(dependencies: list[dict]) -> list[Callback]:
    """The callbacks that run on the server (not clientside) and name plain ids (pattern-matching ids are skipped:
    their expansion happens in the renderer)."""
    found = []
    for spec in dependencies:
        if spec.get("clientside_function"):
            continue
        ids = [ref["id"] for ref in (*spec["inputs"], *spec["state"])]
        if any(not isinstance(i, str) or i.startswith("{") for i in ids):
            continue
        found.append(Callback(spec["output"], tuple((r["id"], r["property"]) for r in spec["inputs"]),
                              tuple((r["id"], r["property"]) for r in spec["state"]),
                              bool(spec.get("prevent_initial_call"))))
    return found


def components(tree: object) -> dict[str, dict]:
    """id -> (type, props) of every component with a plain id in a layout tree."""
    found: dict[str, dict] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict) and "props" in node and "type" in node:
            props = node["props"] or {}
            if isinstance(props.get("id"), str):
                found[props["id"]] = {"type": node["type"], "props": props}
            for value in props.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(tree)
    return found


def callback_named(callbacks: list[Callback], *, output: str | None = None, input_: str | None = None) -> Callback:
    """The callback whose output names `output`, or which has the input `input_` ("id.prop")."""
    for cb in callbacks:
        if output is not None and any(name.split("@")[0] == output for name in output_names(cb.output)):
            return cb
        if input_ is not None and input_ in {f"{i}.{p}" for i, p in cb.inputs}:
            return cb
    raise LookupError(f"no server callback with {'output ' + output if output else 'input ' + str(input_)}")


class Screen:
    """The renderer's side of one page: every plain-id component's props, and which server callbacks are due."""

    def __init__(self, callbacks: list[Callback] | None = None) -> None:
        self.callbacks: list[Callback] = callbacks or []
        self.props: dict[tuple[str, str], object] = {}
        self.present: set[str] = set()
        self.types: dict[str, str] = {}

    def add(self, found: dict[str, dict]) -> set[str]:
        for item, spec in found.items():
            self.present.add(item)
            self.types[item] = spec["type"]
            for prop, value in spec["props"].items():
                self.props.setdefault((item, prop), value)
        return set(found)

    def mount(self, layout: object, pathname: str, search: str) -> list[tuple[Callback, list[str]]]:
        """Add the app's layout; dcc.Location sets the address on mount, which fires the router and the shell's
        callbacks: the callbacks due first."""
        self.add(components(layout))
        changed = set()
        for item, kind in list(self.types.items()):
            if kind == "Location":
                self.props[(item, "pathname")] = pathname
                self.props[(item, "search")] = search
                changed |= {(item, "pathname"), (item, "search")}
        return self.due(set(self.present), changed)

    def due(self, new: set[str], changed: set[tuple[str, str]], fired: Callback | None = None
            ) -> list[tuple[Callback, list[str]]]:
        """The callbacks the renderer fires now: those an input or output of which was just added (their initial
        call, unless prevented) and those an input of which just changed (not the callback that changed it). Only
        callbacks whose inputs and outputs are all on the screen run."""
        found = []
        for cb in self.callbacks:
            if cb is fired or not self.on_screen(cb):
                continue
            triggers = [f"{i}.{p}" for i, p in cb.inputs if (i, p) in changed]
            initial = not cb.prevent_initial_call and bool(new & ({i for i, _ in cb.inputs} | cb.output_ids))
            if triggers or initial:
                found.append((cb, triggers))
        return found

    def on_screen(self, cb: Callback) -> bool:
        return all(i in self.present for i, _ in cb.inputs) and cb.output_ids <= self.present

    def apply(self, answer: dict) -> tuple[set[str], set[tuple[str, str]]]:
        """A callback's answer into the props: the components it added and the props it changed."""
        new: set[str] = set()
        changed: set[tuple[str, str]] = set()
        for item, values in answer.items():
            for prop, value in values.items():
                if isinstance(value, dict) and "__dash_patch_update" in value:
                    continue                        # a Patch of a figure: nothing downstream reads it
                if self.props.get((item, prop)) != value:
                    changed.add((item, prop))
                self.props[(item, prop)] = value
                if prop == "children":
                    new |= self.add(components(value))
        return new, changed

    def settle(self, due: list[tuple[Callback, list[str]]], post: Callable[[Callback, list[str]], dict | None],
               depth: int = 0) -> int:
        """Post the due callbacks one after another, apply their answers, then post what those answers trigger in
        turn; returns how many were posted."""
        if not due or depth >= MAX_DEPTH:
            return 0
        follow: dict[Callback, list[str]] = {}
        for cb, changed in due:
            answer = post(cb, changed)
            if answer:
                new, moved = self.apply(answer)
                for due_cb, triggers in self.due(new, moved, fired=cb):
                    follow[due_cb] = sorted({*follow.get(due_cb, []), *triggers})
        return len(due) + self.settle(list(follow.items()), post, depth + 1)


# ----------------------------------------------------------------------------------------------- the warm-up
def allow_in_process_requests(app: dash.Dash) -> None:
    """Let the warm-up's own requests (and only those) in as WARM_VIEWER: Flask-Login asks this loader when a
    request carries no session, and it answers only for the environ object a test client of this process sets."""
    manager = app.server.login_manager

    @manager.request_loader
    def _in_process(incoming):
        return WARM_VIEWER if incoming.environ.get(_ENVIRON_KEY) is _IN_PROCESS else None


@dataclass
class PassReport:
    version: int
    views: int = 0
    callbacks: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)     # (seconds, view), slowest first

    def summary(self) -> str:
        slow = ", ".join(f"{view} {seconds:.1f} s" for seconds, view in self.slowest[:3])
        return (f"warm pass (data version {self.version}): {self.views} views, {self.callbacks} callbacks in "
                f"{self.seconds:.1f} s, {len(self.errors)} errors" + (f"; slowest {slow}" if slow else ""))


def default_views(app: dash.Dash) -> list[tuple[str, str]]:
    """(path, query string) of the default view of every page a leader opens, for every city: the default city
    by its bare address, the others by `?city=`. Pages with a path template (a district's profile) are views of
    one district, not defaults."""
    server = app.server
    settings = server.config["JINGBAO_SETTINGS"]
    with server.app_context():
        cities = [city.adcode for city in metrics.catalogue(server.config["JINGBAO_DB"]).cities]
    cities.sort(key=lambda adcode: adcode != settings.default_city)
    pages = sorted((page for page in dash.page_registry.values()
                    if not page.get("path_template") and page["path"] not in SKIPPED
                    and WARM_VIEWER.may_open(page["path"])), key=lambda page: page.get("order") or 0)
    views = []
    for city in cities:
        search = "" if city == settings.default_city else f"?city={city}"
        for page in pages:
            if page.get("filter_bar") is False and page["path"] != "/briefing":   # follows no city: once is enough
                if city == cities[0]:
                    views.append((page["path"], ""))
                continue
            views.append((page["path"], search))
    return views


class Warmer:
    """Warm passes over one app, through its test client; `watch` runs one whenever the data version changes."""

    def __init__(self, app: dash.Dash, views: list[tuple[str, str]] | None = None) -> None:
        self.app = app
        self.views = views                        # None: `default_views`, read again at every pass
        self.db = app.server.config["JINGBAO_DB"]
        self.client = app.server.test_client()
        self.client.environ_base[_ENVIRON_KEY] = _IN_PROCESS
        self.warmed: int | None = None            # the data version of the last pass
        self.passes = 0
        self.last: PassReport | None = None

    def _poster(self, screen: Screen, report: PassReport, view: str) -> Callable[[Callback, list[str]], dict | None]:
        def post(cb: Callback, changed: list[str]) -> dict | None:
            response = self.client.post(CALLBACK_PATH, data=cb.body(screen.props, changed),
                                        content_type="application/json")
            if response.status_code == 204:
                return None
            if response.status_code != 200:
                report.errors.append(f"{view} · {cb.label}: HTTP {response.status_code}")
                return None
            return (response.get_json() or {}).get("response") or {}

        return post

    def warm_pass(self) -> PassReport:
        """Every default view once, one request at a time; the cache keeps what they computed."""
        started = time.perf_counter()
        report = PassReport(self.db.data_version())
        with self.client.session_transaction() as session:
            session["seen"] = time.time()         # the gate ends sessions idle for JINGBAO_SESSION_HOURS
        layout = self.client.get("/_dash-layout").get_json()
        callbacks = server_callbacks(self.client.get("/_dash-dependencies").get_json())
        for path, search in self.views if self.views is not None else default_views(self.app):
            view = path + search
            began = time.perf_counter()
            screen = Screen(callbacks)
            try:
                post = self._poster(screen, report, view)
                report.callbacks += screen.settle(screen.mount(layout, path, search), post)
            except Exception as exc:              # one broken view must not stop the others being warmed
                report.errors.append(f"{view}: {type(exc).__name__}: {str(exc)[:160]}")
            report.views += 1
            report.slowest.append((time.perf_counter() - began, view))
        report.slowest.sort(reverse=True)
        report.seconds = time.perf_counter() - started
        self.warmed = report.version
        self.passes += 1
        self.last = report
        return report

    def step(self) -> PassReport | None:
        """One pass when the data version differs from the last pass's (or there was none), else nothing."""
        if self.db.data_version() == self.warmed:
            return None
        report = self.warm_pass()
        (log.warning if report.errors else log.info)("%s%s", report.summary(),
                                                       "".join(f"\n  {e}" for e in report.errors[:5]))
        return report

    def watch(self, stop: threading.Event, poll_s: float = POLL_S, keep_going: Callable[[], bool] = lambda: True
              ) -> None:
        """Pass after pass until `stop` is set (or `keep_going()` says no). After a pass it rests at least as long
        as the pass took, so that data changing faster than a pass (the --live feed) keeps it busy half the time at
        most."""
        while not stop.is_set() and keep_going():
            rest = poll_s
            try:
                report = self.step()
                if report is not None:
                    rest = max(poll_s, report.seconds)
            except DatabaseUnavailable as exc:
                log.warning("warm-up: database unavailable (%s); retrying", exc)
            except Exception:                     # never let the warm-up die on one surprise: the next poll retries
                log.exception("warm-up pass failed")
            stop.wait(rest)


def start_warm_thread(app: dash.Dash, poll_s: float = POLL_S) -> tuple[threading.Thread, threading.Event, Warmer]:
    """Warm `app` from a daemon thread of this process (one process serving, e.g. the development server);
    returns the thread, the event that stops it and its Warmer."""
    allow_in_process_requests(app)
    warmer = Warmer(app)
    stop = threading.Event()
    thread = threading.Thread(target=warmer.watch, args=(stop, poll_s), name="warm", daemon=True)
    thread.start()
    return thread, stop, warmer
