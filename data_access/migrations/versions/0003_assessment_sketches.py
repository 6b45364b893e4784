"""latency sketches of the damage-assessment stage

The payouts page shows the damage-assessment clock (assessed − reported) beside the other stages, read from the
month × district latency sketches like them. Sketches are rebuilt for data already stored, a city and a year at a
time so that memory stays bounded on large databases.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:05:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from data_access.models import LatencySketch
    from data_access.rollups import rebuild_latency_sketches

    session = Session(bind=op.get_bind())
    spans = session.execute(sa.text(
        "SELECT city_adcode, MIN(local_day), MAX(local_day) FROM accident_case GROUP BY city_adcode")).all()
    for city, first, last in spans:
        first, last = _as_date(first), _as_date(last)
        for year in range(first.year, last.year + 1):
            # this revision's table only: the per-insurer sketches come with 0005
            rebuild_latency_sketches(session, city, max(first, dt.date(year, 1, 1)), min(last, dt.date(year, 12, 31)),
                                     tables=(LatencySketch.__table__,))
    session.flush()


def downgrade() -> None:
    op.execute("DELETE FROM latency_sketch WHERE metric = 'assessment'")


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
