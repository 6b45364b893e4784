"""Accident cases of one city and programme year, every stage timed, with the published totals exact.

A year is generated whole from its own random generator: counts per day and district (weekday, season,
holidays, the 2020 epidemic), the hour of the report (rush hours), who handled it, which stages it went through
and how long each took. Totals that FACTS.md publishes are drawn as exact counts (multinomial allocation, choice
without replacement) and amounts are rescaled to the published sum, so the calibration holds for any seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_access.demo import places, seasons
from data_access.demo.reference import CHONGQING, ZHANGZHOU, World, programme_year
from data_access.models import Channel, HandledBy, Severity, StageMode

MAX_STAGE_DAYS = 10          # every stage of a case is reached within this many days of its report
FASTEST_PAYOUT_S = 15 * 60   # the fastest quick payout: 15 minutes to the account


@dataclass(frozen=True)
class GroupPlan:
    """Counts of one group of districts in one year."""

    districts: tuple[str, ...]
    alerts: int
    quick: int
    rider_quick: int
    insurer: int


@dataclass(frozen=True)
class CasePlan:
    groups: tuple[GroupPlan, ...]
    remote: int                   # liability decided remotely (12123)
    remote_rider: int
    online_assessed: int | None   # exact count of online damage assessments, or
    online_share: float | None    # the share of cases handled online (remote liability or online assessment)
    paid_amount: float | None     # exact total paid, or None for the modelled amounts
    minor_median_yuan: float
    one_click: int
    one_click_amount: float | None
    patrol_found: float           # share of rider-team cases the patrol found itself


def _n(value: float, scale: float) -> int:
    return int(round(value * scale))


def case_plan(world: World, k: int, scale: float = 1.0) -> CasePlan:
    """The year's targets: FACTS.md figures in the calibration years, a plausible trend around them."""
    city = world.prog.city
    main = tuple(world.main_urban())
    rest = tuple(d for d in world.districts["adcode"] if d not in main)
    if city == ZHANGZHOU:
        if k < 0:
            groups = (GroupPlan(main, 28_054, 6_200, 0, 8_000), GroupPlan(rest, 27_000, 7_300, 0, 9_500))
            remote, remote_rider, online, paid = 320, 0, 2_100, None
        elif k == 0:
            groups = (GroupPlan(main, 24_543, 8_919, 4_323, 9_000), GroupPlan(rest, 25_000, 7_700, 0, 10_757))
            remote, remote_rider, online, paid = 755, 256, 5_414, 30_632_700.0
        else:
            main_alerts = 24_543 * 0.975 ** k
            main_quick = main_alerts * min(0.3634 + 0.025 * k, 0.5)
            rest_alerts = 25_000 * 0.985 ** k
            groups = (GroupPlan(main, round(main_alerts), round(main_quick), round(0.5 * main_quick),
                                round(9_000 * 1.05 ** k)),
                      GroupPlan(rest, round(rest_alerts), round(rest_alerts * min(0.308 + 0.02 * k, 0.45)), 0,
                                round(10_757 * 1.05 ** k)))
            total = sum(g.alerts + g.insurer for g in groups)
            remote = round(min(755 * 1.3 ** k, 0.12 * total))
            remote_rider = round(0.34 * min(remote, groups[0].rider_quick))
            online, paid = round(min(5_414 * 1.2 ** k, 0.25 * total)), None
        groups = tuple(GroupPlan(g.districts, _n(g.alerts, scale), _n(g.quick, scale), _n(g.rider_quick, scale),
                                 _n(g.insurer, scale)) for g in groups)
        return CasePlan(groups, _n(remote, scale), _n(remote_rider, scale), _n(online, scale), None,
                        None if paid is None else paid * scale, 520 * 1.03 ** max(k, 0),
                        _n(40, scale) if k >= 0 else 0, None, 0.45)
    if city == CHONGQING:
        table = {-1: (63_000, 0.55, 0.0, 77_000, 0.40, 0.72, 0, None),
                 0: (68_000, 0.62, 0.14, 82_000, 0.60, 0.915, 270, 27_100_000.0),
                 1: (72_000, 0.66, 0.14, 91_700, 0.62, 0.925, 298, 29_909_500.0)}
        if k in table:
            alerts, quick_rate, rider_share, insurer, remote_share, online, clicks, click_amount = table[k]
        elif k < -1:
            alerts, quick_rate, rider_share, insurer, remote_share, online, clicks, click_amount = table[-1]
        else:
            growth = k - 1
            alerts, quick_rate, rider_share = 72_000 * 1.02 ** growth, min(0.66 + 0.01 * growth, 0.75), 0.14
            insurer, remote_share, online = 91_700 * 1.04 ** growth, 0.64, 0.93
            clicks, click_amount = 320 * 1.05 ** (k - 2), None
        quick = alerts * quick_rate
        total = alerts + insurer
        group = GroupPlan(tuple(world.districts["adcode"]), _n(alerts, scale), _n(quick, scale),
                          _n(quick * rider_share, scale), _n(insurer, scale))
        return CasePlan((group,), _n(total * remote_share, scale), _n(0.3 * quick * rider_share, scale), None,
                        online, None, 900 * 1.03 ** max(k, 0), _n(clicks, scale),
                        None if click_amount is None else click_amount * scale, 0.45)
    raise ValueError(f"no case plan for city {city}")


