"""覆盖规划 Coverage planning: what the chosen station kinds reach within T minutes, where the uncovered accidents
are, what-if (click the map to add a candidate, click a station to switch it off) with coverage before and after
per district, and the k sites that add the most covered demand. The whole scenario lives in the URL and exports as
CSV and GeoJSON.

Every figure comes from data_access.coverage (`coverage`, `greedy_sites`, through `evaluate_plan`).
"""

from __future__ import annotations

import json
from dataclasses import replace

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from base.i18n import normalize_language, t
from components import coverage_map as cmap
from components import ids
from components.empty_state import no_station_text
from components.messages import database_unavailable_message
from components.static import Static, frozen
from components.urlstate import page_address, parse_search, with_params
from data_access import coverage as cv
from data_access import metrics, offload
from data_access.db import DatabaseUnavailable
from data_access.filters import parse_filters
from data_access.timeutil import local_today
from pages._kit import empty_state_of
from services.identity import record_export
from services.runtime import get_db, get_settings
from services.view import open_view

PATH = "/coverage"
dash.register_page(__name__, path=PATH, title="覆盖规划 · 警保联动", name="coverage", title_key="nav.coverage",
                   order=60, libraries=("dash_leaflet",))  # fetched as the page starts (dashboard/frontend.py)

PROBLEMS = "coverage-problems"
ADDRESS = "coverage-url"
HEADING = "coverage-heading"
WINDOW = "coverage-window"
KPIS = "coverage-kpis"
ROUTING = "coverage-routing"
KINDS = "coverage-kinds"
T_PRESET = "coverage-t-preset"
T_TYPED = "coverage-t-typed"
WEIGHT = "coverage-weight"
CIRCUITY = "coverage-circuity"
SPEED = "coverage-speed-{vehicle}-{area}"
SPEEDS = tuple(SPEED.format(vehicle=v, area=a) for v, a in cv.DEFAULT_SPEEDS)
VEHICLE = "coverage-vehicle"
K = "coverage-k"
CANDS = "coverage-candidates"
RECOMMEND = "coverage-recommend"
ADOPT = "coverage-adopt"
RESET = "coverage-reset"
LEGEND = "coverage-legend"
MAP_NOTE = "coverage-map-note"
TABLE = "coverage-table"
GAPS = "coverage-gaps"
RECOMMENDED = "coverage-recommended"
EXPORT_CSV = "coverage-export-csv"
EXPORT_CSV_BUTTON = "coverage-export-csv-button"
EXPORT_GEOJSON = "coverage-export-geojson"
EXPORT_GEOJSON_BUTTON = "coverage-export-geojson-button"
MAP_IDS = {"map": "coverage-map", "hexes": "coverage-hexes", "rings": "coverage-rings",
           "stations": "coverage-stations", "added": "coverage-added", "recommended": "coverage-recommended-sites"}
VIEW_DECIMALS = 5


# ----------------------------------------------------------------------------------------------- the scenario
def scenario_of(search: str | None) -> tuple[cv.Scenario, list[str]]:
    return cv.parse_scenario(parse_search(search))


def search_with(search: str | None, scenario: cv.Scenario, **extra: str | None) -> str:
    """The URL query with the scenario's parameters replaced (defaults left out) and `extra` set."""
    return with_params(search, **{**scenario.to_params(), **extra})


def plan_for(search: str | None):
    """(view, scenario, problems, plan) of a URL; the plan is None when the database holds no city yet."""
    view = open_view(search, PATH)
    scenario, problems = scenario_of(search)
    if view.filters is None:
        return view, scenario, problems, None
    return view, scenario, problems, cv.evaluate_plan(view.db, view.filters, scenario,
                                                      cv.city_centre(view.db, view.filters.city))


# ----------------------------------------------------------------------------------------------- the builders
def kpi(label: str, value: str, key: str) -> html.Section:
    return html.Section([html.Div(label, className="kpi-label"), html.Div(value, className="kpi-value")],
                        className="coverage-kpi", **{"data-kpi": key})


