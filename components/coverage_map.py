"""The coverage map of the planning page: district boundaries as the base map (no tiles), demand hexbins coloured by
how much of them is covered, stations with their catchment rings, added candidates and recommended sites.

Pure builders: data frames in, GeoJSON dicts and dash-leaflet layers out. Point and polygon styling is done in the
browser by the functions of assets/coverage.js (`jingbaoCoverage.*`) from each feature's `colour`, `role` and
`opacity` (or a whole `style`), so that a city's 1,300 stations travel as little more than their positions.
"""

from __future__ import annotations

import math

import dash_leaflet as dl
import numpy as np
import pandas as pd
from dash import html
from shapely.geometry import Point, shape
from shapely.ops import unary_union

from base.i18n import t
from components.theme import BRAND

COVERED = BRAND
UNCOVERED = "#d9822b"
STATION = "#1d2733"
OFF = "#9aa5b1"
ADDED = "#2e7d32"
RECOMMENDED = "#6a4c93"
RING = BRAND
MAP_HEIGHT = 620
POINT = {"variable": "jingbaoCoverage.point"}
STYLE = {"variable": "jingbaoCoverage.style"}
RING_LAYER = {"variable": "jingbaoCoverage.ring"}


def _feature(geometry: dict, **properties) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def bounds_of(geojson: dict) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the boundaries, for the map's initial view."""
    shapes = [shape(f["geometry"]) for f in geojson.get("features") or []]
    if not shapes:
        return None
    west, south, east, north = unary_union(shapes).bounds
    return [[south, west], [north, east]]


def boundary_layer(geojson: dict, lang: str) -> dict:
    """The districts with their names as tooltips; they are the base map."""
    name = "name_zh" if lang == "zh" else "name_en"
    style = {"color": "#7d8a99", "weight": 1, "fillColor": "#f4f6f8", "fillOpacity": 1.0}
    return _collection([_feature(f["geometry"], tooltip=f["properties"].get(name, ""), style=style)
                        for f in geojson.get("features") or []])


