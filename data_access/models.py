"""SQLAlchemy 2.0 models of the shared 警保联动 database; the same schema on SQLite and PostgreSQL.

Times are stored as naive UTC datetimes. Rows that people count by day also carry `local_day` (and `local_hour`),
the Asia/Shanghai calendar day and hour, computed once at write time by `data_access.timeutil`, so every
rollup and filter cuts days the same way on every database.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Store the value strings (not the member names) and skip native PG enum types so migrations stay simple.
    return Enum(cls, name=name, native_enum=False, values_callable=lambda e: [m.value for m in e], length=24)


class StationKind(enum.StrEnum):
    POLICE_BOOTH = "police_booth"          # 交警岗亭
    CLAIM_POINT = "claim_point"            # 固定理赔点
    QUICK_CENTRE = "quick_centre"          # 快处快赔中心
    VEHICLE_ADMIN = "vehicle_admin"        # 车驾管社会服务站
    PERSUASION = "persuasion"              # 农村劝导站
    HOSPITAL = "hospital"                  # 医院
    HELIPAD = "helipad"                    # 直升机起降点
    RIDER_BASE = "rider_base"              # 快骑队驻点


class VehicleKind(enum.StrEnum):
    MOTORCYCLE = "motorcycle"
    CAR = "car"


class UnitStatus(enum.StrEnum):
    PATROLLING = "patrolling"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    OFF_DUTY = "off_duty"


class Channel(enum.StrEnum):
    """How an accident became known. Accident alerts (交通事故警情) are the police channels only."""

    POLICE_CALL = "police_call"   # reported to 110/122
    PATROL = "patrol"             # found by a patrol (主动发现)
    INSURER = "insurer"           # reported to an insurer / handled by the parties online, never a police alert


ALERT_CHANNELS = (Channel.POLICE_CALL, Channel.PATROL)


class HandledBy(enum.StrEnum):
    RIDER_TEAM = "rider_team"
    CLAIM_POINT = "claim_point"
    POLICE = "police"
    OTHER = "other"


class StageMode(enum.StrEnum):
    REMOTE = "remote"       # liability: remote via 12123
    ON_SITE = "on_site"
    ONLINE = "online"       # damage assessment: online / video survey


class Severity(enum.StrEnum):
    MINOR = "minor"         # property damage only
    INJURY = "injury"
    MAJOR = "major"         # deaths or many injured: may call a helicopter


class MediationOutcome(enum.StrEnum):
    OPEN = "open"
    SETTLED = "settled"
    FAILED = "failed"
    LITIGATION = "litigation"


class RescueOutcome(enum.StrEnum):
    SURVIVED = "survived"
    DIED = "died"
    UNKNOWN = "unknown"


class PersuasionKind(enum.StrEnum):
    NO_HELMET = "no_helmet"
    OVERLOADING = "overloading"
    DRUNK_DRIVING = "drunk_driving"
    UNLICENSED = "unlicensed"
    OTHER = "other"
    HAZARD = "hazard"             # road hazard found (隐患), not a violation


class VehicleServiceKind(enum.StrEnum):
    ANNUAL_CHECK = "annual_check"            # 免检车辆年检
    TEMPORARY_PLATE = "temporary_plate"      # 临时号牌
    VIOLATION_LOOKUP = "violation_lookup"    # 违法查询处理
    LIABILITY_LETTER = "liability_letter"    # 事故认定书打印
    LICENCE_REPLACEMENT = "licence_replacement"  # 驾驶证补换


class DutyKind(enum.StrEnum):
    SPRING_FESTIVAL = "spring_festival"   # 春运
    BACK_TO_WORK = "back_to_work"         # 复工复产
    COLLEGE_EXAM = "college_exam"         # 高考
    NATIONAL_DAY = "national_day"         # 国庆中秋


class City(Base):
    __tablename__ = "city"

    adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    programme_start: Mapped[dt.date] = mapped_column(Date)
    center_lon: Mapped[float] = mapped_column(Float)
    center_lat: Mapped[float] = mapped_column(Float)


class District(Base):
    __tablename__ = "district"

    adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"), index=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    main_urban: Mapped[bool] = mapped_column(Boolean, default=False)
    rural: Mapped[bool] = mapped_column(Boolean, default=False)
    center_lon: Mapped[float] = mapped_column(Float)
    center_lat: Mapped[float] = mapped_column(Float)
    boundary_geojson: Mapped[str] = mapped_column(Text)   # GeoJSON geometry, WGS-84


class Station(Base):
    __tablename__ = "station"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"))
    district_adcode: Mapped[str] = mapped_column(ForeignKey("district.adcode"))
    kind: Mapped[StationKind] = mapped_column(_enum(StationKind, "station_kind"))
    code: Mapped[str] = mapped_column(String(24))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    staff: Mapped[int] = mapped_column(Integer, default=0)
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)        # set: closed from this day on, history kept
    source: Mapped[str] = mapped_column(String(40), default="demo", server_default="demo")

    __table_args__ = (Index("ix_station_city_kind", "city_adcode", "kind"),
                      Index("uq_station_source_code", "source", "code", unique=True))


class PatrolGrid(Base):
    __tablename__ = "patrol_grid"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"), index=True)
    district_adcode: Mapped[str] = mapped_column(ForeignKey("district.adcode"))
    booth_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    code: Mapped[str] = mapped_column(String(24))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    polygon_geojson: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40), default="demo", server_default="demo")

    __table_args__ = (Index("uq_patrol_grid_source_code", "source", "code", unique=True),)


class RiderTeam(Base):
    """A 快骑队 team patrolling one grid; `members` are its front-line police auxiliaries and insurer staff."""

    __tablename__ = "rider_team"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("patrol_grid.id"))
    code: Mapped[str] = mapped_column(String(24))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    members: Mapped[int] = mapped_column(Integer)
    founded_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(40), default="demo", server_default="demo")

    __table_args__ = (Index("uq_rider_team_source_city_code", "source", "city_adcode", "code", unique=True),)


class RiderUnit(Base):
    """One vehicle of a rider team (motorcycle or survey car) with its call sign; never a person's name or plate."""

    __tablename__ = "rider_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("rider_team.id"), index=True)
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"), index=True)
    callsign: Mapped[str] = mapped_column(String(24))
    vehicle_kind: Mapped[VehicleKind] = mapped_column(_enum(VehicleKind, "vehicle_kind"))
    # The unit's id in the feeds (`unit_id` of the units import and of POST /api/v1/positions), unique everywhere.
    code: Mapped[str] = mapped_column(String(40), server_default="")
    grid_id: Mapped[int | None] = mapped_column(Integer)     # patrol_grid.id, checked by the import (no FK: see 0006)
    source: Mapped[str] = mapped_column(String(40), default="demo", server_default="demo")

    __table_args__ = (Index("uq_rider_unit_code", "code", unique=True),)


