"""The stations' work per calendar month: what the persuasion stations stopped or found, the vehicle-administration
stations' services and the e-bike registrations, summed per city, month, district and kind (`StationMonth`).

A year of Chongqing's persuasion records is about 165,000 day rows, and the stations page reads a window and its
comparison: 150 ms each. The page now reads a window's whole months here (a few hundred rows) and only its cut
months' days from the day rows (`stations.station_sums`). Every writer rebuilds the months it touched through
`rollups.rebuild_rollups`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Table, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from data_access.bulk import span_where
from data_access.models import EbikeRegistration, PersuasionRecord, StationMonth, VehicleService
from data_access.sqlfuncs import month_of
from data_access.timeutil import month_end, month_start

# activity name -> its day rows (city_adcode, district_adcode, local_day, count, and a kind unless e-bikes)
ACTIVITIES: dict[str, Table] = {
    "persuasion": PersuasionRecord.__table__,
    "vehicle_service": VehicleService.__table__,
    "ebike": EbikeRegistration.__table__,
}
NO_KIND = ""          # the kind of the activities whose rows have none


def kind_column(table: Table):
    """A day table's kind, or the empty kind for one without (e-bike registrations)."""
    return table.c.kind if "kind" in table.c else literal(NO_KIND)


def rebuild_station_months(session: Session, city: str | None, start: dt.date | None, end: dt.date | None) -> None:
    """Recompute the month sums of `city` (all when None) for the months of start..end (all when None) from the day
    rows; a partial range is widened to whole months."""
    start = month_start(start) if start else None
    end = month_end(end) if end else None
    months = StationMonth.__table__
    session.execute(delete(months).where(*span_where(months, "month", city, start, end)))
    for activity, days in ACTIVITIES.items():
        month = month_of(days.c.local_day)
        keys = [days.c.city_adcode, month, days.c.district_adcode]
        if "kind" in days.c:
            keys.append(days.c.kind)
        query = (select(days.c.city_adcode, month.label("month"), literal(activity).label("activity"),
                        days.c.district_adcode, kind_column(days).label("kind"), func.sum(days.c["count"]))
                 .where(*span_where(days, "local_day", city, start, end)).group_by(*keys))
        session.execute(insert(months).from_select(
            ["city_adcode", "month", "activity", "district_adcode", "kind", "count"], query))
