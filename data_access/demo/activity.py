"""Everything of a programme year besides accident cases: rider-team patrols, dispute mediation, helicopter
rescues, rural persuasion, vehicle-administration services, e-bike registrations and anti-fraud leads.

Each stream of each year draws from its own generator; published totals are exact (allocation with largest
remainders or multinomial draws with a fixed total), amounts rescaled to the published sums.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from data_access.demo import places, seasons
from data_access.demo.reference import CHONGQING, ZHANGZHOU, World, allocate, programme_year
from data_access.geo import haversine_km
from data_access.models import MediationOutcome, PersuasionKind, RescueOutcome, StationKind, VehicleServiceKind

STREAMS = ("patrol", "mediation", "rescue", "persuasion", "services", "ebikes", "fraud")
CQ_WINDOW_END = dt.date(2020, 4, 15)          # the last day of Chongqing's two published years


def _rng(seed: int, city: str, stream: str, k: int) -> np.random.Generator:
    return np.random.default_rng([seed, int(city), 10 + STREAMS.index(stream), k + 100])


def _n(value: float, scale: float) -> int:
    return int(round(value * scale))


def _utc(days: np.ndarray, seconds: np.ndarray) -> pd.Series:
    """Local days plus seconds after local midnight, as naive UTC datetimes."""
    local = pd.to_datetime(days).to_numpy() + np.asarray(seconds).astype("timedelta64[s]")
    return pd.Series(local - np.timedelta64(8, "h"))


def _local_day(utc: pd.Series) -> pd.Series:
    return (utc + pd.Timedelta(hours=8)).dt.date


def _year_days(world: World, k: int) -> pd.DatetimeIndex:
    return seasons.days_between(*programme_year(world.prog, k))


# ------------------------------------------------------------------------------------------------ patrols
PATROL_TARGETS = {   # person-times, km, safety persuasion person-times, good deeds
    (ZHANGZHOU, 0): (5_927, 79_451.0, 5_893, 49),
    (CHONGQING, 0): (36_000, 520_000.0, 28_000, 1_900),
    (CHONGQING, 1): (38_000, 560_000.0, 30_000, 2_000),
}


def patrol_shifts(world: World, k: int, seed: int, scale: float = 1.0) -> pd.DataFrame:
    """One row per rider team and day: person-times on patrol, km, people persuaded, good deeds."""
    if k < 0 or world.teams.empty:
        return pd.DataFrame()
    city = world.prog.city
    rng = _rng(seed, city, "patrol", k)
    base = PATROL_TARGETS.get((city, k)) or tuple(v * 1.02 ** k for v in PATROL_TARGETS[(city, 0)])
    person_times, km, persuaded, deeds = (_n(base[0], scale), base[1] * scale, _n(base[2], scale),
                                          _n(base[3], scale))
    days = _year_days(world, k)
    teams = world.teams.merge(world.grids[["id", "district_adcode"]].rename(columns={"id": "grid_id"}), on="grid_id")
    day_w = seasons.WEEKDAY[days.day_of_week] * np.where((days.month >= 2) & (days.year == 2020) & (days.month <= 3),
                                                        1.3, 1.0)
    team_w = teams["members"].to_numpy(dtype=float)
    p = np.outer(day_w, team_w).ravel()
    p /= p.sum()
    times = rng.multinomial(person_times, p)
    on_patrol = p * (times > 0)          # persuasion and good deeds happen on the days a team was out
    on_patrol /= on_patrol.sum()
    share = times / max(person_times, 1)
    km_cells = share * rng.uniform(0.8, 1.2, size=share.size)
    km_cells = np.round(km_cells / km_cells.sum() * km, 1) if km_cells.sum() else km_cells
    frame = pd.DataFrame({
        "team_id": np.tile(teams["id"].to_numpy(), len(days)),
        "city_adcode": city,
        "district_adcode": np.tile(teams["district_adcode"].to_numpy(), len(days)),
        "local_day": np.repeat(days.date, len(teams)),
        "person_times": times,
        "km": km_cells,
        "persuaded": rng.multinomial(persuaded, on_patrol),
        "good_deeds": rng.multinomial(deeds, on_patrol),
    })
    return frame[frame["person_times"] > 0].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- mediation
def _mediation_plan(city: str, k: int) -> tuple[int, int, float, float | None]:
    """Cases opened, of them failed, median amount, and the exact settled amount closed in Chongqing's window."""
    if city == CHONGQING:
        if k == 0:
            return 950, 3, 33_000.0, 45_000_000.0
        if k == 1:
            return 1_044, 3, 33_000.0, 48_841_800.0
        return round(1_100 * 1.04 ** (k - 2)), 4, 34_000.0, None
    return round(380 * 1.05 ** k), round(380 * 1.05 ** k * 0.04), 28_000.0, None