class UnitPosition(Base):
    __tablename__ = "unit_position"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("rider_unit.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    status: Mapped[UnitStatus] = mapped_column(_enum(UnitStatus, "unit_status"))
    case_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_unit_position_unit_at", "unit_id", "at"),)


class PatrolShift(Base):
    """One team's patrol of one day: person-times on patrol, km driven, people persuaded, good deeds."""

    __tablename__ = "patrol_shift"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("rider_team.id"))
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"))
    district_adcode: Mapped[str] = mapped_column(ForeignKey("district.adcode"))
    local_day: Mapped[dt.date] = mapped_column(Date)
    person_times: Mapped[int] = mapped_column(Integer)
    km: Mapped[float] = mapped_column(Float)
    persuaded: Mapped[int] = mapped_column(Integer, default=0)
    good_deeds: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_patrol_shift_city_day", "city_adcode", "local_day"),)


class Insurer(Base):
    __tablename__ = "insurer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"), index=True)
    code: Mapped[str] = mapped_column(String(24))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    on_platform: Mapped[bool] = mapped_column(Boolean, default=True)   # connected to the 12123 quick platform
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    source: Mapped[str] = mapped_column(String(40), default="demo", server_default="demo")

    __table_args__ = (Index("uq_insurer_city_code", "city_adcode", "code", unique=True),)