def pick(rng: np.random.Generator, eligible: np.ndarray, k: int, weights: np.ndarray | None = None) -> np.ndarray:
    """A boolean mask with exactly min(k, eligible) of the eligible positions set."""
    chosen = np.zeros(eligible.size, dtype=bool)
    where = np.flatnonzero(eligible)
    k = min(int(k), where.size)
    if k <= 0:
        return chosen
    p = None
    if weights is not None:
        p = weights[where].astype(float)
        p = p / p.sum()
    chosen[rng.choice(where, size=k, replace=False, p=p)] = True
    return chosen


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def _allocate_cells(rng, total: int, day_weights: np.ndarray, district_weights: np.ndarray):
    """Multinomial counts over day × district cells summing to exactly `total`; returns (day index, district idx)."""
    p = np.outer(day_weights, district_weights).ravel()
    counts = rng.multinomial(total, p / p.sum())
    cells = np.repeat(np.arange(p.size), counts)
    return cells // district_weights.size, cells % district_weights.size


def generate_cases(world: World, k: int, seed: int, scale: float = 1.0) -> pd.DataFrame:
    """Every accident case reported in programme year k of the world's city, as accident_case columns."""
    prog = world.prog
    plan = case_plan(world, k, scale)
    rng = np.random.default_rng([seed, int(prog.city), 1, k + 100])
    first, after = programme_year(prog, k)
    days = seasons.days_between(first, after)
    year_trend = np.linspace(1.03, 0.97, len(days))        # alerts ease off through the year
    day_w = seasons.accident_day_weights(days) * year_trend

    parts = []
    for group in plan.groups:
        district_w = np.array([world.district_weight[d] for d in group.districts])
        for channel, total in ((Channel.POLICE_CALL, group.alerts), (Channel.INSURER, group.insurer)):
            day_i, district_i = _allocate_cells(rng, total, day_w, district_w)
            part = pd.DataFrame({"day_i": day_i, "district_adcode": np.asarray(group.districts)[district_i]})
            part["channel"] = channel.value
            part["group"] = len(parts) // 2
            parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    n = len(frame)
    alert = (frame["channel"] == Channel.POLICE_CALL.value).to_numpy()

    # Severity: police alerts include the injuries; insurer-only cases are nearly all property damage.
    u = rng.random(n)
    severity = np.where(alert, np.where(u < 0.92, 0, np.where(u < 0.995, 1, 2)), np.where(u < 0.97, 0, 1))
    minor = severity == 0

    # Quick handling, and the rider teams' share of it (only in districts with patrol grids, from the start).
    quick = np.zeros(n, dtype=bool)
    rider = np.zeros(n, dtype=bool)
    grid_districts = set(world.grids["district_adcode"]) if len(world.grids) else set()
    in_grid_district = frame["district_adcode"].isin(grid_districts).to_numpy()
    for g, group in enumerate(plan.groups):
        in_group = (frame["group"] == g).to_numpy()
        quick |= pick(rng, in_group & alert & minor, group.quick)
        rider |= pick(rng, in_group & quick & in_grid_district, group.rider_quick if k >= 0 else 0)

    found = rider & (rng.random(n) < plan.patrol_found)
    channel = frame["channel"].to_numpy().copy()
    channel[found] = Channel.PATROL.value

    handled_by = np.full(n, HandledBy.POLICE.value, dtype=object)
    handled_by[quick] = np.where(rng.random(int(quick.sum())) < 0.6, HandledBy.CLAIM_POINT.value,
                                 HandledBy.POLICE.value)
    insurer_only = ~alert
    handled_by[insurer_only] = np.where(rng.random(int(insurer_only.sum())) < 0.3, HandledBy.CLAIM_POINT.value,
                                        HandledBy.OTHER.value)
    handled_by[rider] = HandledBy.RIDER_TEAM.value

    # Remote liability (12123) and online assessment.
    remote = pick(rng, rider, plan.remote_rider)
    remote |= pick(rng, ~rider & minor & (quick | insurer_only), plan.remote - int(remote.sum()))
    if plan.online_assessed is not None:
        online_assessed = pick(rng, minor, plan.online_assessed, np.where(remote, 4.0, 1.0))
    else:
        target_union = int(round(plan.online_share * n))
        online_assessed = pick(rng, minor & ~remote, target_union - int(remote.sum()))
        online_assessed |= remote & (rng.random(n) < 0.7)

    # Who gets paid, and how much.
    u = rng.random(n)
    paid_p = np.select([quick, insurer_only & minor, alert & minor, severity == 1], [0.9, 0.88, 0.35, 0.7], 0.5)
    paid = u < paid_p
    medians = np.array([plan.minor_median_yuan, 9_000.0, 60_000.0])
    amount = medians[severity] * np.exp(np.array([0.85, 1.0, 0.9])[severity] * rng.standard_normal(n))
    one_click = pick(rng, paid & ~minor, plan.one_click)
    click_amount = _lognormal(rng, 80_000, 0.6, n)
    if plan.one_click_amount is not None and one_click.any():
        click_amount[one_click] *= plan.one_click_amount / click_amount[one_click].sum()
    amount = np.where(one_click, click_amount, amount)
    if plan.paid_amount is not None:
        others = paid & ~one_click
        amount[others] *= (plan.paid_amount - amount[one_click].sum()) / amount[others].sum()
    amount = np.round(amount, 2)
    if plan.paid_amount is not None:       # cents lost to rounding go to the largest payment
        largest = np.flatnonzero(paid)[np.argmax(amount[paid])]
        amount[largest] = round(amount[largest] + plan.paid_amount - amount[paid].sum(), 2)

    frame = frame.assign(channel=channel, severity=np.array([s.value for s in Severity])[severity],
                         handled_by=handled_by, quick_handled=quick, found_by_patrol=found)
    times = _stage_times(rng, days[frame["day_i"].to_numpy()], severity, quick, rider, found, remote,
                         online_assessed, paid, insurer_only, alert)
    frame = frame.assign(**times)
    frame["liability_mode"] = np.where(frame["liability_at"].isna(), None,
                                       np.where(remote, StageMode.REMOTE.value, StageMode.ON_SITE.value))
    frame["assessment_mode"] = np.where(frame["assessed_at"].isna(), None,
                                        np.where(online_assessed, StageMode.ONLINE.value, StageMode.ON_SITE.value))
    frame["one_click_claim"] = one_click
    frame["paid_amount_yuan"] = np.where(paid, amount, np.nan)

    insured = paid | insurer_only
    insurer_ids = world.pick_insurers(rng, n)
    frame["insurer_id"] = pd.array(np.where(insured, insurer_ids, 0), dtype="Int64")
    frame.loc[~insured, "insurer_id"] = pd.NA

    _place(frame, world, rng, rider)
    return _finish(frame, prog.city)