def mediation_cases(world: World, k: int, seed: int, scale: float = 1.0) -> pd.DataFrame:
    """The dispute mediations opened in programme year k, each with its district, insurer, outcome and amount."""
    if k < 0:
        return pd.DataFrame()
    city = world.prog.city
    rng = _rng(seed, city, "mediation", k)
    opened_n, failed_n, median, window_amount = _mediation_plan(city, k)
    opened_n, failed_n = _n(opened_n, scale), _n(failed_n, scale)
    days = _year_days(world, k)
    weekday = seasons.WEEKDAY[days.day_of_week] * np.where(days.day_of_week >= 5, 0.2, 1.0)
    day_i = np.sort(rng.choice(len(days), size=opened_n, p=weekday / weekday.sum()))
    opened = _utc(days[day_i].to_numpy(), rng.integers(9 * 3600, 17 * 3600, size=opened_n))
    # Mediation took a fifth less time than before: a median of about 12 days.
    duration_days = np.clip(12.0 * np.exp(0.6 * rng.standard_normal(opened_n)), 1.0, 120.0)
    closed = opened + pd.to_timedelta(np.round(duration_days * 86_400), unit="s")
    failed = np.zeros(opened_n, dtype=bool)
    failed[rng.choice(opened_n, size=min(failed_n, opened_n), replace=False)] = True
    outcome = np.where(failed, np.where(rng.random(opened_n) < 0.5, MediationOutcome.FAILED.value,
                                        MediationOutcome.LITIGATION.value), MediationOutcome.SETTLED.value)
    pre_litigation = ~failed & (rng.random(opened_n) < 0.86)
    amount = np.where(failed, np.nan, median * np.exp(0.7 * rng.standard_normal(opened_n)))
    if window_amount is not None:
        counted = ~failed & (_local_day(closed) <= CQ_WINDOW_END).to_numpy()
        amount[counted] *= window_amount * scale / amount[counted].sum()
    amount = np.round(amount, 2)
    districts = list(world.district_weight)
    weights = np.array([world.district_weight[d] for d in districts])
    district = np.asarray(districts)[rng.choice(len(districts), size=opened_n, p=weights / weights.sum())]
    # The insurer of each disputed accident, by the insurers' share of the cases; drawn last, so that every figure
    # above stays what it was before mediations had an insurer.
    insurer = world.pick_insurers(rng, opened_n)
    frame = pd.DataFrame({
        "source": "demo",
        "external_id": [f"{city}-M{k + 1:02d}-{i + 1:05d}" for i in range(opened_n)],
        "city_adcode": city, "district_adcode": district, "insurer_id": insurer,
        "opened_at": opened, "opened_day": _local_day(opened),
        "closed_at": closed, "closed_day": _local_day(closed),
        "outcome": outcome, "pre_litigation": pre_litigation, "amount_yuan": amount,
    })
    return frame


