"""reference data through the contract: sources, station closing days, unit codes, admin tokens

A bureau registers its own insurers, stations, patrol grids, rider teams and units and duty periods through the
same contract as cases (`jingbao import <kind>`, `POST /api/v1/<kind>` with an admin token). Each of those rows
now records the source that sent it, so a second file upserts on (source, code) instead of adding a copy:

- station: `source`, `closed_on` (a later file closes a station without deleting its history);
- insurer: `source`, `active`; a code is unique within its city;
- patrol_grid, rider_team, duty_period: `source`; rider_unit: `source`, `code` (the unit's id in the feeds,
  unique everywhere; existing units get `<city>-<team>-<n>`), `grid_id` (checked by the import, not a foreign
  key: adding one would make SQLite copy the table);
- duty_period.kind becomes optional (an imported period is named, not one of the four demo kinds);
- api_token: `admin` (a token that may write reference data).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

DUTY_KIND = sa.Enum('spring_festival', 'back_to_work', 'college_exam', 'national_day', name='duty_kind',
                    native_enum=False, length=24)


def _source() -> sa.Column:
    return sa.Column('source', sa.String(length=40), nullable=False, server_default='demo')


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX: SQLite's batch mode would copy every table that other tables reference
    # (station, rider_unit), which fails with foreign keys on and takes minutes on a full database.
    op.add_column('station', sa.Column('closed_on', sa.Date(), nullable=True))
    op.add_column('insurer', sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    for table in ('station', 'insurer', 'patrol_grid', 'rider_team', 'duty_period', 'rider_unit'):
        op.add_column(table, _source())
    op.add_column('api_token', sa.Column('admin', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('rider_unit', sa.Column('code', sa.String(length=40), nullable=False, server_default=''))
    op.add_column('rider_unit', sa.Column('grid_id', sa.Integer(), nullable=True))
    # Existing units: the code the demo builder gives (`<city>-<team>-<n>`, n the unit's place in its team); their
    # grid is their team's.
    bind = op.get_bind()
    units = bind.execute(sa.text(
        "SELECT u.id, u.city_adcode, t.code, t.grid_id FROM rider_unit u JOIN rider_team t ON t.id = u.team_id "
        "ORDER BY u.team_id, u.id")).all()
    seen: dict[tuple[str, str], int] = {}
    for unit_id, city, team_code, grid_id in units:
        n = seen[(city, team_code)] = seen.get((city, team_code), 0) + 1
        bind.execute(sa.text("UPDATE rider_unit SET code = :code, grid_id = :grid WHERE id = :id"),
                     {"code": f"{city}-{team_code}-{n:02d}", "grid": grid_id, "id": unit_id})
    op.create_index('uq_station_source_code', 'station', ['source', 'code'], unique=True)
    op.create_index('uq_insurer_city_code', 'insurer', ['city_adcode', 'code'], unique=True)
    op.create_index('uq_patrol_grid_source_code', 'patrol_grid', ['source', 'code'], unique=True)
    op.create_index('uq_rider_team_source_city_code', 'rider_team', ['source', 'city_adcode', 'code'], unique=True)
    op.create_index('uq_rider_unit_code', 'rider_unit', ['code'], unique=True)
    with op.batch_alter_table('duty_period', schema=None) as batch_op:    # small, and nothing refers to it
        batch_op.alter_column('kind', existing_type=DUTY_KIND, nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('duty_period', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=DUTY_KIND, nullable=False)
    for index, table in (('uq_rider_unit_code', 'rider_unit'), ('uq_rider_team_source_city_code', 'rider_team'),
                         ('uq_patrol_grid_source_code', 'patrol_grid'), ('uq_insurer_city_code', 'insurer'),
                         ('uq_station_source_code', 'station')):
        op.drop_index(index, table_name=table)
    for table, column in (('rider_unit', 'grid_id'), ('rider_unit', 'code'), ('api_token', 'admin'),
                          ('rider_unit', 'source'), ('duty_period', 'source'), ('rider_team', 'source'),
                          ('patrol_grid', 'source'), ('insurer', 'source'), ('station', 'source'),
                          ('insurer', 'active'), ('station', 'closed_on')):
        op.drop_column(table, column)
