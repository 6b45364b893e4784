"""month rollups: the day rollups' counts and sums per calendar month and district (and insurer)

A year of Chongqing's KPIs summed about 14,000 day rows per window (and as many for its comparison); a window's
whole months are now read from these tables (about 450 rows a year) and only its cut months' days from the day
rollups (`metrics.case_totals`). Filled from the day rollups already stored, a city and a year at a time; the data
version is bumped.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

COUNTS = ('cases', 'alerts', 'alerts_by_patrol', 'quick', 'quick_rider', 'handled_online', 'remote_liability',
          'remote_liability_rider', 'remote_liability_in_sla', 'online_assessed', 'paid', 'one_click')
AMOUNTS = ('paid_amount_yuan', 'one_click_amount_yuan')


def _sums() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS] + \
        [sa.Column(name, sa.Float(), nullable=False) for name in AMOUNTS]


def upgrade() -> None:
    op.create_table('monthly_stat',
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    *_sums(),
    sa.PrimaryKeyConstraint('city_adcode', 'month', 'district_adcode')
    )
    op.create_table('insurer_monthly_stat',
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('insurer_id', sa.Integer(), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    *_sums(),
    sa.PrimaryKeyConstraint('city_adcode', 'month', 'insurer_id', 'district_adcode')
    )
    _fill()


def _fill() -> None:
    from data_access.db import bump_data_version
    from data_access.rollups import rebuild_month_stats

    session = Session(bind=op.get_bind())
    spans = session.execute(sa.text(
        "SELECT city_adcode, MIN(local_day), MAX(local_day) FROM daily_stat GROUP BY city_adcode")).all()
    for city, first, last in spans:
        started = time.perf_counter()
        first, last = _as_date(first), _as_date(last)
        for year in range(first.year, last.year + 1):       # a city and a year at a time: memory stays bounded
            rebuild_month_stats(session, city, max(first, dt.date(year, 1, 1)), min(last, dt.date(year, 12, 31)))
        log.info("monthly_stat: city %s filled in %.1f s", city, time.perf_counter() - started)
    bump_data_version(session)
    session.flush()


def downgrade() -> None:
    op.drop_table('insurer_monthly_stat')
    op.drop_table('monthly_stat')


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
