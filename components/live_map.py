"""Pure builders of the live map: its dash-leaflet layers, legend, colours and the texts the page and
assets/live_map.js show. The layers' GeoJSON is `data_access.live_layers`'; no database here, so the wall display can
embed the same map."""

from __future__ import annotations

import datetime as dt

import dash_leaflet as dl
import pandas as pd
from dash import html

from base.i18n import t
from components.theme import BRAND
from data_access.live_layers import RESCUE_TIMES, STAGE_TIMES, MapLayers, epoch_minute
from data_access.timeutil import LOCAL_OFFSET

NS = "jingbaoLiveMap"
# Units are triangles (motorcycles) and pentagons (cars) and incidents circles, and the two palettes share no colour:
# a patrolling unit is never read as a paid incident.
STATUS_COLOURS = {"patrolling": "#1a3f8f", "en_route": "#f2b705", "on_scene": "#ad1457", "off_duty": "#8a94a3"}
STAGE_COLOURS = {"reported": "#c62828", "on_scene": "#ef6c00", "cleared": "#0097a7", "paid": "#2e7d32"}
POSITIONS_STALE_AFTER = dt.timedelta(minutes=5)   # units report every 10–15 s: five quiet minutes is a stopped feed
STATION_COLOURS = {"police_booth": "#163f73", "claim_point": "#6a4c93", "quick_centre": "#8e24aa",
                   "vehicle_admin": "#00838f", "persuasion": "#8d6e63", "helipad": "#e65100", "hospital": "#c62828",
                   "rider_base": BRAND}
# The overlays of the layer control, in drawing order, with the text key of each name.
LAYERS = ("districts", "grids", "booths", "units", "claim_points", "vehicle_admin", "persuasion", "incidents",
          "density", "rescue")


def fn(name: str) -> dict:
    """A function of assets/live_map.js, the way dash-leaflet takes it."""
    return {"variable": f"{NS}.{name}"}


# ------------------------------------------------------------------------------------------------ labels
def hideout(lang: str, **extra) -> dict:
    """Texts and colours the JavaScript of assets/live_map.js reads (never raw HTML)."""
    labels = {
        "status": {s: t(f"live_map.status.{s}", lang) for s in STATUS_COLOURS},
        "vehicle": {v: t(f"live_map.vehicle.{v}", lang) for v in ("motorcycle", "car")},
        "stage": {s: t(f"live_map.stage.{s}", lang) for s in STAGE_COLOURS},
        "kind": {k: t(f"live_map.kind.{k}", lang) for k in STATION_COLOURS},
        "stage_time": {s[:-3]: t(f"live_map.time.{s[:-3]}", lang) for s in (*STAGE_TIMES, *RESCUE_TIMES)},
        "field": {f: t(f"live_map.field.{f}", lang) for f in ("unit", "team", "vehicle", "status", "case", "none",
                                                              "stage", "incident", "kind", "staff", "density",
                                                              "mission")},
    }
    return {"labels": labels, "colours": STAGE_COLOURS, **extra}


# ------------------------------------------------------------------------------------------------ layers
def geojson_layer(layer_id: str, data: dict, lang: str, *, point: str | None = None, each: str | None = None,
                  style: dict | None = None, style_fn: str | None = None, cluster: bool = False,
                  cluster_kind: str = "incident", filter_fn: str | None = None) -> dl.GeoJSON:
    options = {}
    if filter_fn:
        options["filter"] = fn(filter_fn)
    if point:
        options["pointToLayer"] = fn(point)
    if each:
        options["onEachFeature"] = fn(each)
    if style_fn:
        options["style"] = fn(style_fn)
    elif style:
        options["style"] = style
    if cluster:
        options.update(cluster=True, clusterToLayer=fn("cluster"), zoomToBoundsOnClick=True,
                       superClusterOptions={"radius": 120 if cluster_kind == "persuasion" else 70, "maxZoom": 15})
    return dl.GeoJSON(id=layer_id, data=data, hideout=hideout(lang, cluster=cluster_kind),
                      **options)


def overlay(name: str, layer, checked: bool = True) -> dl.Overlay:
    return dl.Overlay(dl.LayerGroup(layer), name=name, checked=checked)