def number_text(value: float) -> str:
    """A demand or gain: whole numbers without decimals, others with one ("1,204", "3.5")."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def hex_layer(hexes: pd.DataFrame, lang: str) -> dict:
    """One hexagon per demand bin: blue when all its demand is covered, orange by its uncovered share otherwise;
    the more demand, the more opaque."""
    if hexes.empty:
        return _collection([])
    top = float(hexes["weight"].max()) or 1.0
    features = []
    for ring, weight, covered in zip(hexes["ring"], hexes["weight"], hexes["covered"], strict=True):
        share = covered / weight if weight else 0.0
        colour = COVERED if share >= 0.999 else UNCOVERED
        opacity = round(0.25 + 0.6 * math.sqrt(weight / top), 3)
        tooltip = t("coverage.hex.tooltip", lang, weight=number_text(weight), covered=number_text(covered),
                    share=f"{share * 100:.0f}%")
        features.append(_feature({"type": "Polygon", "coordinates": [ring]}, tooltip=tooltip, colour=colour,
                                 opacity=opacity))
    return _collection(features)


def station_layer(stations: pd.DataFrame, lang: str) -> dict:
    """The stations of the chosen kinds as points; a switched-off one is grey. `id` comes back on a click."""
    name = "name_zh" if lang == "zh" else "name_en"
    features = []
    for row in stations.itertuples(index=False):
        kind = t(f"coverage.kind.{row.kind}", lang)
        tooltip = t("coverage.station.tooltip", lang, name=getattr(row, name), kind=kind,
                    radius=f"{row.radius_km:.1f}") + ("" if row.on else t("coverage.station.off", lang))
        features.append(_feature({"type": "Point", "coordinates": [row.lon, row.lat]}, id=int(row.id),
                                 role="station", tooltip=tooltip, colour=STATION if row.on else OFF))
    return _collection(features)


def district_of(lon: float, lat: float, boundaries: dict, lang: str) -> str:
    """The name of the district holding a point, or "" outside every district of the boundaries."""
    name = "name_zh" if lang == "zh" else "name_en"
    point = Point(lon, lat)
    for feature in boundaries.get("features") or []:
        if shape(feature["geometry"]).contains(point):
            return feature["properties"].get(name, "")
    return ""


def site_labels(sites: pd.DataFrame, boundaries: dict, lang: str) -> list[str]:
    """"芗城区 · 新增站点 1" for each recommended site: its district and its step, the number it has on the map."""
    out = []
    for row in sites.itertuples(index=False):
        district = district_of(float(row.lon), float(row.lat), boundaries, lang) or t("coverage.site.outside", lang)
        out.append(f"{district} · {t('coverage.site', lang, n=int(row.step))}")
    return out


def site_layer(sites: pd.DataFrame, role: str, lang: str, boundaries: dict | None = None) -> dict:
    """Added candidates (role "added", a click removes one) or recommended sites (role "recommended", labelled with
    their district and numbered: assets/coverage.js writes the `step` on the map)."""
    colour = ADDED if role == "added" else RECOMMENDED
    labels = site_labels(sites, boundaries or {}, lang) if role == "recommended" else []
    features = []
    for index, row in enumerate(sites.itertuples(index=False)):
        extra = {}
        if role == "recommended":
            label, extra = labels[index], {"step": int(row.step)}
        else:
            label = t(f"coverage.kind.{role}", lang)
        features.append(_feature({"type": "Point", "coordinates": [row.lon, row.lat]}, index=index, role=role,
                                 tooltip=f"{label} · {row.lon:.5f}, {row.lat:.5f}", colour=colour, **extra))
    return _collection(features)


def rings(stations: pd.DataFrame, added: pd.DataFrame) -> dict:
    """Each working station's and each added site's catchment (the straight-line reach within the threshold) as one
    GeoJSON layer of points: assets/coverage.js draws each as a dashed circle of `radius` metres on a canvas. A city's
    1,300 rings are one component and one canvas, not 1,300 components and SVG paths."""
    features = []
    working = stations[stations["on"]] if len(stations) else stations
    for frame, colour in ((working, RING), (added, ADDED)):
        for lon, lat, radius in zip(frame["lon"], frame["lat"], frame["radius_km"], strict=True):
            features.append(_feature({"type": "Point", "coordinates": [float(lon), float(lat)]}, role="ring",
                                     radius=float(radius) * 1000, colour=colour))
    return _collection(features)


def legend(lang: str, minutes: float) -> list:
    """The map's key, as plain HTML beside the map (readable by screen readers, no canvas)."""
    def item(colour: str, text: str, shape_class: str) -> html.Span:
        return html.Span([html.Span(className=f"coverage-swatch {shape_class}", style={"background": colour}), text],
                         className="coverage-legend-item")

    return [item(COVERED, t("coverage.legend.covered", lang), "square"),
            item(UNCOVERED, t("coverage.legend.uncovered", lang), "square"),
            item(STATION, t("coverage.legend.station", lang, minutes=f"{minutes:g}"), "dot"),
            item(OFF, t("coverage.legend.off", lang), "dot"),
            item(ADDED, t("coverage.kind.added", lang), "dot"),
            item(RECOMMENDED, t("coverage.kind.recommended", lang), "dot")]


def coverage_map(ids: dict[str, str], boundaries: dict, lang: str, view: dict | None = None) -> dl.Map:
    """The map skeleton: the base layer is filled at once, the others by the page's callback. `ids` names the map and
    its layers: map, hexes, rings, stations, added, recommended. `view` ({"center", "zoom"}) opens it where the
    user left it; otherwise it fits the boundaries."""
    bounds = bounds_of(boundaries) or [[24.3, 117.5], [24.7, 117.9]]
    # a centre is always given: dash-leaflet compares it on every move; without a zoom the bounds decide the view
    place = view or {"bounds": bounds, "center": [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]}
    return dl.Map(
        [
            dl.GeoJSON(data=boundary_layer(boundaries, lang), style=STYLE, id=ids["map"] + "-base"),
            dl.GeoJSON(data=_collection([]), style=STYLE, id=ids["hexes"]),
            dl.GeoJSON(data=_collection([]), pointToLayer=RING_LAYER, id=ids["rings"], interactive=False),
            dl.GeoJSON(data=_collection([]), pointToLayer=POINT, id=ids["stations"], bubblingMouseEvents=False),
            dl.GeoJSON(data=_collection([]), pointToLayer=POINT, id=ids["added"], bubblingMouseEvents=False),
            dl.GeoJSON(data=_collection([]), pointToLayer=POINT, id=ids["recommended"]),
            dl.ScaleControl(position="bottomleft", imperial=False),
        ],
        id=ids["map"], **place, zoomSnap=0.25, attributionControl=False,
        style={"height": f"{MAP_HEIGHT}px", "width": "100%", "background": "#ffffff"},
        className="coverage-map",
    )


def share_text(value) -> str:
    return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value * 100:.1f}%"

