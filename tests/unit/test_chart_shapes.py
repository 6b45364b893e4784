"""Every analytics chart reads right at any window: built on a small demo database at 1 day, 7 days, 30 days, 12
months and the whole history, no chart draws more than 120 bars (points per trace), no axis repeats a tick label,
and count axes tick at whole numbers only. The figures are read as the browser receives them (figure dicts)."""

from __future__ import annotations

import datetime as dt
import json
import math

import dash
import numpy as np
import plotly.io
import pytest

from base.settings import load_settings
from dashboard.app import create_app
from data_access import metrics
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.filters import Filters, resolve_range
from data_access.timeutil import local_today
from tests.servers import fresh_database_url

pytestmark = pytest.mark.sqlite_pass

CITY = "350600"
MAX_POINTS = 120
WINDOWS = ("yesterday", "7d", "30d", "12m", "all")
ANALYTICS_PAGES = ("throughput", "payouts", "teams", "fraud", "mediation", "stations")
DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Database:
    """Zhangzhou's whole demo history (from a year before the programme began, ~2,900 days) at a hundredth of the
    volume, with the app's pages registered."""
    db = Database(fresh_database_url(tmp_path_factory.mktemp("shapes"), "demo.db"), QueryCache.from_url("null"))
    build_demo(db, scale=0.01, cities=(CITY,))
    create_app(load_settings({}, database_url=db.url, demo=False), db)
    return db


def window(db: Database, range_key: str) -> Filters:
    first_day = metrics.catalogue(db).city(CITY).first_day
    start, end = resolve_range(range_key, local_today(), first_day)
    return Filters(CITY, start, end, range_key=range_key)


def analytics_figures(db: Database, filters: Filters) -> list[tuple[str, dict]]:
    """(name, figure dict) of every chart of every analytics page and of the overview's trend."""
    from pages import _kit
    from pages.overview import overview_figures

    out = [("overview/trend", overview_figures(db, filters, "zh", "漳州市", "window")[0])]
    for name in ANALYTICS_PAGES:
        page = _kit.PAGES[name]
        params, _ = _kit.choice_values(page, "")
        figures = _kit.page_figures(db, name, filters, "zh", "漳州市 · window", params)
        out += [(f"{name}/{chart.key}", figure) for chart, figure in zip(page.charts, figures, strict=True)
                if not chart.is_table]
    return out


# ---------------------------------------------------------------------------------------- reading figure dicts
def axis_names(trace: dict) -> tuple[str, str]:
    x, y = trace.get("xaxis", "x"), trace.get("yaxis", "y")
    return "xaxis" + x[1:], "yaxis" + y[1:]


def values(seq) -> list:
    if seq is None:
        return []
    if isinstance(seq, dict):             # plotly's typed-array encoding ({"dtype": ..., "bdata": ...})
        import base64

        return list(np.frombuffer(base64.b64decode(seq["bdata"]), dtype=np.dtype(seq["dtype"])))
    return list(np.ravel(np.asarray(seq, dtype=object)))


def numbers(seq) -> list[float]:
    out = []
    for v in values(seq):
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if not math.isnan(f):
            out.append(f)
    return out


def value_axis_of(trace: dict) -> tuple[str, str]:
    """(axis name, the trace's key holding the values drawn against it)."""
    x_axis, y_axis = axis_names(trace)
    return (x_axis, "x") if trace.get("orientation") == "h" else (y_axis, "y")


def category_axis_of(trace: dict) -> tuple[str, str]:
    x_axis, y_axis = axis_names(trace)
    return (y_axis, "y") if trace.get("orientation") == "h" else (x_axis, "x")


def is_date_axis(axis: dict, samples: list) -> bool:
    if axis.get("type") == "date":
        return True
    return bool(samples) and all(isinstance(v, (dt.date, np.datetime64)) or (
        isinstance(v, str) and len(v) >= 10 and v[4] == "-" and v[7] == "-") for v in samples)


def date_format_step_ms(fmt: str) -> float:
    """The shortest step between two different labels of a d3 time format."""
    if "%H" in fmt:
        return 3_600_000
    if "%d" in fmt or "%e" in fmt or "%a" in fmt:
        return DAY_MS
    if "%m" in fmt or "%b" in fmt:
        return 28 * DAY_MS
    return 365 * DAY_MS


def dtick_ms(dtick) -> float | None:
    if dtick is None:
        return None
    if isinstance(dtick, str) and dtick.startswith("M"):
        return int(dtick[1:]) * 28 * DAY_MS
    return float(dtick)


