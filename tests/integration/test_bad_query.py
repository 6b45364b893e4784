"""A link with bad values: the page says what it ignored, shows the defaults, and nothing breaks."""

from __future__ import annotations

import pytest

from components.formatting import format_count
from data_access import metrics
from data_access.filters import parse_filters
from data_access.timeutil import local_today
from tests.integration.conftest import WAIT_S, console_errors, screenshot, wait_for_text_in

pytestmark = pytest.mark.browser


def test_bad_query_values_are_reported_and_defaults_shown(dash_duo, dashboard_app, dashboard_db):
    dash_duo.start_server(dashboard_app)
    dash_duo.driver.get(dash_duo.server_url + "/?city=999999&range=banana&compare=x&start=2020-13-45")
    wait_for_text_in(dash_duo, ".problems-message", "999999", "banana", "x", "2020-13-45")

    defaults = parse_filters({}, metrics.catalogue(dashboard_db), local_today(), "350600").filters
    expected = format_count(metrics.accident_alerts(dashboard_db, defaults))
    dash_duo.wait_for_text_to_equal('[data-kpi="alerts"] .kpi-number', expected, timeout=WAIT_S)
    wait_for_text_in(dash_duo, "#overview-heading", "漳州市")
    screenshot(dash_duo, "bad_query")
    assert console_errors(dash_duo) == []
