"""Every metric declared once: its key, name and one-sentence definition (Chinese and English), unit and display
format, which direction is good news, the base a comparison rests on, and the one function that computes it.

Cards, chart axes, CSV columns, the wall, the briefing, `jingbao kpis`, the API and the calibration tests all read
this table and call these functions, so a figure on two screens can never disagree and a test of a figure tests the
screen. Superset's `SqlMetric` (name, label, expression, format, description in one row) is the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from data_access import fraud, maturity, mediation, metrics, payouts, rescue, stations, teams
from data_access.cache import cached_query
from data_access.db import Database
from data_access.filters import Filters

Compute = Callable[[Database, Filters], float | None]

TOO_SMALL_TO_COMPARE = 30           # a comparison base below this many events is marked, not shown as a % swing
UNITS = ("count", "ratio", "minutes", "days", "yuan")
# How a number of each unit is written (d3-format, which Python's format() shares for these patterns).
NUMBER_FORMATS = {"count": ",.0f", "ratio": ".1%", "minutes": ",.1f", "days": ",.1f", "yuan": ",.0f"}
HOURS_FROM_MINUTES = 120            # minutes past this read as hours and minutes ("2 小时 05 分")


@dataclass(frozen=True)
class Metric:
    key: str
    label_zh: str
    label_en: str
    definition_zh: str
    definition_en: str
    unit: str                           # one of UNITS
    compute: Compute                    # the one function that computes it
    higher_is_better: bool | None       # None: a rise is neither good nor bad news
    base: str | Compute | None = None   # the events a comparison rests on: a metric key, a function, or None (itself)
    counts: str = "cases"               # what a count counts: the unit word `unit.<counts>` of the catalogue
    compared: bool = True               # False: a standing figure (stations open now), not compared between windows
    matures: str | None = None          # the stage a latency waits for (maturity.STAGES): marked while immature
    counts_what_zh: str = ""            # which cases a count takes in, where counts beside it take in others
    counts_what_en: str = ""

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"metric {self.key}: unknown unit {self.unit!r}")

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def definition(self, lang: str) -> str:
        return self.definition_zh if lang == "zh" else self.definition_en

    def counts_what(self, lang: str) -> str:
        """A short line saying which cases the figure takes in ("" when it needs none)."""
        return self.counts_what_zh if lang == "zh" else self.counts_what_en

    @property
    def number_format(self) -> str:
        return NUMBER_FORMATS[self.unit]

    def value(self, db: Database, filters: Filters) -> float | None:
        return self.compute(db, filters)

    def base_value(self, db: Database, filters: Filters) -> float:
        """The number of events the value rests on: a comparison against fewer than TOO_SMALL_TO_COMPARE is marked."""
        if self.base is None:
            value = self.compute(db, filters)
        elif isinstance(self.base, str):
            value = METRICS[self.base].compute(db, filters)
        else:
            value = self.base(db, filters)
        return float(value or 0)


def part(function: Callable[[Database, Filters], object], name: str) -> Compute:
    """One field of a function's result (p50 of a latency's statistics), as a metric function."""

    def compute(db: Database, filters: Filters) -> float | None:
        return getattr(function(db, filters), name)

    compute.__name__ = f"{function.__name__}.{name}"
    compute.__qualname__ = compute.__name__
    return compute


_DECLARED = (
    # ---------------------------------------------------------------------------------------- accidents, 快处
    Metric("alerts", "交通事故警情", "Accident alerts",
           "窗口内报 110/122 或巡逻主动发现的交通事故警情数。",
           "Accidents reported to 110/122 or found by a patrol in the window.",
           "count", metrics.accident_alerts, False,
           counts_what_zh="仅计 110/122 报警与巡逻发现，不含保险报案",
           counts_what_en="110/122 calls and patrol finds only"),
    Metric("handled", "处理事故", "Accidents handled",
           "窗口内处理的全部事故，含警情与仅向保险报案的案件。",
           "Every accident handled in the window, police alerts and insurer-only cases alike.",
           "count", metrics.handled_cases, True,
           counts_what_zh="全部渠道，含仅向保险报案的案件",
           counts_what_en="every channel, insurer-reported cases included"),
    Metric("quick", "快处案件", "Quick-handled cases",
           "警情中以快处程序现场或线上办结的案件数。",
           "Alerts settled on the spot or online by the quick procedure.",
           "count", metrics.quick_handled_cases, True,
           counts_what_zh="仅计警情中的快处",
           counts_what_en="quick-handled alerts only"),
    Metric("rider_quick", "快骑队快处", "Quick-handled by rider teams",
           "由快骑队办结的快处案件数。", "Quick-handled cases settled by a rider team.",
           "count", metrics.rider_team_quick_handled, True),
    Metric("quick_rate", "快处率", "Quick-handling rate",
           "快处案件 ÷ 交通事故警情。", "Quick-handled cases ÷ accident alerts.",
           "ratio", metrics.quick_handling_rate, True, base="alerts"),
    Metric("patrol_share", "巡逻主动发现占比", "Found by patrol",
           "巡逻主动发现的警情 ÷ 全部警情。", "Alerts found by a patrol ÷ all alerts.",
           "ratio", metrics.patrol_found_share, True, base="alerts"),
    Metric("to_scene_p50", "到场时长中位数", "Time to scene, median",
           "从报警到民警或快骑到场的时长中位数（巡逻发现记为 0）。",
           "Median time from the report to a unit on scene (0 when a patrol found it).",
           "minutes", part(metrics.time_to_scene, "p50"), False, base=part(metrics.time_to_scene, "count"),
           matures="to_scene"),
    Metric("to_scene_p90", "到场时长 P90", "Time to scene, p90",
           "从报警到到场的时长，九成案件不超过此值。",
           "Time from the report to a unit on scene that 90% of cases beat.",
           "minutes", part(metrics.time_to_scene, "p90"), False, base=part(metrics.time_to_scene, "count"),
           matures="to_scene"),
    Metric("clearance_p50", "撤离现场时长中位数", "Clearance time, median",
           "从到场到车辆撤离、道路恢复通行的时长中位数。",
           "Median time from a unit on scene to the road cleared.",
           "minutes", part(metrics.clearance_time, "p50"), False, base=part(metrics.clearance_time, "count"),
           matures="clearance"),
    Metric("cleared_within_3m", "3 分钟内撤离现场", "Cleared within 3 min",
           "到场后 3 分钟内撤离现场的案件占比。",
           "Share of cases cleared within 3 minutes of a unit reaching the scene.",
           "ratio", metrics.cleared_within_share, True, base=part(metrics.clearance_time, "count"),
           matures="clearance"),
    Metric("remote_liability", "远程定责", "Remote liability",
           "通过 12123 平台远程认定责任的案件数。", "Cases whose liability was decided remotely through 12123.",
           "count", metrics.remote_liability_cases, True,
           counts_what_zh="全部处理案件，含保险报案，可多于警情",
           counts_what_en="all handled cases, insurer-reported included: can exceed alerts"),
    Metric("rider_remote_liability", "快骑队远程定责", "Remote liability by rider teams",
           "快骑队经 12123 远程认定责任的案件数。", "Remote liability decisions made by rider teams.",
           "count", metrics.rider_team_remote_liability, True),
    Metric("remote_sla_share", "远程定责 5 分钟达标率", "Remote liability ≤ 5 min",
           "远程定责中报案后 5 分钟内认定责任的占比。",
           "Share of remote liability decisions made within 5 minutes of the report.",
           "ratio", metrics.remote_liability_sla_share, True, base="remote_liability"),
    Metric("online_share", "线上处理占比", "Handled online",
           "经 12123、视频查勘线上处理的案件 ÷ 全部处理的案件。",
           "Cases handled online (12123, video survey) ÷ all handled cases.",
           "ratio", metrics.online_share, True, base="handled",
           counts_what_zh="占全部处理案件，含保险报案",
           counts_what_en="of all handled cases, insurer-reported included"),
    Metric("online_assessments", "线上定损", "Online damage assessments",
           "以视频等方式线上定损的案件数。", "Cases whose damage was assessed online.",
           "count", metrics.online_assessments, True),
    # ------------------------------------------------------------------------------------------- payouts, 快赔
    Metric("paid", "已赔付案件", "Cases paid",
           "窗口内报案且已赔付的案件数。", "Cases reported in the window and paid.",
           "count", metrics.paid_cases, True, matures="payout",
           counts_what_zh="按报案日计，含保险报案，可多于警情",
           counts_what_en="by report day, insurer-reported included: can exceed alerts"),
    Metric("payout_p50", "赔付时长中位数", "Payout time, median",
           "从报案到赔款到账的时长中位数。", "Median time from the report to the payment.",
           "minutes", part(metrics.payout_latency_percentiles, "p50"), False,
           base=part(metrics.payout_latency_percentiles, "count"), matures="payout"),
    Metric("payout_p90", "赔付时长 P90", "Payout time, p90",
           "从报案到赔款到账的时长，九成案件不超过此值。",
           "Time from the report to the payment that 90% of cases beat.",
           "minutes", part(metrics.payout_latency_percentiles, "p90"), False,
           base=part(metrics.payout_latency_percentiles, "count"), matures="payout"),
    Metric("payout_fastest", "最快赔付", "Fastest payout",
           "窗口内从报案到赔款到账最快的一起。", "The shortest time from a report to its payment in the window.",
           "minutes", part(metrics.payout_latency_percentiles, "fastest"), False,
           base=part(metrics.payout_latency_percentiles, "count")),
    Metric("payout_within_15m", "15 分钟内赔付占比", "Paid within 15 min",
           "已赔付案件中报案后 15 分钟内到账的占比。", "Share of the paid cases paid within 15 minutes of the report.",
           "ratio", payouts.paid_within_15_minutes, True, base=part(metrics.payout_latency_percentiles, "count"),
           matures="payout"),
    Metric("one_click", "一键理赔", "One-click claims",
           "经一键理赔办结的案件数。", "Claims settled through one-click claims.",
           "count", part(metrics.one_click_claims, "cases"), True, matures="payout"),
    Metric("one_click_amount", "一键理赔金额", "One-click claims paid",
           "一键理赔赔付的金额。", "The amount paid through one-click claims.",
           "yuan", part(metrics.one_click_claims, "amount_yuan"), None, base="one_click", matures="payout"),
    Metric("paid_amount", "赔付金额", "Amount paid",
           "窗口内报案的案件已赔付的金额。", "The amount paid on the cases reported in the window.",
           "yuan", metrics.paid_amount_yuan, None, base="paid", matures="payout"),
    Metric("insurers", "接入保险机构", "Insurers on the platform",
           "接入 12123 快处快赔平台的保险机构数（当前）。",
           "Insurers connected to the 12123 quick-handling platform (now).",
           "count", payouts.insurers_on_platform, True, counts="insurers", compared=False),
    # ---------------------------------------------------------------------------------------- mediation, 调解
    Metric("mediation_opened", "受理调解", "Mediations opened",
           "窗口内受理的调解案件数。", "Mediation cases opened in the window.",
           "count", part(metrics.mediation_outcomes, "opened"), None),
    Metric("mediation_closed", "办结调解", "Mediations closed",
           "窗口内办结（成功、失败或转诉讼）的调解案件数。",
           "Mediation cases closed in the window: settled, failed or gone to court.",
           "count", part(metrics.mediation_outcomes, "closed"), True),
    Metric("mediation_success_rate", "调解成功率", "Mediation success",
           "调解成功 ÷ 办结的调解案件。", "Settled ÷ closed mediation cases.",
           "ratio", metrics.mediation_success_rate, True, base="mediation_closed"),
    Metric("pre_litigation_rate", "诉前化解率", "Resolved before litigation",
           "诉讼前调解成功 ÷ 办结的调解案件。", "Settled before a lawsuit ÷ closed mediation cases.",
           "ratio", metrics.pre_litigation_resolution_rate, True, base="mediation_closed"),
    Metric("mediation_duration", "调解时长中位数", "Mediation time, median",
           "窗口内办结案件从受理到办结的时长中位数。",
           "Median time from opening to closing of the cases closed in the window.",
           "days", metrics.mediation_duration_days, False, base="mediation_closed"),
    Metric("mediation_backlog", "在办调解", "Open mediations",
           "窗口最后一天结束时仍在办理的调解案件数。",
           "Mediation cases still open at the end of the window's last day.",
           "count", mediation.open_backlog, False, base=mediation.activity),
    Metric("mediation_amount", "调解赔偿金额", "Amount agreed",
           "调解成功案件约定的赔偿金额。", "The amount agreed in the settled mediation cases.",
           "yuan", part(metrics.mediation_outcomes, "amount_yuan"), None, base=part(metrics.mediation_outcomes,
                                                                                   "settled")),
    # ------------------------------------------------------------------------------------------ rescue, 空地救援
    Metric("rescues", "空地救援", "Air-ground rescues",
           "窗口内请求的直升机空地救援次数。", "Helicopter rescues requested in the window.",
           "count", part(metrics.rescue_summary, "missions"), None, counts="missions"),
    Metric("rescue_survived", "成功救治", "Survived",
           "救援中伤员获救存活的次数。", "Rescues whose casualty survived.",
           "count", part(metrics.rescue_summary, "survived"), True, base="rescues", counts="people"),
    Metric("rescue_within_60m", "60 分钟内送达医院", "At hospital within 60 min",
           "从呼叫到送达医院不超过 60 分钟的救援占比。",
           "Share of rescues reaching hospital within 60 minutes of the request.",
           "ratio", part(metrics.rescue_summary, "share_within_60_min"), True, base="rescues"),
    Metric("rescue_to_hospital_p50", "呼叫→送达医院中位数", "Request → hospital, median",
           "从呼叫救援到送达医院的时长中位数。", "Median time from the rescue request to the hospital.",
           "minutes", rescue.to_hospital_median, False, base=rescue.reached_hospital),
    # ------------------------------------------------------------------------ rider teams and patrols, 快骑队
    Metric("rider_members", "快骑队员", "Rider-team members",
           "全市快骑队一线队员人数（当前）。", "Front-line members of the city's rider teams (now).",
           "count", part(teams.rider_team_strength, "members"), True, counts="people", compared=False),
    Metric("rider_vehicles", "快骑车辆", "Rider-team vehicles",
           "全市快骑队的摩托车与查勘车数（当前）。", "Motorcycles and survey cars of the city's rider teams (now).",
           "count", part(teams.rider_team_strength, "vehicles"), True, counts="vehicles", compared=False),
    Metric("patrol_grids", "巡逻网格", "Patrol grids",
           "全市快骑队巡逻网格数（当前）。", "Patrol grids of the city's rider teams (now).",
           "count", part(teams.rider_team_strength, "grids"), True, counts="grids", compared=False),
    Metric("patrol_person_times", "巡逻人次", "Patrol person-times",
           "快骑队巡逻出勤的人次。", "Person-times of rider-team patrols.",
           "count", part(teams.patrol_totals, "person_times"), True, counts="person_times"),
    Metric("patrol_km", "巡逻里程", "Patrol distance",
           "快骑队巡逻的公里数。", "Kilometres patrolled by the rider teams.",
           "count", part(teams.patrol_totals, "km"), True, counts="km"),
    Metric("safety_persuasion", "安全劝导", "Safety persuasion",
           "快骑队巡逻中开展安全劝导的人次。", "Person-times of safety persuasion on rider-team patrols.",
           "count", part(teams.patrol_totals, "persuaded"), True, counts="person_times"),
    Metric("good_deeds", "便民服务", "Convenience services",
           "快骑队巡逻中为群众做好事、提供便民服务的次数。", "Good deeds and convenience services done on patrol.",
           "count", part(teams.patrol_totals, "good_deeds"), True, counts="times"),
    # ----------------------------------------------------------------------------- stations, 劝导站与车驾管
    Metric("claim_points", "快赔理赔点", "Claim points",
           "快处快赔理赔服务点数（当前）。", "Quick-payout claim service points (now).",
           "count", stations.claim_points, True, counts="stations", compared=False),
    Metric("persuasion_stations", "农村劝导站", "Persuasion stations",
           "农村交通安全劝导站数（当前）。", "Rural road-safety persuasion stations (now).",
           "count", stations.persuasion_stations, True, counts="stations", compared=False),
    Metric("persuasion_staff", "劝导员", "Persuasion staff",
           "农村劝导站的劝导员人数（当前）。", "Persuasion staff of the rural stations (now).",
           "count", stations.persuasion_staff, True, counts="people", compared=False),
    Metric("violations_stopped", "劝导纠正违法", "Violations stopped",
           "劝导站劝导纠正的交通违法（含酒驾，不含隐患）。",
           "Traffic violations the persuasion stations stopped, drunk driving included, hazards not.",
           "count", stations.violations_stopped, None, counts="times"),
    Metric("drunk_driving", "查获酒驾", "Drunk driving found",
           "劝导站查获的酒驾。", "Drunk driving found by the persuasion stations.",
           "count", stations.drunk_driving, None, counts="times"),
    Metric("hazards", "排查隐患", "Hazards found",
           "劝导站排查发现的道路安全隐患。", "Road hazards the persuasion stations found.",
           "count", stations.hazards_found, None, counts="items"),
    Metric("vehicle_admin_stations", "车驾管服务站", "Vehicle-admin stations",
           "车驾管业务服务站数（当前）。", "Vehicle-administration service stations (now).",
           "count", stations.vehicle_admin_stations, True, counts="stations", compared=False),
    Metric("vehicle_services", "车驾管业务", "Vehicle services",
           "车驾管服务站办理的业务笔数。", "Services done at the vehicle-administration stations.",
           "count", stations.vehicle_services, True, counts="services"),
    Metric("vehicle_services_qoq", "车驾管业务环比", "Vehicle services, quarter on quarter",
           "窗口内最后一个完整季度的业务量较上一季度的变化。",
           "Change of the services in the window's last whole quarter against the quarter before.",
           "ratio", stations.vehicle_services_quarter_on_quarter, True, base=stations.vehicle_services,
           compared=False),
    Metric("ebike_registrations", "电动自行车登记", "E-bike registrations",
           "办理登记上牌的电动自行车数。", "E-bikes registered.",
           "count", stations.ebike_registrations, True, counts="vehicles"),
    # ---------------------------------------------------------------------------------------- anti-fraud, 反欺诈
    Metric("fraud_leads", "反欺诈线索", "Fraud leads",
           "轨迹分析发现的反欺诈线索数。", "Anti-fraud leads found by trajectory analysis.",
           "count", fraud.fraud_leads, None, counts="leads"),
    Metric("fraud_suspected", "疑似欺诈案件", "Suspected fraud cases",
           "线索中认定为疑似欺诈的案件数。", "Leads that became suspected-fraud cases.",
           "count", fraud.fraud_suspected, None),
    Metric("fraud_suspected_share", "线索成案率", "Leads that became cases",
           "疑似欺诈案件 ÷ 反欺诈线索。", "Suspected-fraud cases ÷ anti-fraud leads.",
           "ratio", fraud.fraud_suspected_share, None, base="fraud_leads"),
    Metric("fraud_amount", "涉案金额", "Amount involved",
           "疑似欺诈案件涉及的索赔金额。", "The claimed amount of the suspected-fraud cases.",
           "yuan", fraud.fraud_amount, None, base="fraud_suspected"),
)

METRICS: dict[str, Metric] = {}
for _metric in _DECLARED:
    if _metric.key in METRICS:
        raise RuntimeError(f"metric {_metric.key} declared twice")
    METRICS[_metric.key] = _metric


def metric(key: str) -> Metric:
    return METRICS[key]


def label(key: str, lang: str) -> str:
    """A metric's name in `lang`, for a card, an axis, a legend or a table header."""
    return METRICS[key].label(lang)


