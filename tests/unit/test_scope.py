"""Row scoping: the scope rules themselves, and every query function of a page returning only what the viewer's
scope holds — a district account's figures are those of its districts, an insurer account's those of its cases, and
rankings show other districts and insurers only as a rank or anonymous quartiles."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select

from data_access import accounts, district, fraud, metrics, payouts, registry, rescue, stations, teams
from data_access.db import Database
from data_access.demo.build import build_demo
from data_access.filters import Catalogue, CityInfo, Filters, parse_filters
from data_access.models import Insurer
from data_access.peers import PEER_ROWS
from data_access.scope import EVERYTHING, OutOfScope, Scope
from data_access.timeutil import local_midnight_utc
from tests.servers import fresh_database_url

ZZ = "350600"
CQ = "500000"
OWN = ("350602", "350603")
START, END = dt.date(2026, 3, 1), dt.date(2026, 4, 30)
DISTRICT = Scope(role="district", user="d", cities=(ZZ,), districts=OWN)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    db = Database(fresh_database_url(tmp_path_factory.mktemp("scope"), "demo.db"))
    build_demo(db, scale=0.05, cities=(ZZ,), start=START - dt.timedelta(days=370),
               end=local_midnight_utc(END + dt.timedelta(days=10)))
    return db


@pytest.fixture(scope="module")
def insurer(db) -> tuple[str, int, Scope]:
    """The first insurer of Zhangzhou, and an insurer account's scope for it (as `accounts.scope_of` builds it)."""
    with db.session() as session:
        code, insurer_id = session.execute(select(Insurer.code, Insurer.id).where(Insurer.city_adcode == ZZ)
                                           .order_by(Insurer.code)).first()
    name = "scope-insurer"
    info = accounts.find_account(db, name) or accounts.create_account(db, name, "insurer", insurer=code,
                                                                      password="a-long-password")
    return code, insurer_id, accounts.scope_of(db, info)


def window(scope: Scope = EVERYTHING, **kw) -> Filters:
    return Filters(city=ZZ, start=START, end=END, scope=scope, **kw)


# ------------------------------------------------------------------------------------------ the rules themselves
def test_sco001_a_scope_narrows_the_whole_city_to_its_own_and_refuses_the_rest():
    assert window(DISTRICT).districts == OWN                       # "the whole city" of a district account
    assert window(DISTRICT, districts=("350603",)).districts == ("350603",)   # narrowing inside is fine
    with pytest.raises(OutOfScope) as outside:
        window(DISTRICT, districts=("350603", "350623"))
    assert (outside.value.what, outside.value.code) == ("district", "350623")
    with pytest.raises(OutOfScope) as other_city:
        Filters(city=CQ, start=START, end=END, scope=DISTRICT)
    assert other_city.value.what == "city"
    # the scope survives every derived window: the comparison window, the whole city, a district of it
    assert window(DISTRICT, comparison="yoy").comparison_window().districts == OWN
    assert window(DISTRICT, districts=("350603",)).whole_city().districts == OWN
    assert window(DISTRICT).unscoped().districts == () and window(DISTRICT).unscoped().scope is EVERYTHING


def test_sco002_an_insurer_scope_sets_the_insurer_and_refuses_another():
    scope = Scope(role="insurer", cities=(ZZ,), insurers=((ZZ, 7),), insurer_code="INS07")
    assert window(scope).insurer == 7
    assert window(scope).unscoped().insurer is None
    with pytest.raises(OutOfScope) as other:
        window(scope, insurer=8)
    assert other.value.what == "insurer"


def test_sco003_a_link_outside_the_scope_gives_no_filters_and_says_which_part():
    catalogue = Catalogue((CityInfo(ZZ, "漳州市", "Zhangzhou", dt.date(2018, 12, 2), ("350602", "350603", "350623")),
                           CityInfo(CQ, "重庆市", "Chongqing", dt.date(2017, 4, 16), ("500103",))))
    today = dt.date(2026, 6, 1)
    assert parse_filters({}, catalogue, today, CQ, DISTRICT).filters.districts == OWN     # default city moves
    for query, what in (({"city": CQ}, "city"), ({"districts": "350623"}, "district")):
        parsed = parse_filters(query, catalogue, today, ZZ, DISTRICT)
        assert parsed.filters is None and parsed.out_of_scope.what == what
    within = catalogue.within(DISTRICT)
    assert [c.adcode for c in within.cities] == [ZZ] and within.cities[0].districts == OWN


