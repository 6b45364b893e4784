"""demand rollup: the located accidents of each city and month packed as arrays, for the coverage plan

The coverage page read every located accident of its window from the raw cases (three seconds for Chongqing's
whole history, most of it turning rows into arrays); it now reads the whole months of its window from this table and
only the cut months at the edges from the raw cases (data_access.demand_rollup). The table is filled from the cases
already stored, a city and a year at a time, and the data version is bumped.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.create_table('demand_month',
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('districts', sa.Text(), nullable=False),
    sa.Column('severities', sa.Text(), nullable=False),
    sa.Column('lon', sa.LargeBinary(), nullable=False),
    sa.Column('lat', sa.LargeBinary(), nullable=False),
    sa.Column('district', sa.LargeBinary(), nullable=False),
    sa.Column('severity', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('city_adcode', 'month')
    )
    _fill()


def _fill() -> None:
    from data_access.db import bump_data_version
    from data_access.demand_rollup import rebuild_demand_months

    session = Session(bind=op.get_bind())
    spans = session.execute(sa.text(
        "SELECT city_adcode, MIN(local_day), MAX(local_day) FROM accident_case GROUP BY city_adcode")).all()
    for city, first, last in spans:
        started = time.perf_counter()
        first, last = _as_date(first), _as_date(last)
        for year in range(first.year, last.year + 1):       # a city and a year at a time: memory stays bounded
            rebuild_demand_months(session, city, max(first, dt.date(year, 1, 1)), min(last, dt.date(year, 12, 31)))
        log.info("demand_month: city %s filled in %.1f s", city, time.perf_counter() - started)
    bump_data_version(session)
    session.flush()


def downgrade() -> None:
    op.drop_table('demand_month')


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