# The KPIs each view shows, in order (every key a METRICS entry).
OVERVIEW = ("alerts", "quick", "quick_rate", "remote_liability", "online_share", "payout_p50", "payout_p90",
            "mediation_success_rate", "rescues")
THROUGHPUT = ("alerts", "handled", "quick", "quick_rate", "patrol_share", "remote_liability", "to_scene_p50",
              "to_scene_p90", "clearance_p50", "cleared_within_3m")
TEAMS = ("rider_members", "rider_vehicles", "patrol_grids", "patrol_person_times", "patrol_km", "safety_persuasion",
         "good_deeds", "rider_quick", "rider_remote_liability")
PAYOUTS = ("paid", "payout_p50", "payout_p90", "payout_fastest", "remote_sla_share", "online_share",
           "online_assessments", "one_click", "one_click_amount", "paid_amount", "insurers")
MEDIATION = ("mediation_opened", "mediation_closed", "mediation_success_rate", "pre_litigation_rate",
             "mediation_duration", "mediation_backlog", "mediation_amount")
RESCUE = ("rescues", "rescue_survived", "rescue_within_60m", "rescue_to_hospital_p50")
STATIONS = ("persuasion_stations", "persuasion_staff", "violations_stopped", "drunk_driving", "hazards",
            "vehicle_admin_stations", "vehicle_services", "vehicle_services_qoq", "ebike_registrations",
            "claim_points")
