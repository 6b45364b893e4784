"""Browser tests: the dashboard on a small demo database, driven by headless Chromium through dash_duo."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from dash.testing.application_runners import BaseDashRunner
from selenium.webdriver.chrome.options import Options

from base.settings import load_settings
from dashboard.app import create_app
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.timeutil import local_today, utcnow
from tests.servers import free_port, fresh_database_url

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
CHROMIUM = os.environ.get("JINGBAO_TEST_BROWSER", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def _own_port():
    """Each test serves on a port free right now: dash_duo counts up from 58050 in every process, so two suites
    running side by side (or a server left over) would otherwise meet on the same port."""
    BaseDashRunner._next_port = free_port()


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
