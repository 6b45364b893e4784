"""Station coverage (data_access/coverage.py): the coverage metric and the greedy recommendation against brute force on
small data, monotony, hexbins, the local plane, the URL scenario and a hand-built database with known answers."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from data_access import coverage as cv
from data_access.filters import Filters
from data_access.geo import haversine_km
from data_access.models import Severity, Station, StationKind
from tests.unit.handmade import CITY, D1, D2, case, empty_city, local

MODEL = cv.TravelModel()


def random_demand(rng, n: int = 300, span: float = 30.0) -> cv.Demand:
    return cv.Demand.of(rng.uniform(0, span, (n, 2)), rng.choice([1.0, 3.0, 10.0], n), rng.random(n) < 0.4,
                        rng.choice(["a", "b", "c"], n))


def brute_covered(demand: cv.Demand, sites_xy, vehicles, minutes: float, model: cv.TravelModel) -> np.ndarray:
    """Every point against every site, one pair at a time, travel time = distance × circuity ÷ speed."""
    covered = np.zeros(len(demand), dtype=bool)
    for i, (point, rural) in enumerate(zip(demand.xy, demand.rural, strict=True)):
        for site, vehicle in zip(sites_xy, vehicles, strict=True):
            distance = math.dist(point, site)
            hours = distance * model.circuity / model.speed(vehicle, "rural" if rural else "urban")
            if hours * 60 <= minutes + 1e-9:
                covered[i] = True
                break
    return covered


def brute_greedy(demand, covered, candidates, vehicle, minutes, model, k) -> list[tuple[int, float]]:
    """Greedy by trying every candidate in full at each step."""
    covered, picks = covered.copy(), []
    for _ in range(k):
        best, best_gain, best_mask = None, 0.0, None
        for c, site in enumerate(candidates):
            mask = brute_covered(demand, [site], [vehicle], minutes, model) & ~covered
            gain = float(demand.weight[mask].sum())
            if gain > best_gain + 1e-9:
                best, best_gain, best_mask = c, gain, mask
        if best is None:
            break
        covered |= best_mask
        picks.append((best, best_gain))
    return picks


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("minutes", [5, 10, 30])
def test_cov001_coverage_matches_brute_force(seed, minutes):
    rng = np.random.default_rng(seed)
    span = max(30.0, 4.0 * minutes)                  # wide enough that some demand stays uncovered
    demand = random_demand(rng, span=span)
    sites = rng.uniform(0, span, (12, 2))
    vehicles = rng.choice(list(cv.VEHICLES), 12)
    result = cv.coverage(demand, cv.Sites.of(sites, list(vehicles)), minutes, MODEL)
    expected = brute_covered(demand, sites, vehicles, minutes, MODEL)
    assert (result.covered == expected).all()
    assert result.covered_weight == pytest.approx(demand.weight[expected].sum())
    assert result.share == pytest.approx(demand.weight[expected].sum() / demand.weight.sum())
    assert 0 < result.share < 1                      # the data leave some demand uncovered: the test can fail


def test_cov002_coverage_by_district_sums_to_the_city():
    rng = np.random.default_rng(7)
    demand = random_demand(rng)
    result = cv.coverage(demand, cv.Sites.of(rng.uniform(0, 30, (8, 2))), 10, MODEL)
    table = cv.coverage_by_district(demand, result, ["a", "b", "c", "d"])
    assert table["covered"].sum() == pytest.approx(result.covered_weight)
    assert table["demand"].sum() == pytest.approx(demand.weight.sum())
    row_a = table.set_index("district_adcode").loc["a"]
    in_a = demand.district == "a"
    assert row_a["share"] == pytest.approx(demand.weight[in_a & result.covered].sum() / demand.weight[in_a].sum())
    assert math.isnan(table.set_index("district_adcode").loc["d", "share"])      # no demand: no share


@pytest.mark.parametrize("seed", [4, 5])
def test_cov003_greedy_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    demand = random_demand(rng, 200)
    existing = rng.uniform(0, 30, (3, 2))
    covered = cv.coverage(demand, cv.Sites.of(existing), 10, MODEL).covered
    candidates = rng.uniform(0, 30, (40, 2))
    steps = cv.greedy_sites(demand, covered, candidates, "car", 10, MODEL, 4)
    expected = brute_greedy(demand, covered, candidates, "car", 10, MODEL, 4)
    assert [(s.candidate, pytest.approx(s.gain)) for s in steps] == expected
    assert len(steps) == 4 and all(a.gain >= b.gain for a, b in itertools.pairwise(steps))
    # the running total is the coverage metric of the existing sites plus the picks
    picked = np.vstack([existing, candidates[[s.candidate for s in steps]]])
    assert steps[-1].covered_weight == pytest.approx(cv.coverage(demand, cv.Sites.of(picked), 10, MODEL).covered_weight)


def test_cov004_greedy_first_pick_is_the_best_single_site_and_stops_when_nothing_is_left():
    demand = cv.Demand.of([[0, 0], [0.5, 0], [10, 10]], [1, 1, 5])
    candidates = [[0.2, 0], [10, 10.1], [50, 50]]
    steps = cv.greedy_sites(demand, np.zeros(3, dtype=bool), candidates, "car", 5, MODEL, 5)
    assert [(s.candidate, s.gain) for s in steps] == [(1, 5.0), (0, 2.0)]          # the far one adds nothing
    assert cv.greedy_sites(demand, np.ones(3, dtype=bool), candidates, "car", 5, MODEL, 3) == []


def test_cov005_adding_a_station_never_lowers_coverage_and_no_station_gives_zero():
    rng = np.random.default_rng(11)
    demand = random_demand(rng, 400)
    sites = rng.uniform(0, 30, (1, 2))
    previous = cv.coverage(demand, cv.Sites.of(sites), 10, MODEL).share
    for _ in range(15):
        sites = np.vstack([sites, rng.uniform(0, 30, (1, 2))])
        share = cv.coverage(demand, cv.Sites.of(sites), 10, MODEL).share
        assert share >= previous
        previous = share
    assert previous > 0.5
    empty = cv.coverage(demand, cv.Sites.of(np.zeros((0, 2))), 10, MODEL)
    assert empty.share == 0 and not empty.covered.any()
    assert cv.coverage(cv.Demand.of(np.zeros((0, 2))), cv.Sites.of(sites), 10, MODEL).share is None


def test_cov006_speeds_follow_vehicle_and_area():
    model = cv.TravelModel(circuity=1.5)
    # 10 minutes by car in a rural area: 55 km/h × 1/6 h ÷ 1.5
    assert model.radius_km(10, "car", [True])[0] == pytest.approx(55 / 6 / 1.5)
    assert model.radius_km(10, "motorcycle", [False])[0] == pytest.approx(25 / 6 / 1.5)
    demand = cv.Demand.of([[4.0, 0.0], [4.0, 0.0]], rural=[False, True])
    result = cv.coverage(demand, cv.Sites.of([[0, 0]], "car"), 10, model)          # 3.33 km urban, 6.1 km rural
    assert result.covered.tolist() == [False, True]


def test_cov007_hexbin_puts_each_point_in_its_hexagon():
    rng = np.random.default_rng(3)
    xy = rng.normal(0, 8, (500, 2))
    centres, index = cv.hexbin(xy, 1.5)
    assert len(np.unique(index)) == len(centres)
    for point, i in zip(xy, index, strict=True):
        hexagon = Polygon(cv.hexagon(centres[i], 1.5))
        assert hexagon.buffer(1e-9).contains(Point(point))
    # neighbouring hexagons touch without overlapping: the areas add up to the hexagon area each
    assert Polygon(cv.hexagon(centres[0], 1.5)).area == pytest.approx(1.5 ** 2 * 3 * math.sqrt(3) / 2)


def test_cov008_local_plane_keeps_distances_within_half_a_percent_across_zhangzhou():
    plane = cv.Plane(117.65, 24.51)
    lon, lat = np.array([117.0, 118.2, 117.4]), np.array([23.8, 25.2, 24.9])
    xy = plane.xy(lon, lat)
    for a, b in itertools.combinations(range(3), 2):
        assert math.dist(xy[a], xy[b]) == pytest.approx(haversine_km(lon[a], lat[a], lon[b], lat[b]), rel=0.005)
    back = plane.lonlat(xy)
    assert np.allclose(back[0], lon) and np.allclose(back[1], lat)


def test_cov009_scenario_round_trips_through_the_url_and_bad_values_fall_back():
    scenario = cv.Scenario(kinds=("police_booth", "persuasion"), minutes=15, weighting="severity",
                           model=cv.TravelModel(1.4, (("motorcycle", "urban", 20.0), ("motorcycle", "rural", 35.0),
                                                      ("car", "urban", 28.0), ("car", "rural", 50.0))),
                           added=((117.61234, 24.51234),), off=(3, 9), k=5, site_vehicle="motorcycle",
                           candidates=((117.6, 24.5), (117.7, 24.6)))
    params = {k: v for k, v in scenario.to_params().items() if v is not None}
    assert params["add"] == "117.61234,24.51234"
    assert cv.parse_scenario(params) == (scenario, [])
    assert cv.parse_scenario({}) == (cv.Scenario(), [])
    bad = {"kinds": "police_booth,castle", "t": "-3", "weight": "heavy", "circuity": "x", "speeds": "1,2",
           "add": "117.6;24.5", "off": "a", "k": "99", "vehicle": "bus", "cands": "117.6,24.5;x"}
    parsed, problems = cv.parse_scenario(bad)
    assert parsed == cv.Scenario() and sorted(problems) == sorted(bad)
    assert cv.parse_scenario({"add": "117.123456789,24.5"})[0].added == ((117.12346, 24.5),)
    assert cv.parse_scenario({"kinds": "none"})[0].kinds == ()


@pytest.fixture()
def planned_city(tmp_path):
    """Two stations in 芗城区 (a booth and a claim point) and accidents at known distances from them."""
    db = empty_city(tmp_path)
    day = dt.date(2026, 3, 2)
    with db.transaction() as session:
        session.add_all([
            Station(id=1, city_adcode=CITY, district_adcode=D1, kind=StationKind.POLICE_BOOTH, code="B1",
                    name_zh="岗亭一", name_en="Booth 1", lon=117.62, lat=24.52),
            Station(id=2, city_adcode=CITY, district_adcode=D2, kind=StationKind.CLAIM_POINT, code="C1",
                    name_zh="理赔点一", name_en="Claim point 1", lon=117.72, lat=24.52),
        ])
        # 芗城: 0.01° of latitude = 1.112 km north of the booth (covered in 10 min by motorcycle: 3.2 km),
        # 0.05° = 5.56 km (not covered); 龙文: one next to the claim point, one major accident 0.1° away.
        session.add_all([
            case(local(day), D1, lon=117.62, lat=24.53),
            case(local(day), D1, lon=117.62, lat=24.57),
            case(local(day), D2, lon=117.72, lat=24.521),
            case(local(day), D2, lon=117.72, lat=24.62, severity=Severity.MAJOR),
            case(local(day - dt.timedelta(days=40)), D1, lon=117.62, lat=24.52),          # outside the window
        ])
    return db, Filters(city=CITY, start=day - dt.timedelta(days=6), end=day)


def test_cov010_plan_from_the_database_has_the_known_shares(planned_city):
    db, filters = planned_city
    plan = cv.evaluate_plan(db, filters, cv.Scenario(), (117.65, 24.51))
    assert plan.demand_points == 4
    assert plan.before.share == pytest.approx(0.5)
    rows = plan.districts.set_index("district_adcode")
    assert rows.loc[D1, "share_before"] == pytest.approx(0.5) and rows.loc[D2, "share_before"] == pytest.approx(0.5)

    weighted = cv.evaluate_plan(db, filters, cv.Scenario(weighting="severity"), (117.65, 24.51))
    assert weighted.before.share == pytest.approx(2 / 13)                  # 1 + 1 covered of 1 + 1 + 1 + 10

    # switching the claim point off loses 龙文's covered accident; adding a site on the far 芗城 one wins it
    what_if = cv.evaluate_plan(db, filters, cv.Scenario(off=(2,), added=((117.62, 24.57),)), (117.65, 24.51))
    rows = what_if.districts.set_index("district_adcode")
    assert rows.loc[D1, "share_after"] == pytest.approx(1.0) and rows.loc[D2, "share_after"] == pytest.approx(0.0)
    assert what_if.before.share == pytest.approx(0.5) and what_if.after.share == pytest.approx(0.5)
    assert bool(what_if.stations.set_index("id").loc[2, "on"]) is False

    # the two uncovered accidents are far apart: the greedy picks a hexbin centre near each, one per step
    recommended = cv.evaluate_plan(db, filters, cv.Scenario(k=3), (117.65, 24.51)).recommended
    assert recommended["gain"].tolist() == [1.0, 1.0] and recommended["share"].tolist()[-1] == pytest.approx(1.0)
    # a user-supplied list: only its sites can be picked, the one reaching the major accident first when weighted
    supplied = cv.Scenario(k=3, weighting="severity", candidates=((117.62, 24.565), (117.72, 24.615), (118.5, 25.5)))
    picks = cv.evaluate_plan(db, filters, supplied, (117.65, 24.51)).recommended
    assert list(zip(picks["lon"], picks["lat"], picks["gain"], strict=True)) == [(117.72, 24.615, 10.0),
                                                                               (117.62, 24.565, 1.0)]
    assert cv.evaluate_plan(db, filters, cv.Scenario(kinds=()), (117.65, 24.51)).before.share == 0


def test_cov011_routing_engine_setting(monkeypatch):
    monkeypatch.delenv(cv.ROUTING_ENV, raising=False)
    assert cv.routing_status().key == "coverage.routing.none"
    monkeypatch.setenv(cv.ROUTING_ENV, "http://127.0.0.1:9/table")       # the discard port: nothing listens
    status = cv.routing_status(timeout_s=0.5)
    assert status.url == "http://127.0.0.1:9/table" and status.key == "coverage.routing.unreachable"


def test_cov012_map_layers_say_what_is_covered_and_what_is_switched_off():
    import pandas as pd

    from components import coverage_map as cmap

    hexes = pd.DataFrame({"lon": [117.6, 117.7], "lat": [24.5, 24.6], "weight": [4.0, 1.0], "covered": [4.0, 0.5],
                          "ring": [[[117.6, 24.5]] * 7, [[117.7, 24.6]] * 7]})
    layer = cmap.hex_layer(hexes, "zh")
    assert [f["properties"]["colour"] for f in layer["features"]] == [cmap.COVERED, cmap.UNCOVERED]
    assert layer["features"][0]["properties"]["opacity"] > layer["features"][1]["properties"]["opacity"]
    assert layer["features"][1]["properties"]["tooltip"] == "需求 1，已覆盖 0.5（50%）"
    stations = pd.DataFrame({"id": [7, 8], "kind": ["police_booth", "claim_point"], "name_zh": ["岗亭", "理赔点"],
                             "name_en": ["Booth", "Claim point"], "lon": [117.6, 117.7], "lat": [24.5, 24.6],
                             "on": [True, False], "radius_km": [3.2, 3.8]})
    features = cmap.station_layer(stations, "en")["features"]
    assert [(f["properties"]["id"], f["properties"]["colour"]) for f in features] == [(7, cmap.STATION),
                                                                                       (8, cmap.OFF)]
    assert features[1]["properties"]["tooltip"] == "Claim point · Claim points · within 3.8 km (switched off)"
    added = pd.DataFrame({"lon": [117.65], "lat": [24.55], "radius_km": [5.0]})
    circles = cmap.rings(stations, added)["features"]            # the switched-off station has no ring
    assert [(c["geometry"]["coordinates"], c["properties"]["radius"], c["properties"]["colour"]) for c in circles] == \
        [([117.6, 24.5], 3200.0, cmap.RING), ([117.65, 24.55], 5000.0, cmap.ADDED)]
    assert cmap.bounds_of({"features": [{"geometry": {"type": "Point", "coordinates": [117.6, 24.5]}},
                                        {"geometry": {"type": "Point", "coordinates": [117.8, 24.9]}}]}) == \
        [[24.5, 117.6], [24.9, 117.8]]


def test_cov_bound_merged_demand_keeps_every_districts_weight_and_moves_points_less_than_a_cell():
    rng = np.random.default_rng(11)
    demand = random_demand(rng, n=20_000, span=40.0)
    merged = cv.merged_demand(demand, 0.5)
    assert len(merged) < len(demand)
    for district in ("a", "b", "c"):
        assert merged.weight[merged.district == district].sum() == pytest.approx(
            demand.weight[demand.district == district].sum())
    # each merged point is the weighted centre of its cell's points: inside that cell
    cell_of_merged = np.floor(merged.xy / 0.5)
    assert len(np.unique(np.column_stack([cell_of_merged, merged.district.astype("U1").view(np.uint32)]),
                         axis=0)) == len(merged)


def test_cov_bound_a_large_or_far_reaching_evaluation_is_merged_and_stays_close_to_exact(monkeypatch):
    rng = np.random.default_rng(12)
    demand = random_demand(rng, n=30_000, span=60.0)
    sites = cv.Sites.of(rng.uniform(0, 60, (25, 2)), "car")
    reach = float(MODEL.radius_km(10.0, "motorcycle", False))
    kept, cell = cv.bounded_demand(demand, reach, candidates=100)
    assert cell is None and kept is demand                      # 3 M pairs: within the budget, evaluated as it is
    monkeypatch.setattr(cv, "MAX_DEMAND_POINTS", 5_000)
    merged, cell = cv.bounded_demand(demand, reach, candidates=100)
    assert len(merged) <= 5_000 and cell >= reach / cv.CELLS_PER_RADIUS
    exact = cv.coverage(demand, sites, 10.0, MODEL)
    approx = cv.coverage(merged, sites, 10.0, MODEL)
    assert approx.weight == pytest.approx(exact.weight)
    assert abs(approx.share - exact.share) < 0.03


def test_cov_bound_the_hostile_scenario_of_the_issue_is_bounded():
    """Three hours at 200 km/h over every accident: merged into cells of a twentieth of the shortest reach, so the
    recommendation's reach matrix stays within the pair budget."""
    scenario, problems = cv.parse_scenario({"kinds": "none", "t": "179.5", "k": "20", "weight": "severity",
                                            "rec": "1", "speeds": "200,200,200,200"})
    assert not problems
    rng = np.random.default_rng(13)
    demand = random_demand(rng, n=60_000, span=300.0)
    shortest = min(float(np.min(scenario.model.radius_km(scenario.minutes, v, [False, True]))) for v in cv.VEHICLES)
    merged, cell = cv.bounded_demand(demand, shortest, cv.MAX_HEX_CANDIDATES)
    reach = cv.reach_matrix(merged, rng.uniform(0, 300, (cv.MAX_HEX_CANDIDATES, 2)), "car", scenario.minutes,
                            scenario.model)
    assert cell is not None
    # a candidate reaches the cells within its radius (20 cells): at most π·21.5² of them, once per district (3 here)
    assert reach.nnz <= cv.MAX_HEX_CANDIDATES * math.pi * (cv.CELLS_PER_RADIUS + 1.5) ** 2 * 3
