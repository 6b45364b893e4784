"""How soon each page shows its figures: the browser's own clock (the Performance API) from the start of the
navigation to the frame that first paints data (a KPI value, a chart's bars or lines, the map's markers), and to the
frame in which every KPI and every chart in the window is drawn (charts below it wait until they come near). One
browser opens every page in turn, as a person would open them from bookmarks: the page loads afresh, the browser
keeps what it cached (plotly.js after the first chart).

The table goes to stdout (`pytest -s`); the target is 1.5 s on a quiet machine, the bound asserted is for a busy CI.
"""

from __future__ import annotations

import gzip
import re

import pytest

from base.settings import PROJECT_ROOT
from dashboard.frontend import COMPILE_HINT, PLOTLY_BUNDLE, PLOTLY_SUITE_PATH
from tests.integration.conftest import console_errors, screenshot, scroll_through, scroll_to, wait_for_value

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_pass]   # the browser side of a page load

# the test demo builds no rescue missions, so /rescue (an empty state there) is not among the pages with data
PAGES = ("/", "/throughput", "/teams", "/payouts", "/fraud", "/mediation", "/stations",
         "/district/350602", "/coverage", "/briefing", "/map", "/wall")
TARGET_MS = 1_500          # the target on a quiet machine
BOUND_MS = 10_000          # what this test asserts: generous for two shared cores under other tests

# Runs in each new document before the page's own scripts: watches the DOM and notes, with the animation frame's
# timestamp (the frame about to be painted), when data first shows and when the whole page is drawn.
PAINT_WATCH = """
(() => {
  const marks = window.__jingbaoPaint = {data: null, complete: null};
  const NUMBERS = "[data-kpi] .kpi-number, [data-kpi] .kpi-value, .wall-kpi-number, .briefing-kpis td.num";
  const DRAWN = ".js-plotly-plot .main-svg .trace, #map-map .leaflet-marker-pane > *, "
              + "#map-map .leaflet-overlay-pane path, .ag-center-cols-container .ag-row";
  const filled = el => /\\d/.test(el.textContent);
  // in the window: a chart whose top is in its last 120 px (FOOT, plot_queue.js) waits for a scroll
  const inSight = el => el.getBoundingClientRect().top < window.innerHeight - 120;
  function hasData() {
    return [...document.querySelectorAll(NUMBERS)].some(filled) || !!document.querySelector(DRAWN);
  }
  function isComplete() {
    if (!document.getElementById("_pages_content") || document.querySelector('[data-dash-is-loading="true"]')) {
      return false;
    }
    // every KPI holds a number or its "no value" dash, and at least one a number; every chart in the window is
    // drawn (those below it are drawn as they come near: assets/plot_queue.js)
    const numbers = [...document.querySelectorAll(NUMBERS)];
    const numbersDone = numbers.every(el => filled(el) || el.textContent.trim() === "—")
      && (numbers.length === 0 || numbers.some(filled));
    const graphs = [...document.querySelectorAll(".dash-graph")].filter(inSight);
    return hasData() && numbersDone && graphs.every(g => g.querySelector(".main-svg"));
  }
  let queued = false;
  function look(stamp) {
    queued = false;
    if (marks.data === null && hasData()) marks.data = stamp;
    if (marks.complete === null && isComplete()) marks.complete = stamp;
  }
  new MutationObserver(() => {
    if (!queued && marks.complete === null) { queued = true; requestAnimationFrame(look); }
  }).observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                        attributeFilter: ["data-dash-is-loading", "class"]});
})();
"""

READ_TIMES = """
const nav = performance.getEntriesByType("navigation")[0];
const fcp = performance.getEntriesByName("first-contentful-paint")[0];
const marks = window.__jingbaoPaint || {};
return {response: nav ? Math.round(nav.responseEnd) : null, dom: nav ? Math.round(nav.domContentLoadedEventEnd) : null,
        fcp: fcp ? Math.round(fcp.startTime) : null,
        data: marks.data == null ? null : Math.round(marks.data),
        complete: marks.complete == null ? null : Math.round(marks.complete),
        undrawn: [...document.querySelectorAll(".dash-graph")]
                 .filter(g => g.getBoundingClientRect().top < window.innerHeight - 120)
                 .filter(g => !g.querySelector(".main-svg"))
                 .map(g => g.id),
        loading: [...document.querySelectorAll('[data-dash-is-loading="true"]')].map(el => el.id || el.className)};
"""


