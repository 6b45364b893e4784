"""The district choropleth: accident alerts per district drawn on the shipped boundaries, no tiles needed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from shapely.geometry import shape

from base.i18n import t
from components import theme

MAP_HEIGHT = 400


def district_map_figure(summary: pd.DataFrame, geojson: dict, lang: str, window: str,
                        selected: tuple[str, ...] = ()) -> go.Figure:
    """`summary` as `district_summary` returns it; `selected` districts are outlined; a click yields the adcode."""
    title = t("map.title", lang)
    features = geojson.get("features") or []
    if not features:
        return theme.message_figure(title, window, t("map.no_boundaries", lang), MAP_HEIGHT)
    name_column = "name_zh" if lang == "zh" else "name_en"
    known = {f["properties"]["adcode"] for f in features}
    frame = summary[summary["district_adcode"].isin(known)].reset_index(drop=True)
    rate_text = [("—" if pd.isna(r) else f"{r * 100:.1f}%") for r in frame["quick_rate"]]
    customdata = list(zip(frame["district_adcode"], frame[name_column], rate_text, frame["alerts"], strict=True))
    is_selected = frame["district_adcode"].isin(selected)
    hover = (f"<b>%{{customdata[1]}}</b><br>{t('map.hover_alerts', lang)} %{{customdata[3]:,}} {t('unit.cases', lang)}"
             f"<br>{t('map.hover_rate', lang)} %{{customdata[2]}}<extra></extra>")
    figure = theme.new_figure(go.Choropleth(
        geojson=_packed(geojson), featureidkey="properties.adcode", locations=frame["district_adcode"],
        z=frame["alerts"], zmin=0, colorscale=theme.MAP_SCALE, customdata=customdata, hovertemplate=hover,
        marker=dict(line=dict(color=[theme.SELECTED_LINE if s else "#ffffff" for s in is_selected],
                              width=[3 if s else 1 for s in is_selected])),
        colorbar=dict(title=dict(text=t("map.colorbar", lang), side="top", font=dict(size=12)), thickness=12,
                      len=0.7, x=1.0, xpad=4, tickformat=",d", outlinewidth=0),
    ))
    centres = {f["properties"]["adcode"]: f["properties"] for f in features}
    drawn = set(frame["district_adcode"])      # a district account's map shows its districts only
    labelled = _roomy([f for f in features if f["properties"]["adcode"] in drawn])
    label_at = [i for i, code in enumerate(frame["district_adcode"]) if code in labelled]
    label_rows = [centres[frame["district_adcode"][i]] for i in label_at]
    figure.add_trace(go.Scattergeo(
        lon=[p["center_lon"] for p in label_rows], lat=[p["center_lat"] for p in label_rows],
        text=[p[name_column] for p in label_rows], customdata=[customdata[i] for i in label_at], mode="text",
        textfont=dict(size=11, color=_label_colours(frame["alerts"], label_at), family=theme.FONT_FAMILY,
                      shadow="auto"),
        hovertemplate=hover, showlegend=False,
    ))
    layout = theme.base_layout(title, window, MAP_HEIGHT)
    layout["margin"] = dict(l=8, r=8, t=72, b=8)
    figure.update_layout(**layout, dragmode=False, clickmode="event")
    figure.update_geos(visible=False, fitbounds="locations", projection_type="mercator", bgcolor="#ffffff")
    return figure


def _packed(geojson: dict) -> dict:
    """The boundaries with each ring as a numpy array: plotly hands arrays to orjson whole instead of walking
    every coordinate pair in Python, which makes a callback response several times faster to encode."""

    def pack(geometry: dict) -> dict:
        if geometry["type"] == "Polygon":
            return {"type": "Polygon",
                    "coordinates": [np.asarray(ring, dtype=float) for ring in geometry["coordinates"]]}
        if geometry["type"] == "MultiPolygon":
            return {"type": "MultiPolygon", "coordinates": [[np.asarray(ring, dtype=float) for ring in polygon]
                                                            for polygon in geometry["coordinates"]]}
        return geometry

    return {**geojson, "features": [{**f, "geometry": pack(f["geometry"])} for f in geojson.get("features", [])]}


def _label_colours(alerts: pd.Series, rows: list[int], dark_from: float = 0.6) -> list[str]:
    """White names on the dark end of the colour scale, ink on the light end, so every name stays legible."""
    top = float(alerts.max()) if len(alerts) else 0.0
    return ["#ffffff" if top > 0 and float(alerts.iloc[i]) / top >= dark_from else theme.INK for i in rows]


def _roomy(features: list[dict], min_share: float = 0.015) -> set[str]:
    """Districts large enough on the map (the districts drawn) to carry their name without running into a
    neighbour's."""
    areas = {f["properties"]["adcode"]: shape(f["geometry"]).area for f in features}
    total = sum(areas.values()) or 1.0
    return {code for code, area in areas.items() if area / total >= min_share}


def clicked_district(click_data: dict | None) -> str | None:
    """The adcode of the district a click on the map landed on."""
    points = (click_data or {}).get("points") or []
    if not points:
        return None
    point = points[0]
    if not isinstance(point, dict):
        return None
    if point.get("location"):
        return str(point["location"])[:12]
    custom = point.get("customdata")
    return str(custom[0])[:12] if isinstance(custom, list) and custom else None
