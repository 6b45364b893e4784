"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 08:25:45.715499
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('city',
    sa.Column('adcode', sa.String(length=6), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.Column('programme_start', sa.Date(), nullable=False),
    sa.Column('center_lon', sa.Float(), nullable=False),
    sa.Column('center_lat', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('adcode')
    )
    op.create_table('daily_stat',
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
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
    sa.PrimaryKeyConstraint('city_adcode', 'district_adcode', 'local_day')
    )
    with op.batch_alter_table('daily_stat', schema=None) as batch_op:
        batch_op.create_index('ix_daily_stat_city_day', ['city_adcode', 'local_day'], unique=False)

    op.create_table('data_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('demo_build',
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('scale', sa.Float(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('built_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('city_adcode')
    )
    op.create_table('latency_sketch',
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('metric', sa.String(length=24), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('min_seconds', sa.Float(), nullable=False),
    sa.Column('bins', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('city_adcode', 'district_adcode', 'month', 'metric')
    )
    op.create_table('district',
    sa.Column('adcode', sa.String(length=6), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.Column('main_urban', sa.Boolean(), nullable=False),
    sa.Column('rural', sa.Boolean(), nullable=False),
    sa.Column('center_lon', sa.Float(), nullable=False),
    sa.Column('center_lat', sa.Float(), nullable=False),
    sa.Column('boundary_geojson', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.PrimaryKeyConstraint('adcode')
    )
    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_district_city_adcode'), ['city_adcode'], unique=False)

    op.create_table('duty_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.Enum('spring_festival', 'back_to_work', 'college_exam', 'national_day', name='duty_kind', native_enum=False, length=24), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.Column('start_day', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('insurer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('name_zh', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('on_platform', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('insurer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insurer_city_adcode'), ['city_adcode'], unique=False)

    op.create_table('fraud_lead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('insurer_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('suspected', sa.Boolean(), nullable=False),
    sa.Column('amount_yuan', sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=True),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.ForeignKeyConstraint(['district_adcode'], ['district.adcode'], ),
    sa.ForeignKeyConstraint(['insurer_id'], ['insurer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('mediation_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('opened_day', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_day', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Enum('open', 'settled', 'failed', 'litigation', name='mediation_outcome', native_enum=False, length=24), nullable=False),
    sa.Column('pre_litigation', sa.Boolean(), nullable=False),
    sa.Column('amount_yuan', sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=True),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.ForeignKeyConstraint(['district_adcode'], ['district.adcode'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'external_id', name='uq_mediation_case_source_external')
    )
    with op.batch_alter_table('mediation_case', schema=None) as batch_op:
        batch_op.create_index('ix_mediation_case_city_opened', ['city_adcode', 'opened_day'], unique=False)

    op.create_table('station',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.Enum('police_booth', 'claim_point', 'quick_centre', 'vehicle_admin', 'persuasion', 'hospital', 'helipad', 'rider_base', name='station_kind', native_enum=False, length=24), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('name_zh', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('staff', sa.Integer(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.ForeignKeyConstraint(['district_adcode'], ['district.adcode'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('station', schema=None) as batch_op:
        batch_op.create_index('ix_station_city_kind', ['city_adcode', 'kind'], unique=False)

    op.create_table('ebike_registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.ForeignKeyConstraint(['district_adcode'], ['district.adcode'], ),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('patrol_grid',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('booth_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('name_zh', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('polygon_geojson', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['booth_id'], ['station.id'], ),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.ForeignKeyConstraint(['district_adcode'], ['district.adcode'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patrol_grid', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_grid_city_adcode'), ['city_adcode'], unique=False)

    op.create_table('persuasion_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('no_helmet', 'overloading', 'drunk_driving', 'unlicensed', 'other', 'hazard', name='persuasion_kind', native_enum=False, length=24), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.ForeignKeyConstraint(['district_adcode'], ['district.adcode'], ),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('persuasion_record', schema=None) as batch_op:
        batch_op.create_index('ix_persuasion_record_city_day', ['city_adcode', 'local_day'], unique=False)

    op.create_table('vehicle_service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('annual_check', 'temporary_plate', 'violation_lookup', 'liability_letter', 'licence_replacement', name='vehicle_service_kind', native_enum=False, length=24), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.ForeignKeyConstraint(['district_adcode'], ['district.adcode'], ),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('vehicle_service', schema=None) as batch_op:
        batch_op.create_index('ix_vehicle_service_city_day', ['city_adcode', 'local_day'], unique=False)

    op.create_table('rider_team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('name_zh', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('founded_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.ForeignKeyConstraint(['grid_id'], ['patrol_grid.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rider_team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rider_team_city_adcode'), ['city_adcode'], unique=False)

    op.create_table('patrol_shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('person_times', sa.Integer(), nullable=False),
    sa.Column('km', sa.Float(), nullable=False),
    sa.Column('persuaded', sa.Integer(), nullable=False),
    sa.Column('good_deeds', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.ForeignKeyConstraint(['district_adcode'], ['district.adcode'], ),
    sa.ForeignKeyConstraint(['team_id'], ['rider_team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patrol_shift', schema=None) as batch_op:
        batch_op.create_index('ix_patrol_shift_city_day', ['city_adcode', 'local_day'], unique=False)

    op.create_table('rider_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('callsign', sa.String(length=24), nullable=False),
    sa.Column('vehicle_kind', sa.Enum('motorcycle', 'car', name='vehicle_kind', native_enum=False, length=24), nullable=False),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.ForeignKeyConstraint(['team_id'], ['rider_team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rider_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rider_unit_city_adcode'), ['city_adcode'], unique=False)
        batch_op.create_index(batch_op.f('ix_rider_unit_team_id'), ['team_id'], unique=False)

    op.create_table('accident_case',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('channel', sa.Enum('police_call', 'patrol', 'insurer', name='channel', native_enum=False, length=24), nullable=False),
    sa.Column('severity', sa.Enum('minor', 'injury', 'major', name='severity', native_enum=False, length=24), nullable=False),
    sa.Column('handled_by', sa.Enum('rider_team', 'claim_point', 'police', 'other', name='handled_by', native_enum=False, length=24), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('reported_at', sa.DateTime(), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('local_hour', sa.SmallInteger(), nullable=False),
    sa.Column('found_by_patrol', sa.Boolean(), nullable=False),
    sa.Column('on_scene_at', sa.DateTime(), nullable=True),
    sa.Column('cleared_at', sa.DateTime(), nullable=True),
    sa.Column('quick_handled', sa.Boolean(), nullable=False),
    sa.Column('liability_at', sa.DateTime(), nullable=True),
    sa.Column('liability_mode', sa.Enum('remote', 'on_site', 'online', name='liability_mode', native_enum=False, length=24), nullable=True),
    sa.Column('assessed_at', sa.DateTime(), nullable=True),
    sa.Column('assessment_mode', sa.Enum('remote', 'on_site', 'online', name='assessment_mode', native_enum=False, length=24), nullable=True),
    sa.Column('handled_online', sa.Boolean(), nullable=False),
    sa.Column('one_click_claim', sa.Boolean(), nullable=False),
    sa.Column('insurer_id', sa.Integer(), nullable=True),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.Column('paid_amount_yuan', sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.ForeignKeyConstraint(['district_adcode'], ['district.adcode'], ),
    sa.ForeignKeyConstraint(['grid_id'], ['patrol_grid.id'], ),
    sa.ForeignKeyConstraint(['insurer_id'], ['insurer.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['rider_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'external_id', name='uq_accident_case_source_external')
    )
    with op.batch_alter_table('accident_case', schema=None) as batch_op:
        batch_op.create_index('ix_accident_case_city_day', ['city_adcode', 'local_day'], unique=False)
        batch_op.create_index('ix_accident_case_district_day', ['district_adcode', 'local_day'], unique=False)

    op.create_table('unit_position',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('status', sa.Enum('patrolling', 'en_route', 'on_scene', 'off_duty', name='unit_status', native_enum=False, length=24), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['rider_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('unit_position', schema=None) as batch_op:
        batch_op.create_index('ix_unit_position_unit_at', ['unit_id', 'at'], unique=False)

    op.create_table('rescue_mission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('city_adcode', sa.String(length=6), nullable=False),
    sa.Column('district_adcode', sa.String(length=6), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('takeoff_at', sa.DateTime(), nullable=True),
    sa.Column('on_scene_at', sa.DateTime(), nullable=True),
    sa.Column('hospital_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.Enum('survived', 'died', 'unknown', name='rescue_outcome', native_enum=False, length=24), nullable=False),
    sa.Column('route_geojson', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['accident_case.id'], ),
    sa.ForeignKeyConstraint(['city_adcode'], ['city.adcode'], ),
    sa.ForeignKeyConstraint(['district_adcode'], ['district.adcode'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'external_id', name='uq_rescue_mission_source_external')
    )


def downgrade() -> None:
    op.drop_table('rescue_mission')
    with op.batch_alter_table('unit_position', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_position_unit_at')

    op.drop_table('unit_position')
    with op.batch_alter_table('accident_case', schema=None) as batch_op:
        batch_op.drop_index('ix_accident_case_district_day')
        batch_op.drop_index('ix_accident_case_city_day')

    op.drop_table('accident_case')
    with op.batch_alter_table('rider_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rider_unit_team_id'))
        batch_op.drop_index(batch_op.f('ix_rider_unit_city_adcode'))

    op.drop_table('rider_unit')
    with op.batch_alter_table('patrol_shift', schema=None) as batch_op:
        batch_op.drop_index('ix_patrol_shift_city_day')

    op.drop_table('patrol_shift')
    with op.batch_alter_table('rider_team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rider_team_city_adcode'))

    op.drop_table('rider_team')
    with op.batch_alter_table('vehicle_service', schema=None) as batch_op:
        batch_op.drop_index('ix_vehicle_service_city_day')

    op.drop_table('vehicle_service')
    with op.batch_alter_table('persuasion_record', schema=None) as batch_op:
        batch_op.drop_index('ix_persuasion_record_city_day')

    op.drop_table('persuasion_record')
    with op.batch_alter_table('patrol_grid', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_grid_city_adcode'))

    op.drop_table('patrol_grid')
    op.drop_table('ebike_registration')
    with op.batch_alter_table('station', schema=None) as batch_op:
        batch_op.drop_index('ix_station_city_kind')

    op.drop_table('station')
    with op.batch_alter_table('mediation_case', schema=None) as batch_op:
        batch_op.drop_index('ix_mediation_case_city_opened')

    op.drop_table('mediation_case')
    op.drop_table('fraud_lead')
    with op.batch_alter_table('insurer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_insurer_city_adcode'))

    op.drop_table('insurer')
    op.drop_table('duty_period')
    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_district_city_adcode'))

    op.drop_table('district')
    op.drop_table('latency_sketch')
    op.drop_table('demo_build')
    op.drop_table('data_version')
    with op.batch_alter_table('daily_stat', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_stat_city_day')

    op.drop_table('daily_stat')
    op.drop_table('city')
