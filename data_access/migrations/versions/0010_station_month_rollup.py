"""station month rollup: the stations' work (persuasion records, vehicle services, e-bike registrations) per calendar
month, district and kind

The stations page summed a year of Chongqing's persuasion records (about 165,000 day rows) for its window and again
for its comparison, 150 ms each; it now reads a window's whole months from this table and only its cut months' days
from the day rows (`stations.station_sums`). Filled from the rows already stored, a city and a year at a time; the
data version is bumped.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:30:00
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.create_table('station_month',
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('activity', sa.String(length=16), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('city_adcode', 'month', 'activity', 'district_adcode', 'kind')
    )
    _fill()


def _fill() -> None:
    from data_access.db import bump_data_version
    from data_access.station_rollup import rebuild_station_months

    session = Session(bind=op.get_bind())
    spans = session.execute(sa.text(
        "SELECT city_adcode, MIN(local_day), MAX(local_day) FROM ("
        " SELECT city_adcode, local_day FROM persuasion_record UNION ALL"
        " SELECT city_adcode, local_day FROM vehicle_service UNION ALL"
        " SELECT city_adcode, local_day FROM ebike_registration) AS days GROUP BY city_adcode")).all()
    for city, first, last in spans:
        started = time.perf_counter()
        first, last = _as_date(first), _as_date(last)
        for year in range(first.year, last.year + 1):       # a city and a year at a time: memory stays bounded
            rebuild_station_months(session, city, max(first, dt.date(year, 1, 1)), min(last, dt.date(year, 12, 31)))
        log.info("station_month: city %s filled in %.1f s", city, time.perf_counter() - started)
    bump_data_version(session)
    session.flush()


def downgrade() -> None:
    op.drop_table('station_month')


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
