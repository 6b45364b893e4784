"""Unit position history for the demo: the simulator's patrols (no incidents, so the calibrated case data stays as
built) over the hours before `end`, so that the live map shows units and playback has a recent history at once."""

from __future__ import annotations

import datetime as dt

from data_access.db import Database
from data_access.simulator import Simulator

DEMO_HOURS = 2.0
HISTORY_HOURS = 48.0          # what playback of yesterday needs
HISTORY_STEP_S = 300          # the thinned rate of positions older than the live window


def build_positions(db: Database, end: dt.datetime, hours: float = DEMO_HOURS, step_s: int = 60,
                    cities: tuple[str, ...] = ("350600", "500000"), seed: int = 1) -> int:
    """Write `hours` of patrol positions up to `end` (UTC) for every unit of `cities`; returns the steps run."""
    steps = 0
    for i, city in enumerate(cities):
        sim = Simulator(db, city, seed=seed + i, start=end - dt.timedelta(hours=hours), report_every_s=step_s,
                        incidents=False)
        if not sim.units:
            continue
        sim.run(hours * 3600, step_s=step_s)
        steps += int(hours * 3600 // step_s)
    return steps


def backfill_history(db: Database, now: dt.datetime, cities: tuple[str, ...] = ("350600", "500000"),
                     seed: int = 1) -> float:
    """Patrol positions at the thinned rate (one per unit per 5 minutes) for the hours before the oldest stored
    position, so that 48 hours can be played back; returns the hours written (0 when the history is long enough
    or there are no positions to extend)."""
    from sqlalchemy import func, select

    from data_access.models import UnitPosition

    with db.session() as session:
        oldest = session.execute(select(func.min(UnitPosition.at))).scalar()
    if oldest is None:
        return 0.0
    oldest = oldest if isinstance(oldest, dt.datetime) else dt.datetime.fromisoformat(str(oldest))
    missing = (oldest - (now - dt.timedelta(hours=HISTORY_HOURS))).total_seconds() / 3600
    if missing < HISTORY_STEP_S / 3600:
        return 0.0
    build_positions(db, oldest - dt.timedelta(seconds=HISTORY_STEP_S), hours=missing, step_s=HISTORY_STEP_S,
                    cities=cities, seed=seed + 100)
    return missing