def legend(lang: str) -> html.Div:
    """The map's legend: unit status, vehicle shape, incident stage and station kinds."""

    def item(swatch_class: str, colour: str | None, text: str) -> html.Li:
        style = {"background": colour} if colour else None
        return html.Li([html.Span(className=f"lm-swatch {swatch_class}", style=style), html.Span(text)])

    return html.Div([
        html.H2(t("live_map.legend.units", lang)),
        html.Ul([item("lm-tri", c, t(f"live_map.status.{s}", lang)) for s, c in STATUS_COLOURS.items()]
                + [item("lm-shape-motorcycle", None, t("live_map.vehicle.motorcycle", lang)),
                   item("lm-shape-car", None, t("live_map.vehicle.car", lang))]),
        html.H2(t("live_map.legend.incidents", lang)),
        html.Ul([item("lm-ring", c, t(f"live_map.stage.{s}", lang)) for s, c in STAGE_COLOURS.items()]),
        html.H2(t("live_map.legend.stations", lang)),
        html.Ul([item("lm-square", c, t(f"live_map.kind.{k}", lang)) for k, c in STATION_COLOURS.items()
                 if k != "rider_base"]),
    ], className="lm-legend", **{"aria-label": t("live_map.legend", lang)})


def base_layers(tile_url: str, attribution: str) -> list:
    """The tile layer when one is configured; otherwise the boundaries alone are the base map."""
    if not tile_url:
        return []
    return [dl.TileLayer(url=tile_url, attribution=attribution or None, maxZoom=18)]


def age_text(age: dt.timedelta, lang: str) -> str:
    """"28 分钟前", "2 小时 5 分钟前", "3 天前"; "刚刚" under a minute."""
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 1:
        return t("live_map.age.now", lang)
    if minutes < 120:
        return t("live_map.age.minutes", lang, n=minutes)
    if minutes < 48 * 60:
        return t("live_map.age.hours", lang, h=minutes // 60, m=minutes % 60)
    return t("live_map.age.days", lang, n=minutes // 1440)


def positions_stale(at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether the newest unit position is older than POSITIONS_STALE_AFTER at `now` (UTC)."""
    return at is not None and now - pd.Timestamp(at).to_pydatetime() > POSITIONS_STALE_AFTER


def time_label(at: dt.datetime | None, lang: str, now: dt.datetime | None = None) -> str:
    """"单元位置更新于 21:01:29（28 分钟前）" — when the units were last seen (local time, with the day when it was
    not today) and how long ago at `now` (UTC); without `now` the time alone (playback)."""
    if at is None:
        return t("live_map.no_positions", lang)
    at = pd.Timestamp(at).to_pydatetime()
    local = at + LOCAL_OFFSET
    if now is None:
        return t("live_map.updated", lang, time=local.strftime("%m-%d %H:%M:%S"))
    same_day = local.date() == (now + LOCAL_OFFSET).date()
    time = local.strftime("%H:%M:%S" if same_day else "%m-%d %H:%M:%S")
    label = t("live_map.updated.age", lang, time=time, age=age_text(now - at, lang))
    if positions_stale(at, now):
        label += t("live_map.stale", lang, n=int(POSITIONS_STALE_AFTER.total_seconds() // 60))
    return label


def incidents_hideout(lang: str, until: dt.datetime | None = None) -> dict:
    """The incidents layer's labels; in playback only the incidents reported by `until` (UTC) are drawn, each in
    its stage at that time."""
    return hideout(lang, until=None if until is None else epoch_minute(until))


def layer_notes(layers: MapLayers, mission_raw: str, lang: str) -> list[str]:
    """What the page says above the map: a mission the URL names that does not exist, incidents beyond the cap."""
    notes = []
    if layers.mission_missing:
        notes.append(t("live_map.mission.missing", lang, mission=mission_raw))
    if layers.total > layers.shown:
        notes.append(t("live_map.capped", lang, total=f"{layers.total:,}", shown=f"{layers.shown:,}"))
    return notes


def incidents_text(total: int, alerts: int, lang: str) -> str:
    """"全部事件 5,700 起，含非警情（警情 3,532 起）": the map draws every channel, the overview counts alerts."""
    return t("live_map.incidents", lang, incidents=f"{total:,}", alerts=f"{alerts:,}")


def status_line(first: str, on_duty: int, units: int, incidents: str, lang: str, stale: bool = False) -> list:
    """"单元位置更新于 21:01:29（28 分钟前） · 在岗单元 75/83 · 全部事件 73 起，含非警情（警情 51 起）"; the age is
    marked (class lm-stale) when the positions are stale."""
    return [html.Span(first, className="lm-age lm-stale" if stale else "lm-age"), " · ",
            html.Span(t("live_map.counts", lang, busy=on_duty, units=units), className="lm-units-count"), " · ",
            html.Span(incidents, className="lm-incidents-count")]