FRAUD = ("fraud_leads", "fraud_suspected", "fraud_suspected_share", "fraud_amount")
WALL = ("alerts", "quick", "quick_rate", "payout_p50", "remote_liability", "rescues")


# ------------------------------------------------------------------------------------- values and comparisons
@dataclass(frozen=True)
class Kpi:
    key: str
    value: float | None
    previous: float | None
    unit: str
    change: float | None       # relative for count/minutes/days/yuan, percentage points (as a fraction) for ratio
    too_small: bool
    matured: float | None = None   # share of the window's cases past the stage the figure waits for (metric.matures)

    @property
    def immature(self) -> bool:
        """The window's cases have not yet got far enough for the figure to stand: it is marked, not compared."""
        return self.matured is not None and self.matured < maturity.MATURE_SHARE


@dataclass(frozen=True)
class KpiSet:
    """Some metrics of a window against its comparison window (`comparison` None: nothing compared)."""

    filters: Filters
    comparison: Filters | None
    kpis: tuple[Kpi, ...]

    def get(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)

    def as_dict(self) -> dict[str, float | None]:
        return {k.key: k.value for k in self.kpis}


def compare(key: str, value: float | None, previous: float | None, base: float | None,
            matured: float | None = None) -> Kpi:
    """A metric's value against its comparison value; a base below TOO_SMALL_TO_COMPARE events is marked instead of
    compared, and so is a window not yet mature (`matured`, the share of its cases past the metric's stage, below
    maturity.MATURE_SHARE). Ratios change in percentage points, everything else relatively."""
    unit = METRICS[key].unit
    immature = matured is not None and matured < maturity.MATURE_SHARE
    too_small = previous is not None and not immature and (base is None or base < TOO_SMALL_TO_COMPARE)
    change = None
    if value is not None and previous is not None and not too_small and not immature:
        if unit == "ratio":
            change = value - previous
        elif previous:
            change = (value - previous) / previous
    return Kpi(key, value, previous, unit, change, too_small, matured)