def _stage_times(rng, days: pd.DatetimeIndex, severity, quick, rider, found, remote, online, paid, insurer_only,
                 alert) -> dict[str, pd.Series]:
    """When each stage was reached (naive UTC), NaT when it never is."""
    n = len(days)
    minute = 60.0
    hours = rng.choice(24, size=n, p=seasons.HOUR_P)
    local = days.to_numpy() + (hours * 3600 + rng.integers(0, 3600, size=n)).astype("timedelta64[s]")
    reported = pd.DatetimeIndex(local - np.timedelta64(8, "h"))

    # To the scene: nobody goes for a remote or insurer-only case; a patrol that found it is already there.
    to_scene = np.where(rider, _lognormal(rng, 5.0, 0.45, n),
                        np.where(quick, _lognormal(rng, 16.0, 0.5, n), _lognormal(rng, 13.0, 0.5, n))) * minute
    to_scene[found] = 0.0
    went = ~remote & ~insurer_only
    # Clearing the road: the rider team's minor scrapes in about 2.5 minutes.
    clearance = np.select([rider, quick, severity == 0, severity == 1],
                          [_lognormal(rng, 2.4, 0.3, n), _lognormal(rng, 11.0, 0.45, n),
                           _lognormal(rng, 30.0, 0.55, n), _lognormal(rng, 55.0, 0.5, n)],
                          _lognormal(rng, 140.0, 0.4, n)) * minute
    # Liability: remote through 12123 within minutes; on site after clearing; injuries take days.
    liability = np.select(
        [remote, quick | (severity == 0), severity == 1],
        [_lognormal(rng, 2.3, 0.4, n) * minute, to_scene + clearance + _lognormal(rng, 12.0, 0.5, n) * minute,
         to_scene + clearance + _lognormal(rng, 2.5, 0.6, n) * 86_400],
        to_scene + clearance + _lognormal(rng, 5.0, 0.4, n) * 86_400)
    liability = np.where(insurer_only & ~remote, _lognormal(rng, 50.0, 0.6, n) * minute, liability)
    # Damage assessment: online minutes after liability, on site hours later (a claim point for quick cases).
    assessed = liability + np.where(online, _lognormal(rng, 9.0, 0.5, n) * minute,
                                    np.where(quick | insurer_only, _lognormal(rng, 45.0, 0.5, n) * minute,
                                             _lognormal(rng, 6.0, 0.6, n) * 3600))
    # Payout: the fast track (remote liability and online assessment) pays within the hour, never within 15 min.
    fast = remote & online & (severity == 0)
    payout = np.where(fast, FASTEST_PAYOUT_S + _lognormal(rng, 22.0, 0.75, n) * minute,
                      assessed + np.where(quick | insurer_only, _lognormal(rng, 70.0, 0.7, n) * minute,
                                          _lognormal(rng, 1.5, 0.7, n) * 86_400))
    if fast.any():
        payout[np.flatnonzero(fast)[np.argmin(payout[fast])]] = FASTEST_PAYOUT_S
    assessed = np.where(fast, np.minimum(assessed, payout - 2 * minute), assessed)
    liability = np.where(fast, np.minimum(liability, assessed - minute), liability)
    cap = MAX_STAGE_DAYS * 86_400.0 - 1
    assessed = np.minimum(assessed, cap - 60)
    payout = np.clip(payout, assessed + 60, cap)
    liability = np.minimum(liability, assessed - 30)

    def at(seconds: np.ndarray, reached: np.ndarray) -> pd.Series:
        values = reported + pd.to_timedelta(np.round(seconds), unit="s")
        return pd.Series(values.where(reached), dtype="datetime64[ns]")

    everyone = np.ones(n, dtype=bool)
    return {
        "reported_at": pd.Series(reported),
        "on_scene_at": at(to_scene, went),
        "cleared_at": at(to_scene + clearance, went),
        "liability_at": at(liability, everyone),
        "assessed_at": at(assessed, paid | online),
        "paid_at": at(payout, paid),
    }


