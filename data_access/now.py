"""The wall's "now" strip: today's accident alerts so far against the same clock time yesterday and on the same
weekday a week before, today's alerts still open by stage, the rider units by status, the latest helicopter rescue.

Each query reads one local day of one city through the (city, local_day) index and is cached on the data version
and the minute it is asked for, so every wall of a city shares one computation a minute."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy import and_, func, select

from data_access import metrics
from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Filters
from data_access.models import ALERT_CHANNELS, AccidentCase, RescueMission, UnitStatus
from data_access.timeutil import local_day

C = AccidentCase.__table__.c
R = RescueMission.__table__.c
# 交通事故警情: the police channels, the same channels the day rollup counts as `alerts` (data_access.rollups)
IS_ALERT = C.channel.in_([c.value for c in ALERT_CHANNELS])
OPEN_STAGES = ("awaiting", "on_scene")          # open on the road: no unit there yet, or a unit handling it
BUSY = (UnitStatus.EN_ROUTE.value, UnitStatus.ON_SCENE.value)
RESCUE_STAGES = ("requested_at", "takeoff_at", "on_scene_at", "hospital_at")


def minute_of(at: dt.datetime) -> dt.datetime:
    """`at` (naive UTC) cut to its minute: the "now" every wall asks with, so that they share one cache entry."""
    return at.replace(second=0, microsecond=0)


def day_of(window: Filters, at: dt.datetime) -> Filters:
    """The local day of `at` with the place (city, districts, insurer) of `window`."""
    day = local_day(at)
    return replace(window, start=day, end=day, comparison="none")


def _reached(column, at: dt.datetime):
    return and_(column.is_not(None), column <= at)


def alerts_so_far(db: Database, window: Filters, at: dt.datetime) -> int:
    """Accident alerts of the local day of `at` reported up to `at` (naive UTC) in the window's place: the count
    of that day as `metrics.accident_alerts` gives it, cut at the clock time of `at`."""
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(AccidentCase).where(
            metrics.case_where(day_of(window, at)), IS_ALERT, C.reported_at <= at)).scalar() or 0)


@cached_query
def today_alerts(db: Database, window: Filters, at: dt.datetime) -> pd.DataFrame:
    """Today's accident alerts reported up to `at` (naive UTC): lon, lat (NaN when unknown) and the stage at `at`:
    awaiting (no unit on scene, not cleared, no liability determined remotely), on_scene (a unit there, the road not
    cleared yet) or closed."""
    on_scene = and_(_reached(C.on_scene_at, at), ~_reached(C.cleared_at, at))
    awaiting = and_(~_reached(C.on_scene_at, at), ~_reached(C.cleared_at, at), ~_reached(C.liability_at, at))
    with db.session() as session:
        rows = session.execute(select(C.lon, C.lat, on_scene, awaiting).where(
            metrics.case_where(day_of(window, at)), IS_ALERT, C.reported_at <= at)).all()
    frame = rows_frame(rows, ["lon", "lat", "on_scene", "awaiting"])
    stage = pd.Series("closed", index=frame.index, dtype=object)
    stage = stage.where(~frame["on_scene"].astype(bool), "on_scene").where(~frame["awaiting"].astype(bool), "awaiting")
    return pd.DataFrame({"lon": frame["lon"].astype(float), "lat": frame["lat"].astype(float), "stage": stage})


@dataclass(frozen=True)
class AlertsNow:
    at: dt.datetime              # naive UTC, the clock time every count stops at
    today: int                   # alerts today up to `at`
    yesterday: int               # alerts yesterday up to the same clock time
    last_week: int               # alerts on the same weekday a week before, up to the same clock time
    open: dict[str, int]         # today's alerts still open, by stage (OPEN_STAGES)


@cached_query
def alerts_now(db: Database, window: Filters, at: dt.datetime) -> AlertsNow:
    """Today's alerts so far against the same clock time yesterday and a week before, and today's open ones."""
    today = today_alerts(db, window, at)
    counts = today["stage"].value_counts()
    return AlertsNow(at, len(today), alerts_so_far(db, window, at - dt.timedelta(days=1)),
                     alerts_so_far(db, window, at - dt.timedelta(days=7)),
                     {stage: int(counts.get(stage, 0)) for stage in OPEN_STAGES})


@dataclass(frozen=True)
class UnitsNow:
    on_duty: int                 # placed on the map and not off duty
    patrolling: int
    busy: int                    # en route to an incident or on its scene


def units_now(states: pd.DataFrame) -> UnitsNow:
    """The rider units by status, from `live.unit_states` (what the live map and the wall's map draw)."""
    placed = states[states["lon"].notna()]
    status = placed["status"]
    return UnitsNow(int((status != UnitStatus.OFF_DUTY.value).sum()),
                    int((status == UnitStatus.PATROLLING.value).sum()), int(status.isin(BUSY).sum()))


@cached_query
def latest_rescue(db: Database, city: str, at: dt.datetime) -> dict | None:
    """The newest helicopter mission requested up to `at` (naive UTC): id, district (adcode, names), the request
    time and the last stage it had reached at `at` (one of RESCUE_STAGES); None when the city has had none."""
    with db.session() as session:
        row = session.execute(select(R.id, R.district_adcode, *[R[s] for s in RESCUE_STAGES])
                              .where(R.city_adcode == city, R.requested_at <= at)
                              .order_by(R.requested_at.desc(), R.id.desc()).limit(1)).first()
    if row is None:
        return None
    names = metrics.district_names(db, city).set_index("district_adcode")
    times = dict(zip(RESCUE_STAGES, row[2:], strict=True))
    stage = [s for s in RESCUE_STAGES if times[s] is not None and times[s] <= at][-1]
    return {"id": int(row.id), "district_adcode": row.district_adcode,
            "name_zh": str(names["name_zh"].get(row.district_adcode, row.district_adcode)),
            "name_en": str(names["name_en"].get(row.district_adcode, row.district_adcode)),
            "requested_at": times["requested_at"], "stage": stage}