# ------------------------------------------------------------------------------------------ on real data
def test_sco004_a_district_accounts_figures_are_those_of_its_districts(db):
    scoped = registry.values(db, window(DISTRICT), registry.OVERVIEW)
    assert scoped == registry.values(db, window(districts=OWN), registry.OVERVIEW)
    assert scoped["alerts"] > 0
    assert scoped != registry.values(db, window(), registry.OVERVIEW)


@pytest.mark.parametrize("breakdown", [metrics.district_summary, teams.patrols_by_district,
                                       stations.persuasion_by_district, payouts.payouts_by_district,
                                       fraud.fraud_by_district, rescue.missions])
def test_sco005_every_per_district_breakdown_holds_only_the_accounts_districts(db, breakdown):
    everyone = breakdown(db, window())
    own = breakdown(db, window(DISTRICT))
    assert set(own["district_adcode"]) <= set(OWN)
    if breakdown is not rescue.missions:
        assert len(set(everyone["district_adcode"])) > len(OWN)
        shared = everyone[everyone["district_adcode"].isin(OWN)].reset_index(drop=True)
        pd.testing.assert_frame_equal(own.reset_index(drop=True), shared, check_dtype=False)


def test_sco006_a_district_is_ranked_among_all_without_showing_the_others(db):
    ranks = district.district_ranks(db, window(DISTRICT), "350602").set_index("kpi")
    everyone = district.district_ranks(db, window(), "350602").set_index("kpi")
    assert ranks["rank"].equals(everyone["rank"]) and ranks["ranked"].equals(everyone["ranked"])
    assert int(ranks.at["alerts", "ranked"]) > len(OWN)
    assert ranks["city_median"].isna().all() and everyone["city_median"].notna().any()
    with pytest.raises(OutOfScope):
        district.district_ranks(db, window(DISTRICT), "350623")


def test_sco007_an_insurers_payout_clocks_are_the_metric_functions_for_that_insurer(db, insurer):
    _, insurer_id, scope = insurer
    assert window(scope).insurer == insurer_id
    mine = payouts.stage_clocks(db, window(scope))
    direct = payouts.stage_clocks(db, window(insurer=insurer_id))
    pd.testing.assert_frame_equal(mine, direct)
    assert registry.values(db, window(scope), registry.PAYOUTS) == registry.values(
        db, window(insurer=insurer_id), registry.PAYOUTS)
    assert registry.values(db, window(scope), ("paid",)) != registry.values(db, window(), ("paid",))


@pytest.mark.parametrize("ranking", [payouts.insurer_payouts, fraud.fraud_by_insurer])
def test_sco008_other_insurers_appear_only_as_anonymous_quartiles(db, insurer, ranking):
    code, insurer_id, scope = insurer
    everyone = ranking(db, window())
    seen = ranking(db, window(scope))
    others = everyone[everyone["insurer_id"] != insurer_id]
    assert len(others) >= 3
    named = seen[seen["insurer_id"].notna()]
    assert list(named["insurer_id"]) == [insurer_id]
    peer_names = {name for _, _, name, _ in PEER_ROWS}
    assert set(seen["name_zh"]) - set(named["name_zh"]) == peer_names
    assert not set(others["name_zh"]) & set(seen["name_zh"])     # no other insurer's name
    figure = "p90" if ranking is payouts.insurer_payouts else "suspected"
    median = seen.loc[seen["name_zh"] == "同业中位数", figure].iloc[0]
    assert median == pytest.approx(float(pd.to_numeric(others[figure]).dropna().median()))


def test_sco009_a_district_accounts_overview_is_jingbao_kpis_of_its_districts(db, monkeypatch, capsys):
    import json

    from dashboard.cli import main
    from services.reports import kpi_report

    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    assert main(["kpis", "--city", ZZ, "--districts", ",".join(OWN), "--start", str(START), "--end", str(END),
                 "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    seen = json.loads(json.dumps(kpi_report(db, window(DISTRICT)), default=str))
    assert printed["kpis"] == seen["kpis"] and printed["districts"] == list(OWN)
    assert printed["kpis"]["alerts"]["value"] > 0
