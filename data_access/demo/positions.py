"""Unit position history for the demo: the simulator's patrols (no incidents, so the calibrated case data stays as
built) over the hours before `end`, so that the live map shows units and playback has a recent history at once."""

from __future__ import annotations

import datetime as dt

from data_access.db import Database
from data_access.simulator import Simulator

DEMO_HOURS = 2.0


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
