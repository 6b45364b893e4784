"""Mediation under an insurer's scope (issue 13): every mediation carries the insurer of its accident, an insurer's
viewer counts its own insurer's cases only — each figure equal to counting those rows with plain SQL — and the
insurers' figures plus those of the cases without an insurer make up the city's. The ingest contract's `insurer`
field of mediations is checked against the insurers registered in the city."""

from __future__ import annotations

import csv
import datetime as dt
import statistics

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Date, DateTime, bindparam, select, text

from dashboard.api import openapi_document
from dashboard.cli import main
from data_access import ingest, mediation, metrics, registry
from data_access.db import Database
from data_access.demo import activity
from data_access.demo.build import build_demo
from data_access.demo.reference import build_world
from data_access.filters import Filters
from data_access.models import Insurer, MediationCase
from data_access.scope import OutOfScope, Scope
from data_access.timeutil import local_midnight_utc
from tests.servers import fresh_database_url
from tests.unit import handmade

ZZ, CQ = "350600", "500000"
START, END = dt.date(2021, 3, 1), dt.date(2021, 10, 31)
CLOSED = ("settled", "failed", "litigation")
WITHOUT_INSURER = [   # a court's feed that does not know the insurer: in the city's figures, in no insurer's
    {"mediation_id": "C1", "city": ZZ, "district": "350602", "opened_at": "2021-04-06T10:00:00+08:00",
     "closed_at": "2021-04-20T15:00:00+08:00", "outcome": "settled", "pre_litigation": True, "amount_yuan": 12000},
    {"mediation_id": "C2", "city": ZZ, "district": "350603", "opened_at": "2021-05-10T10:00:00+08:00",
     "closed_at": "2021-06-02T15:00:00+08:00", "outcome": "failed"},
    {"mediation_id": "C3", "city": ZZ, "district": "350602", "opened_at": "2021-10-20T10:00:00+08:00",
     "outcome": "open"},
]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    """Zhangzhou's demo data of 2021 at half scale (about 200 mediations among its 12 insurers), and three
    mediations from a feed that names no insurer."""
    db = Database(fresh_database_url(tmp_path_factory.mktemp("mediation-scope"), "demo.db"))
    build_demo(db, seed=7, scale=0.5, cities=(ZZ,), start=dt.date(2021, 1, 1),
               end=local_midnight_utc(dt.date(2022, 1, 10)))
    result = ingest.store(db, "mediations", "court", WITHOUT_INSURER)
    assert (result.inserted, result.problems) == (3, [])
    return db


@pytest.fixture(scope="module")
def insurers(db) -> list[tuple[str, int]]:
    with db.session() as session:
        return [tuple(row) for row in session.execute(
            select(Insurer.code, Insurer.id).where(Insurer.city_adcode == ZZ).order_by(Insurer.code))]


def insurer_scope(code: str, insurer_id: int, city: str = ZZ) -> Scope:
    return Scope(role="insurer", user=f"{code.lower()}-viewer", cities=(city,), insurers=((city, insurer_id),),
                 insurer_code=code)


def window(scope: Scope | None = None, **kw) -> Filters:
    if scope is None:
        return Filters(ZZ, START, END, comparison="none", **kw)
    return Filters(ZZ, START, END, comparison="none", scope=scope, **kw)


# --------------------------------------------------------------------------------- the same figures in plain SQL
def sql_rows(db: Database, where: str, columns: str, insurer_id: int | None, districts: tuple[str, ...] = (),
             **dates) -> list:
    """Rows of mediation_case in Zhangzhou (of `insurer_id` when given, of no insurer when it is 0)."""
    conditions = ["city_adcode = :city", where]
    if insurer_id == 0:
        conditions.append("insurer_id IS NULL")
    elif insurer_id is not None:
        conditions.append(f"insurer_id = {int(insurer_id)}")
    if districts:
        conditions.append("district_adcode IN (" + ", ".join(f"'{d}'" for d in districts) + ")")
    query = text(f"SELECT {columns} FROM mediation_case WHERE {' AND '.join(conditions)}").bindparams(
        *[bindparam(name, type_=Date) for name in dates])
    if "opened_at" in columns:
        query = query.columns(opened_at=DateTime, closed_at=DateTime)
    with db.engine.connect() as connection:
        return connection.execute(query, {"city": ZZ, **dates}).all()