def shape_problems(name: str, figure: dict) -> list[str]:
    """What reads wrong in one figure dict: too many points, repeated tick labels, fractional count ticks."""
    layout = figure.get("layout", {})
    problems = []
    by_value_axis: dict[str, list[dict]] = {}
    by_category_axis: dict[str, list[dict]] = {}
    for trace in figure.get("data", []):
        if trace.get("type") in ("choropleth", "choroplethmapbox", "choroplethmap", "pie"):
            continue
        for key in ("x", "y"):
            n = len(values(trace.get(key)))
            if trace.get("type") == "heatmap" and key == "y":
                continue
            if n > MAX_POINTS:
                problems.append(f"{name}: trace {trace.get('name')!r} draws {n} points (> {MAX_POINTS})")
        if trace.get("type") == "heatmap":
            continue
        by_value_axis.setdefault(value_axis_of(trace)[0], []).append(trace)
        by_category_axis.setdefault(category_axis_of(trace)[0], []).append(trace)

    # one tick label per period or category
    for axis_name, traces in by_category_axis.items():
        axis = layout.get(axis_name, {})
        key = category_axis_of(traces[0])[1]
        samples = [v for trace in traces for v in values(trace.get(key))]
        ticktext = axis.get("ticktext")
        if ticktext is not None:
            labels = [str(v) for v in values(ticktext)]
            if len(labels) != len(set(labels)):
                problems.append(f"{name}: {axis_name} repeats tick labels {labels}")
            continue
        if is_date_axis(axis, samples):
            fmt, step = axis.get("tickformat"), dtick_ms(axis.get("dtick"))
            if not fmt or step is None or step < date_format_step_ms(fmt):
                problems.append(f"{name}: {axis_name} leaves date ticks to plotly with format {fmt!r} and dtick "
                                f"{axis.get('dtick')!r}: labels may repeat")
            continue
        for trace in traces:
            shown = [str(v) for v in values(trace.get(key))]
            if len(shown) != len(set(shown)):
                problems.append(f"{name}: {axis_name} repeats categories {shown}")

    # a right-hand axis ticks at round values of its own: given no ticks, plotly.js would sync it to the left one
    for axis_name, axis in layout.items():
        if isinstance(axis, dict) and axis.get("overlaying") and not (
                axis.get("tickmode") == "auto" or axis.get("dtick") is not None or axis.get("tickvals") is not None):
            problems.append(f"{name}: {axis_name} overlays another axis without ticks of its own (plotly syncs it)")
    # whole-number ticks on axes that count
    for axis_name, traces in by_value_axis.items():
        axis = layout.get(axis_name, {})
        if axis.get("type") == "log" or axis.get("ticksuffix") == "%" or axis.get("tickvals") is not None:
            continue
        drawn = [v for trace in traces for v in numbers(trace.get(value_axis_of(trace)[1]))]
        if not drawn or any(v != int(v) for v in drawn):
            continue                       # not a count (minutes, km, shares)
        fmt, dtick = axis.get("tickformat") or "", axis.get("dtick")
        if not fmt.endswith("d"):
            problems.append(f"{name}: count axis {axis_name} has tickformat {fmt!r}, not whole numbers")
        elif max(drawn) < 30 and not (dtick is not None and float(dtick) >= 1 and float(dtick) == int(dtick)):
            problems.append(f"{name}: count axis {axis_name} up to {max(drawn):g} without an integer dtick "
                            f"({dtick!r}): plotly would tick at 0.5 or 2.5 steps")
    return problems


@pytest.mark.parametrize("range_key", WINDOWS)
def test_every_analytics_chart_reads_right_at_any_window(demo, range_key):
    filters = window(demo, range_key)
    figures = analytics_figures(demo, filters)
    assert len(figures) >= 17
    problems = [problem for name, figure in figures for problem in shape_problems(name, figure)]
    assert not problems, "\n".join(problems)


def test_the_whole_history_is_drawn_by_week_or_month(demo):
    filters = window(demo, "all")
    assert filters.days > 2000
    trend = dict(analytics_figures(demo, filters))["overview/trend"]
    bars = [trace for trace in trend["data"] if trace["type"] == "bar"]
    assert bars and all(len(values(trace["x"])) <= MAX_POINTS for trace in bars)
    total = sum(numbers(bars[0]["y"]))
    assert total == int(metrics.daily_trend(demo, filters)["alerts"].sum())     # every alert still counted once


MONTHLY = ("throughput/latency", "teams/patrols", "teams/share", "fraud/months", "mediation/rates", "stations/ebike")


def note(figure: dict) -> str:
    """The muted line under a chart (`charts.add_notes`): the x axis's title."""
    return figure["layout"].get("xaxis", {}).get("title", {}).get("text", "")


def test_monthly_charts_on_a_short_window_show_the_last_12_months_as_context(demo):
    filters = window(demo, "30d")
    figures = dict(analytics_figures(demo, filters))
    for name in MONTHLY:
        figure = figures[name]
        first = figure["data"][0]
        assert len(values(first["x"])) == 12, name            # twelve months, not one slab
        opacity = values(first["marker"]["opacity"])
        assert opacity[-1] == 1.0 or "/" in values(first["marker"].get("pattern", {}).get("shape", [])), name
        assert sum(v < 1 for v in opacity) >= 10, name         # the months before the window are lighter
        assert "参考" in note(figure), name
    quarters = figures["stations/services"]["data"][0]
    assert len(values(quarters["x"])) == 4 and "参考" in note(figures["stations/services"])