def paint_table(rows: list[tuple[str, dict]]) -> str:
    """The per-page table: HTML received, first contentful paint (the skeleton), data painted, page complete."""
    head = f"{'page':<32}{'html':>8}{'skeleton':>10}{'data':>8}{'complete':>10}   (ms since navigation start)"
    lines = [head] + [f"{path:<32}{t['response']:>8}{t['fcp']:>10}{t['data']:>8}{t['complete']:>10}"
                      for path, t in rows]
    worst = max(t["data"] for _, t in rows)
    lines.append(f"slowest data paint {worst} ms; target {TARGET_MS} ms on a quiet machine")
    return "\n".join(lines)


# every way the figure builders add a trace: go.Bar(...), figure.add_bar(...); not annotations, shapes or lines
_TRACE_CALL = re.compile(r"\bgo\.([A-Z][a-z]+)\(|\.add_([a-z]+)\(")
_NOT_TRACES = {"figure", "annotation", "shape", "vline", "hline", "vrect", "hrect", "trace", "traces", "notes",
               "layout_image"}


def traces_drawn() -> set[str]:
    """The plotly trace types the dashboard's figure builders use, read from their source."""
    found = set()
    for folder in ("components", "pages", "services"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            for match in _TRACE_CALL.finditer(path.read_text(encoding="utf-8")):
                found.add((match.group(1) or match.group(2)).lower())
    return found - _NOT_TRACES


def test_the_partial_plotly_bundle_holds_every_trace_type_the_figures_use():
    registered = set(re.findall(r'moduleType:"trace",name:"([a-z0-9]+)"', PLOTLY_BUNDLE.read_text(encoding="utf-8")))
    assert {"bar", "scatter", "heatmap"} <= traces_drawn()
    assert traces_drawn() <= registered, f"rebuild {PLOTLY_BUNDLE.name} with {traces_drawn() - registered}"


def test_charts_load_the_partial_bundle_gzipped_once(dashboard_app):
    from tests.signin import signed_in_client

    client = signed_in_client(dashboard_app)
    answer = client.get("/" + PLOTLY_SUITE_PATH, headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(answer.data) == COMPILE_HINT + PLOTLY_BUNDLE.read_bytes()
    assert len(answer.data) < 600_000 and "max-age=86400" in answer.headers["Cache-Control"]
    again = client.get("/" + PLOTLY_SUITE_PATH, headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    assert "vendor/" not in client.get("/").get_data(as_text=True)      # never a <script> of every page


def test_the_bundles_a_first_view_runs_are_compiled_as_they_stream_in(dashboard_app):
    """React DOM and the Dash renderer come with the compile hint as their first line, from the address the page
    names (fingerprinted: cached a year); a bundle not chosen (prop-types) comes as Dash serves it."""
    from tests.signin import signed_in_client

    client = signed_in_client(dashboard_app)
    page = client.get("/").get_data(as_text=True)
    script = r'src="(/_dash-component-suites/dash/[^"]*?/(react-dom|dash_renderer|prop-types)[^"]*)"'
    by_name = {name: address for address, name in re.findall(script, page)}
    assert set(by_name) == {"react-dom", "dash_renderer", "prop-types"}, page
    for name in ("react-dom", "dash_renderer"):
        answer = client.get(by_name[name])
        assert answer.status_code == 200 and answer.data.startswith(COMPILE_HINT), name
        assert b"React" in answer.data[:4000] or name == "dash_renderer"
        assert "max-age=31536000" in answer.headers["Cache-Control"]
    plain = client.get(by_name["prop-types"])
    assert plain.status_code == 200 and not plain.data.startswith(COMPILE_HINT)


def test_every_page_paints_its_data_soon_after_navigation(dash_duo, dashboard_app):
    dash_duo.start_server(dashboard_app)
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PAINT_WATCH})
    rows = []
    for path in PAGES:
        driver.get(dash_duo.server_url + path)
        try:
            times = wait_for_value(dash_duo, lambda: driver.execute_script(READ_TIMES),
                                   lambda t: t["complete"] is not None, f"{path}: its figures painted")
        except AssertionError:
            screenshot(dash_duo, "first-paint-" + path.strip("/").split("?")[0].replace("/", "-"))
            raise
        rows.append((path, times))
    print("\n" + paint_table(rows))
    for path, times in rows:
        assert times["fcp"] is not None and times["data"] <= times["complete"], (path, times)
        assert times["data"] < BOUND_MS, (path, times)
    assert console_errors(dash_duo) == []


def page_scripts(client, path: str) -> list[str]:
    return re.findall(r'<script[^>]*src="([^"]+)"', client.get(path).get_data(as_text=True))


def test_pages_load_no_babel_polyfill_and_no_grid_or_map_bundle_up_front(dashboard_app):
    """Every page used to start with @babel/polyfill (99 KB, and slower copies of built-ins plotly.js calls per
    label), dash-ag-grid's 1.3 MB bundle, table or not, and dash-leaflet's, map or not. Now: the one global the
    bundles need, the chart queue, and stand-ins for the grid and the map that name each bundle's address, which the
    server still answers; the pages that draw a map at once say so on <body>, so its bundle is fetched at once."""
    from dashboard.frontend import ON_DEMAND_META
    from tests.signin import signed_in_client

    client = signed_in_client(dashboard_app)
    for path in ("/", "/payouts", "/map"):
        scripts = page_scripts(client, path)
        assert not [s for s in scripts if "polyfill" in s or "dash_ag_grid" in s or "dash_leaflet" in s], scripts
        for asset in ("regenerator_runtime.js", "plot_queue.js", "on_demand.js"):
            assert any(f"/assets/{asset}" in s for s in scripts), (path, asset)
        assert scripts[-1].split("?")[0].endswith(".js") and any("dash_renderer" in s for s in scripts)
    page = client.get("/payouts").get_data(as_text=True)
    entries = re.search(rf'<meta name="{ON_DEMAND_META}" content="([^"]+)"', page).group(1).split(" ")
    libraries = {namespace: (address, names.split(",")) for namespace, address, names in
                 (entry.split("|") for entry in entries)}
    assert libraries["dash_ag_grid"][1] == ["AgGrid"]
    assert {"MapContainer", "GeoJSON", "TileLayer"} <= set(libraries["dash_leaflet"][1])
    for namespace, marker, size in (("dash_ag_grid", b"AgGrid", 1_000_000), ("dash_leaflet", b"MapContainer", 100_000)):
        bundle = client.get(libraries[namespace][0])
        assert bundle.status_code == 200 and len(bundle.data) > size and marker in bundle.data
    assert re.search(r'<body[^>]*data-libraries="dash_leaflet"', client.get("/map").get_data(as_text=True))
    assert not re.search(r"<body[^>]*data-libraries", page)
    assert re.search(r'<body class="filter-bar-off"', client.get("/briefing").get_data(as_text=True))
    assert re.search(r'<body class="filter-bar-off"', client.get("/district/350602").get_data(as_text=True))
    assert "<body>" in page                                             # the payouts page shows its filter bar


def resources_loaded(driver) -> list[str]:
    return driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")


def test_the_grid_bundle_comes_with_the_first_table_and_charts_draw_one_per_task(dash_duo, dashboard_app):
    """A page without a table never fetches dash-ag-grid; the first table fetches it and shows its rows; the queue
    drew every chart of the page (each in a task of its own) and left nothing waiting."""
    dash_duo.start_server(dashboard_app)
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/throughput")
    wait_for_value(dash_duo, lambda: driver.execute_script(
        "const graphs = [...document.querySelectorAll('.dash-graph')];"
        "return graphs.filter(g => g.querySelector('.main-svg .cartesianlayer .trace')).length"),
        lambda n: n >= 1, "/throughput: its first chart drawn with data")
    scroll_through(dash_duo)
    wait_for_value(dash_duo, lambda: driver.execute_script(
        "return [...document.querySelectorAll('.dash-graph')].filter(g => g.querySelector('.main-svg')).length"),
        4, "/throughput: its four charts drawn, once scrolled through")
    assert driver.execute_script("return window.jingbaoChartsWaiting()") == []
    assert driver.execute_script("return window.Plotly.jingbaoQueued === true")
    assert not [r for r in resources_loaded(driver) if "dash_ag_grid" in r]
    driver.get(dash_duo.server_url + "/payouts")
    scroll_to(dash_duo, "#payouts-insurers")
    rows = wait_for_value(dash_duo, lambda: len(driver.find_elements("css selector", "#payouts-insurers .ag-row")),
                          lambda n: n >= 3, "the insurer table's rows")
    assert rows >= 3
    assert [r for r in resources_loaded(driver) if "dash_ag_grid" in r]
    assert not driver.find_elements("css selector", ".on-demand-loading")
    assert console_errors(dash_duo) == []


GRAPHS_STATE = """
return [...document.querySelectorAll('.dash-graph')].map(g => ({
    id: g.id, top: Math.round(g.getBoundingClientRect().top),
    drawn: !!g.querySelector('.main-svg .cartesianlayer .trace')}));
"""


def test_charts_out_of_sight_are_drawn_when_they_come_near_and_before_printing(dash_duo, dashboard_app):
    """The first view draws the charts it shows; one far below the window draws when scrolled near, as a person
    scrolls to it; a page about to print draws every chart still waiting."""
    dash_duo.start_server(dashboard_app)
    driver = dash_duo.driver
    driver.set_window_size(1600, 900)
    height = driver.execute_script("return window.innerHeight")
    for path, far in (("/throughput", "throughput-districts"), ("/briefing", None)):
        driver.get(dash_duo.server_url + path)
        state = wait_for_value(dash_duo, lambda: driver.execute_script(GRAPHS_STATE),
                               lambda graphs: graphs and all(g["drawn"] for g in graphs if g["top"] < height - 120),
                               f"{path}: the charts in the window drawn")
        waiting = [g["id"] for g in state if g["top"] > height + 400]
        assert waiting and not [g for g in state if g["id"] in waiting and g["drawn"]], (path, state)
        if far:
            assert far in waiting
            assert far in driver.execute_script("return window.jingbaoChartsWaiting()")
            driver.execute_script("document.getElementById(arguments[0]).scrollIntoView({behavior: 'instant'})", far)
            wait_for_value(dash_duo, lambda: driver.execute_script(GRAPHS_STATE),
                           lambda graphs, far=far: next(g for g in graphs if g["id"] == far)["drawn"],
                           f"{path}: {far} drawn once scrolled to")
        else:                                          # the print button draws every chart before it prints
            driver.execute_async_script("window.jingbaoDrawAll().then(arguments[arguments.length - 1])")
            drawn = driver.execute_script(GRAPHS_STATE)
            assert all(g["drawn"] for g in drawn), drawn
    assert console_errors(dash_duo) == []


CHART_STATE = """
const gd = document.querySelector('#teams-patrols .js-plotly-plot');
if (!gd || !gd._fullLayout) { return null; }
return {traces: gd.querySelectorAll('.cartesianlayer .trace').length, bars: gd.querySelectorAll('.bars .point').length,
        data: gd.data.filter(t => t.type === 'bar').reduce((n, t) => n + (t.x ? t.x.length : 0), 0),
        ticks: gd.querySelectorAll('.xtick text').length, title: !!gd.querySelector('.gtitle'),
        margin: gd._fullLayout._size.b};
"""

# A drawing cut into one task per step: a chart started, then purged and removed while its steps wait, as dcc.Graph
# does when a person leaves the page mid-drawing; the queue goes on to the next chart.
CUT_AND_LEAVE = """
const done = arguments[arguments.length - 1];
const make = () => { const d = document.createElement('div'); d.style.width = '400px'; d.style.height = '300px';
                     document.body.prepend(d); return d; };
const figure = {data: [{type: 'bar', x: ['a', 'b', 'c'], y: [1, 2, 3]}], layout: {title: {text: 'cut'}}};
window.jingbaoCutAfter(0);
const left = make(), next = make();
const before = window.jingbaoDrawingCuts();
let settled = false;
window.Plotly.newPlot(left, figure).then(() => { settled = true; });
(function leave() {                     // once the drawing has started and waits for its next task
  if (window.jingbaoDrawingCuts() === before) { setTimeout(leave, 0); return; }
  window.Plotly.purge(left); left.remove();
  window.Plotly.newPlot(next, figure).then(() => {
    window.jingbaoCutAfter(null);
    done({cuts: window.jingbaoDrawingCuts() - before, leftSettled: settled,
          nextBars: next.querySelectorAll('.bars .point').length});
  });
})();
"""


def test_a_chart_is_drawn_in_several_tasks_whole_and_a_chart_left_mid_drawing_stops(dash_duo, dashboard_app):
    """plot_queue.js cuts a queued drawing into tasks between plotly's steps: the page's charts still come whole
    (every bar, tick label and title; the auto-margin redraw done), and a chart purged while its steps wait is
    dropped without an error while the next chart draws."""
    dash_duo.start_server(dashboard_app)
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/teams")
    state = wait_for_value(dash_duo, lambda: driver.execute_script(CHART_STATE),
                           lambda s: bool(s) and s["bars"] > 0 and s["bars"] == s["data"] and s["ticks"] > 0,
                           "/teams: the patrol chart drawn with all its bars")
    assert state["title"] and state["traces"] >= 2, state
    assert driver.execute_script("return window.jingbaoDrawingCuts()") > 0      # drawn in more than one task
    result = driver.execute_async_script(CUT_AND_LEAVE)
    assert result["cuts"] > 0 and not result["leftSettled"] and result["nextBars"] == 3, result
    assert console_errors(dash_duo) == []
