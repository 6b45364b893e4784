"""The live feed simulator behind `jingbao simulate` and `jingbao serve --live`: rider units patrol their grids along
road-like legs, incidents open at realistic rates (rush hours, holidays), the nearest free unit is dispatched,
stages advance (on scene → cleared → remote liability → online assessment → paid), and all of it is written through
the ingest contract like any other feed (`ingest.store`: cases and positions of source "simulator"), so the rollups
and the data version follow every step.

Simulated time may run faster than the clock (`run(..., realtime=False)`) for tests, benchmarks and filling past days,
but never past it: no event is written with a time later than now."""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from shapely.geometry import Point, shape
from shapely.prepared import prep
from sqlalchemy import delete, select

from data_access import ingest, live
from data_access.db import Database
from data_access.demo import seasons
from data_access.geo import haversine_km
from data_access.models import (
    AccidentCase,
    Channel,
    HandledBy,
    Insurer,
    RiderUnit,
    Severity,
    StageMode,
    UnitPosition,
    UnitStatus,
)
from data_access.timeutil import local_day, local_hour, utcnow

SOURCE = "simulator"
GRID_ALERTS_PER_DAY = 13.0            # per patrol grid: 5 Zhangzhou grids ≈ 65 alerts a day in the main urban area
SPEED_KMH = {"patrol": 15.0, ("en_route", "motorcycle"): 40.0, ("en_route", "car"): 30.0}
ON_SCENE_S = (120, 600)                # evidence, photos, cars moved: 2–10 minutes
LIABILITY_AFTER_S = (30, 240)          # remote liability via 12123 after the road is cleared
ASSESSED_AFTER_S = (120, 900)          # online damage assessment
PAID_AFTER_S = (900, 3600)             # payout after assessment
PATROL_FOUND_KM = 0.3                  # a patrolling unit this close finds the accident itself
FULL_RATE_HOURS = 48                  # positions kept at the live rate; older ones are thinned
THINNED_STEP_S = 300                  # ... to one per unit per 5 minutes (and every change of status or case)
THIN_EVERY = dt.timedelta(hours=1)
# Simulated history (a past day filled for playback, a test) is stored in batches of this much simulated time: each
# store of cases refreshes the day's rollups, which costs a few hundred milliseconds. Near the clock every step is
# stored at once, so a live run's rollups follow each step.
HISTORY_BATCH_S = 900
P_TABLE = UnitPosition.__table__
# The mode a stage is reached in, sent with its time (the contract refuses a mode without its stage).
STAGE_MODES = {"liability_at": ("liability_mode", StageMode.REMOTE.value),
               "assessed_at": ("assessment_mode", StageMode.ONLINE.value)}


class SimulatorError(RuntimeError):
    """The store refused rows the simulator wrote: a bug of the simulator, never of its input."""


@dataclass
class UnitSim:
    unit_id: int
    grid_id: int
    vehicle_kind: str
    lon: float
    lat: float
    code: str = ""                                                    # the unit's id in the feeds
    status: str = UnitStatus.PATROLLING.value
    case_id: str | None = None                                        # the external id of its case
    legs: list[tuple[float, float]] = field(default_factory=list)     # waypoints still to reach
    until: dt.datetime | None = None                                  # end of the on-scene work


@dataclass
class Dispatch:
    case_id: int
    unit_id: int | None
    at: dt.datetime
    distance_km: float | None


@dataclass
class PendingStage:
    case_id: str
    column: str
    at: dt.datetime