class AccidentCase(Base):
    """One road accident and every stage of its handling; a missing stage time means 'not reached / unknown'."""

    __tablename__ = "accident_case"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(40), default="demo")
    external_id: Mapped[str] = mapped_column(String(64))
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"))
    district_adcode: Mapped[str] = mapped_column(ForeignKey("district.adcode"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "severity"), default=Severity.MINOR)
    handled_by: Mapped[HandledBy | None] = mapped_column(_enum(HandledBy, "handled_by"))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime)
    local_day: Mapped[dt.date] = mapped_column(Date)
    local_hour: Mapped[int] = mapped_column(SmallInteger)
    found_by_patrol: Mapped[bool] = mapped_column(Boolean, default=False)
    on_scene_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    quick_handled: Mapped[bool] = mapped_column(Boolean, default=False)
    liability_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    liability_mode: Mapped[StageMode | None] = mapped_column(_enum(StageMode, "liability_mode"))
    assessed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    assessment_mode: Mapped[StageMode | None] = mapped_column(_enum(StageMode, "assessment_mode"))
    handled_online: Mapped[bool] = mapped_column(Boolean, default=False)
    one_click_claim: Mapped[bool] = mapped_column(Boolean, default=False)
    insurer_id: Mapped[int | None] = mapped_column(ForeignKey("insurer.id"))
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    paid_amount_yuan: Mapped[float | None] = mapped_column(Numeric(14, 2, asdecimal=False))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_grid.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("rider_unit.id"))

    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_accident_case_source_external"),
        Index("ix_accident_case_city_day", "city_adcode", "local_day"),
        Index("ix_accident_case_district_day", "district_adcode", "local_day"),
    )


class MediationCase(Base):
    """One dispute mediation (调解) of a road accident; `insurer_id` (when known) scopes it to an insurer's viewers."""

    __tablename__ = "mediation_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40), default="demo")
    external_id: Mapped[str] = mapped_column(String(64))
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"))
    district_adcode: Mapped[str] = mapped_column(ForeignKey("district.adcode"))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime)
    opened_day: Mapped[dt.date] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_day: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[MediationOutcome] = mapped_column(_enum(MediationOutcome, "mediation_outcome"))
    pre_litigation: Mapped[bool] = mapped_column(Boolean, default=False)
    amount_yuan: Mapped[float | None] = mapped_column(Numeric(14, 2, asdecimal=False))
    insurer_id: Mapped[int | None] = mapped_column(ForeignKey("insurer.id", name="fk_mediation_case_insurer"))

    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_mediation_case_source_external"),
        Index("ix_mediation_case_city_opened", "city_adcode", "opened_day"),
        Index("ix_mediation_case_city_insurer_opened", "city_adcode", "insurer_id", "opened_day"),
    )


