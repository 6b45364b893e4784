"""Every page against axe-core (WCAG 2 A and AA rules) in a real browser: no serious or critical violation, and
none at all of the rules outside WCAG that Lighthouse's accessibility score weighs (HEADINGS).

axe-core 4.10.3 (MPL-2.0) is shipped in tests/vendor and injected with Selenium; it is never served to users.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import wait_for
from tests.integration.test_overview import graphs_fit

pytestmark = pytest.mark.browser

AXE = (Path(__file__).resolve().parent.parent / "vendor" / "axe-core-4.10.3.min.js").read_text(encoding="utf-8")
PAGES = ("/", "/throughput", "/teams", "/payouts", "/fraud", "/mediation", "/rescue?city=500000&range=all", "/stations",
         "/district/350602", "/coverage", "/briefing", "/wall", "/map", "/nope")


# Lighthouse weighs these best-practice rules in its score (the live map's legend once skipped from h1 to h3)
HEADINGS = ["heading-order", "empty-heading"]


def axe_violations(driver, rules: list[str] | None = None) -> list[dict]:
    """axe's violations of the WCAG 2 A/AA rules, or of the named `rules`."""
    driver.execute_script(AXE)
    only = {"type": "rule", "values": rules} if rules else {"type": "tag",
                                                           "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
    result = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: arguments[0]})
           .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                   nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))))
           .catch(e => done([{id: "axe-error", impact: "critical", help: String(e), nodes: []}]));
    """, only)
    return result


@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violation(dash_duo, dashboard_app, path):
    dash_duo.start_server(dashboard_app)
    dash_duo.driver.set_script_timeout(60)
    dash_duo.wait_for_page(url=dash_duo.server_url + path)
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script("""
        const number = document.querySelector(
            "[data-kpi] .kpi-number, [data-kpi] .kpi-value, .wall-kpi-number, .briefing-kpis td.num, "
            + "#map-map .leaflet-marker-pane > *, #map-map .leaflet-overlay-pane path");
        const drawn = document.querySelector(".not-found") || (number && number.textContent.trim() !== "—");
        return drawn && !document.querySelector('[data-dash-is-loading="true"]');
    """), f"{path} drawn with its figures")
    # colours are measured: wait until no loading overlay dims the page (dcc.Loading's overlay_style opacity)
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script("""
        return ![...document.querySelectorAll("div[style*='opacity']")].some(el =>
            !el.closest(".leaflet-container, .js-plotly-plot") && parseFloat(el.style.opacity) < 1);
    """), f"{path} without a dimming loading overlay")
    wait_for(dash_duo, lambda: graphs_fit(dash_duo), f"{path}: the graphs to fill their panels")
    serious = [v for v in axe_violations(dash_duo.driver) if v["impact"] in ("serious", "critical")]
    assert serious == []
    assert axe_violations(dash_duo.driver, HEADINGS) == []
    assert dash_duo.driver.execute_script("return document.documentElement.lang") in ("zh-CN", "en")


@pytest.mark.parametrize("path", ["/login", "/login?lang=en"])
def test_the_login_page_has_no_serious_accessibility_violation(dash_duo, dashboard_app, path):
    dash_duo.start_server(dashboard_app, navigate=False, account=None)
    dash_duo.driver.set_script_timeout(60)
    dash_duo.driver.get(dash_duo.server.url + path)
    wait_for(dash_duo, lambda: dash_duo.driver.find_elements("css selector", "#signin-submit"), "the login form")
    serious = [v for v in axe_violations(dash_duo.driver) if v["impact"] in ("serious", "critical")]
    assert serious == []
    expected = "en" if path.endswith("en") else "zh-CN"
    assert dash_duo.driver.execute_script("return document.documentElement.lang") == expected
