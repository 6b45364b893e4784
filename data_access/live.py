"""Queries of the live map (实时地图): patrol grids, stations by kind, rider units' latest positions and status,
the incidents of a window with their stage, helicopter rescues and the position history that playback replays.

Everything is WGS-84 and UTC here; the page shifts coordinates for GCJ-02 tiles and formats local times."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, select

from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Filters
from data_access.models import (
    ALERT_CHANNELS,
    AccidentCase,
    PatrolGrid,
    RescueMission,
    RiderTeam,
    RiderUnit,
    Station,
    StationKind,
    UnitPosition,
    UnitStatus,
)

C = AccidentCase.__table__.c
P = UnitPosition.__table__.c
U = RiderUnit.__table__.c
T = RiderTeam.__table__.c
G = PatrolGrid.__table__.c
S = Station.__table__.c
R = RescueMission.__table__.c

# The stage an incident has reached, in order; `paid` is the last.
STAGES = ("reported", "on_scene", "cleared", "paid")
STAGE_COLUMNS = ("reported_at", "on_scene_at", "cleared_at", "liability_at", "assessed_at", "paid_at")
INCIDENT_LIMIT = 20_000           # newest incidents drawn on the map; the page says so when the window holds more
UNIT_COLUMNS = ["unit_id", "callsign", "vehicle_kind", "team_id", "team_zh", "team_en", "grid_id", "lon", "lat",
                "status", "case_id", "at", "position_id"]


def _value(v) -> str:
    return str(getattr(v, "value", v))


@cached_query
def grids(db: Database, city: str) -> pd.DataFrame:
    """The patrol grids of a city: id, code, names, district, booth and the polygon (GeoJSON geometry dict)."""
    with db.session() as session:
        rows = session.execute(select(G.id, G.code, G.name_zh, G.name_en, G.district_adcode, G.booth_id,
                                      G.polygon_geojson).where(G.city_adcode == city).order_by(G.id)).all()
    frame = rows_frame(rows, ["grid_id", "code", "name_zh", "name_en", "district_adcode", "booth_id", "polygon"])
    frame["polygon"] = frame["polygon"].map(json.loads)
    return frame


@cached_query
def stations(db: Database, city: str, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Stations of a city (all kinds, or only `kinds`): id, kind, code, names, district, lon, lat, staff."""
    conditions = [S.city_adcode == city]
    if kinds:
        conditions.append(S.kind.in_([StationKind(k) for k in kinds]))
    with db.session() as session:
        rows = session.execute(select(S.id, S.kind, S.code, S.name_zh, S.name_en, S.district_adcode, S.lon, S.lat,
                                      S.staff).where(*conditions).order_by(S.id)).all()
    frame = rows_frame(rows, ["station_id", "kind", "code", "name_zh", "name_en", "district_adcode", "lon", "lat",
                              "staff"])
    frame["kind"] = frame["kind"].map(_value)
    return frame


@cached_query
def units(db: Database, city: str) -> pd.DataFrame:
    """The rider units of a city with their team and the grid the team patrols, ordered by unit id."""
    with db.session() as session:
        rows = session.execute(select(U.id, U.callsign, U.vehicle_kind, T.id, T.name_zh, T.name_en, T.grid_id)
                               .join(RiderTeam.__table__, T.id == U.team_id)
                               .where(U.city_adcode == city).order_by(U.id)).all()
    frame = rows_frame(rows, ["unit_id", "callsign", "vehicle_kind", "team_id", "team_zh", "team_en", "grid_id"])
    frame["vehicle_kind"] = frame["vehicle_kind"].map(_value)
    return frame


def unit_states(db: Database, city: str, at: dt.datetime | None = None, after_id: int | None = None) -> pd.DataFrame:
    """Each unit's latest known position and status at `at` (UTC, default: now, i.e. the newest row), one row per
    unit in unit-id order, with the stored row's `position_id`; units never seen have no position (NaN) and status
    off duty. With `after_id`, only the units whose latest row was stored after the position `after_id` (what a live
    tick has to send: a row stored after the last tick within the same second is not missed, as it would be by a
    comparison of times). Never cached: live."""
    latest = (select(P.unit_id, func.max(P.at).label("at")).join(RiderUnit.__table__, U.id == P.unit_id)
              .where(U.city_adcode == city))
    if at is not None:
        latest = latest.where(P.at <= at)
    latest = latest.group_by(P.unit_id).subquery()
    query = (select(P.unit_id, P.lon, P.lat, P.status, P.case_id, P.at, P.id)
             .join(latest, and_(latest.c.unit_id == P.unit_id, latest.c.at == P.at)))
    with db.session() as session:
        rows = session.execute(query).all()
    positions = rows_frame(rows, ["unit_id", "lon", "lat", "status", "case_id", "at", "position_id"])
    # two rows of one unit in the same second: the one stored last is the unit's state
    positions = positions.sort_values("position_id").drop_duplicates("unit_id", keep="last")
    if after_id is not None:
        positions = positions[positions["position_id"] > after_id]
    positions["status"] = positions["status"].map(_value)
    changed_only = after_id is not None
    frame = units(db, city).merge(positions, on="unit_id", how="inner" if changed_only else "left")
    frame["status"] = frame["status"].fillna(UnitStatus.OFF_DUTY.value)
    frame["case_id"] = frame["case_id"].astype("Int64")
    frame["position_id"] = frame["position_id"].astype("Int64")
    return frame[UNIT_COLUMNS].reset_index(drop=True)


