"""The header's freshness mark in a real browser: "数据截至 HH:MM" on fresh data, the red "数据延迟 · 截至 HH:MM"
when the newest data is older than JINGBAO_STALE_AFTER_MINUTES, and "数据延迟" while the database is away (since the
last good time, or without one on a page opened meanwhile), gone again when it is back."""

from __future__ import annotations

import datetime as dt

import pytest

from base.i18n import t
from base.settings import load_settings
from components import ids
from components.formatting import format_clock
from dashboard.app import create_app
from data_access import ingest, metrics
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.timeutil import local_today, to_local, utcnow
from tests.integration.conftest import (
    console_errors,
    database_away,
    screenshot,
    wait_for,
    wait_for_attribute,
    wait_for_count,
    wait_for_text,
    wait_for_texts,
)
from tests.servers import fresh_database_url

pytestmark = pytest.mark.browser

ZHANGZHOU = "350600"
AS_OF = f"#{ids.AS_OF}"
ALERTS = '[data-kpi="alerts"] .kpi-number'
DEFAULT_STALE_AFTER = load_settings({}).stale_after_minutes


@pytest.fixture(scope="module")
def fresh_db(tmp_path_factory) -> Database:
    """Zhangzhou's last three weeks at a fiftieth of the volume, and a case reported two minutes ago through the
    ingest path (at night the demo's own newest case can be hours old). In a folder of its own, which
    database_away moves aside."""
    db = Database(fresh_database_url(tmp_path_factory.mktemp("fresh"), "fresh.db"), QueryCache.from_url("simple"))
    build_demo(db, scale=0.02, cities=(ZHANGZHOU,), start=local_today() - dt.timedelta(days=20), end=utcnow())
    reported = (utcnow() - dt.timedelta(minutes=2)).replace(microsecond=0)
    result = ingest.store(db, "cases", "header-test", [{"case_id": "H1", "city": ZHANGZHOU, "district": "350602",
                                                        "reported_at": reported.isoformat() + "+00:00"}])
    assert result.stored == 1 and metrics.data_as_of(db, ZHANGZHOU) == reported
    return db


def header_app(db: Database, environ: dict[str, str] | None = None, refresh_ms: int = 3_600_000):
    return create_app(load_settings(environ or {}, database_url=db.url, demo=False), db, refresh_ms=refresh_ms)


def newest_shown(db: Database) -> str:
    """The time of the city's newest data as a person reads it (HH:MM today, with its date before today)."""
    return format_clock(to_local(metrics.data_as_of(db, ZHANGZHOU)).replace(tzinfo=None), local_today())


def mark_colours(dash_duo) -> tuple[str, str]:
    """The colour the freshness mark is drawn in, and the theme's "bad" red."""
    return tuple(dash_duo.driver.execute_script(f"""
        const probe = document.createElement("span");
        probe.style.color = "var(--bad)";
        document.body.appendChild(probe);
        const bad = getComputedStyle(probe).color;
        probe.remove();
        return [getComputedStyle(document.querySelector("{AS_OF}")).color, bad];
    """))


def test_hdr001_fresh_data_shows_its_time_without_the_stale_mark(dash_duo, fresh_db):
    age = utcnow() - metrics.data_as_of(fresh_db, ZHANGZHOU)
    assert age < dt.timedelta(minutes=DEFAULT_STALE_AFTER)
    shown = newest_shown(fresh_db)
    dash_duo.start_server(header_app(fresh_db))
    wait_for_text(dash_duo, AS_OF, f"数据截至 {shown}")
    wait_for_attribute(dash_duo, AS_OF, "class", "as-of")
    shown_colour, bad = mark_colours(dash_duo)
    assert shown_colour != bad

    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/throughput?lang=en")
    wait_for_text(dash_duo, AS_OF, f"Data as of {shown}")
    wait_for_attribute(dash_duo, AS_OF, "class", "as-of")
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script("""
        const number = document.querySelector("[data-kpi] .kpi-number");
        return number && !["", "—"].includes(number.textContent.trim())
               && !document.querySelector('[data-dash-is-loading="true"]');"""), "the page drawn with its figures")
    assert console_errors(dash_duo) == []


def test_hdr002_data_older_than_the_setting_is_marked_stale(dash_duo, old_db):
    """The demo built up to three hours ago, with JINGBAO_STALE_AFTER_MINUTES=60."""
    age = utcnow() - metrics.data_as_of(old_db, ZHANGZHOU)
    assert age > dt.timedelta(minutes=60)
    shown = newest_shown(old_db)
    dash_duo.start_server(header_app(old_db, {"JINGBAO_STALE_AFTER_MINUTES": "60"}))
    wait_for_text(dash_duo, AS_OF, f"数据延迟 · 截至 {shown}")
    wait_for_attribute(dash_duo, AS_OF, "class", "as-of as-of-stale")
    shown_colour, bad = mark_colours(dash_duo)
    assert shown_colour == bad                                           # in the theme's red
    wait_for_text(dash_duo, ALERTS, lambda text: text not in ("", "—"))  # the old figures are shown
    wait_for_count(dash_duo, "#overview-map .choroplethlayer path", 11)
    wait_for_count(dash_duo, "#overview-trend .bars path", lambda n: n > 0)
    screenshot(dash_duo, "header_stale_zh")

    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/?lang=en")
    wait_for_text(dash_duo, AS_OF, f"Data delayed · as of {shown}")
    assert console_errors(dash_duo) == []


def test_hdr003_database_away_is_said_and_the_mark_clears_when_it_is_back(dash_duo, fresh_db):
    shown = newest_shown(fresh_db)
    dash_duo.start_server(header_app(fresh_db, refresh_ms=2_000))       # the header asks every 2 s
    wait_for_text(dash_duo, AS_OF, f"数据截至 {shown}")
    # the cards are redrawn at every refresh: read them as a whole between two redraws
    kpis = wait_for_texts(dash_duo, ".kpi-number", lambda found: len(found) == 9 and found[0] not in ("", "—"))

    with database_away(fresh_db):
        wait_for_text(dash_duo, AS_OF, f"数据延迟 · 自 {shown} 起未更新")
        wait_for_attribute(dash_duo, AS_OF, "class", "as-of as-of-down")
        wait_for_text(dash_duo, ".db-message", t("message.db_unavailable", "zh"))
        wait_for_texts(dash_duo, ".kpi-number", kpis)                   # the last good figures stay
        screenshot(dash_duo, "header_db_down_zh")

        # a page opened while the database is away has no good time to name
        dash_duo.wait_for_page(url=f"{dash_duo.server_url}/?lang=en")
        wait_for_text(dash_duo, AS_OF, "Data delayed · database unreachable")
        wait_for_attribute(dash_duo, AS_OF, "class", "as-of as-of-down")
        wait_for_text(dash_duo, ".db-message", t("message.db_unavailable", "en"))

    wait_for_text(dash_duo, AS_OF, f"Data as of {shown}")
    wait_for_attribute(dash_duo, AS_OF, "class", "as-of")
    wait_for_text(dash_duo, ALERTS, kpis[0])
    assert console_errors(dash_duo) == []
