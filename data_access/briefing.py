"""The daily briefing's numbers: one day's KPIs against the day before, the same day a year before and the 7-day
average, the districts that moved most, the SLAs missed, the notable events, and the facts the narrative tells.

Every value comes from the metric functions of `metrics` (and `payouts`, `mediation`, `rescue`), so the briefing,
the pages and `jingbao kpis` cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy import func, select

from data_access import maturity, mediation, metrics, payouts, registry, rescue
from data_access.cache import cached_query
from data_access.db import Database
from data_access.filters import Filters
from data_access.models import AccidentCase, Channel, RescueMission, Severity
from data_access.registry import TOO_SMALL_TO_COMPARE, Kpi
from data_access.scope import EVERYTHING, Scope
from data_access.timeutil import LOCAL_OFFSET

WEEK_DAYS = 7
TREND_DAYS = 28
COMPARISONS = ("day_before", "year_before", "week_average")
SUMMED_UNITS = ("count", "yuan")        # what a week averages per day; shares and times are the week's own value
# Service levels the briefing checks each day: (metric key, target, whether the value must stay at or above it).
SLAS = (
    ("remote_sla_share", 0.90, True),       # remote liability decided within 5 min of the report, share of remote
    ("payout_within_15m", 0.50, True),      # the headline 15-minute payout: at least half paid within 15 min
    ("cleared_within_3m", 0.80, True),      # cars off the road within 3 min of the unit reaching the scene
)


@dataclass(frozen=True)
class BriefingKpi:
    """One KPI of the day and its three comparisons (each a `metrics.Kpi`, so `too_small` marks thin bases)."""

    key: str
    unit: str
    value: float | None
    day_before: Kpi
    year_before: Kpi
    week_average: Kpi

    def against(self, comparison: str) -> Kpi:
        return getattr(self, comparison)

    @property
    def matured(self) -> float | None:
        """The day's share matured for a figure that waits for a stage (registry Metric.matures), else None."""
        return self.year_before.matured

    @property
    def immature(self) -> bool:
        return self.year_before.immature


@dataclass(frozen=True)
class SlaCheck:
    key: str
    value: float | None
    target: float
    at_least: bool
    base: int                     # events the share rests on

    @property
    def missed(self) -> bool:
        if self.value is None or self.base < 1:
            return False
        return self.value < self.target if self.at_least else self.value > self.target


@dataclass(frozen=True)
class DistrictMove:
    adcode: str
    name_zh: str
    name_en: str
    alerts: int
    previous: int
    change: float | None          # relative; None when the day before is too small to compare
    too_small: bool


@dataclass(frozen=True)
class Briefing:
    filters: Filters              # the day (start == end), its city and districts
    kpis: tuple[BriefingKpi, ...]
    districts: tuple[DistrictMove, ...]     # every district of the city, biggest rise in alerts first
    slas: tuple[SlaCheck, ...]
    rescues: pd.DataFrame         # rescue.missions of the day
    major_accidents: int
    majors: pd.DataFrame          # major_accident_details of the day
    duty: pd.DataFrame            # metrics.duty_periods covering the day
    trend: pd.DataFrame           # metrics.daily_trend of the TREND_DAYS days ending with the day
    stages: pd.DataFrame          # payouts.stage_clocks of the day
    mediation_outcomes: pd.DataFrame   # mediation.outcome_counts of the TREND_DAYS days ending with the day
    as_of: dt.datetime | None
    stage_matured: dict[str, float | None]     # maturity.stage_maturity(...).share of each stage of `stages`

    @property
    def day(self) -> dt.date:
        return self.filters.start

    def kpi(self, key: str) -> BriefingKpi:
        return next(k for k in self.kpis if k.key == key)

    @property
    def biggest_rise(self) -> DistrictMove | None:
        """The district whose alerts rose most against the day before (by count), if any rose."""
        rising = [d for d in self.districts if d.alerts > d.previous]
        return rising[0] if rising else None

    @property
    def missed_slas(self) -> tuple[SlaCheck, ...]:
        return tuple(s for s in self.slas if s.missed)