def kpis(plan: cv.Plan | None, lang: str) -> list[html.Section]:
    if plan is None:
        return [kpi(t(f"coverage.kpi.{k}", lang), "—", k) for k in ("before", "after", "change", "demand", "stations")]
    before, after = plan.before.share, plan.after.share
    change = "—" if before is None else f"{(after - before) * 100:+.1f}"
    working = int(plan.stations["on"].sum()) if len(plan.stations) else 0
    return [kpi(t("coverage.kpi.before", lang), cmap.share_text(before), "before"),
            kpi(t("coverage.kpi.after", lang), cmap.share_text(after), "after"),
            kpi(t("coverage.kpi.change", lang), change + (" pts" if lang == "en" and before is not None else
                                                         " 个百分点" if before is not None else ""), "change"),
            kpi(t("coverage.kpi.demand", lang), f"{plan.demand_points:,}", "demand"),
            kpi(t("coverage.kpi.stations", lang), f"{working:,} / {len(plan.added):,}", "stations")]


def district_rows(plan: cv.Plan) -> pd.DataFrame:
    """The before/after table as the page and the CSV show it: districts by uncovered demand (largest first)."""
    frame = plan.districts.sort_values(["uncovered_after", "district_adcode"], ascending=[False, True])
    frame = frame.reset_index(drop=True)
    frame["change_pts"] = (frame["share_after"] - frame["share_before"]) * 100
    return frame


def district_table(plan: cv.Plan, lang: str) -> Static:
    """The before/after table of the districts, as one Static component (Chongqing's 38 rows were 280 Dash
    components, each re-reading the store on every state change of the page)."""
    name = "name_zh" if lang == "zh" else "name_en"
    columns = ["district", "demand", "before", "after", "change", "uncovered"]
    head = html.Thead(html.Tr([html.Th(t(f"coverage.col.{c}", lang), scope="col") for c in columns]))

    def row(label, demand, before, after, uncovered, class_name="", adcode=""):
        change = "—" if pd.isna(before) or pd.isna(after) else f"{(after - before) * 100:+.1f}"
        return html.Tr([html.Th(label, scope="row"), html.Td(cmap.number_text(demand)),
                        html.Td(cmap.share_text(before)), html.Td(cmap.share_text(after)),
                        html.Td(change, className="coverage-up" if change.startswith("+") and change != "+0.0"
                                else "coverage-down" if change.startswith("-") else ""),
                        html.Td(cmap.number_text(uncovered))], className=class_name, **{"data-district": adcode})

    frame = district_rows(plan)
    body = [row(r[name], r["demand"], r["share_before"], r["share_after"], r["uncovered_after"],
                adcode=r["district_adcode"]) for _, r in frame.iterrows()]
    body.append(row(t("coverage.city_row", lang), plan.after.weight, plan.before.share, plan.after.share,
                    plan.after.weight - plan.after.covered_weight, "coverage-city-row", "city"))
    return frozen(html.Table([head, html.Tbody(body)], className="table table-sm coverage-table",
                             **{"aria-label": t("coverage.table", lang)}))


def gaps_text(plan: cv.Plan, lang: str) -> str:
    name = "name_zh" if lang == "zh" else "name_en"
    frame = district_rows(plan)
    frame = frame[frame["uncovered_after"] > 0].head(3)
    if frame.empty:
        return t("coverage.gaps.none", lang)
    joiner = "、" if lang == "zh" else ", "
    return t("coverage.gaps", lang, names=joiner.join(f"{r[name]} ({cmap.number_text(r['uncovered_after'])})"
                                                      for _, r in frame.iterrows()))


def recommended_block(plan: cv.Plan, shown: bool, lang: str, boundaries: dict | None = None) -> list:
    given = len(plan.scenario.candidates)
    source = html.P(t("coverage.candidates.given", lang, n=given) if given else
                    t("coverage.candidates.hexes", lang), className="figure-hint")
    if not shown:
        return [html.P(t("coverage.recommended.hint", lang), className="figure-hint"), source]
    frame = plan.recommended
    if frame.empty:
        return [html.P(t("coverage.recommended.none", lang), className="figure-hint")]
    columns = ["step", "site", "coords", "gain", "share"]
    labels = cmap.site_labels(frame, boundaries or {}, lang)
    head = html.Thead(html.Tr([html.Th(t(f"coverage.col.{c}", lang), scope="col") for c in columns]))
    body = html.Tbody([html.Tr([html.Td(int(r.step)), html.Td(label, className="coverage-site-label"),
                                html.Td(f"{r.lon:.5f}, {r.lat:.5f}", className="coverage-site-coords"),
                                html.Td(cmap.number_text(r.gain)), html.Td(cmap.share_text(r.share))])
                       for r, label in zip(frame.itertuples(index=False), labels, strict=True)])
    table = frozen(html.Table([head, body], className="table table-sm coverage-table coverage-recommended-table"))
    return [source, table,
            html.Button(t("coverage.adopt", lang), id=ADOPT, n_clicks=0, className="btn btn-sm btn-outline-primary")]


