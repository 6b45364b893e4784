"""A link with bad values: the page says what it ignored, shows the defaults, and nothing breaks."""

from __future__ import annotations

import pytest

from components.formatting import format_count
from data_access import metrics
from data_access.filters import parse_filters
from data_access.timeutil import local_today
from tests.integration.conftest import console_errors, screenshot

pytestmark = pytest.mark.browser


def test_bad_query_values_are_reported_and_defaults_shown(dash_duo, dashboard_app, dashboard_db):
    dash_duo.start_server(dashboard_app)
    dash_duo.driver.get(dash_duo.server_url + "/?city=999999&range=banana&compare=x&start=2020-13-45")
    dash_duo.wait_for_element(".problems-message", timeout=20)
    message = dash_duo.find_element(".problems-message").text
    for shown in ("999999", "banana", "x", "2020-13-45"):
        assert shown in message

    defaults = parse_filters({}, metrics.catalogue(dashboard_db), local_today(), "350600").filters
    expected = format_count(metrics.accident_alerts(dashboard_db, defaults))
    dash_duo.wait_for_text_to_equal('[data-kpi="alerts"] .kpi-number', expected, timeout=20)
    assert "漳州市" in dash_duo.find_element("#overview-heading").text
    screenshot(dash_duo, "bad_query")
    assert console_errors(dash_duo) == []
