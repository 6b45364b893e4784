"""per-insurer rollups: day × district × insurer counts and month × district × insurer latency sketches

An insurer's account sees only its own insurer's cases, and its figures are read from rollups like everyone else's
instead of from the raw cases. The two tables are filled from the cases already stored, a city and a year at a time
so that memory stays bounded on large databases.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('insurer_daily_stat',
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('insurer_id', sa.Integer(), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('alerts', sa.Integer(), nullable=False),
    sa.Column('alerts_by_patrol', sa.Integer(), nullable=False),
    sa.Column('quick', sa.Integer(), nullable=False),
    sa.Column('quick_rider', sa.Integer(), nullable=False),
    sa.Column('handled_online', sa.Integer(), nullable=False),
    sa.Column('remote_liability', sa.Integer(), nullable=False),
    sa.Column('remote_liability_rider', sa.Integer(), nullable=False),
    sa.Column('remote_liability_in_sla', sa.Integer(), nullable=False),
    sa.Column('online_assessed', sa.Integer(), nullable=False),
    sa.Column('paid', sa.Integer(), nullable=False),
    sa.Column('paid_amount_yuan', sa.Float(), nullable=False),
    sa.Column('one_click', sa.Integer(), nullable=False),
    sa.Column('one_click_amount_yuan', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('city_adcode', 'insurer_id', 'local_day', 'district_adcode')
    )
    with op.batch_alter_table('insurer_daily_stat', schema=None) as batch_op:
        batch_op.create_index('ix_insurer_daily_stat_city_day', ['city_adcode', 'local_day'], unique=False)

    op.create_table('insurer_latency_sketch',
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('insurer_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=24), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('min_seconds', sa.Float(), nullable=False),
    sa.Column('bins', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('city_adcode', 'insurer_id', 'metric', 'month', 'district_adcode')
    )
    with op.batch_alter_table('insurer_latency_sketch', schema=None) as batch_op:
        batch_op.create_index('ix_insurer_latency_sketch_city_month', ['city_adcode', 'month'], unique=False)

    _fill()


def _fill() -> None:
    from data_access.models import InsurerDailyStat, InsurerLatencySketch
    from data_access.rollups import rebuild_daily_stats, rebuild_latency_sketches

    session = Session(bind=op.get_bind())
    spans = session.execute(sa.text(
        "SELECT city_adcode, MIN(local_day), MAX(local_day) FROM accident_case GROUP BY city_adcode")).all()
    for city, first, last in spans:
        first, last = _as_date(first), _as_date(last)
        for year in range(first.year, last.year + 1):
            start, end = max(first, dt.date(year, 1, 1)), min(last, dt.date(year, 12, 31))
            rebuild_daily_stats(session, city, start, end, tables=(InsurerDailyStat.__table__,))
            rebuild_latency_sketches(session, city, start, end, tables=(InsurerLatencySketch.__table__,))
    session.flush()


def downgrade() -> None:
    with op.batch_alter_table('insurer_latency_sketch', schema=None) as batch_op:
        batch_op.drop_index('ix_insurer_latency_sketch_city_month')
    op.drop_table('insurer_latency_sketch')
    with op.batch_alter_table('insurer_daily_stat', schema=None) as batch_op:
        batch_op.drop_index('ix_insurer_daily_stat_city_day')
    op.drop_table('insurer_daily_stat')


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
