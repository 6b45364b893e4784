"""The suite cannot pass by skipping: under CI=true a skip (in a test, a fixture, a marker or a whole module) is a
failure naming its reason; the PostgreSQL pass leaves out (deselects) what only the SQLite pass needs to run; and
PostgreSQL's server programs are found wherever Debian or a local build puts them."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from tests.servers import postgres_bin_dir, postgres_bin_dirs

pytest_plugins = ("pytester",)
pytestmark = pytest.mark.sqlite_pass        # nothing here touches a database

SKIPPING = '''
import pytest

@pytest.fixture
def server():
    pytest.skip("no server binary here")

def test_skips_in_its_body():
    pytest.skip("the frobnicator is missing")

@pytest.mark.skipif(True, reason="not on this machine")
def test_skipped_by_a_marker():
    pass

def test_skipped_by_its_fixture(server):
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_expected_to_fail():
    assert False

def test_passes():
    pass
'''
SKIPPED_MODULE = '''
import pytest

pytest.importorskip("a_package_nobody_installed")

def test_never_collected():
    pass
'''


@pytest.fixture
def suite(pytester):
    """A tiny suite with this project's hooks (tests/conftest.py)."""
    pytester.makeconftest("from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport\n")
    pytester.makepyfile(test_skipping=SKIPPING)
    return pytester


def run(pytester, monkeypatch, ci: str | None):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    return pytester.runpytest("-p", "no:cacheprovider", "-rA")


def test_without_ci_skips_stay_skips(suite, monkeypatch):
    result = run(suite, monkeypatch, None)
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    assert result.ret == 0


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
def test_under_ci_every_skip_fails_and_names_its_reason(suite, monkeypatch, ci):
    result = run(suite, monkeypatch, ci)
    # a skip in the body fails the test; a marker's or a fixture's skip fails its set-up (reported as an error)
    result.assert_outcomes(passed=1, failed=1, errors=2, xfailed=1)
    assert result.ret == 1
    output = result.stdout.str()
    for reason in ("the frobnicator is missing", "not on this machine", "no server binary here"):
        assert f"under CI=true no test may skip: {reason}" in output
    assert re.search(r"the frobnicator is missing \(\S*test_skipping\.py:\d+\)", output)   # and where


def test_under_ci_a_skipped_module_fails_the_collection(pytester, monkeypatch):
    pytester.makeconftest("from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport\n")
    pytester.makepyfile(test_module=SKIPPED_MODULE, test_other="def test_passes():\n    pass\n")
    quiet = run(pytester, monkeypatch, None)
    quiet.assert_outcomes(passed=1, skipped=1)
    assert quiet.ret == 0
    result = run(pytester, monkeypatch, "true")
    result.assert_outcomes(errors=1)
    assert result.ret != 0
    assert "could not import 'a_package_nobody_installed'" in result.stdout.str()


def test_the_postgresql_pass_deselects_what_the_sqlite_pass_ran(pytester, monkeypatch):
    pytester.makeconftest("from tests.conftest import pytest_collection_modifyitems\n")
    pytester.makepyfile(test_passes="""
import pytest

@pytest.mark.sqlite_pass
def test_once():
    pass

@pytest.mark.browser
def test_in_the_browser_once():
    pass

@pytest.mark.browser
@pytest.mark.both_backends
def test_in_the_browser_on_each_backend():
    pass

def test_on_each_backend():
    pass
""")
    monkeypatch.delenv("JINGBAO_TEST_BACKEND", raising=False)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)
    monkeypatch.setenv("JINGBAO_TEST_BACKEND", "postgresql")
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2, deselected=2)
    result.stdout.fnmatch_lines(["*test_in_the_browser_on_each_backend PASSED*", "*test_on_each_backend PASSED*"])


def program(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_postgres_programs_are_found_in_the_newest_debian_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    debian = tmp_path / "lib" / "postgresql"
    for version in ("9.6", "15", "16"):
        program(debian / version / "bin", "initdb")
        program(debian / version / "bin", "pg_ctl")
    program(debian / "17" / "bin", "pg_ctl")                  # a client-only install: no initdb, not chosen
    local = tmp_path / "local-bin"
    assert postgres_bin_dirs(local, debian) == [local] + [debian / v / "bin" for v in ("17", "16", "15", "9.6")]
    assert postgres_bin_dir(local, debian) == debian / "16" / "bin"
    program(local, "initdb"), program(local, "pg_ctl")
    assert postgres_bin_dir(local, debian) == local           # /usr/local/bin comes before the Debian folders


def test_postgres_programs_on_path_come_first(tmp_path, monkeypatch):
    on_path = tmp_path / "path-bin"
    program(on_path, "initdb"), program(on_path, "pg_ctl")
    monkeypatch.setenv("PATH", str(on_path))
    local = tmp_path / "local-bin"
    program(local, "initdb"), program(local, "pg_ctl")
    assert postgres_bin_dir(local, tmp_path / "none") == on_path
    assert postgres_bin_dir(tmp_path / "none", tmp_path / "none") == on_path
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert postgres_bin_dir(tmp_path / "none", tmp_path / "none") is None