def _place(frame: pd.DataFrame, world: World, rng, rider: np.ndarray) -> None:
    """Locations: rider-team cases inside their grid, the rest around the district's busy places."""
    lon = np.zeros(len(frame))
    lat = np.zeros(len(frame))
    for district, index in frame.groupby("district_adcode").indices.items():
        points = world.places[district].sample(len(index), rng)
        lon[index], lat[index] = points[:, 0], points[:, 1]
    frame["grid_id"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    frame["unit_id"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    if rider.any():
        grids = world.grids
        units = world.units                    # each unit carries its team's grid
        for district, index in frame[rider].groupby("district_adcode").indices.items():
            rows = np.flatnonzero(rider)[index]
            local = grids[grids["district_adcode"] == district]
            choice = rng.integers(0, len(local), size=len(rows))
            for j, grid in enumerate(local.itertuples()):
                mine = rows[choice == j]
                if not mine.size:
                    continue
                points = places.uniform_points(world.grid_shapes[grid.id], mine.size, rng)
                lon[mine], lat[mine] = points[:, 0], points[:, 1]
                frame.loc[mine, "grid_id"] = grid.id
                grid_units = units.loc[units["grid_id"] == grid.id, "id"].to_numpy()
                frame.loc[mine, "unit_id"] = grid_units[rng.integers(0, len(grid_units), size=mine.size)]
    frame["lon"] = np.round(lon, 6)
    frame["lat"] = np.round(lat, 6)


def _finish(frame: pd.DataFrame, city: str) -> pd.DataFrame:
    frame = frame.sort_values("reported_at", kind="stable").reset_index(drop=True)
    local = frame["reported_at"] + pd.Timedelta(hours=8)
    frame["local_day"] = local.dt.date
    frame["local_hour"] = local.dt.hour.astype(int)
    sequence = frame.groupby("local_day").cumcount() + 1
    frame["external_id"] = city + "-" + local.dt.strftime("%Y%m%d") + "-" + sequence.map("{:05d}".format)
    frame["source"] = "demo"
    frame["city_adcode"] = city
    frame["handled_online"] = (frame["liability_mode"] == StageMode.REMOTE.value) | (
        frame["assessment_mode"] == StageMode.ONLINE.value)
    return frame[CASE_COLUMNS]


CASE_COLUMNS = [
    "source", "external_id", "city_adcode", "district_adcode", "channel", "severity", "handled_by", "lon", "lat",
    "reported_at", "local_day", "local_hour", "found_by_patrol", "on_scene_at", "cleared_at", "quick_handled",
    "liability_at", "liability_mode", "assessed_at", "assessment_mode", "handled_online", "one_click_claim",
    "insurer_id", "paid_at", "paid_amount_yuan", "grid_id", "unit_id",
]


def cut(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Cases reported in [start, end) (naive UTC) as they stood at `end`: later stages not reached yet."""
    frame = frame[(frame["reported_at"] >= start) & (frame["reported_at"] < end)].copy()
    for column, mode in (("on_scene_at", None), ("cleared_at", None), ("liability_at", "liability_mode"),
                         ("assessed_at", "assessment_mode"), ("paid_at", None)):
        later = frame[column] >= end
        if later.any():
            frame.loc[later, column] = pd.NaT
            if mode:
                frame.loc[later, mode] = None
    unpaid = frame["paid_at"].isna()
    frame.loc[unpaid, "paid_amount_yuan"] = np.nan
    frame.loc[unpaid, "one_click_claim"] = False
    frame["handled_online"] = (frame["liability_mode"] == StageMode.REMOTE.value) | (
        frame["assessment_mode"] == StageMode.ONLINE.value)
    return frame