class RescueMission(Base):
    """A 空地一体化 helicopter rescue; `route_geojson` is the LineString base → scene → hospital."""

    __tablename__ = "rescue_mission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40), default="demo")
    external_id: Mapped[str] = mapped_column(String(64))
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"))
    district_adcode: Mapped[str] = mapped_column(ForeignKey("district.adcode"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("accident_case.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime)
    local_day: Mapped[dt.date] = mapped_column(Date)
    takeoff_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    on_scene_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    hospital_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outcome: Mapped[RescueOutcome] = mapped_column(_enum(RescueOutcome, "rescue_outcome"))
    route_geojson: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_rescue_mission_source_external"),)


class PersuasionRecord(Base):
    """What one rural persuasion station stopped or found on one day, by kind."""

    __tablename__ = "persuasion_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"))
    district_adcode: Mapped[str] = mapped_column(ForeignKey("district.adcode"))
    local_day: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[PersuasionKind] = mapped_column(_enum(PersuasionKind, "persuasion_kind"))
    count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_persuasion_record_city_day", "city_adcode", "local_day"),)


class VehicleService(Base):
    """Services done at one vehicle-administration station on one day, by kind."""

    __tablename__ = "vehicle_service"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"))
    district_adcode: Mapped[str] = mapped_column(ForeignKey("district.adcode"))
    local_day: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[VehicleServiceKind] = mapped_column(_enum(VehicleServiceKind, "vehicle_service_kind"))
    count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_vehicle_service_city_day", "city_adcode", "local_day"),)


class EbikeRegistration(Base):
    __tablename__ = "ebike_registration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"))
    district_adcode: Mapped[str] = mapped_column(ForeignKey("district.adcode"))
    local_day: Mapped[dt.date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_ebike_registration_city_day", "city_adcode", "local_day"),)


class FraudLead(Base):
    """An anti-fraud lead from trajectory analysis; `suspected` ones became suspected-fraud cases."""

    __tablename__ = "fraud_lead"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"))
    district_adcode: Mapped[str] = mapped_column(ForeignKey("district.adcode"))
    insurer_id: Mapped[int | None] = mapped_column(ForeignKey("insurer.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime)
    local_day: Mapped[dt.date] = mapped_column(Date)
    suspected: Mapped[bool] = mapped_column(Boolean, default=False)
    amount_yuan: Mapped[float | None] = mapped_column(Numeric(14, 2, asdecimal=False))


class DutyPeriod(Base):
    __tablename__ = "duty_period"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_adcode: Mapped[str] = mapped_column(ForeignKey("city.adcode"))
    kind: Mapped[DutyKind | None] = mapped_column(_enum(DutyKind, "duty_kind"))   # None: a period a bureau imported
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    start_day: Mapped[dt.date] = mapped_column(Date)
    end_day: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(40), default="demo", server_default="demo")


class DayCounts:
    """The counts and sums a day rollup keeps per key (`rollups.daily_stat_columns` computes them by name)."""

    cases: Mapped[int] = mapped_column(Integer, default=0)            # every case (all channels) = handled cases
    alerts: Mapped[int] = mapped_column(Integer, default=0)           # police channels
    alerts_by_patrol: Mapped[int] = mapped_column(Integer, default=0)
    quick: Mapped[int] = mapped_column(Integer, default=0)            # quick-handled alerts
    quick_rider: Mapped[int] = mapped_column(Integer, default=0)
    handled_online: Mapped[int] = mapped_column(Integer, default=0)
    remote_liability: Mapped[int] = mapped_column(Integer, default=0)
    remote_liability_rider: Mapped[int] = mapped_column(Integer, default=0)
    remote_liability_in_sla: Mapped[int] = mapped_column(Integer, default=0)
    online_assessed: Mapped[int] = mapped_column(Integer, default=0)
    paid: Mapped[int] = mapped_column(Integer, default=0)
    paid_amount_yuan: Mapped[float] = mapped_column(Float, default=0.0)
    one_click: Mapped[int] = mapped_column(Integer, default=0)
    one_click_amount_yuan: Mapped[float] = mapped_column(Float, default=0.0)


class DailyStat(DayCounts, Base):
    """Rollup: accident-case counts and sums per Asia/Shanghai day and district, rebuilt for every touched day."""

    __tablename__ = "daily_stat"

    city_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    district_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    local_day: Mapped[dt.date] = mapped_column(Date, primary_key=True)

    __table_args__ = (Index("ix_daily_stat_city_day", "city_adcode", "local_day"),)


class MonthlyStat(DayCounts, Base):
    """Rollup: `DailyStat` summed per calendar month and district: a window's whole months are read here (38 rows a
    month for Chongqing instead of about 1,150 day rows) and only its cut months' days from `DailyStat`."""

    __tablename__ = "monthly_stat"

    city_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)       # first day of the month
    district_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)


class LatencySketch(Base):
    """Rollup: a log-binned histogram (≤1% relative error) of one latency per calendar month and district."""

    __tablename__ = "latency_sketch"

    city_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    district_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)       # first day of the month
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    min_seconds: Mapped[float] = mapped_column(Float)
    bins: Mapped[bytes] = mapped_column(LargeBinary)   # sparse: int16 bin indices then int32 counts


class HourWeekStat(Base):
    """Rollup: accident alerts per calendar month, district, weekday (0 = Monday) and local hour, and the whole
    city's as the district "*": the hour-of-week heat map of a window reads its whole months here and only the cut
    months at its edges from the raw cases."""

    __tablename__ = "hour_week_stat"

    city_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)       # first day of the month
    district_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    local_hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    alerts: Mapped[int] = mapped_column(Integer)