def plan_sites(plan: cv.Plan, lang: str) -> pd.DataFrame:
    """Every site of the plan, one row each: existing stations (on or switched off), added candidates and the
    recommended sites, with the reach of each in km. The CSV export is this frame."""
    name = "name_zh" if lang == "zh" else "name_en"
    stations = pd.DataFrame({
        "status": ["existing" if on else "switched_off" for on in plan.stations["on"]],
        "station_id": plan.stations["id"].astype("Int64"), "kind": plan.stations["kind"],
        "name": plan.stations[name], "district_adcode": plan.stations["district_adcode"],
        "lon": plan.stations["lon"], "lat": plan.stations["lat"], "vehicle": plan.stations["vehicle"],
        "reach_km": plan.stations["radius_km"].round(3), "step": pd.NA, "gain": pd.NA})
    added = pd.DataFrame({"status": "added", "lon": plan.added["lon"], "lat": plan.added["lat"],
                          "vehicle": plan.scenario.site_vehicle, "reach_km": plan.added["radius_km"].round(3)})
    recommended = pd.DataFrame({"status": "recommended", "lon": plan.recommended["lon"],
                                "lat": plan.recommended["lat"], "vehicle": plan.scenario.site_vehicle,
                                "step": plan.recommended["step"], "gain": plan.recommended["gain"]})
    frames = [f for f in (stations, added, recommended) if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else stations


def plan_geojson(plan: cv.Plan, lang: str, search: str | None) -> dict:
    """The plan's sites as a FeatureCollection of points, with the scenario and the coverage before/after."""
    sites = plan_sites(plan, lang)
    features = []
    for record in sites.astype(object).where(sites.notna(), None).to_dict("records"):
        lon, lat = record.pop("lon"), record.pop("lat")
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                         "properties": record})
    return {"type": "FeatureCollection", "features": features,
            "properties": {"scenario": parse_search(search), "minutes": plan.scenario.minutes,
                           "coverage_before": plan.before.share, "coverage_after": plan.after.share}}


# --------------------------------------------------------------------------------------------------- the layout
def labelled(label: str, control, control_id: str) -> html.Div:
    return html.Div([html.Label(label, htmlFor=control_id, className="form-label"), control], className="mb-2")


def number_input(control_id: str, value, low: float, high: float, step: float, label: str) -> dcc.Input:
    return dcc.Input(id=control_id, type="number", value=value, min=low, max=high, step=step, debounce=True,
                     className="form-control form-control-sm", name=label)


