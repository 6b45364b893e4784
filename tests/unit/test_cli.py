"""The `jingbao` command line: bad flags give one line and exit 2; `kpis` prints the metric functions' values."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from dashboard.cli import main
from data_access import metrics
from data_access.filters import Filters
from data_access.rollups import rebuild_rollups
from tests.unit.handmade import CITY, case, empty_city, local


@pytest.mark.parametrize("argv", [
    ["kpis", "--city", "35060", "--start", "2020-06-01", "--end", "2020-06-30"],
    ["kpis", "--city", "350600", "--start", "June", "--end", "2020-06-30"],
    ["seed", "--scale", "-1"],
    ["nonsense"],
])
def test_bad_flags_print_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error" in err


def test_kpis_json_equals_metric_functions(tmp_path, monkeypatch, capsys):
    db = empty_city(tmp_path)
    with db.transaction() as s:
        s.add_all([case(local(dt.date(2020, 6, d), 9), quick_handled=d % 2 == 0) for d in range(1, 21)])
    rebuild_rollups(db)
    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    assert main(["kpis", "--city", CITY, "--start", "2020-06-01", "--end", "2020-06-30", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    filters = Filters(CITY, dt.date(2020, 6, 1), dt.date(2020, 6, 30))
    assert report["kpis"]["alerts"]["value"] == metrics.accident_alerts(db, filters) == 20
    assert report["kpis"]["quick_rate"]["value"] == pytest.approx(metrics.quick_handling_rate(db, filters))


def test_kpis_rejects_unknown_district_and_reversed_window(tmp_path, monkeypatch, capsys):
    db = empty_city(tmp_path)
    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    assert main(["kpis", "--city", CITY, "--districts", "110101", "--start", "2020-06-01", "--end", "2020-06-30"]) == 2
    assert main(["kpis", "--city", CITY, "--start", "2020-06-30", "--end", "2020-06-01"]) == 2
    assert "before" in capsys.readouterr().err


def test_bad_environment_setting_is_one_line_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("JINGBAO_PORT", "eighty")
    assert main(["kpis", "--city", CITY, "--start", "2020-06-01", "--end", "2020-06-30"]) == 2
    assert "JINGBAO_PORT" in capsys.readouterr().err
