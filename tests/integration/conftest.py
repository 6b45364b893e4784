"""Browser tests: the dashboard on a small demo database, driven by headless Chromium through dash_duo."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from dash.testing.application_runners import BaseDashRunner
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.engine import make_url

from base.settings import load_settings
from dashboard.app import create_app
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.timeutil import local_today, utcnow
from tests.servers import free_port, fresh_database_url

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
CHROMIUM = os.environ.get("JINGBAO_TEST_BROWSER", "/usr/bin/chromium")
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _own_port():
    """Each test serves on a port free right now: dash_duo counts up from 58050 in every process, so two suites
    running side by side (or a server left over) would otherwise meet on the same port."""
    BaseDashRunner._next_port = free_port()


@pytest.fixture(autouse=True)
def _signed_in(request):
    """A browser test starts signed in as the test leader: `dash_duo.start_server(app)` starts the server, signs in
    through the login form and then opens the app. `start_server(app, account=None)` stays signed out;
    `account="name"` signs in as another account (which the test creates first)."""
    if "dash_duo" not in request.fixturenames:
        return
    from tests.signin import LEADER, app_db, browser_sign_in, ensure_account

    dash_duo = request.getfixturevalue("dash_duo")
    original = dash_duo.start_server

    def start_server(app, navigate=True, account=LEADER, **kwargs):
        original(app, navigate=False, **kwargs)
        if account:
            if account == LEADER:
                ensure_account(app_db(app))
            browser_sign_in(dash_duo, dash_duo.server.url, account)
        if navigate:
            dash_duo.server_url = dash_duo.server.url

    dash_duo.start_server = start_server


def pytest_setup_options():
    """Headless Chromium as installed by apt (dash_duo's default is a Chrome it cannot find here)."""
    options = Options()
    if Path(CHROMIUM).exists():
        options.binary_location = CHROMIUM
    for argument in ("--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1000", "--lang=zh-CN",
                     "--disable-gpu"):
        options.add_argument(argument)
    return options


@pytest.fixture(scope="session")
def dashboard_db(tmp_path_factory) -> Database:
    """Both demo cities for the last 400 days at a tenth of the volume: every page has data, built in seconds."""
    db = Database(fresh_database_url(tmp_path_factory.mktemp("browser"), "demo.db"), QueryCache.from_url("simple"))
    build_demo(db, scale=0.1, start=local_today() - dt.timedelta(days=400), end=utcnow())
    return db


@pytest.fixture(scope="session")
def old_db(tmp_path_factory) -> Database:
    """Zhangzhou's last 40 days at a fiftieth of the volume, built up to three hours ago and not topped up: data
    older than JINGBAO_STALE_AFTER_MINUTES (30 by default)."""
    db = Database(fresh_database_url(tmp_path_factory.mktemp("old"), "old.db"), QueryCache.from_url("simple"))
    build_demo(db, scale=0.02, cities=("350600",), start=local_today() - dt.timedelta(days=40),
               end=utcnow() - dt.timedelta(hours=3))
    return db


@pytest.fixture
def dashboard_app(dashboard_db):
    settings = load_settings({}, database_url=dashboard_db.url, demo=False)
    return create_app(settings, dashboard_db, refresh_ms=3_600_000)


def screenshot(dash_duo, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    dash_duo.driver.save_screenshot(str(path))
    return path


def console_errors(dash_duo) -> list[dict]:
    """Browser console entries, less failed map-tile requests (there is no internet in the test sandbox)."""
    return [entry for entry in (dash_duo.get_logs() or [])
            if not ("tile" in entry.get("message", "").lower() and "Failed to load" in entry.get("message", ""))]


# ------------------------------------------------------------------ waiting for content, never for a fixed time
WAIT_S = 30          # generous: under a loaded two-core CI machine a callback can take many seconds


def wait_for_value(dash_duo, read: Callable[[], T], expected: object, what: str, timeout: float = WAIT_S) -> T:
    """Read `read()` every quarter second until it equals `expected` (or passes it, when `expected` is a test), and
    return that value. An element redrawn or not yet drawn while it is read counts as "not yet". On timeout fail
    naming what was awaited and the last value read."""
    test = expected if callable(expected) else (lambda value: value == expected)
    seen: list[object] = ["nothing read yet"]

    def attempt(_driver) -> bool:
        try:
            seen[0] = read()
        except (StaleElementReferenceException, NoSuchElementException) as exc:
            seen[0] = exc
            return False
        return bool(test(seen[0]))

    try:
        WebDriverWait(dash_duo.driver, timeout, poll_frequency=0.25).until(attempt)
    except TimeoutException:
        raise AssertionError(f"waited {timeout:g} s for {what}; last seen: {seen[0]!r}") from None
    return seen[0]


def wait_for(dash_duo, condition: Callable[[], T], what: str, timeout: float = WAIT_S) -> T:
    """Wait until `condition()` returns something truthy, and return that."""
    return wait_for_value(dash_duo, condition, bool, what, timeout)


def texts_of(dash_duo, selector: str) -> list[str]:
    """The visible text of every element matching `selector`, now."""
    return [element.text for element in dash_duo.driver.find_elements(By.CSS_SELECTOR, selector)]


def count_of(dash_duo, selector: str) -> int:
    """How many elements match `selector`, now (without the driver's implicit wait when there are none)."""
    return dash_duo.driver.execute_script("return document.querySelectorAll(arguments[0]).length", selector)


def wait_for_count(dash_duo, selector: str, expected: int | Callable[[int], bool], timeout: float = WAIT_S) -> int:
    """Wait until the number of elements matching `selector` is `expected` (or passes it); returns the number."""
    return wait_for_value(dash_duo, lambda: count_of(dash_duo, selector), expected,
                          f"the number of {selector} to be {_describe(expected)}", timeout)


def wait_for_texts(dash_duo, selector: str, expected: list[str] | Callable[[list[str]], bool],
                   timeout: float = WAIT_S) -> list[str]:
    """Wait until the texts of the elements matching `selector` are `expected` (or pass it); returns them."""
    return wait_for_value(dash_duo, lambda: texts_of(dash_duo, selector), expected,
                          f"the texts of {selector} to be {_describe(expected)}", timeout)


def wait_for_text(dash_duo, selector: str, expected: str | Callable[[str], bool], timeout: float = WAIT_S) -> str:
    """Wait until the first element matching `selector` shows `expected` (or a text passing it); returns the text."""
    test = expected if callable(expected) else (lambda text: text == expected)
    return wait_for_value(dash_duo, lambda: texts_of(dash_duo, selector)[:1], lambda found: bool(found) and test(
        found[0]), f"the text of {selector} to be {_describe(expected)}", timeout)[0]


def wait_for_text_in(dash_duo, selector: str, *parts: str, timeout: float = WAIT_S) -> str:
    """Wait until an element matching `selector` shows every one of `parts`; returns that element's whole text.
    For content filled in after its element appears (a map popup, a status line)."""
    texts = wait_for_value(dash_duo, lambda: texts_of(dash_duo, selector),
                           lambda found: any(all(p in text for p in parts) for text in found),
                           f"a {selector} showing {' and '.join(map(repr, parts))}", timeout)
    return next(text for text in texts if all(p in text for p in parts))


def wait_for_attribute(dash_duo, selector: str, name: str, expected: str | None | Callable[[str | None], bool],
                       timeout: float = WAIT_S) -> str | None:
    """Wait until the attribute `name` of the first element matching `selector` is `expected` (or passes it)."""
    test = expected if callable(expected) else (lambda value: value == expected)

    def read() -> list[str | None]:
        return [e.get_attribute(name) for e in dash_duo.driver.find_elements(By.CSS_SELECTOR, selector)[:1]]

    return wait_for_value(dash_duo, read, lambda found: bool(found) and test(found[0]),
                          f"the {name} of {selector} to be {_describe(expected)}", timeout)[0]


# Charts and tables out of sight are drawn as they are scrolled near (assets/plot_queue.js, assets/on_demand.js):
# a test that reads one scrolls to it first, as the person reading the page would.
_SCROLL_THROUGH = """
const done = arguments[arguments.length - 1];
const frames = () => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
(async () => {
    const step = Math.max(200, window.innerHeight - 120);
    // a chart in the window (its top above the window's last 120 px) no longer waits to be drawn, or 2 s passed:
    // a person looks at what is in the window; a chart's real figure comes after its empty one is drawn
    const seen = () => {
        const waiting = new Set(window.jingbaoChartsWaiting ? window.jingbaoChartsWaiting() : []);
        return [...document.querySelectorAll('.dash-graph')].every(g => {
            const r = g.getBoundingClientRect();
            return !(r.top < window.innerHeight - 120 && r.bottom > 0) || !waiting.has(g.id);
        });
    };
    for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
        window.scrollTo({top: y, behavior: "instant"});         // not Bootstrap's smooth scrolling
        await frames();
        for (let i = 0; i < 40 && !seen(); i++) {
            await new Promise(resolve => setTimeout(resolve, 50));
        }
    }
    window.scrollTo({top: 0, behavior: "instant"});
    await frames();
    done();
})();
"""


def scroll_through(dash_duo) -> None:
    """Scroll down the whole page a window at a time and back to the top: every chart and table comes in sight."""
    dash_duo.driver.execute_async_script(_SCROLL_THROUGH)


def scroll_to(dash_duo, selector: str, timeout: float = WAIT_S) -> None:
    """Wait for an element matching `selector` and scroll it to the middle of the window (found and scrolled in one
    script: the page may redraw the element in between)."""
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script(
        "const el = document.querySelector(arguments[0]);"
        "if (el) { el.scrollIntoView({block: 'center', behavior: 'instant'}); }"
        "return !!el;", selector), f"an element {selector} to scroll to", timeout)


def _describe(expected: object) -> str:
    return "as the test requires" if callable(expected) else repr(expected)


# ------------------------------------------------------------------ a database that goes away and comes back
@contextmanager
def database_away(db: Database) -> Iterator[None]:
    """While inside, `db` cannot be reached as when its server or disk is gone: a SQLite database's folder is
    moved aside, a PostgreSQL database refuses connections (its open ones are ended). Every query then fails in the
    driver, which the app sees as DatabaseUnavailable. Afterwards the database is back as it was."""
    url = make_url(db.url)
    if url.get_backend_name() == "sqlite":
        folder = Path(url.database).parent
        aside = folder.with_name(folder.name + "-away")
        folder.rename(aside)
        db.dispose()                      # pooled connections still hold the moved file open
        try:
            yield
        finally:
            aside.rename(folder)
            db.dispose()
        return
    name = url.database

    def admin(statement: str) -> None:
        import psycopg

        with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(statement)

    admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    db.dispose()
    try:
        yield
    finally:
        admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        db.dispose()