def day_filters(city: str, day: dt.date, districts: tuple[str, ...] = (), comparison: str = "yoy",
                scope: Scope = EVERYTHING) -> Filters:
    return Filters(city=city, start=day, end=day, districts=tuple(sorted(districts)), comparison=comparison,
                   scope=scope)


def _week_average(db: Database, day: Filters) -> dict[str, tuple[float | None, float]]:
    """Each KPI over the WEEK_DAYS days before the day: counts as a per-day mean, shares and times as the week's
    value; the base is the week's events per day, so a thin week is marked too small like a thin day."""
    week = replace(day, start=day.start - dt.timedelta(days=WEEK_DAYS), end=day.start - dt.timedelta(days=1),
                   comparison="none")
    values = registry.measures(db, week, registry.OVERVIEW)      # the overview's own (value, base) definition
    averaged = {}
    for key, (value, base) in values.items():
        if registry.METRICS[key].unit in SUMMED_UNITS and value is not None:
            value = value / WEEK_DAYS
        averaged[key] = (value, (base or 0) / WEEK_DAYS)
    return averaged


def _district_moves(db: Database, day: Filters) -> tuple[DistrictMove, ...]:
    today = metrics.district_summary(db, day)
    before = metrics.district_summary(db, replace(day, start=day.start - dt.timedelta(days=1),
                                                  end=day.start - dt.timedelta(days=1)))
    merged = today[["district_adcode", "name_zh", "name_en", "alerts"]].merge(
        before[["district_adcode", "alerts"]].rename(columns={"alerts": "previous"}), on="district_adcode")
    if day.districts:
        merged = merged[merged["district_adcode"].isin(day.districts)]
    moves = []
    for row in merged.itertuples(index=False):
        kpi = registry.compare("alerts", float(row.alerts), float(row.previous), float(row.previous))
        moves.append(DistrictMove(row.district_adcode, row.name_zh, row.name_en, int(row.alerts), int(row.previous),
                                  kpi.change, kpi.too_small))
    moves.sort(key=lambda m: (-(m.alerts - m.previous), m.adcode))
    return tuple(moves)


def _sla_checks(db: Database, day: Filters) -> tuple[SlaCheck, ...]:
    values = registry.measures(db, day, tuple(key for key, _, _ in SLAS))
    return tuple(SlaCheck(key, values[key][0], target, at_least, int(values[key][1]))
                 for key, target, at_least in SLAS)


def _majors_where(day: Filters) -> list:
    c = AccidentCase.__table__.c
    conditions = [c.city_adcode == day.city, c.local_day >= day.start, c.local_day <= day.end,
                  c.severity == Severity.MAJOR.value]
    if day.districts:
        conditions.append(c.district_adcode.in_(day.districts))
    if day.insurer is not None:
        conditions.append(c.insurer_id == day.insurer)
    return conditions


def major_accidents(db: Database, day: Filters) -> int:
    """Accidents of the day flagged major (deaths or many injured)."""
    with db.session() as session:
        return int(session.execute(select(func.count()).where(*_majors_where(day))).scalar() or 0)