class Simulator:
    """One city's live feed. `now` starts at `start` (UTC, default the clock) and advances with `step`."""

    def __init__(self, db: Database, city: str, *, seed: int = 1, start: dt.datetime | None = None,
                 report_every_s: int = 15, rate_scale: float = 1.0, incidents: bool = True,
                 history_batch_s: float = HISTORY_BATCH_S) -> None:
        self.db = db
        self.history_batch_s = history_batch_s
        self.city = city
        self.rng = np.random.default_rng(seed)
        self.now = (start or utcnow()).replace(microsecond=0)
        self.report_every_s = report_every_s
        self.rate_scale = rate_scale if incidents else 0.0      # without incidents the units only patrol
        grids = live.grids.uncached(db, city)
        self.grids = {int(r["grid_id"]): shape(r["polygon"]) for r in grids.to_dict("records")}
        self.grid_district = {int(r["grid_id"]): r["district_adcode"] for r in grids.to_dict("records")}
        self._inside = {g: prep(p) for g, p in self.grids.items()}
        with db.session() as session:
            self.insurers = [i for (i,) in session.execute(select(Insurer.id).where(Insurer.city_adcode == city))]
            codes = dict(session.execute(select(RiderUnit.id, RiderUnit.code).where(RiderUnit.city_adcode == city)
                                         ).all())
        self.places = ingest.Places.load(db)
        states = live.unit_states(db, city)
        self.units: dict[int, UnitSim] = {}
        for row in states.to_dict("records"):
            grid = int(row["grid_id"])
            if grid not in self.grids or not codes.get(int(row["unit_id"])):     # a unit without a code cannot report
                continue
            lon, lat = row["lon"], row["lat"]
            if pd.isna(lon) or not self._inside[grid].contains(Point(lon, lat)):
                lon, lat = self._random_point(grid)
            unit_id = int(row["unit_id"])
            self.units[unit_id] = UnitSim(unit_id, grid, row["vehicle_kind"], lon, lat, codes[unit_id])
        self.cases: dict[str, dict] = {}             # the contract row of every case not paid yet, by external id
        self.links: dict[str, dict] = {}             # ... and its grid and unit, which the contract does not carry
        self.amounts: dict[str, float] = {}          # ... and the amount its payout will be
        self.pending: list[PendingStage] = []
        self.dispatches: list[Dispatch] = []
        # what the next store sends: positions, the cases opened or advanced, the dispatches waiting for a case id
        self._positions: list[dict] = []
        self._touched: dict[str, None] = {}
        self._unresolved: list[tuple[Dispatch, str]] = []
        self._stored_at = self.now
        self.sequence = 0
        self._since_report = report_every_s          # report every unit on the first step
        self._thinned_to: dt.datetime | None = None  # positions before this are thinned already

    # ------------------------------------------------------------------------------------------ geometry
    def _random_point(self, grid: int) -> tuple[float, float]:
        polygon = self.grids[grid]
        minx, miny, maxx, maxy = polygon.bounds
        for _ in range(200):
            lon, lat = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
            if self._inside[grid].contains(Point(lon, lat)):
                return float(lon), float(lat)
        centre = polygon.representative_point()
        return float(centre.x), float(centre.y)

    def _patrol_legs(self, unit: UnitSim) -> list[tuple[float, float]]:
        """Road-like legs to a new point of the grid: along one axis, then the other, when the corner lies inside
        the grid; otherwise straight (a grid is convex, so a straight leg never leaves it)."""
        lon, lat = self._random_point(unit.grid_id)
        corner = (lon, unit.lat) if self.rng.random() < 0.5 else (unit.lon, lat)
        if self._inside[unit.grid_id].contains(Point(*corner)):
            return [corner, (lon, lat)]
        return [(lon, lat)]

    @staticmethod
    def _move(unit: UnitSim, km: float) -> None:
        """Move `km` along the unit's legs, dropping the legs it reaches."""
        while km > 0 and unit.legs:
            tlon, tlat = unit.legs[0]
            left = float(haversine_km(unit.lon, unit.lat, tlon, tlat))
            if left <= km:
                unit.lon, unit.lat = tlon, tlat
                unit.legs.pop(0)
                km -= left
            else:
                share = km / left
                unit.lon += (tlon - unit.lon) * share
                unit.lat += (tlat - unit.lat) * share
                km = 0

    # ------------------------------------------------------------------------------------------ rates
    def incident_rate_per_s(self, at: dt.datetime) -> float:
        """Expected new incidents per second at `at` over all grids: the demo's hour-of-day and calendar shapes."""
        day = pd.DatetimeIndex([pd.Timestamp(local_day(at))])
        year = pd.date_range(dt.date(local_day(at).year, 1, 1), periods=365, freq="D")
        calendar = float(seasons.accident_day_weights(day)[0] / seasons.accident_day_weights(year).mean())
        hourly = GRID_ALERTS_PER_DAY * len(self.grids) * calendar * float(seasons.HOUR_P[local_hour(at)])
        return hourly / 3600 * self.rate_scale

    def on_duty(self, unit: UnitSim, at: dt.datetime) -> bool:
        """Shifts: at night (23:00–07:00 local) one unit in three is on duty; by day nine in ten, in rotation."""
        hour = local_hour(at)
        if hour >= 23 or hour < 7:
            return unit.unit_id % 3 == 0
        return (unit.unit_id + local_day(at).toordinal()) % 10 != 0

    # ------------------------------------------------------------------------------------------ one step
    def step(self, seconds: float, batch: bool = False) -> None:
        """Advance `seconds` of simulated time (fewer when that would pass the clock) and store what happened; with
        `batch`, history further than HISTORY_BATCH_S from the clock is stored once per HISTORY_BATCH_S."""
        seconds = min(seconds, math.floor((utcnow() - self.now).total_seconds()))
        if seconds <= 0:
            return
        self.now += dt.timedelta(seconds=seconds)
        now = self.now
        positions: list[dict] = []
        stage_updates: list[tuple[str, dict]] = []
        self._since_report += seconds
        report_all = self._since_report >= self.report_every_s
        if report_all:
            self._since_report = 0
        for unit in self.units.values():
            before = (unit.status, unit.case_id)
            self._advance_unit(unit, seconds, now, stage_updates)
            changed = (unit.status, unit.case_id) != before
            if changed or (report_all and unit.status != UnitStatus.OFF_DUTY.value):
                positions.append(self._position(unit, now))
        new_cases = self._open_incidents(seconds, now, positions)
        due = [p for p in self.pending if p.at <= now]
        self.pending = [p for p in self.pending if p.at > now]
        stage_updates += [(p.case_id, {p.column: p.at}) for p in due]
        self._record(positions, new_cases, stage_updates)
        near_clock = utcnow() - now <= dt.timedelta(seconds=self.history_batch_s)
        if not batch or near_clock or (now - self._stored_at).total_seconds() >= self.history_batch_s:
            self.flush()
        if self._thinned_to is None or now - self._thinned_to >= THIN_EVERY + dt.timedelta(hours=FULL_RATE_HOURS):
            cutoff = now - dt.timedelta(hours=FULL_RATE_HOURS)
            thin_positions(self.db, cutoff, since=self._thinned_to, units=tuple(self.units))
            self._thinned_to = cutoff

    def _position(self, unit: UnitSim, at: dt.datetime) -> dict:
        """A row of the positions contract."""
        return {"unit_id": unit.code, "at": at.replace(tzinfo=dt.UTC), "lon": round(unit.lon, 6),
                "lat": round(unit.lat, 6), "status": unit.status, "case_id": unit.case_id}

    def _advance_unit(self, unit: UnitSim, seconds: float, now: dt.datetime, updates: list) -> None:
        if unit.status == UnitStatus.OFF_DUTY.value:
            if self.on_duty(unit, now):
                unit.status = UnitStatus.PATROLLING.value
            return
        if unit.status == UnitStatus.PATROLLING.value:
            if not self.on_duty(unit, now):
                unit.status, unit.legs = UnitStatus.OFF_DUTY.value, []
                return
            if not unit.legs:
                unit.legs = self._patrol_legs(unit)
            self._move(unit, SPEED_KMH["patrol"] * seconds / 3600)
        elif unit.status == UnitStatus.EN_ROUTE.value:
            self._move(unit, SPEED_KMH[("en_route", unit.vehicle_kind)] * seconds / 3600)
            if not unit.legs:
                unit.status = UnitStatus.ON_SCENE.value
                unit.until = now + dt.timedelta(seconds=int(self.rng.integers(*ON_SCENE_S)))
                updates.append((unit.case_id, {"on_scene_at": now}))
        elif unit.status == UnitStatus.ON_SCENE.value and unit.until is not None and now >= unit.until:
            self._clear(unit, now, updates)

    def _clear(self, unit: UnitSim, now: dt.datetime, updates: list) -> None:
        """The road is clear: liability, assessment and payout follow on the case; the unit patrols back home."""
        case = unit.case_id
        updates.append((case, {"cleared_at": now, "quick_handled": True}))
        liability = now + dt.timedelta(seconds=int(self.rng.integers(*LIABILITY_AFTER_S)))
        assessed = liability + dt.timedelta(seconds=int(self.rng.integers(*ASSESSED_AFTER_S)))
        paid = assessed + dt.timedelta(seconds=int(self.rng.integers(*PAID_AFTER_S)))
        self.pending += [PendingStage(case, "liability_at", liability), PendingStage(case, "assessed_at", assessed),
                         PendingStage(case, "paid_at", paid)]
        unit.status, unit.case_id, unit.until = UnitStatus.PATROLLING.value, None, None
        home = self.grids[unit.grid_id]
        if not self._inside[unit.grid_id].contains(Point(unit.lon, unit.lat)):
            nearest = home.exterior.interpolate(home.exterior.project(Point(unit.lon, unit.lat)))
            inner = home.centroid
            # a point just inside the boundary, on the way to the centre
            unit.legs = [(nearest.x + (inner.x - nearest.x) * 0.05, nearest.y + (inner.y - nearest.y) * 0.05)]

    def _open_incidents(self, seconds: float, now: dt.datetime, positions: list[dict]) -> list[str]:
        """Open the incidents of this step and dispatch a unit to each; returns their external ids."""
        if not self.rate_scale:
            return []
        count = int(self.rng.poisson(self.incident_rate_per_s(now) * seconds))
        cases = []
        grid_ids = list(self.grids)
        for _ in range(count):
            grid = grid_ids[int(self.rng.integers(len(grid_ids)))]
            lon, lat = self._random_point(grid)
            self.sequence += 1
            free = [u for u in self.units.values() if u.status == UnitStatus.PATROLLING.value]
            unit = None
            distance = None
            if free:
                distances = haversine_km([u.lon for u in free], [u.lat for u in free], lon, lat)
                best = int(np.argmin(distances))
                unit, distance = free[best], float(distances[best])
            found = distance is not None and distance <= PATROL_FOUND_KM
            external_id = f"SIM-{self.city}-{now:%Y%m%d%H%M%S}-{self.sequence}"
            insurer = self.insurers[int(self.rng.integers(len(self.insurers)))] if self.insurers else None
            self.cases[external_id] = {
                "case_id": external_id, "city": self.city, "district": self.grid_district[grid],
                "reported_at": now.replace(tzinfo=dt.UTC), "found_by_patrol": found,
                "channel": (Channel.PATROL if found else Channel.POLICE_CALL).value, "severity": Severity.MINOR.value,
                "handled_by": HandledBy.RIDER_TEAM.value if unit else None, "lon": round(lon, 6), "lat": round(lat, 6),
                "quick_handled": False, "handled_online": True, "insurer": None if insurer is None else str(insurer)}
            self.links[external_id] = {"grid_id": grid, "unit_id": unit.unit_id if unit else None}
            self.amounts[external_id] = round(float(self.rng.lognormal(7.3, 0.6)), 2)
            self.dispatches.append(Dispatch(0, unit.unit_id if unit else None, now, distance))
            self._unresolved.append((self.dispatches[-1], external_id))
            cases.append(external_id)
            if unit:
                unit.case_id = external_id
                if found:
                    # the patrol is already there: report, dispatch and arrival are one moment
                    self.cases[external_id]["on_scene_at"] = now.replace(tzinfo=dt.UTC)
                    unit.status, unit.legs = UnitStatus.ON_SCENE.value, []
                    unit.until = now + dt.timedelta(seconds=int(self.rng.integers(*ON_SCENE_S)))
                else:
                    unit.status = UnitStatus.EN_ROUTE.value
                    unit.legs = [(lon, unit.lat), (lon, lat)]
                positions.append(self._position(unit, now))
        return cases

    def _record(self, positions: list[dict], new_cases: list[str], stage_updates: list[tuple[str, dict]]) -> None:
        """Apply the step's stages to the cases' rows and queue them with the positions for the next store."""
        self._touched.update(dict.fromkeys(new_cases))
        for case_id, values in stage_updates:
            if case_id is None or case_id not in self.cases:
                continue
            row = self.cases[case_id]
            for column, at in values.items():
                row[column] = at.replace(tzinfo=dt.UTC) if isinstance(at, dt.datetime) else at
                if column in STAGE_MODES:
                    mode, value = STAGE_MODES[column]
                    row[mode] = value
                if column == "paid_at":
                    row["paid_amount_yuan"] = self.amounts[case_id]
            self._touched[case_id] = None
        self._positions += positions

    def flush(self) -> None:
        """Store what the steps since the last store did, through the ingest contract: the new and advanced cases
        (the rollups of their days are refreshed and the data version moves), then the units' positions."""
        touched, self._touched = list(self._touched), {}
        positions, self._positions = _last_per_unit(self._positions), []
        self._stored_at = self.now
        if touched:
            self._store("cases", [self.cases[c] for c in touched], links={c: self.links[c] for c in touched})
            if self._unresolved:
                wanted = [case_id for _, case_id in self._unresolved]
                with self.db.session() as session:
                    ids = dict(session.execute(select(AccidentCase.external_id, AccidentCase.id).where(
                        AccidentCase.source == SOURCE, AccidentCase.external_id.in_(wanted))).all())
                for dispatch, case_id in self._unresolved:
                    dispatch.case_id = ids[case_id]
                self._unresolved = []
            for case_id in touched:
                if self.cases[case_id].get("paid_at") is not None:     # the last stage: nothing more to send
                    del self.cases[case_id], self.links[case_id], self.amounts[case_id]
        if positions:
            self._store("positions", positions)

    def _store(self, kind: str, rows: list[dict], links: dict | None = None) -> None:
        result = ingest.store(self.db, kind, SOURCE, rows, places=self.places, links=links)
        if result.problems:
            raise SimulatorError(f"the store refused {result.rejected_rows} {kind} rows of the simulator: "
                                 f"{result.problems[0].as_dict()}")

    def run(self, seconds: float, step_s: float = 15, realtime: bool = False, stop=None, flush: bool = True) -> None:
        """Run for `seconds` of simulated time in steps of `step_s`; with `realtime`, at the clock's pace. Without it
        as fast as it can, until it catches up with the clock: from there on a step waits for the clock. With
        `flush` what is still queued is stored at the end."""
        try:
            self._run(seconds, step_s, realtime, stop)
        finally:
            if flush:
                self.flush()

    def _run(self, seconds: float, step_s: float, realtime: bool, stop) -> None:
        steps = max(1, math.ceil(seconds / step_s))
        for _ in range(steps):
            ahead = (self.now + dt.timedelta(seconds=step_s) - utcnow()).total_seconds()
            if not realtime and ahead > 0:
                if stop is not None:
                    if stop.wait(ahead):
                        return
                else:
                    time.sleep(ahead)
            started = time.monotonic()
            self.step(step_s, batch=True)
            if stop is not None and stop.is_set():
                return
            if realtime:
                wait = step_s - (time.monotonic() - started)
                if stop is not None:
                    if stop.wait(max(0.0, wait)):
                        return
                elif wait > 0:
                    time.sleep(wait)


