"""Small hand-built databases with answers known by construction, for the metric unit tests."""

from __future__ import annotations

import datetime as dt
import itertools
import json

from data_access.db import Database
from data_access.models import (
    AccidentCase,
    Channel,
    City,
    District,
    HandledBy,
    MediationCase,
    MediationOutcome,
    RescueMission,
    RescueOutcome,
    StageMode,
)
from data_access.timeutil import LOCAL_OFFSET, local_day, local_hour
from tests.servers import fresh_database_url

CITY = "350600"
D1, D2 = "350602", "350603"
_ids = itertools.count(1)


def square(lon: float, lat: float, size: float = 0.05) -> str:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def empty_city(where) -> Database:
    """The two-district city with no cases; `where` is a tmp_path (SQLite) or a database URL."""
    url = where if isinstance(where, str) else fresh_database_url(where, "handmade.db")
    db = Database(url)
    db.create_schema()
    with db.transaction() as session:
        session.add(City(adcode=CITY, name_zh="漳州市", name_en="Zhangzhou", programme_start=dt.date(2019, 12, 2),
                         center_lon=117.65, center_lat=24.51))
        session.flush()
        session.add_all([
            District(adcode=D1, city_adcode=CITY, name_zh="芗城区", name_en="Xiangcheng", main_urban=True,
                     center_lon=117.62, center_lat=24.52, boundary_geojson=square(117.6, 24.5)),
            District(adcode=D2, city_adcode=CITY, name_zh="龙文区", name_en="Longwen", main_urban=True,
                     center_lon=117.72, center_lat=24.52, boundary_geojson=square(117.7, 24.5)),
        ])
    return db


def local(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A naive UTC instant given as Asia/Shanghai wall time."""
    return dt.datetime.combine(day, dt.time(hour, minute)) - LOCAL_OFFSET


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def case(reported: dt.datetime, district: str = D1, channel: Channel = Channel.POLICE_CALL, **stages) -> AccidentCase:
    fields = dict(
        source="test", external_id=f"T{next(_ids)}", city_adcode=CITY, district_adcode=district, channel=channel,
        handled_by=HandledBy.POLICE, reported_at=reported, local_day=local_day(reported),
        local_hour=local_hour(reported), found_by_patrol=channel == Channel.PATROL, lon=117.62, lat=24.52,
    )
    if channel == Channel.PATROL:
        fields["on_scene_at"] = reported
    for key, value in stages.items():
        fields[key] = reported + value if isinstance(value, dt.timedelta) else value
    return AccidentCase(**fields)


def mediation(opened: dt.datetime, closed: dt.datetime | None, outcome: MediationOutcome, pre: bool = False,
              amount: float | None = None, district: str = D1) -> MediationCase:
    return MediationCase(
        source="test", external_id=f"M{next(_ids)}", city_adcode=CITY, district_adcode=district, opened_at=opened,
        opened_day=local_day(opened), closed_at=closed, closed_day=local_day(closed) if closed else None,
        outcome=outcome, pre_litigation=pre, amount_yuan=amount,
    )


def rescue(requested: dt.datetime, to_hospital: dt.timedelta, outcome=RescueOutcome.SURVIVED) -> RescueMission:
    return RescueMission(
        source="test", external_id=f"R{next(_ids)}", city_adcode=CITY, district_adcode=D1, requested_at=requested,
        local_day=local_day(requested), takeoff_at=requested + minutes(8), on_scene_at=requested + minutes(20),
        hospital_at=requested + to_hospital, outcome=outcome,
    )


REMOTE = StageMode.REMOTE
ONLINE = StageMode.ONLINE
ON_SITE = StageMode.ON_SITE
RIDER = HandledBy.RIDER_TEAM