def major_accident_details(db: Database, day: Filters) -> pd.DataFrame:
    """The day's major accidents, in the order they were reported: case id, district (adcode and names), the local
    report time, how it became known (channel) and who handled it, minutes from the report to a unit on scene and to
    the road cleared (NaN where not reached), and whether a helicopter rescue was called for it."""
    c = AccidentCase.__table__.c
    r = RescueMission.__table__.c
    rescued = select(r.id).where(r.case_id == c.id).exists()
    with db.session() as session:
        rows = session.execute(select(c.id, c.district_adcode, c.reported_at, c.channel, c.handled_by,
                                      c.found_by_patrol, c.on_scene_at, c.cleared_at, rescued)
                               .where(*_majors_where(day)).order_by(c.reported_at, c.id)).all()
    columns = ["case_id", "district_adcode", "reported_at", "channel", "handled_by", "found_by_patrol", "on_scene_at",
               "cleared_at", "rescue"]
    frame = pd.DataFrame.from_records([tuple(row) for row in rows], columns=columns)
    reported = pd.to_datetime(frame["reported_at"])
    frame["reported_local"] = reported + LOCAL_OFFSET
    for stage, name in (("on_scene_at", "to_scene_min"), ("cleared_at", "cleared_min")):
        frame[name] = (pd.to_datetime(frame[stage]) - reported).dt.total_seconds() / 60
    for column in ("channel", "handled_by"):
        frame[column] = frame[column].map(lambda v: None if v is None else str(getattr(v, "value", v)))
    frame["rescue"] = frame["rescue"].astype(bool)
    frame["found_by_patrol"] = frame["found_by_patrol"].astype(bool) | (frame["channel"] == Channel.PATROL.value)
    names = metrics.districts_in_view(db, day)[["district_adcode", "name_zh", "name_en"]]
    frame = frame.merge(names, on="district_adcode", how="left")
    return frame[["case_id", "district_adcode", "name_zh", "name_en", "reported_local", "channel", "handled_by",
                  "found_by_patrol", "to_scene_min", "cleared_min", "rescue"]]


@cached_query
def daily_briefing(db: Database, city: str, day: dt.date, districts: tuple[str, ...] = (),
                   scope: Scope = EVERYTHING) -> Briefing:
    """The briefing of one local day for a city, or for some of its districts, as a viewer of `scope` may see it."""
    yoy = day_filters(city, day, districts, "yoy", scope)
    pop = replace(yoy, comparison="pop")
    against_year = registry.kpis(db, yoy, registry.OVERVIEW)
    against_day = registry.kpis(db, pop, registry.OVERVIEW)
    week = _week_average(db, yoy)
    kpis = []
    for key in registry.OVERVIEW:
        unit = registry.METRICS[key].unit
        current = against_year.get(key)
        week_value, week_base = week[key]
        kpis.append(BriefingKpi(key, unit, current.value, against_day.get(key), current,
                                registry.compare(key, current.value, week_value, week_base, current.matured)))
    trend_window = replace(yoy, start=day - dt.timedelta(days=TREND_DAYS - 1), comparison="none")
    majors = major_accident_details(db, yoy)
    return Briefing(
        filters=yoy, kpis=tuple(kpis), districts=_district_moves(db, yoy), slas=_sla_checks(db, yoy),
        rescues=rescue.missions(db, yoy), major_accidents=len(majors), majors=majors,
        duty=metrics.duty_periods(db, yoy), trend=metrics.daily_trend(db, trend_window),
        stages=payouts.stage_clocks(db, yoy), mediation_outcomes=mediation.outcome_counts(db, trend_window),
        as_of=metrics.data_as_of(db, city),
        stage_matured={stage: maturity.stage_maturity(db, yoy, stage).share for stage in maturity.STAGES},
    )