def test_periods_cut_by_the_window_are_hatched(demo):
    filters = window(demo, "12m")                               # starts and ends inside a week and a month
    figures = dict(analytics_figures(demo, filters))
    for name in ("overview/trend", "throughput/counts", "teams/patrols"):
        bars = next(trace for trace in figures[name]["data"] if trace["type"] == "bar")
        shapes = values(bars["marker"]["pattern"]["shape"])
        assert shapes[0] == "/" and shapes[-1] == "/" and set(shapes[1:-1]) == {""}, name
        assert "不完整周期" in note(figures[name]), name


def test_duty_names_do_not_pile_up_on_the_whole_history(demo):
    trend = dict(analytics_figures(demo, window(demo, "all")))["overview/trend"]
    assert len(trend["layout"]["shapes"]) > 20                   # every duty period still shaded
    named = [a for a in trend["layout"].get("annotations", []) if a.get("xref") == "x"]
    assert not named and "春运" in note(trend)                    # named once in the note instead


def test_hazards_get_their_own_axis_beside_violations(demo):
    figure = dict(analytics_figures(demo, window(demo, "12m")))["stations/districts"]
    by_name = {trace["name"]: trace for trace in figure["data"]}
    assert by_name["排查隐患"]["yaxis"] == "y2" and by_name["劝导纠正违法"].get("yaxis", "y") == "y"
    assert max(numbers(by_name["排查隐患"]["y"])) < max(numbers(by_name["劝导纠正违法"]["y"])) / 5


def figures_in(node) -> list[dict]:
    """Every figure (a dict with data and layout) in a callback's answer."""
    if isinstance(node, dict):
        if "data" in node and "layout" in node:
            return [node]
        return [figure for value in node.values() for figure in figures_in(value)]
    if isinstance(node, list):
        return [figure for value in node for figure in figures_in(value)]
    return []


def shorthand_keys(node: dict, validated, path: str = "") -> list[str]:
    """Keys of `node` its validated figure object does not hold as such: plotly's underscore shorthand
    (`line_width`), which only a validating figure expands and plotly.js reads as an unknown attribute."""
    from plotly.basedatatypes import BasePlotlyType

    found = []
    for key, value in node.items():
        if key not in validated._valid_props:
            found.append(f"{path}.{key}")
            continue
        child = validated[key]
        if isinstance(value, dict) and isinstance(child, BasePlotlyType):
            found += shorthand_keys(value, child, f"{path}.{key}")
        elif isinstance(value, list) and isinstance(child, tuple):
            for index, (item, part) in enumerate(zip(value, child, strict=False)):
                if isinstance(item, dict) and isinstance(part, BasePlotlyType):
                    found += shorthand_keys(item, part, f"{path}.{key}[{index}]")
    return found


def test_every_figure_of_every_page_is_valid_plotly(demo):
    """Figures are built without plotly's validation as they are set (`theme.new_figure`): every figure that every
    page draws from its URL, over a year, is validated here instead, and holds no underscore shorthand."""
    import plotly.graph_objects as go

    from tests.page_callbacks import call, url_callbacks
    from tests.signin import signed_in_client

    app = create_app(load_settings({}, database_url=demo.url, demo=False), demo)
    leader = signed_in_client(app)
    paths = {page["name"]: page["path"] for page in dash.page_registry.values()}
    paths.update(overview="/", district="/district/350602")
    checked = set()
    for key, callback in url_callbacks(app).items():
        if ".figure" not in key:
            continue
        path = paths[key.lstrip(".").split("-", 1)[0]]          # the page whose ids the outputs carry
        answer = call(leader, key, callback, path, f"?city={CITY}&range=12m")
        assert answer.status_code == 200, (path, key)
        for figure in figures_in(answer.get_json()):
            validated = go.Figure(figure)                           # raises on any attribute plotly does not know
            assert not shorthand_keys(figure["layout"], validated.layout, "layout"), (path, key)
            for index, (trace, drawn) in enumerate(zip(figure["data"], validated.data, strict=True)):
                assert not shorthand_keys(trace, drawn, f"data[{index}]"), (path, key)
            checked.add(path)
    assert {"/", "/throughput", "/payouts", "/briefing", "/rescue", "/stations", "/district/350602"} <= checked

    # the wall's figures come with its view's own inputs, not the URL's
    from data_access.timeutil import utcnow
    from pages import wall

    today, _ = wall.view_filters(CITY)
    figures = [*wall.wall_figures(demo, window(demo, "12m"), "zh"), wall.wall_map(demo, today, utcnow(), "zh")]
    for figure in figures:
        figure = json.loads(plotly.io.to_json(figure))
        validated = go.Figure(figure)
        assert not shorthand_keys(figure["layout"], validated.layout, "layout")
        for index, (trace, drawn) in enumerate(zip(figure["data"], validated.data, strict=True)):
            assert not shorthand_keys(trace, drawn, f"data[{index}]")
