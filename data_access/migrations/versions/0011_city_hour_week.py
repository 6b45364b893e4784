"""hour-of-week rollup: the whole city's counts as rows of the district "*"

A city's heat map summed 168 rows per month and district (70 ms for Zhangzhou's whole history); it now reads the
whole city's own rows, 168 a month. They are filled here from the district rows already stored, in one statement;
the data version is bumped.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 11:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

WHOLE_CITY = "*"


def upgrade() -> None:
    # 0007 fills the rollup with today's code, which writes the whole-city rows already: start from none
    op.execute(sa.text("DELETE FROM hour_week_stat WHERE district_adcode = :city").bindparams(city=WHOLE_CITY))
    op.execute(sa.text(
        "INSERT INTO hour_week_stat (city_adcode, month, district_adcode, weekday, local_hour, alerts)"
        " SELECT city_adcode, month, :city, weekday, local_hour, SUM(alerts) FROM hour_week_stat"
        " GROUP BY city_adcode, month, weekday, local_hour").bindparams(city=WHOLE_CITY))
    from data_access.db import bump_data_version

    session = Session(bind=op.get_bind())
    bump_data_version(session)
    session.flush()


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM hour_week_stat WHERE district_adcode = :city").bindparams(city=WHOLE_CITY))
