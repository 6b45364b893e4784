"""Fixtures shared by every test (a database on each backend the project supports); the rule that under CI
(CI=true) a test that cannot run fails instead of skipping, since a skip there would hide a broken set-up; and the
`sqlite_pass` mark of tests that the PostgreSQL pass of `make test` leaves out."""

from __future__ import annotations

import os

import pytest

from tests.servers import RedisServer, shared_postgres, test_backend

BACKENDS = ("sqlite", "postgresql")
CI_VARIABLE = "CI"


def in_ci() -> bool:
    return os.environ.get(CI_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """Why a test or a module skipped, and where, from its report."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, line, message = longrepr
        return f"{str(message).removeprefix('Skipped: ')} ({path}:{line})"
    return str(longrepr)


def fail_instead_of_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under CI turn a skip into a failure that names the reason (an expected failure, xfail, stays as it is)."""
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, and under {CI_VARIABLE}=true no test may skip: {skip_reason(report)}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    fail_instead_of_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    fail_instead_of_skip(report)
    return report


def runs_once(item: pytest.Item) -> bool:
    """Marked `sqlite_pass`, or a browser test not marked `both_backends`: a browser test checks what the browser
    draws and does, and the figures it draws come from the callbacks and queries the PostgreSQL pass runs anyway;
    the few marked `both_backends` check a page's figures against the metric functions, or a scope, on each backend."""
    return bool(item.get_closest_marker("sqlite_pass")
                or (item.get_closest_marker("browser") and not item.get_closest_marker("both_backends")))


def pytest_collection_modifyitems(config, items):
    """`make test` runs the suite on SQLite, then again with JINGBAO_TEST_BACKEND=postgresql: the second pass
    deselects (rather than skips) the tests that run once (`runs_once`), which would only repeat the first."""
    if test_backend() != "postgresql":
        return
    once = [item for item in items if runs_once(item)]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [item for item in items if not runs_once(item)]


@pytest.fixture(scope="session")
def postgres():
    return shared_postgres()


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres").create_database()