def sql_figures(db: Database, insurer_id: int | None, districts: tuple[str, ...] = ()) -> dict:
    """Opened, closed, settled, settled before litigation, amount, open at the end, closed by outcome and the
    median duration of the window, each counted straight from the table."""
    closed_in = f"closed_day >= :start AND closed_day <= :end AND outcome IN {CLOSED}"
    opened = sql_rows(db, "opened_day >= :start AND opened_day <= :end", "COUNT(*)", insurer_id, districts,
                      start=START, end=END)[0][0]
    closed = sql_rows(db, closed_in, "outcome, pre_litigation, amount_yuan, opened_at, closed_at", insurer_id,
                      districts, start=START, end=END)
    still_open = sql_rows(db, "opened_day <= :end AND (closed_day IS NULL OR closed_day > :end)", "COUNT(*)",
                          insurer_id, districts, end=END)[0][0]
    settled = [row for row in closed if row.outcome == "settled"]
    days = [(row.closed_at - row.opened_at).total_seconds() / 86400 for row in closed]
    return {
        "opened": opened, "closed": len(closed), "settled": len(settled),
        "pre_litigation": sum(1 for row in settled if row.pre_litigation),
        "amount": round(sum(float(row.amount_yuan or 0) for row in settled), 2),
        "open_at_end": still_open,
        "by_outcome": {outcome: sum(1 for row in closed if row.outcome == outcome) for outcome in CLOSED},
        "median_days": statistics.median(days) if days else None,
    }


def shown(db: Database, filters: Filters) -> dict:
    """The same figures as the mediation page, the registry (cards, wall, API) and the briefing read them."""
    stats = metrics.mediation_outcomes(db, filters)
    backlog = mediation.backlog(db, filters)
    outcomes = mediation.outcome_counts(db, filters).set_index("outcome")["cases"]
    return {
        "opened": registry.metric("mediation_opened").value(db, filters),
        "closed": registry.metric("mediation_closed").value(db, filters),
        "settled": stats.settled, "pre_litigation": stats.pre_litigation_settled,
        "amount": registry.metric("mediation_amount").value(db, filters),
        "open_at_end": registry.metric("mediation_backlog").value(db, filters),
        "by_outcome": {outcome: int(outcomes[outcome]) for outcome in CLOSED},
        "median_days": registry.metric("mediation_duration").value(db, filters),
        # the charts' own rows must add up to the same counts
        "backlog_opened": int(backlog["opened"].sum()), "backlog_closed": int(backlog["closed"].sum()),
        "monthly_opened": int(mediation.outcomes_by_month(db, filters)["opened"].sum()),
        "durations": len(mediation.durations_days(db, filters)),
        "distribution": int(mediation.duration_distribution(db, filters)["current_cases"].sum()),
    }


CHART_COUNTS = {"backlog_opened": "opened", "monthly_opened": "opened", "backlog_closed": "closed",
                "durations": "closed", "distribution": "closed"}     # a chart's rows, and the figure they add up to


def assert_shown_equals_sql(got: dict, want: dict) -> None:
    for key, value in want.items():
        assert got[key] == pytest.approx(value), key
    for key, figure in CHART_COUNTS.items():
        assert got[key] == want[figure], key


# ---------------------------------------------------------------------------------------------------- the data
def test_med001_every_demo_mediation_has_an_insurer_of_its_own_city(db):
    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT m.city_adcode, i.city_adcode, COUNT(*) FROM mediation_case m "
            "LEFT JOIN insurer i ON i.id = m.insurer_id WHERE m.source = 'demo' GROUP BY 1, 2")).all()
    assert [(city, insurer_city) for city, insurer_city, _ in rows] == [(ZZ, ZZ)]
    assert rows[0][2] > 150


def test_med002_demo_mediations_follow_the_insurers_share_of_the_cases():
    world = build_world(CQ, 20191202)
    frame = pd.concat([activity.mediation_cases(world, k, 20191202) for k in range(3)])
    counts = frame["insurer_id"].value_counts().reindex(world.insurers["id"], fill_value=0).to_numpy()
    assert counts.sum() > 3_000
    assert np.abs(counts / counts.sum() - world.insurer_share).max() < 0.02
    assert counts[0] == counts.max()       # the largest insurer of the cases has the most disputes too


# ----------------------------------------------------------------------------------------- scoped figures
def test_med003_an_insurer_sees_the_figures_of_its_own_mediations_only(db, insurers):
    for code, insurer_id in insurers[:3]:
        scoped = window(insurer_scope(code, insurer_id))
        assert scoped.insurer == insurer_id
        want = sql_figures(db, insurer_id)
        assert want["opened"] > 0, code
        assert_shown_equals_sql(shown(db, scoped), want)


def test_med004_an_insurer_narrowed_to_a_district_sees_its_rows_of_that_district(db, insurers):
    code, insurer_id = insurers[0]
    scoped = window(insurer_scope(code, insurer_id), districts=("350602",))
    want = sql_figures(db, insurer_id, ("350602",))
    assert 0 < want["opened"] < sql_figures(db, insurer_id)["opened"]
    assert_shown_equals_sql(shown(db, scoped), want)


