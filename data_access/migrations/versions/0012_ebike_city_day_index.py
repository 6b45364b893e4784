"""e-bike registrations: an index on (city, day), as the stations' other day rows have

The stations page reads the days of a window's cut months from the day rows (`stations.station_sums`); without this
index each read scanned every city's registrations (25 ms each on the full demo data).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:10:00
"""

from __future__ import annotations

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_ebike_registration_city_day', 'ebike_registration', ['city_adcode', 'local_day'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_ebike_registration_city_day', table_name='ebike_registration')