def briefing_report(briefing: Briefing) -> dict:
    """The briefing as plain data (what `jingbao briefing --format json` prints); `kpis.<key>.value` and
    `kpis.<key>.year_before.value` are the figures `jingbao kpis --start DAY --end DAY` prints."""

    def comparison(kpi: Kpi) -> dict:
        return {"value": kpi.previous, "change": kpi.change, "too_small_to_compare": kpi.too_small,
                "immature": kpi.immature}

    filters = briefing.filters
    return {
        "city": filters.city,
        "districts": list(filters.districts),
        "date": briefing.day.isoformat(),
        "data_as_of_utc": briefing.as_of.isoformat() if briefing.as_of else None,
        "too_small_below": TOO_SMALL_TO_COMPARE,
        "kpis": {k.key: {"value": k.value, "unit": k.unit, "matured": k.matured,
                         **{name: comparison(k.against(name)) for name in COMPARISONS}} for k in briefing.kpis},
        "district_moves": [{"adcode": d.adcode, "name_zh": d.name_zh, "name_en": d.name_en, "alerts": d.alerts,
                       "day_before": d.previous, "change": d.change, "too_small_to_compare": d.too_small}
                      for d in briefing.districts],
        "slas": [{"key": s.key, "value": s.value, "target": s.target, "base": s.base, "missed": s.missed}
                 for s in briefing.slas],
        "events": {
            "rescues": [{"mission_id": int(r.mission_id), "district_adcode": r.district_adcode,
                         "requested_local": r.requested_at.isoformat(timespec="minutes"), "outcome": r.outcome,
                         "hospital_min": None if pd.isna(r.hospital_min) else round(float(r.hospital_min), 1)}
                        for r in briefing.rescues.itertuples(index=False)],
            "major_accidents": briefing.major_accidents,
            "major_accident_details": [
                {"case_id": int(m.case_id), "district_adcode": m.district_adcode,
                 "reported_local": m.reported_local.isoformat(timespec="minutes"), "channel": m.channel,
                 "handled_by": m.handled_by, "to_scene_min": _minutes(m.to_scene_min),
                 "cleared_min": _minutes(m.cleared_min), "rescue": bool(m.rescue)}
                for m in briefing.majors.itertuples(index=False)],
            "duty_periods": [{"kind": p.kind, "name_zh": p.name_zh, "name_en": p.name_en,
                              "start": p.start_day.isoformat(), "end": p.end_day.isoformat()}
                             for p in briefing.duty.itertuples(index=False)],
        },
    }


def _minutes(value: float) -> float | None:
    return None if pd.isna(value) else round(float(value), 1)


PRIORITY_STAGES = {"rescue": ("requested_at", "takeoff_at", "on_scene_at", "hospital_at"),
                   "major": ("reported_at", "on_scene_at", "cleared_at")}


@cached_query
def priority_events(db: Database, city: str, since: dt.datetime) -> list[dict]:
    """Helicopter rescues requested, and accidents flagged major reported, at or after `since` (naive UTC), newest
    first: what takes over the wall display. Each: kind, id ("rescue-12"), district, place (lon/lat, the scene of a
    rescue's route or the accident), and its timeline as (stage, naive UTC time or None)."""
    r = RescueMission.__table__.c
    c = AccidentCase.__table__.c
    names = metrics.district_names(db, city).set_index("district_adcode")
    geo = {f["id"]: f["properties"] for f in metrics.district_geojson(db, city)["features"]}
    with db.session() as session:
        rescues = session.execute(select(r.id, r.district_adcode, r.route_geojson,
                                         *[r[s] for s in PRIORITY_STAGES["rescue"]])
                                  .where(r.city_adcode == city, r.requested_at >= since)).all()
        majors = session.execute(select(c.id, c.district_adcode, c.lon, c.lat,
                                        *[c[s] for s in PRIORITY_STAGES["major"]])
                                 .where(c.city_adcode == city, c.local_day >= (since + LOCAL_OFFSET).date(),
                                        c.reported_at >= since, c.severity == Severity.MAJOR.value)).all()
    events = []
    for row in rescues:
        scene = (rescue.route_points(row.route_geojson) or [None, None])
        point = scene[1] if len(scene) > 1 and scene[1] else None
        events.append(("rescue", row.id, row.district_adcode, point, PRIORITY_STAGES["rescue"], row[3:]))
    for row in majors:
        point = [row.lon, row.lat] if row.lon is not None and row.lat is not None else None
        events.append(("major", row.id, row.district_adcode, point, PRIORITY_STAGES["major"], row[4:]))
    result = []
    for kind, key, district, point, stages, times in events:
        centre = geo.get(district, {})
        lon, lat = point if point else (centre.get("center_lon"), centre.get("center_lat"))
        result.append({
            "kind": kind, "id": f"{kind}-{key}", "district_adcode": district,
            "name_zh": str(names["name_zh"].get(district, district)),
            "name_en": str(names["name_en"].get(district, district)),
            "lon": lon, "lat": lat, "at": times[0], "timeline": list(zip(stages, times, strict=True)),
        })
    result.sort(key=lambda e: e["at"], reverse=True)
    return result