def controls(scenario: cv.Scenario, lang: str, centre: tuple[float, float] | None = None) -> html.Section:
    presets = [{"label": f"{m}", "value": m} for m in cv.THRESHOLDS]
    preset = int(scenario.minutes) if scenario.minutes in cv.THRESHOLDS else None
    speeds = {(v, a): s for v, a, s in scenario.model.speeds}
    speed_inputs = [labelled(t(f"coverage.speed.{v}.{a}", lang),
                             number_input(SPEED.format(vehicle=v, area=a), speeds[(v, a)], 1, 200, 1,
                                          t(f"coverage.speed.{v}.{a}", lang)), SPEED.format(vehicle=v, area=a))
                    for v, a in cv.DEFAULT_SPEEDS]
    return html.Section([
        html.H2(t("coverage.controls", lang), className="coverage-h2"),
        html.Fieldset([html.Legend(t("coverage.kinds", lang), className="form-label"),
                       dbc.Checklist(id=KINDS, value=list(scenario.kinds), class_name="coverage-checks",
                                     options=[{"label": t(f"coverage.kind.{k}", lang), "value": k}
                                              for k in cv.KINDS])]),
        html.Fieldset([html.Legend(t("coverage.threshold", lang), className="form-label"),
                       dbc.RadioItems(id=T_PRESET, options=presets, value=preset, inline=True),
                       labelled(t("coverage.threshold.typed", lang),
                                number_input(T_TYPED, scenario.minutes, 1, cv.MAX_MINUTES, 0.5,
                                             t("coverage.threshold.typed", lang)), T_TYPED)]),
        html.Fieldset([html.Legend(t("coverage.weighting", lang), className="form-label"),
                       dbc.RadioItems(id=WEIGHT, value=scenario.weighting,
                                      options=[{"label": t(f"coverage.weighting.{w}", lang), "value": w}
                                               for w in cv.WEIGHTINGS])]),
        html.Fieldset([html.Legend(t("coverage.model", lang), className="form-label"),
                       labelled(t("coverage.circuity", lang),
                                number_input(CIRCUITY, scenario.model.circuity, 1, 3, 0.05,
                                             t("coverage.circuity", lang)), CIRCUITY),
                       *speed_inputs,
                       html.P(t("coverage.vehicle_note", lang), className="figure-hint")]),
        html.Fieldset([html.Legend(t("coverage.site_vehicle", lang), className="form-label"),
                       dbc.RadioItems(id=VEHICLE, value=scenario.site_vehicle, inline=True,
                                      options=[{"label": t(f"coverage.vehicle.{v}", lang), "value": v}
                                               for v in cv.VEHICLES])]),
        labelled(t("coverage.k", lang), number_input(K, scenario.k, 1, cv.MAX_K, 1, t("coverage.k", lang)), K),
        labelled(t("coverage.candidates", lang),
                 dcc.Textarea(id=CANDS, value="\n".join(f"{lon:.5f},{lat:.5f}" for lon, lat in scenario.candidates),
                              placeholder=f"{centre[0]:.5f},{centre[1]:.5f}" if centre else None,
                              className="form-control form-control-sm",
                              style={"height": "64px"}), CANDS),
        html.Div([html.Button(t("coverage.recommend", lang), id=RECOMMEND, n_clicks=0,
                              className="btn btn-sm btn-primary"),
                  html.Button(t("coverage.reset", lang), id=RESET, n_clicks=0,
                              className="btn btn-sm btn-outline-secondary")], className="coverage-buttons"),
        html.Div([html.Button(t("coverage.export.csv", lang), id=EXPORT_CSV_BUTTON, n_clicks=0,
                              className="btn btn-sm btn-outline-secondary"),
                  html.Button(t("coverage.export.geojson", lang), id=EXPORT_GEOJSON_BUTTON, n_clicks=0,
                              className="btn btn-sm btn-outline-secondary"),
                  dcc.Download(id=EXPORT_CSV), dcc.Download(id=EXPORT_GEOJSON)], className="coverage-buttons"),
        html.P(id=ROUTING, className="figure-hint coverage-routing"),
    ], className="panel coverage-controls", **{"aria-label": t("coverage.controls", lang)})


def map_view(query: dict) -> dict:
    """The map's centre and zoom kept in the URL (`view=lat,lon,zoom`), so that a click does not reset it."""
    try:
        lat, lon, zoom = (float(p) for p in query.get("view", "").split(","))
        if -90 <= lat <= 90 and -180 <= lon <= 180 and 0 <= zoom <= 20:
            return {"center": [lat, lon], "zoom": zoom}
    except ValueError:
        pass
    return {}


def layout(**query) -> html.Div:
    """A static skeleton in the link's language with the controls set from the URL; `show_coverage` fills it."""
    lang = normalize_language(query.get("lang"), get_settings().language)
    scenario, _ = cv.parse_scenario(query)
    try:
        db = get_db()
        catalogue = metrics.catalogue(db)
        city = parse_filters(query, catalogue, local_today(), get_settings().default_city).filters.city \
            if catalogue.cities else None
        boundaries = metrics.district_geojson(db, city) if city else {"features": []}
        centre = cv.city_centre(db, city) if city else None          # the candidates' example: the city's centre
    except DatabaseUnavailable:
        boundaries, centre = {"features": []}, None
    the_map = cmap.coverage_map(MAP_IDS, boundaries, lang, map_view(query))
    return html.Div([
        html.Div(id=PROBLEMS),
        html.Div([html.H1(t("nav.coverage", lang), id=HEADING, className="page-title"),
                  html.P(id=WINDOW, className="page-window")], className="page-head"),
        html.Section(kpis(None, lang), id=KPIS, className="coverage-kpis", **{"aria-label": t("coverage.kpi.before",
                                                                                              lang)}),
        html.Div([
            controls(scenario, lang, centre),
            html.Div([
                html.Section([html.H2(t("coverage.map", lang), className="coverage-h2"),
                              html.P(t("coverage.map.hint", lang), className="figure-hint"),
                              the_map,
                              html.Div(cmap.legend(lang, scenario.minutes), id=LEGEND, className="coverage-legend"),
                              html.P(id=MAP_NOTE, className="figure-hint")], className="panel"),
                # the results first: the recommended sites and the gaps, then the long table of districts
                html.Section([html.H2(t("coverage.recommended", lang), className="coverage-h2"),
                              html.Div(id=RECOMMENDED)], className="panel"),
                html.Section([html.H2(t("coverage.table", lang), className="coverage-h2"),
                              html.P(id=GAPS, className="coverage-gaps"), html.Div(id=TABLE)], className="panel"),
            ], className="coverage-main"),
        ], className="coverage-grid"),
        page_address(ADDRESS),
    ], className="page page-coverage")