def test_med005_the_insurers_and_the_rows_without_insurer_make_up_the_city(db, insurers):
    city = shown(db, window())
    assert_shown_equals_sql(city, sql_figures(db, None))
    parts = [shown(db, window(insurer_scope(code, insurer_id))) for code, insurer_id in insurers]
    without = sql_figures(db, 0)
    assert (without["opened"], without["closed"], without["open_at_end"]) == (3, 2, 1)
    for key in ("opened", "closed", "settled", "pre_litigation", "open_at_end", *CHART_COUNTS):
        assert sum(part[key] for part in parts) + without[CHART_COUNTS.get(key, key)] == city[key], key
    assert sum(part["amount"] for part in parts) + without["amount"] == pytest.approx(city["amount"])
    for outcome in CLOSED:
        assert sum(part["by_outcome"][outcome] for part in parts) + without["by_outcome"][outcome] \
            == city["by_outcome"][outcome]
    # the backlog of each day, not only its total
    total = sum(mediation.backlog(db, window(insurer_scope(c, i)))["backlog"] for c, i in insurers)
    without_backlog = [sql_rows(db, "opened_day <= :day AND (closed_day IS NULL OR closed_day > :day)", "COUNT(*)",
                                0, day=day.date())[0][0] for day in pd.date_range(START, END)]
    assert (total + np.array(without_backlog)).tolist() == mediation.backlog(db, window())["backlog"].tolist()


def test_med006_an_insurer_cannot_ask_for_another_insurers_mediations(db, insurers):
    (code, own), (_, other) = insurers[0], insurers[1]
    with pytest.raises(OutOfScope):
        window(insurer_scope(code, own), insurer=other)
    # a leader may look at one insurer through the filter, and sees the same as that insurer's viewer
    assert shown(db, window(insurer=other)) == shown(db, window(insurer_scope(insurers[1][0], other)))


# ------------------------------------------------------------------------------------------------------ ingest
@pytest.fixture
def city(database_url) -> Database:
    db = handmade.empty_city(database_url)
    with db.transaction() as session:
        session.add_all([Insurer(id=1, city_adcode=ZZ, code="INS01", name_zh="保险机构01", name_en="Insurer 01"),
                         Insurer(id=2, city_adcode=ZZ, code="INS02", name_zh="保险机构02", name_en="Insurer 02")])
    return db


def a_mediation(mediation_id: str, **changes) -> dict:
    row = {"mediation_id": mediation_id, "city": ZZ, "district": handmade.D1,
           "opened_at": "2020-06-01T09:00:00+08:00", "closed_at": "2020-06-09T16:00:00+08:00", "outcome": "settled",
           "pre_litigation": "true", "amount_yuan": "8000"}
    row.update(changes)
    return row


def test_med007_a_mediation_naming_an_unknown_insurer_is_rejected_with_field_and_reason(city):
    rows = [a_mediation("M1", insurer="INS02"), a_mediation("M2", insurer="INS99"), a_mediation("M3"),
            a_mediation("M4", insurer="保险机构01")]
    result = ingest.store(city, "mediations", "mediation-centre", rows)
    assert (result.inserted, [p.as_dict() for p in result.problems]) == (
        3, [{"index": 1, "field": "insurer", "reason": "unknown insurer 'INS99' in city 350600"}])
    with city.session() as session:
        stored = dict(session.execute(select(MediationCase.external_id, MediationCase.insurer_id)).all())
    assert stored == {"M1": 2, "M3": None, "M4": 1}
    june = dt.date(2020, 6, 1), dt.date(2020, 6, 30)
    for code, insurer_id, opened in (("INS01", 1, 1), ("INS02", 2, 1)):
        filters = Filters(ZZ, *june, scope=insurer_scope(code, insurer_id))
        assert metrics.mediation_outcomes(city, filters).opened == opened
    assert metrics.mediation_outcomes(city, Filters(ZZ, *june)).opened == 3


def test_med008_the_csv_import_names_the_line_of_an_unknown_insurer(city, tmp_path, monkeypatch, capsys):
    path = tmp_path / "mediations.csv"
    rows = [a_mediation("M1", insurer="INS01"), a_mediation("M2", insurer="INS77"), a_mediation("M3", insurer="")]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv("JINGBAO_DATABASE_URL", city.url)
    assert main(["import", "mediations", str(path), "--source", "mediation-centre"]) == 1
    out = capsys.readouterr().out
    assert [line.split(None, 2) for line in out.splitlines() if line.strip()[:1].isdigit()] == [
        ["3", "insurer", "unknown insurer 'INS77' in city 350600"]]
    assert "stored 2" in out and "rejected 1" in out
    with city.session() as session:
        assert dict(session.execute(select(MediationCase.external_id, MediationCase.insurer_id)).all()) == {
            "M1": 1, "M3": None}


def test_med009_the_openapi_contract_offers_the_insurer_of_a_mediation():
    schema = openapi_document()["paths"]["/api/v1/mediations"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["items"]
    assert schema["properties"]["insurer"] == {"type": ["string", "null"]}
    assert "insurer" not in schema["required"]
