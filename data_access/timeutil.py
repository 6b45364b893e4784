"""Time conventions: store naive UTC, cut days and hours in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# China has kept UTC+8 without daylight saving since 1991, so vectorised day cuts may use the fixed offset.
LOCAL_OFFSET = dt.timedelta(hours=8)


def utcnow() -> dt.datetime:
    """Now as a naive UTC datetime, the storage convention."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def local_day(value_utc: dt.datetime) -> dt.date:
    return (value_utc + LOCAL_OFFSET).date()


def local_hour(value_utc: dt.datetime) -> int:
    return (value_utc + LOCAL_OFFSET).hour


def local_now() -> dt.datetime:
    return dt.datetime.now(LOCAL_TZ)


def local_today() -> dt.date:
    return local_now().date()


def local_midnight_utc(day: dt.date) -> dt.datetime:
    """The naive UTC instant at which `day` starts in Asia/Shanghai."""
    return dt.datetime.combine(day, dt.time()) - LOCAL_OFFSET


def to_local(value_utc: dt.datetime | None) -> dt.datetime | None:
    if value_utc is None:
        return None
    return value_utc.replace(tzinfo=dt.UTC).astimezone(LOCAL_TZ)


def month_start(day: dt.date) -> dt.date:
    """The first day of `day`'s calendar month."""
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of `day`'s calendar month."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