def thin_positions(db: Database, before: dt.datetime, since: dt.datetime | None = None,
                   units: tuple[int, ...] = (), step_s: int = THINNED_STEP_S) -> int:
    """Thin the position history older than `before` (and not older than `since`, when given) to one row per unit
    per `step_s` seconds, keeping every row where a unit's status or case changed, so that playback of an older day
    still shows each unit every few minutes and every dispatch. `units` limits it to some units (a city's). Returns
    the number of rows deleted."""
    conditions = [P_TABLE.c.at < before]
    if since is not None:
        conditions.append(P_TABLE.c.at >= since)
    if units:
        conditions.append(P_TABLE.c.unit_id.in_(units))
    with db.session() as session:
        rows = session.execute(select(P_TABLE.c.id, P_TABLE.c.unit_id, P_TABLE.c.at, P_TABLE.c.status,
                                      P_TABLE.c.case_id).where(*conditions)
                               .order_by(P_TABLE.c.unit_id, P_TABLE.c.at, P_TABLE.c.id)).all()
    if not rows:
        return 0
    frame = pd.DataFrame(rows, columns=["id", "unit_id", "at", "status", "case_id"])
    frame["status"] = frame["status"].map(lambda v: str(getattr(v, "value", v)))
    frame["case_id"] = frame["case_id"].fillna(-1)
    seconds = (pd.to_datetime(frame["at"]) - pd.Timestamp("2000-01-01")).dt.total_seconds()
    frame["bucket"] = (seconds // step_s).astype("int64")
    first_in_bucket = ~frame.duplicated(["unit_id", "bucket"])
    same_unit = frame["unit_id"].eq(frame["unit_id"].shift())
    changed = ~same_unit | frame["status"].ne(frame["status"].shift()) | frame["case_id"].ne(frame["case_id"].shift())
    doomed = frame.loc[~(first_in_bucket | changed), "id"].astype(int).tolist()
    with db.transaction() as session:
        for chunk in range(0, len(doomed), 5_000):
            session.execute(delete(P_TABLE).where(P_TABLE.c.id.in_(doomed[chunk:chunk + 5_000])))
    return len(doomed)


def _last_per_unit(positions: list[dict]) -> list[dict]:
    """One row per unit and time: the last state wins (a unit dispatched and arriving in the same step)."""
    rows: dict[tuple[str, dt.datetime], dict] = {}
    for row in positions:
        rows[(row["unit_id"], row["at"])] = row
    return list(rows.values())


def start_live_feed(db: Database, cities: tuple[str, ...], step_s: float = 15, seed: int = 1):
    """Run one simulator per city at the clock's pace in a daemon thread (`jingbao serve --live`); returns the
    threading.Event that stops it."""
    import threading

    stop = threading.Event()

    def feed() -> None:
        sims = [Simulator(db, city, seed=seed + i) for i, city in enumerate(cities)]
        while not stop.is_set():
            started = time.monotonic()
            for sim in sims:
                sim.step(max(1.0, (utcnow() - sim.now).total_seconds()))
            stop.wait(max(0.0, step_s - (time.monotonic() - started)))

    threading.Thread(target=feed, name="jingbao-live-feed", daemon=True).start()
    return stop