class StationMonth(Base):
    """Rollup: the stations' daily counts summed per calendar month, district and kind, for each of the three kinds
    of station work (`activity`: "persuasion" records, "vehicle_service", "ebike" registrations, whose kind is
    ""): the stations page reads a window's whole months here and only its cut months' days from the day rows
    (data_access.station_rollup)."""

    __tablename__ = "station_month"

    city_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)       # first day of the month
    activity: Mapped[str] = mapped_column(String(16), primary_key=True)
    district_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class DemandMonth(Base):
    """Rollup: the located accidents of one city and calendar month packed as arrays, in the order the raw cases are
    read (local day, then id): the coverage plan reads a window's whole months here (a few blobs instead of a million
    rows) and only the cut months at its edges from the raw cases (data_access.demand_rollup)."""

    __tablename__ = "demand_month"

    city_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)       # first day of the month
    points: Mapped[int] = mapped_column(Integer)
    districts: Mapped[str] = mapped_column(Text)       # JSON list: the district codes `district` numbers
    severities: Mapped[str] = mapped_column(Text)      # JSON list: the severities `severity` numbers
    lon: Mapped[bytes] = mapped_column(LargeBinary)    # float64, little-endian, one per point
    lat: Mapped[bytes] = mapped_column(LargeBinary)    # float64
    district: Mapped[bytes] = mapped_column(LargeBinary)   # uint16 index into `districts`
    severity: Mapped[bytes] = mapped_column(LargeBinary)   # uint8 index into `severities`


class InsurerDailyStat(DayCounts, Base):
    """Rollup: the counts and sums of `DailyStat` per day, district and insurer, of the cases that name an insurer;
    an insurer's view reads it as every other view reads `DailyStat`."""

    __tablename__ = "insurer_daily_stat"

    city_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    insurer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    local_day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    district_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)

    # the key leads with (city, insurer, day) for an insurer's window; this index serves rebuilds of a city's days
    __table_args__ = (Index("ix_insurer_daily_stat_city_day", "city_adcode", "local_day"),)


class InsurerMonthlyStat(DayCounts, Base):
    """Rollup: `InsurerDailyStat` summed per calendar month, district and insurer (as `MonthlyStat` is per day)."""

    __tablename__ = "insurer_monthly_stat"

    city_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)       # first day of the month
    insurer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)


class InsurerLatencySketch(Base):
    """Rollup: `LatencySketch` per insurer (a latency's histogram per calendar month, district and insurer, and per
    month and insurer over the whole city), of the cases that name an insurer."""

    __tablename__ = "insurer_latency_sketch"

    city_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    insurer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)       # first day of the month
    district_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    min_seconds: Mapped[float] = mapped_column(Float)
    bins: Mapped[bytes] = mapped_column(LargeBinary)   # sparse: int16 bin indices then int32 counts

    __table_args__ = (Index("ix_insurer_latency_sketch_city_month", "city_adcode", "month"),)


class ApiToken(Base):
    """A bearer token of one data source (an insurer, 12123, police dispatch); only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    insurer_code: Mapped[str] = mapped_column(String(24), default="")   # set: writes only this insurer's rows
    admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # may write reference data


class Account(Base):
    """A person or screen that signs in. `role` is one of `scope.ROLES`; `city` (None: every city), `districts`
    (comma-separated adcodes, empty: every district) and `insurer_code` (empty: every insurer) bound what it sees.
    `password_hash` is argon2 (None for accounts that sign in through the bureau's gateway or OIDC); `session_epoch`
    grows on every password reset or disabling, which ends the account's open sessions."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    city_adcode: Mapped[str | None] = mapped_column(String(6))
    districts: Mapped[str] = mapped_column(String(400), default="")
    insurer_code: Mapped[str] = mapped_column(String(24), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AccountToken(Base):
    """A long-lived token of an account: `kiosk` (opens the wall of a wall account, nothing else) or `read` (API
    reads as that account). Only its SHA-256 is stored; revoking keeps the row."""

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AuditEvent(Base):
    """Append-only (the database refuses UPDATE and DELETE on it): who did what, from where, with which filters."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    account: Mapped[str] = mapped_column(String(64), index=True)     # the name given, even when unknown
    event: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")         # JSON


class DemoBuild(Base):
    """How a city's demo data was built, so a later start can top it up the same way."""

    __tablename__ = "demo_build"

    city_adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    scale: Mapped[float] = mapped_column(Float)
    first_day: Mapped[dt.date] = mapped_column(Date)
    built_at: Mapped[dt.datetime] = mapped_column(DateTime)


class DataVersion(Base):
    """A single row whose counter every write bumps; cache keys include it so new data shows at once."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