# ------------------------------------------------------------------------------------------------ the callbacks
HEAVY_OUTPUTS = (f"{PROBLEMS}.children",)      # the plan's callback: limited per account (dashboard/signin.py)
OUTPUTS = [Output(PROBLEMS, "children"), Output(HEADING, "children"), Output(WINDOW, "children"),
           Output(KPIS, "children"), Output(ROUTING, "children"), Output(MAP_IDS["hexes"], "data"),
           Output(MAP_IDS["rings"], "data"), Output(MAP_IDS["stations"], "data"),
           Output(MAP_IDS["added"], "data"), Output(MAP_IDS["recommended"], "data"), Output(MAP_NOTE, "children"),
           Output(GAPS, "children"), Output(TABLE, "children"), Output(RECOMMENDED, "children")]


@callback(*OUTPUTS, Input(ids.URL, "search"), Input(ids.REFRESH, "n_intervals"))
def show_coverage(search, _tick):
    lang = normalize_language(parse_search(search).get("lang"), get_settings().language)
    status = cv.routing_status()
    routing = t(status.key, lang, url=status.url or "")
    try:
        view, scenario, problems, plan = plan_for(search)
        empty_state = empty_state_of(view)
    except DatabaseUnavailable:
        return (database_unavailable_message(lang), *[no_update] * (len(OUTPUTS) - 1))
    except offload.WorkRefused as refused:
        key = "coverage.too_long" if refused.timed_out else "coverage.too_big"
        return (html.Div(t(key, lang), className="alert alert-warning page-message", role="alert"),
                *[no_update] * (len(OUTPUTS) - 1))
    messages = [view.problems_alert(), empty_state]
    if problems:
        messages.append(html.Div(t("coverage.problems", lang, keys=", ".join(problems)),
                                 className="alert alert-warning page-message coverage-problems", role="alert"))
    empty = cmap.site_layer(pd.DataFrame(columns=["lon", "lat"]), "added", lang)
    if empty_state is None and (plan is None or plan.demand_points == 0):
        messages.append(html.Div(t("coverage.no_demand", lang), className="alert alert-info page-message",
                                 role="status"))
    if empty_state is None and plan is not None:
        missing = [kind for kind in scenario.kinds if kind not in set(plan.stations["kind"])]
        if missing:      # a chosen kind the city has none of: say so, not just a lower coverage
            messages.append(html.Div(no_station_text(missing, lang), className="alert alert-info "
                                     "page-message coverage-no-station", role="status"))
    if plan is None:
        return ([m for m in messages if m is not None], t("nav.coverage", lang), "", kpis(None, lang), routing,
                empty, empty, empty, empty, empty, "", "", None, None)
    shown = parse_search(search).get("rec") == "1"
    try:
        boundaries = metrics.district_geojson(view.db, view.filters.city)
    except DatabaseUnavailable:
        boundaries = {"features": []}
    recommended = plan.recommended if shown else plan.recommended.iloc[0:0]
    return (
        [m for m in messages if m is not None] or None,
        f"{t('nav.coverage', lang)} · {view.city_name}",
        t("coverage.kpi.summary", lang, minutes=f"{scenario.minutes:g}", place=view.city_name, window=view.window),
        kpis(plan, lang), routing,
        cmap.hex_layer(plan.hexes, lang), cmap.rings(plan.stations, plan.added),
        cmap.station_layer(plan.stations, lang), cmap.site_layer(plan.added, "added", lang),
        cmap.site_layer(recommended, "recommended", lang, boundaries),
        t("coverage.hex_size", lang, km=f"{plan.hex_km:g}", n=f"{plan.demand_points:,}") + (
            "" if plan.merged_km is None else
            " " + t("coverage.merged", lang, km=f"{plan.merged_km:g}", m=f"{plan.evaluated_points:,}")),
        gaps_text(plan, lang), district_table(plan, lang), recommended_block(plan, shown, lang, boundaries),
    )