def stage_of(frame: pd.DataFrame, now: dt.datetime) -> pd.Series:
    """The stage each incident has reached at `now` (UTC): the last of reported / on scene / cleared / paid whose
    time has come."""
    stage = pd.Series("reported", index=frame.index, dtype=object)
    for name, column in (("on_scene", "on_scene_at"), ("cleared", "cleared_at"), ("paid", "paid_at")):
        reached = pd.to_datetime(frame[column]).le(pd.Timestamp(now)).fillna(False).astype(bool)
        stage = stage.where(~reached, name)
    return stage


@dataclass(frozen=True)
class Incidents:
    frame: pd.DataFrame      # newest first, at most `limit` rows
    total: int               # all incidents of the window with a location, every channel
    alerts: int = 0          # of them, accident alerts (交通事故警情: police calls and patrols, as on the overview)


@cached_query
def incidents(db: Database, filters: Filters, now: dt.datetime, limit: int = INCIDENT_LIMIT) -> Incidents:
    """Accident cases of the window (local days, districts) with a location: id, lon, lat, district, unit, the
    stage times (UTC) and the stage reached at `now` (pass a time rounded to the tick so the cache can answer)."""
    conditions = [C.city_adcode == filters.city, C.local_day >= filters.start, C.local_day <= filters.end,
                  C.lon.is_not(None)]
    if filters.districts:
        conditions.append(C.district_adcode.in_(filters.districts))
    conditions.append(C.reported_at <= now)
    with db.session() as session:
        total = int(session.execute(select(func.count()).select_from(AccidentCase).where(*conditions)).scalar() or 0)
        alerts = int(session.execute(select(func.count()).select_from(AccidentCase).where(
            *conditions, C.channel.in_(ALERT_CHANNELS))).scalar() or 0)
        rows = session.execute(select(C.id, C.lon, C.lat, C.district_adcode, C.unit_id, C.severity,
                                      *[C[c] for c in STAGE_COLUMNS]).where(*conditions)
                               .order_by(C.reported_at.desc(), C.id.desc()).limit(limit)).all()
    frame = rows_frame(rows, ["case_id", "lon", "lat", "district_adcode", "unit_id", "severity", *STAGE_COLUMNS])
    frame["severity"] = frame["severity"].map(_value)
    frame["unit_id"] = frame["unit_id"].astype("Int64")
    for column in STAGE_COLUMNS:
        frame[column] = pd.to_datetime(frame[column])
    frame["stage"] = stage_of(frame, now)
    return Incidents(frame.reset_index(drop=True), total, alerts)


def cases(db: Database, case_ids: list[int]) -> pd.DataFrame:
    """Stage times (UTC) of the given cases — the current case of each busy unit."""
    if not case_ids:
        return pd.DataFrame(columns=["case_id", *STAGE_COLUMNS])
    with db.session() as session:
        rows = session.execute(select(C.id, *[C[c] for c in STAGE_COLUMNS]).where(C.id.in_(case_ids))).all()
    frame = rows_frame(rows, ["case_id", *STAGE_COLUMNS])
    for column in STAGE_COLUMNS:
        frame[column] = pd.to_datetime(frame[column])
    return frame


@cached_query
def rescues(db: Database, city: str, start: dt.date | None = None, end: dt.date | None = None,
            mission: int | None = None) -> pd.DataFrame:
    """Helicopter missions (one, or those requested in the local days start..end): stage times (UTC), outcome and
    the route as a list of [lon, lat] points helipad → scene → hospital."""
    conditions = [R.city_adcode == city]
    if mission is not None:
        conditions.append(R.id == mission)
    else:
        if start is not None:
            conditions.append(R.local_day >= start)
        if end is not None:
            conditions.append(R.local_day <= end)
    with db.session() as session:
        rows = session.execute(select(R.id, R.district_adcode, R.requested_at, R.takeoff_at, R.on_scene_at,
                                      R.hospital_at, R.outcome, R.route_geojson).where(*conditions)
                               .order_by(R.requested_at)).all()
    frame = rows_frame(rows, ["mission_id", "district_adcode", "requested_at", "takeoff_at", "on_scene_at",
                              "hospital_at", "outcome", "route"])
    frame["outcome"] = frame["outcome"].map(_value)
    frame["route"] = frame["route"].map(_route)
    return frame


def _route(text: str | None) -> list[list[float]]:
    try:
        geometry = json.loads(text) if text else {}
    except ValueError:
        return []
    return [[float(p[0]), float(p[1])] for p in (geometry.get("coordinates") or []) if len(p) >= 2]


def hexbins(lon: np.ndarray, lat: np.ndarray, size_deg: float) -> pd.DataFrame:
    """Counts of points in flat-topped hexagons of circumradius `size_deg` (in longitude degrees): hex centre lon,
    lat and count — the accident-density layer."""
    if len(lon) == 0:
        return pd.DataFrame(columns=["lon", "lat", "count"])
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    # axial coordinates of flat-topped hexagons, then cube rounding
    q = (2 / 3 * lon) / size_deg
    r = (-1 / 3 * lon + np.sqrt(3) / 3 * lat) / size_deg
    x, z = q, r
    y = -x - z
    rx, ry, rz = np.round(x), np.round(y), np.round(z)
    dx, dy, dz = np.abs(rx - x), np.abs(ry - y), np.abs(rz - z)
    fix_x = (dx > dy) & (dx > dz)
    fix_y = ~fix_x & (dy > dz)
    rx = np.where(fix_x, -ry - rz, rx)
    rz = np.where(~fix_x & ~fix_y, -rx - ry, rz)
    cells = pd.DataFrame({"q": rx.astype(int), "r": rz.astype(int)}).value_counts().rename("count").reset_index()
    cells["lon"] = size_deg * 1.5 * cells["q"]
    cells["lat"] = size_deg * np.sqrt(3) * (cells["r"] + cells["q"] / 2)
    return cells[["lon", "lat", "count"]].sort_values("count", ascending=False).reset_index(drop=True)
