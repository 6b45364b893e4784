"""Figures of the rescue page (空地救援): one row per helicopter mission with its timeline, and the share reaching
hospital within 60 minutes (the definition lives in `metrics.rescue_summary`)."""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import select

from data_access import metrics
from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Filters
from data_access.models import RescueMission
from data_access.timeutil import LOCAL_OFFSET

R = RescueMission.__table__.c
STAGES = ("requested_at", "takeoff_at", "on_scene_at", "hospital_at")


@cached_query
def missions(db: Database, filters: Filters) -> pd.DataFrame:
    """The missions requested in the window, newest first: local stage times, minutes from the request to each
    later stage, the outcome, whether the hospital was reached within 60 minutes, and the route's points."""
    conditions = [R.city_adcode == filters.city, R.local_day >= filters.start, R.local_day <= filters.end]
    if filters.districts:
        conditions.append(R.district_adcode.in_(filters.districts))
    with db.reading() as connection:
        rows = connection.execute(select(R.id, R.district_adcode, *[R[s] for s in STAGES], R.outcome, R.route_geojson)
                                  .where(*conditions).order_by(R.requested_at.desc(), R.id.desc())).all()
    frame = rows_frame(rows, ["mission_id", "district_adcode", *STAGES, "outcome", "route_geojson"])
    names = metrics.districts_in_view(db, filters)[["district_adcode", "name_zh", "name_en"]]
    frame = frame.merge(names, on="district_adcode", how="left")
    requested = pd.to_datetime(frame["requested_at"])
    for stage in STAGES:
        frame[stage] = pd.to_datetime(frame[stage]) + LOCAL_OFFSET       # Asia/Shanghai wall time
        if stage != "requested_at":
            frame[f"{stage[:-3]}_min"] = (frame[stage] - (requested + LOCAL_OFFSET)).dt.total_seconds() / 60
    frame["outcome"] = frame["outcome"].map(lambda v: str(getattr(v, "value", v)))
    frame["within_60m"] = frame["hospital_min"] <= metrics.RESCUE_GOLDEN_HOUR_S / 60
    frame["route"] = frame["route_geojson"].map(route_points)
    return frame.drop(columns="route_geojson").reset_index(drop=True)


def route_points(text: str | None) -> list[list[float]]:
    if not text:
        return []
    try:
        geometry = json.loads(text)
    except ValueError:
        return []
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    return [list(map(float, point[:2])) for point in coordinates or []]


def to_hospital_median(db: Database, filters: Filters) -> float | None:
    """Median minutes from the rescue request to the hospital, of the missions that reached one."""
    took = missions(db, filters)["hospital_min"].dropna()
    return float(took.median()) if len(took) else None


def reached_hospital(db: Database, filters: Filters) -> int:
    """Missions of the window that reached a hospital."""
    return int(missions(db, filters)["hospital_min"].notna().sum())


def last_mission_before(db: Database, filters: Filters) -> dict | None:
    """The newest mission of the view's city (and districts) requested on or before the window's end, or None:
    what a window without missions points to. Local request time, day and district adcode."""
    conditions = [R.city_adcode == filters.city, R.local_day <= filters.end]
    if filters.districts:
        conditions.append(R.district_adcode.in_(filters.districts))
    with db.reading() as connection:
        row = connection.execute(select(R.id, R.requested_at, R.local_day, R.district_adcode).where(*conditions)
                                 .order_by(R.requested_at.desc(), R.id.desc()).limit(1)).first()
    if row is None:
        return None
    return {"mission_id": int(row[0]), "requested_at": pd.Timestamp(row[1]) + LOCAL_OFFSET,
            "day": pd.Timestamp(row[2]).date(), "district_adcode": row[3]}