def _latlng(click) -> tuple[float, float] | None:
    point = (click or {}).get("latlng")
    if isinstance(point, dict) and "lat" in point and "lng" in point:
        return float(point["lng"]), float(point["lat"])
    if isinstance(point, list | tuple) and len(point) == 2:
        return float(point[1]), float(point[0])
    return None


def _view_param(center, zoom) -> str | None:
    if isinstance(center, dict):
        center = [center.get("lat"), center.get("lng")]
    try:
        lat, lon = (float(c) for c in center)
        return f"{lat:.{VIEW_DECIMALS}f},{lon:.{VIEW_DECIMALS}f},{float(zoom):g}"
    except (TypeError, ValueError):
        return None


def next_search(trigger: str, search: str | None, values: dict, clicks: dict, view: str | None) -> str | None:
    """The URL after a control changed (None: nothing to change). Pure, so that it is tested without a browser."""
    scenario, _ = scenario_of(search)
    extra: dict[str, str | None] = {"view": view} if view else {}
    if trigger == KINDS:
        scenario = replace(scenario, kinds=tuple(k for k in cv.KINDS if k in (values[KINDS] or [])))
    elif trigger in (T_PRESET, T_TYPED):
        value = values[trigger]
        if value is None or not 1 <= float(value) <= cv.MAX_MINUTES:
            return None
        scenario = replace(scenario, minutes=float(value))
    elif trigger == WEIGHT and values[WEIGHT] in cv.WEIGHTINGS:
        scenario = replace(scenario, weighting=values[WEIGHT])
    elif trigger == VEHICLE and values[VEHICLE] in cv.VEHICLES:
        scenario = replace(scenario, site_vehicle=values[VEHICLE])
    elif trigger == CIRCUITY or trigger in SPEEDS:
        speeds = [values[s] for s in SPEEDS]
        circuity = values[CIRCUITY]
        if circuity is None or not 1 <= float(circuity) <= 3 or any(s is None or not 1 <= float(s) <= 200
                                                                     for s in speeds):
            return None
        model = cv.TravelModel(float(circuity), tuple((v, a, float(s)) for (v, a), s in
                                                      zip(cv.DEFAULT_SPEEDS, speeds, strict=True)))
        scenario = replace(scenario, model=model)
    elif trigger == RECOMMEND:
        k = values[K]
        if k is None or not 1 <= int(k) <= cv.MAX_K:
            return None
        scenario = replace(scenario, k=int(k), candidates=())
        # the candidate list goes into the URL as typed: a malformed one is reported on the page, not dropped
        typed = ";".join(line.strip() for line in (values.get(CANDS) or "").splitlines() if line.strip())
        extra.update(rec="1", cands=typed or None)
    elif trigger == RESET:
        scenario = replace(scenario, added=(), off=())
        extra["rec"] = None
    elif trigger == MAP_IDS["map"]:
        point = _latlng(clicks.get("map"))
        if point is None or len(scenario.added) >= cv.MAX_ADDED:
            return None
        lon, lat = round(point[0], cv.ADDED_DECIMALS), round(point[1], cv.ADDED_DECIMALS)
        scenario = replace(scenario, added=tuple(dict.fromkeys([*scenario.added, (lon, lat)])))
    elif trigger == MAP_IDS["stations"]:
        station = ((clicks.get("stations") or {}).get("properties") or {}).get("id")
        if station is None:
            return None
        off = set(scenario.off) ^ {int(station)}
        scenario = replace(scenario, off=tuple(sorted(off)))
    elif trigger == MAP_IDS["added"]:
        index = ((clicks.get("added") or {}).get("properties") or {}).get("index")
        if index is None or not 0 <= int(index) < len(scenario.added):
            return None
        kept = tuple(p for i, p in enumerate(scenario.added) if i != int(index))
        scenario = replace(scenario, added=kept)
    else:
        return None
    return search_with(search, scenario, **extra)


