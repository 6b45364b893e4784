"""The metric registry: one entry per metric, read by every view, with the values of its one function."""

from __future__ import annotations

import datetime as dt
import pathlib
import re

import pytest

from base.i18n import CATALOGUE
from components.formatting import format_duration, metric_value_text
from components.kpi import kpi_card
from data_access import metrics, registry
from data_access.briefing import SLAS
from data_access.filters import Filters
from tests.signin import signed_in_client
from tests.unit.test_metrics import CITY, JUNE_1, db  # noqa: F401 — the hand-built city with known answers

VIEWS = {"overview": registry.OVERVIEW, "throughput": registry.THROUGHPUT, "teams": registry.TEAMS,
         "payouts": registry.PAYOUTS, "mediation": registry.MEDIATION, "rescue": registry.RESCUE,
         "stations": registry.STATIONS, "fraud": registry.FRAUD, "wall": registry.WALL,
         "briefing_slas": tuple(key for key, _, _ in SLAS)}
ROOT = pathlib.Path(__file__).resolve().parents[2]


def june(**kw) -> Filters:
    return Filters(city=CITY, start=JUNE_1, end=dt.date(2020, 6, 30), **kw)


def test_reg001_every_entry_is_complete_in_both_languages():
    for metric in registry.METRICS.values():
        assert metric.unit in registry.UNITS, metric.key
        for text in (metric.label_zh, metric.label_en, metric.definition_zh, metric.definition_en):
            assert text.strip(), metric.key
        assert metric.definition_zh.endswith("。") and metric.definition_en.endswith("."), metric.key
        if metric.unit == "count":
            assert f"unit.{metric.counts}" in CATALOGUE, metric.key
        if isinstance(metric.base, str):
            assert metric.base in registry.METRICS, metric.key


def test_reg002_every_metric_is_shown_somewhere_and_every_view_names_only_metrics():
    shown = {key for keys in VIEWS.values() for key in keys}
    assert shown <= set(registry.METRICS)
    assert set(registry.METRICS) - shown == set(), "a metric no view shows cannot be proven on screen"


def test_reg003_no_second_definition_of_a_label_unit_or_direction():
    """Names live in the registry only: the catalogue holds no `kpi.<metric>` text, and no module but the registry
    keeps a table of units or directions per metric."""
    assert not [key for key in CATALOGUE if key.startswith("kpi.") and key[4:] in registry.METRICS]
    pattern = re.compile(r"HIGHER_IS_BETTER|KPI_UNITS|COUNT_UNITS\s*=\s*\{")
    offenders = [str(path.relative_to(ROOT)) for folder in ("base", "components", "data_access", "pages",
                                                            "services", "dashboard")
                 for path in (ROOT / folder).rglob("*.py") if pattern.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_reg004_values_are_the_metric_functions_and_bases_follow_the_declaration(db):  # noqa: F811
    window = june()
    measured = registry.measures(db, window, tuple(registry.METRICS))
    assert measured["alerts"] == (5, 5)
    assert measured["quick_rate"] == (pytest.approx(2 / 5), 5)            # base: the alerts
    assert measured["online_share"][1] == metrics.handled_cases(db, window) == 6
    assert measured["payout_p50"][0] == metrics.payout_latency_percentiles(db, window).p50
    assert measured["payout_p50"][1] == 4                                   # the paid cases the percentile rests on
    assert measured["mediation_success_rate"] == (pytest.approx(3 / 4), 4)  # base: the closed mediations
    assert measured["rescues"] == (2, 2)


def test_reg005_standing_figures_are_not_compared(db):  # noqa: F811
    kpis = registry.kpis(db, june(comparison="yoy"), ("alerts", "claim_points", "insurers"))
    assert kpis.get("alerts").previous == 2
    assert kpis.get("claim_points").previous is None and kpis.get("claim_points").change is None
    card = kpi_card(kpis.get("claim_points"), "zh", "yoy")
    assert "当前数" in str(card)


def test_reg006_minutes_past_two_hours_read_as_hours_and_minutes():
    assert format_duration(95.0, "zh") == ("95.0", "分钟")
    assert format_duration(150.4, "zh") == ("2 小时 30 分", "")
    assert format_duration(150.4, "en") == ("2 h 30 min", "")
    assert metric_value_text("payout_p90", 61 * 60 + 5, "en") == ("61 h 05 min", "")
    assert metric_value_text("alerts", 24543, "zh") == ("24,543", "起")
    assert metric_value_text("rescues", 6, "en") == ("6", "missions")
    assert metric_value_text("quick_rate", 0.3634, "zh") == ("36.3%", "")


def test_reg007_cards_carry_the_registry_name_and_definition():
    kpi = registry.Kpi("quick_rate", 0.36, None, "ratio", None, False)
    card = str(kpi_card(kpi, "en", None))
    assert "Quick-handling rate" in card and registry.metric("quick_rate").definition_en in card


def test_reg008_api_and_cli_list_the_registry(tmp_path, capsys):
    import json

    from base.settings import load_settings
    from dashboard.app import create_app
    from dashboard.cli import main
    from tests.unit import handmade

    city = handmade.empty_city(tmp_path)
    client = signed_in_client(create_app(load_settings({}, database_url=city.url, demo=False), city))
    listed = client.get("/api/v1/metrics?lang=en").get_json()["metrics"]
    assert [m["key"] for m in listed] == list(registry.METRICS)
    quick_rate = next(m for m in listed if m["key"] == "quick_rate")
    assert quick_rate == {"key": "quick_rate", "label": "Quick-handling rate",
                          "definition": "Quick-handled cases ÷ accident alerts.", "unit": "ratio",
                          "number_format": ".1%", "higher_is_better": True, "compared": True}
    bad = client.get("/api/v1/metrics?lang=<script>")
    assert bad.status_code == 400 and b"<script>" not in bad.data
    assert main(["metrics", "--format", "json", "--lang", "zh"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [m["label"] for m in printed] == [m.label_zh for m in registry.METRICS.values()]