@cached_query
def measures(db: Database, filters: Filters, keys: tuple[str, ...]) -> dict[str, tuple[float | None, float]]:
    """Each metric's value over the window and the number of events it rests on (the base of a comparison)."""
    return {key: (METRICS[key].value(db, filters), METRICS[key].base_value(db, filters)) for key in keys}


def matured_shares(db: Database, filters: Filters, keys: tuple[str, ...]) -> dict[str, float | None]:
    """The share matured of each metric of `keys` that waits for a stage (maturity.stage_maturity), over the window;
    None for the others, and where the window holds no case to mature."""
    stages = {METRICS[key].matures for key in keys} - {None}
    shares = {stage: maturity.stage_maturity(db, filters, stage).share for stage in stages}
    return {key: shares.get(METRICS[key].matures) for key in keys}


def values(db: Database, filters: Filters, keys: tuple[str, ...]) -> dict[str, float | None]:
    """Each metric's value over the window alone (what districts are ranked by)."""
    return {key: value for key, (value, _) in measures(db, filters, keys).items()}


@cached_query
def kpis(db: Database, filters: Filters, keys: tuple[str, ...]) -> KpiSet:
    """The metrics `keys` over the window against the comparison window of `filters` (standing figures, which are
    not compared between windows, carry no previous value; a latency of an immature window carries its share matured
    and no change)."""
    current = measures(db, filters, keys)
    comparison = filters.comparison_window()
    compared = tuple(key for key in keys if METRICS[key].compared)
    previous = measures(db, comparison, compared) if comparison else {}
    matured = matured_shares(db, filters, keys)
    out = []
    for key in keys:
        prev_value, base = previous.get(key, (None, None))
        out.append(compare(key, current[key][0], prev_value, base, matured[key]))
    return KpiSet(filters, comparison, tuple(out))


def empty_kpis(keys: tuple[str, ...]) -> tuple[Kpi, ...]:
    """The metrics without values: what holds a grid's place before the figures arrive."""
    return tuple(Kpi(key, None, None, METRICS[key].unit, None, False) for key in keys)