@callback(
    Output(ADDRESS, "search", allow_duplicate=True),
    Input(KINDS, "value"), Input(T_PRESET, "value"), Input(T_TYPED, "value"), Input(WEIGHT, "value"),
    Input(CIRCUITY, "value"), *[Input(s, "value") for s in SPEEDS], Input(VEHICLE, "value"),
    Input(RECOMMEND, "n_clicks"), Input(RESET, "n_clicks"), Input(MAP_IDS["map"], "n_clicks"),
    Input(MAP_IDS["stations"], "n_clicks"), Input(MAP_IDS["added"], "n_clicks"),
    State(K, "value"), State(CANDS, "value"),
    State(MAP_IDS["map"], "clickData"), State(MAP_IDS["stations"], "clickData"),
    State(MAP_IDS["added"], "clickData"), State(MAP_IDS["map"], "center"), State(MAP_IDS["map"], "zoom"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def plan_to_url(kinds, t_preset, t_typed, weight, circuity, *rest):
    """Every planning control, and a click on the map, a station or a candidate, writes the scenario into the URL."""
    speeds, rest = rest[:len(SPEEDS)], rest[len(SPEEDS):]
    vehicle, _recommend, _reset, _map_clicks, _station_clicks, _added_clicks = rest[:6]
    k, candidates, map_click, station_click, added_click, center, zoom, search = rest[6:]
    values = {KINDS: kinds, T_PRESET: t_preset, T_TYPED: t_typed, WEIGHT: weight, CIRCUITY: circuity,
              VEHICLE: vehicle, K: k, CANDS: candidates, **dict(zip(SPEEDS, speeds, strict=True))}
    clicks = {"map": map_click, "stations": station_click, "added": added_click}
    if len(ctx.triggered_prop_ids) != 1:
        return no_update          # a freshly rendered page reports every control at once: nothing was changed
    try:
        new = next_search(ctx.triggered_id, search, values, clicks, _view_param(center, zoom))
    except (TypeError, ValueError):
        return no_update
    return no_update if new is None or new == (search or "") else new


@callback(Output(ADDRESS, "search", allow_duplicate=True), Input(ADOPT, "n_clicks"), State(ids.URL, "search"),
          prevent_initial_call=True)
def adopt_recommended(n_clicks, search):
    """The recommended sites become added candidates (the recommendation is then recomputed around them)."""
    if not n_clicks:
        return no_update
    try:
        _, scenario, _, plan = plan_for(search)
    except DatabaseUnavailable:
        return no_update
    if plan is None or plan.recommended.empty:
        return no_update
    points = [*scenario.added, *zip(plan.recommended["lon"], plan.recommended["lat"], strict=True)]
    scenario = replace(scenario, added=tuple(dict.fromkeys(points))[:cv.MAX_ADDED])
    return search_with(search, scenario, rec=None)


def export(search: str | None, kind: str) -> dict | None:
    """The plan of the URL as a CSV (UTF-8 with a BOM for spreadsheet programs) or a GeoJSON file."""
    lang = normalize_language(parse_search(search).get("lang"), get_settings().language)
    try:
        view, _, _, plan = plan_for(search)
    except DatabaseUnavailable:
        return None
    if plan is None:
        return None
    stem = f"coverage_plan_{view.filters.city}_{view.filters.start.isoformat()}_{view.filters.end.isoformat()}"
    record_export(view.db, kind, "coverage_plan", view.filters)
    if kind == "csv":
        return dcc.send_string("\ufeff" + plan_sites(plan, lang).to_csv(index=False), stem + ".csv", type="text/csv")
    return dcc.send_string(json.dumps(plan_geojson(plan, lang, search), ensure_ascii=False), stem + ".geojson",
                           type="application/geo+json")


@callback(Output(EXPORT_CSV, "data"), Input(EXPORT_CSV_BUTTON, "n_clicks"), State(ids.URL, "search"),
          prevent_initial_call=True)
def export_csv(n_clicks, search):
    return (export(search, "csv") or no_update) if n_clicks else no_update


@callback(Output(EXPORT_GEOJSON, "data"), Input(EXPORT_GEOJSON_BUTTON, "n_clicks"), State(ids.URL, "search"),
          prevent_initial_call=True)
def export_geojson(n_clicks, search):
    return (export(search, "geojson") or no_update) if n_clicks else no_update