def cut_mediation(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    frame = frame[(frame["opened_at"] >= start) & (frame["opened_at"] < end)].copy()
    still_open = frame["closed_at"] >= end
    frame.loc[still_open, ["closed_at"]] = pd.NaT
    frame.loc[still_open, "closed_day"] = None
    frame.loc[still_open, "outcome"] = MediationOutcome.OPEN.value
    frame.loc[still_open, "amount_yuan"] = np.nan
    frame.loc[still_open, "pre_litigation"] = False
    return frame


# ------------------------------------------------------------------------------------------------ rescues
def rescue_missions(world: World, k: int, seed: int, scale: float = 1.0) -> pd.DataFrame:
    """Helicopter rescues: helipad → scene (out of town) → hospital, all survived in the published years."""
    city = world.prog.city
    if k < 0 or (city == ZHANGZHOU and k == 0):
        return pd.DataFrame()
    rng = _rng(seed, city, "rescue", k)
    if city == CHONGQING and k in (0, 1):
        n, survive_p = 3, 1.0
    else:
        n, survive_p = (4 if city == CHONGQING else 2), 0.85
    n = max(_n(n, scale), 1)
    stations = world.stations
    helipads = stations[stations["kind"] == StationKind.HELIPAD.value]
    hospitals = stations[stations["kind"] == StationKind.HOSPITAL.value]
    outer = [d for d in world.districts["adcode"] if d not in world.main_urban()]
    days = _year_days(world, k)
    rows = []
    for i in range(n):
        district = outer[int(rng.integers(0, len(outer)))]
        scene = places.uniform_points(world.places[district].geometry, 1, rng)[0]
        pad = helipads.iloc[int(np.argmin(haversine_km(helipads["lon"], helipads["lat"], scene[0], scene[1])))]
        hospital = hospitals.iloc[int(np.argmin(haversine_km(hospitals["lon"], hospitals["lat"], scene[0],
                                                             scene[1]) + 30 * ~hospitals["district_adcode"].isin(
            world.main_urban())))]
        out_km = float(haversine_km(pad.lon, pad.lat, scene[0], scene[1]))
        back_km = float(haversine_km(scene[0], scene[1], hospital.lon, hospital.lat))
        requested = _utc(np.array([days[int(rng.integers(0, len(days)))]]),
                         np.array([int(rng.integers(7 * 3600, 20 * 3600))]))[0]
        takeoff = requested + pd.Timedelta(minutes=float(rng.uniform(8, 14)))
        on_scene = takeoff + pd.Timedelta(minutes=out_km / 220 * 60 + 4)
        at_hospital = on_scene + pd.Timedelta(minutes=float(rng.uniform(10, 18)) + back_km / 220 * 60)
        route = {"type": "LineString", "coordinates": [[round(pad.lon, 5), round(pad.lat, 5)],
                                                       [round(float(scene[0]), 5), round(float(scene[1]), 5)],
                                                       [round(hospital.lon, 5), round(hospital.lat, 5)]]}
        rows.append(dict(
            source="demo", external_id=f"{city}-R{k + 1:02d}-{i + 1:02d}", city_adcode=city, district_adcode=district,
            case_id=None, requested_at=requested.floor("s"), local_day=(requested + pd.Timedelta(hours=8)).date(),
            takeoff_at=takeoff.floor("s"), on_scene_at=on_scene.floor("s"), hospital_at=at_hospital.floor("s"),
            outcome=(RescueOutcome.SURVIVED if rng.random() < survive_p else RescueOutcome.DIED).value,
            route_geojson=json.dumps(route),
        ))
    frame = pd.DataFrame(rows).sort_values("requested_at").reset_index(drop=True)
    frame["case_id"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    return frame


def cut_rescues(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    frame = frame[(frame["requested_at"] >= start) & (frame["requested_at"] < end)].copy()
    for column in ("takeoff_at", "on_scene_at", "hospital_at"):
        frame.loc[frame[column] >= end, column] = pd.NaT
    frame.loc[frame["hospital_at"].isna(), "outcome"] = RescueOutcome.UNKNOWN.value
    return frame


# ------------------------------------------------------------------------------------ rural persuasion stations
PERSUASION_SPLIT = {PersuasionKind.NO_HELMET: 0.6, PersuasionKind.OVERLOADING: 0.2, PersuasionKind.UNLICENSED: 0.1,
                    PersuasionKind.OTHER: 0.1}
PERSUASION_TARGETS = {   # violations stopped (drunk driving included), drunk driving, hazards found
    (CHONGQING, 0): (150_000, 100, 900),
    (CHONGQING, 1): (171_500, 111, 1_042),
}


def _cells(rng, total: int, weights: np.ndarray) -> np.ndarray:
    if total <= 0:
        return np.zeros(weights.size, dtype=np.int64)
    return rng.multinomial(total, weights / weights.sum())


def _open_mask(stations: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
    """days × stations: 1 where the station was open that day."""
    opened = pd.to_datetime(stations["opened_on"].fillna(dt.date(2000, 1, 1))).to_numpy()
    return (days.to_numpy()[:, None] >= opened[None, :]).astype(float)


def _stations(world: World, kind: StationKind) -> pd.DataFrame:
    return world.stations[world.stations["kind"] == kind.value].reset_index(drop=True)


def _station_days(stations: pd.DataFrame, days: pd.DatetimeIndex, counts: np.ndarray, city: str) -> pd.DataFrame:
    """Rows of the nonzero cells of a days × stations count grid (flattened day-major)."""
    hit = np.flatnonzero(counts)
    station = hit % len(stations)
    return pd.DataFrame({
        "station_id": stations["id"].to_numpy()[station], "city_adcode": city,
        "district_adcode": stations["district_adcode"].to_numpy()[station],
        "local_day": days.date[hit // len(stations)], "count": counts[hit],
    })


def persuasion_records(world: World, k: int, seed: int, scale: float = 1.0) -> pd.DataFrame:
    """What the rural persuasion stations stopped each day, by kind (stations open only from their opening day)."""
    city = world.prog.city
    stations = _stations(world, StationKind.PERSUASION)
    if k < 0 or stations.empty:
        return pd.DataFrame()
    rng = _rng(seed, city, "persuasion", k)
    if (city, k) in PERSUASION_TARGETS:
        violations, drunk, hazards = PERSUASION_TARGETS[(city, k)]
    elif city == CHONGQING:
        violations, drunk, hazards = 175_000 * 1.02 ** (k - 2), 110, 950
    else:
        violations, drunk, hazards = 20_000 * 1.03 ** k, 20, 150
    totals = {PersuasionKind.DRUNK_DRIVING: _n(drunk, scale), PersuasionKind.HAZARD: _n(hazards, scale)}
    split = allocate(_n(violations - drunk, scale), np.array(list(PERSUASION_SPLIT.values())))
    totals.update(zip(PERSUASION_SPLIT, split.tolist(), strict=True))
    days = _year_days(world, k)
    # Busier on market days and holidays; in spring 2020 the stations also served as epidemic check points.
    day_w = seasons.accident_day_weights(days) ** 0.3
    weights = (_open_mask(stations, days) * day_w[:, None]).ravel()
    frames = []
    for kind, total in totals.items():
        counts = _cells(rng, int(total), weights)
        frames.append(_station_days(stations, days, counts, city).assign(kind=kind.value))
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------ vehicle-administration services
SERVICE_WINDOW_TOTALS = {   # Chongqing's two published years
    VehicleServiceKind.ANNUAL_CHECK: 70_000, VehicleServiceKind.TEMPORARY_PLATE: 9_000,
    VehicleServiceKind.VIOLATION_LOOKUP: 6_000, VehicleServiceKind.LIABILITY_LETTER: 436,
    VehicleServiceKind.LICENCE_REPLACEMENT: 311,
}
# Relative volume of each quarter of the window; 2020 Q1 is 30% above 2019 Q4 (stations took over from the
# closed vehicle offices during the epidemic).
SERVICE_QUARTER_WEIGHT = {
    (2018, 2): 0.55, (2018, 3): 0.75, (2018, 4): 0.85, (2019, 1): 0.9, (2019, 2): 1.0, (2019, 3): 1.05,
    (2019, 4): 1.1, (2020, 1): 1.43, (2020, 2): 1.2,
}


def _service_segments(world: World, k: int) -> list[tuple[pd.DatetimeIndex, dict[VehicleServiceKind, int]]]:
    """(days, totals by kind) pieces of year k; in Chongqing's window, exact per quarter across both years."""
    city = world.prog.city
    if city == CHONGQING and k in (0, 1):
        window = seasons.days_between(world.prog.start, CQ_WINDOW_END + dt.timedelta(days=1))
        quarters = pd.PeriodIndex(window, freq="Q")
        keys = sorted(set(zip(quarters.year, quarters.quarter, strict=True)))
        days_in = np.array([((quarters.year == y) & (quarters.quarter == q)).sum() for y, q in keys], dtype=float)
        periods = [pd.Period(year=y, quarter=q, freq="Q") for y, q in keys]
        full = np.array([(p.end_time.normalize() - p.start_time).days + 1 for p in periods], dtype=float)
        w = np.array([SERVICE_QUARTER_WEIGHT[key] for key in keys]) * days_in / full
        per_kind = {kind: allocate(total, w) for kind, total in SERVICE_WINDOW_TOTALS.items()}
        first, after = programme_year(world.prog, k)
        segments = []
        for i, (y, q) in enumerate(keys):
            in_quarter = window[(quarters.year == y) & (quarters.quarter == q)]
            days = in_quarter[(in_quarter.date >= first) & (in_quarter.date < after)]
            if len(days) == 0:
                continue
            share = len(days) / len(in_quarter)
            if share < 1.0:   # a quarter split between the two years: split its totals by days
                totals = {kind: int(round(counts[i] * share)) if days[0].date() == in_quarter[0].date()
                          else int(counts[i] - round(counts[i] * (1 - share))) for kind, counts in per_kind.items()}
            else:
                totals = {kind: int(counts[i]) for kind, counts in per_kind.items()}
            segments.append((days, totals))
        return segments
    if k < 0:
        return []
    volume = 50_000 * 1.05 ** (k - 2) if city == CHONGQING else 8_000 * 1.05 ** k
    split = allocate(round(volume), np.array(list(SERVICE_WINDOW_TOTALS.values()), dtype=float))
    return [(_year_days(world, k), dict(zip(SERVICE_WINDOW_TOTALS, split.tolist(), strict=True)))]


def vehicle_services(world: World, k: int, seed: int, scale: float = 1.0) -> pd.DataFrame:
    city = world.prog.city
    stations = _stations(world, StationKind.VEHICLE_ADMIN)
    if stations.empty:
        return pd.DataFrame()
    rng = _rng(seed, city, "services", k)
    frames = []
    for days, totals in _service_segments(world, k):
        day_w = seasons.WEEKDAY[days.day_of_week] * np.where(days.day_of_week >= 5, 0.4, 1.0)
        weights = (_open_mask(stations, days) * day_w[:, None]).ravel()
        for kind, total in totals.items():
            counts = _cells(rng, _n(total, scale), weights)
            frames.append(_station_days(stations, days, counts, city).assign(kind=kind.value))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def ebike_registrations(world: World, k: int, seed: int, scale: float = 1.0) -> pd.DataFrame:
    """E-bikes registered at the vehicle-administration stations: 867,000 in Chongqing's two published years."""
    city = world.prog.city
    stations = _stations(world, StationKind.VEHICLE_ADMIN)
    if k < 0 or stations.empty:
        return pd.DataFrame()
    rng = _rng(seed, city, "ebikes", k)
    if city == CHONGQING:
        total = {0: 300_000, 1: 567_000}.get(k, 200_000 * 0.85 ** (k - 2))
    else:
        total = 60_000 * 0.95 ** k
    days = _year_days(world, k)
    day_w = seasons.WEEKDAY[days.day_of_week] * np.where(days.day_of_week >= 5, 0.4, 1.0)
    weights = (_open_mask(stations, days) * day_w[:, None]).ravel()
    counts = _cells(rng, _n(total, scale), weights)
    return _station_days(stations, days, counts, city)


# ------------------------------------------------------------------------------------------------ anti-fraud
FRAUD_TARGETS = {(CHONGQING, 0): (300, 140, 14_000_000.0), (CHONGQING, 1): (303, 156, 15_523_800.0)}


def fraud_leads(world: World, k: int, seed: int, scale: float = 1.0) -> pd.DataFrame:
    """Leads from vehicle-trajectory analysis; the suspected ones with the amount their claims asked for."""
    city = world.prog.city
    if k < 0:
        return pd.DataFrame()
    rng = _rng(seed, city, "fraud", k)
    leads, suspected, amount_total = FRAUD_TARGETS.get(
        (city, k), (330, 160, None) if city == CHONGQING else (90, 40, None))
    leads, suspected = _n(leads, scale), _n(suspected, scale)
    days = _year_days(world, k)
    day_i = np.sort(rng.integers(0, len(days), size=leads))
    opened = _utc(days[day_i].to_numpy(), rng.integers(8 * 3600, 22 * 3600, size=leads))
    is_suspected = np.zeros(leads, dtype=bool)
    is_suspected[rng.choice(leads, size=min(suspected, leads), replace=False)] = True
    amount = 80_000 * np.exp(0.7 * rng.standard_normal(leads))
    if amount_total is not None and is_suspected.any():
        amount[is_suspected] *= amount_total * scale / amount[is_suspected].sum()
    districts = list(world.district_weight)
    weights = np.array([world.district_weight[d] for d in districts])
    return pd.DataFrame({
        "city_adcode": city,
        "district_adcode": np.asarray(districts)[rng.choice(len(districts), size=leads, p=weights / weights.sum())],
        "insurer_id": world.pick_insurers(rng, leads),
        "opened_at": opened, "local_day": _local_day(opened), "suspected": is_suspected,
        "amount_yuan": np.round(amount, 2),
    })
