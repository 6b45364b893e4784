"""Ingest through both doors (REST, CSV) on both backends: every validation rule, idempotence, later stages,
token auth, a 10,000-row file with bad rows, and the read API agreeing with the pages' functions."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from base.settings import load_settings
from dashboard.app import create_app
from dashboard.cli import main
from data_access import ingest, metrics, registry
from data_access.filters import Filters
from data_access.models import Insurer
from data_access.tokens import create_token, revoke_tokens
from tests.signin import signed_in_client
from tests.unit import handmade

CITY, D1, D2 = handmade.CITY, handmade.D1, handmade.D2


def good_case(case_id: str = "C1", **changes) -> dict:
    row = {"case_id": case_id, "city": CITY, "district": D1, "reported_at": "2020-06-01T08:00:00+08:00",
           "found_by_patrol": "false", "handled_by": "rider_team", "lon": 117.62, "lat": 24.52,
           "on_scene_at": "2020-06-01T08:04:00+08:00", "cleared_at": "2020-06-01T08:06:30+08:00",
           "quick_handled": True, "liability_at": "2020-06-01T08:03:00+08:00", "liability_mode": "remote",
           "assessed_at": "2020-06-01T08:10:00+08:00", "assessment_mode": "online", "handled_online": True,
           "insurer": "INS01", "paid_at": "2020-06-01T08:25:00+08:00", "paid_amount_yuan": 860.5}
    row.update(changes)
    return row


@pytest.fixture
def db(database_url):
    db = handmade.empty_city(database_url)
    with db.transaction() as session:
        session.add(Insurer(id=1, city_adcode=CITY, code="INS01", name_zh="保险机构01", name_en="Insurer 01"))
    return db


def store(db, rows, kind="cases", source="insurer-a"):
    return ingest.store(db, kind, source, rows)


# ------------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("changes, field, reason", [
    ({"district": "350699"}, "district", "is not a district of"),
    ({"city": "999999"}, "city", "unknown city"),
    ({"lon": 121.47, "lat": 31.23}, "lon", "outside city"),
    ({"lat": ""}, "lat", "come together"),
    ({"cleared_at": "2020-06-01T08:02:00+08:00"}, "cleared_at", "before on_scene_at"),
    ({"paid_at": "2020-06-01T08:05:00+08:00"}, "paid_at", "before assessed_at"),
    ({"handled_by": "aliens"}, "handled_by", "is not one of"),
    ({"liability_mode": "telepathy"}, "liability_mode", "is not one of"),
    ({"paid_amount_yuan": "lots"}, "paid_amount_yuan", "is not a number"),
    ({"paid_amount_yuan": -5}, "paid_amount_yuan", "outside"),
    ({"lon": "nan"}, "lon", "finite"),
    ({"quick_handled": "maybe"}, "quick_handled", "true or false"),
    ({"reported_at": "2020-06-01 08:00"}, "reported_at", "no UTC offset"),
    ({"reported_at": "yesterday"}, "reported_at", "not an ISO 8601 time"),
    ({"reported_at": ""}, "reported_at", "required"),
    ({"case_id": None}, "case_id", "required"),
    ({"insurer": "INS99"}, "insurer", "unknown insurer"),
    ({"paid_at": "", "paid_amount_yuan": 10}, "paid_amount_yuan", "without paid_at"),
    ({"assessed_at": "", "paid_at": "", "paid_amount_yuan": ""}, "assessment_mode", "without assessed_at"),
    ({"colour": "red"}, "colour", "unknown field"),
])
def test_each_rule_rejects_its_row_and_keeps_the_good_one(db, changes, field, reason):
    bad = good_case("BAD")
    bad.update(changes)
    result = store(db, [good_case("OK"), bad])
    assert result.inserted == 1
    assert [(p.index, p.field) for p in result.problems] == [(1, field)]
    assert reason in result.problems[0].reason
    assert metrics.handled_cases(db, Filters(CITY, dt.date(2020, 6, 1), dt.date(2020, 6, 1))) == 1


def test_mediation_and_rescue_rules(db):
    mediations = [
        {"mediation_id": "M1", "city": CITY, "district": D2, "opened_at": "2020-06-01T09:00:00+08:00",
         "closed_at": "2020-06-12T16:00:00+08:00", "outcome": "settled", "pre_litigation": "yes",
         "amount_yuan": "33000"},
        {"mediation_id": "M2", "city": CITY, "district": D2, "opened_at": "2020-06-01T09:00:00+08:00",
         "outcome": "settled"},
        {"mediation_id": "M3", "city": CITY, "district": D2, "opened_at": "2020-06-02T09:00:00+08:00",
         "closed_at": "2020-06-01T09:00:00+08:00", "outcome": "failed"},
    ]
    result = store(db, mediations, "mediations")
    assert result.inserted == 1
    assert {(p.index, p.field) for p in result.problems} == {(1, "closed_at"), (2, "closed_at")}
    stats = metrics.mediation_outcomes(db, Filters(CITY, dt.date(2020, 6, 1), dt.date(2020, 6, 30)))
    assert (stats.opened, stats.settled, stats.amount_yuan) == (1, 1, 33000.0)
    rescues = [{"mission_id": "R1", "city": CITY, "district": D1, "requested_at": "2020-06-03T10:00:00+08:00",
                "takeoff_at": "2020-06-03T10:09:00+08:00", "on_scene_at": "2020-06-03T10:30:00+08:00",
                "hospital_at": "2020-06-03T10:55:00+08:00", "outcome": "survived"},
               {"mission_id": "R2", "city": CITY, "district": D1, "requested_at": "2020-06-03T10:00:00+08:00",
                "outcome": "rescued"}]
    result = store(db, rescues, "rescues")
    assert result.inserted == 1 and result.problems[0].field == "outcome"
    assert metrics.rescue_summary(db, Filters(CITY, dt.date(2020, 6, 1), dt.date(2020, 6, 30))).survived == 1


# ------------------------------------------------------------------------------------ idempotence and upserts
def test_the_same_rows_twice_change_nothing_not_even_the_data_version(db):
    rows = [good_case(f"C{i}") for i in range(5)]
    before = db.data_version()
    assert store(db, rows).inserted == 5
    version = db.data_version()
    assert version > before
    again = store(db, rows)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    assert metrics.handled_cases(db, Filters(CITY, dt.date(2020, 6, 1), dt.date(2020, 6, 1))) == 5
    assert db.data_version() == version          # an unchanged resend keeps every cached query valid
    mediation = {"mediation_id": "M1", "city": CITY, "district": D2, "opened_at": "2020-06-01T09:00:00+08:00",
                 "outcome": "open"}
    assert store(db, [mediation], "mediations").inserted == 1
    version = db.data_version()
    assert store(db, [mediation], "mediations").unchanged == 1
    assert db.data_version() == version
    assert store(db, [good_case("C0"), good_case("C5")]).inserted == 1   # one new row among unchanged ones
    assert db.data_version() > version


def test_later_stages_update_the_record_and_show_at_once(db):
    june = Filters(CITY, dt.date(2020, 6, 1), dt.date(2020, 6, 1))
    early = good_case("C1", paid_at="", paid_amount_yuan="", assessed_at="", assessment_mode="")
    assert store(db, [early]).inserted == 1
    assert metrics.paid_amount_yuan(db, june) == 0
    version = db.data_version()
    result = store(db, [good_case("C1")])
    assert (result.inserted, result.updated) == (0, 1)
    assert db.data_version() > version
    assert metrics.paid_amount_yuan(db, june) == 860.5
    assert metrics.handled_cases(db, june) == 1
    assert metrics.payout_latency_percentiles(db, june).fastest == pytest.approx(25.0)


def test_sources_do_not_collide(db):
    store(db, [good_case("C1")], source="insurer-a")
    store(db, [good_case("C1")], source="insurer-b")
    assert metrics.handled_cases(db, Filters(CITY, dt.date(2020, 6, 1), dt.date(2020, 6, 1))) == 2


# ------------------------------------------------------------------------------------------------------- REST
@pytest.fixture
def client(db):
    app = create_app(load_settings({}, database_url=db.url, demo=False), db)
    client = signed_in_client(app)
    client.token = create_token(db, "insurer-a")
    return client


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_rest_stores_rows_and_answers_200_207_422(client, db):
    ok = client.post("/api/v1/cases", json=[good_case("A")], headers=bearer(client.token))
    assert ok.status_code == 200 and ok.get_json()["inserted"] == 1
    mixed = client.post("/api/v1/cases", json=[good_case("B"), good_case("C", district="000000")],
                        headers=bearer(client.token))
    assert mixed.status_code == 207
    assert mixed.get_json()["problems"] == [{"index": 1, "field": "district",
                                             "reason": "000000 is not a district of 350600"}]
    bad = client.post("/api/v1/cases", json=[good_case("D", reported_at="")], headers=bearer(client.token))
    assert bad.status_code == 422 and bad.get_json()["stored"] == 0
    assert metrics.handled_cases(db, Filters(CITY, dt.date(2020, 6, 1), dt.date(2020, 6, 1))) == 2


@pytest.mark.parametrize("headers, status", [
    ({}, 401), ({"Authorization": "Bearer jb_wrong"}, 401), ({"Authorization": "Basic abc"}, 401),
    ({"Authorization": "Bearer "}, 401),
])
def test_missing_or_wrong_tokens_get_401(client, headers, status):
    response = client.post("/api/v1/cases", json=[good_case()], headers=headers)
    assert response.status_code == status
    assert response.get_json()["error"]


def test_revoked_token_gets_403(client, db):
    assert revoke_tokens(db, "insurer-a") == 1
    response = client.post("/api/v1/cases", json=[good_case()], headers=bearer(client.token))
    assert response.status_code == 403


@pytest.mark.parametrize("body, status", [
    (b"not json", 400), (b'{"case_id": "x"}', 400), (b"[]", 400), (b"[1, 2]", 422),
])
def test_bad_bodies_get_4xx(client, body, status):
    response = client.post("/api/v1/cases", data=body, content_type="application/json",
                           headers=bearer(client.token))
    assert response.status_code == status


def test_too_many_rows_get_413_and_unknown_collections_404(client):
    rows = [good_case(f"C{i}") for i in range(ingest.MAX_ROWS_PER_REQUEST + 1)]
    assert client.post("/api/v1/cases", json=rows, headers=bearer(client.token)).status_code == 413
    assert client.post("/api/v1/pizzas", json=[{}], headers=bearer(client.token)).status_code == 404


def test_kpi_api_agrees_with_the_metric_functions(client, db):
    client.post("/api/v1/cases", json=[good_case(f"C{i}") for i in range(40)], headers=bearer(client.token))
    response = client.get(f"/api/v1/kpis?city={CITY}&start=2020-06-01&end=2020-06-30&compare=none")
    assert response.status_code == 200
    kpis = response.get_json()["kpis"]
    june = Filters(CITY, dt.date(2020, 6, 1), dt.date(2020, 6, 30), (), "none")
    expected = registry.kpis(db, june, registry.OVERVIEW)
    assert {key: value["value"] for key, value in kpis.items()} == pytest.approx(expected.as_dict())
    assert kpis["alerts"]["value"] == 40
    bad = client.get("/api/v1/kpis?city=999999&start=soon")
    assert bad.status_code == 400 and bad.get_json()["problems"]


def test_openapi_describes_the_contract(client):
    document = client.get("/api/v1/openapi.json").get_json()
    case_schema = document["paths"]["/api/v1/cases"]["post"]["requestBody"]["content"]["application/json"]
    fields = set(case_schema["schema"]["items"]["properties"])
    assert {"case_id", "city", "district", "reported_at", "liability_mode", "paid_amount_yuan"} <= fields


# -------------------------------------------------------------------------------------------------------- CSV
def test_csv_of_10000_rows_with_5_percent_bad_loses_no_good_row(db, tmp_path, monkeypatch, capsys):
    path = tmp_path / "cases.csv"
    fields = list(good_case())
    bad_lines = set()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for i in range(10_000):
            day = dt.date(2020, 6, 1) + dt.timedelta(days=i % 20)
            row = good_case(f"C{i:05d}", reported_at=f"{day}T08:00:00+08:00", on_scene_at="", cleared_at="",
                            liability_at=f"{day}T08:03:00+08:00", assessed_at=f"{day}T08:10:00+08:00",
                            paid_at=f"{day}T08:25:00+08:00")
            if i % 20 == 7:
                row["district"] = "350699"
                bad_lines.add(i + 2)
            writer.writerow(row)
    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    assert main(["import", "cases", str(path), "--source", "dispatch", "--dry-run"]) == 1
    assert metrics.handled_cases(db, Filters(CITY, dt.date(2020, 6, 1), dt.date(2020, 6, 30))) == 0
    capsys.readouterr()
    assert main(["import", "cases", str(path), "--source", "dispatch"]) == 1
    out = capsys.readouterr().out
    assert "stored 9,500" in out and "rejected 500" in out
    reported = {int(line.split()[0]) for line in out.splitlines()[1:] if line.strip()[:1].isdigit()}
    assert reported == bad_lines
    assert metrics.handled_cases(db, Filters(CITY, dt.date(2020, 6, 1), dt.date(2020, 6, 30))) == 9_500
    assert main(["import", "cases", str(path), "--source", "dispatch"]) == 1
    assert "unchanged 9,500" in capsys.readouterr().out


def test_cli_tokens_and_bad_import_flags(db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    assert main(["tokens", "create", "--source", "12123"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("jb_")
    assert main(["tokens", "list"]) == 0
    assert "12123" in capsys.readouterr().out
    assert main(["tokens", "revoke", "--source", "12123"]) == 0
    with pytest.raises(SystemExit) as exit_info:
        main(["import", "cases", str(tmp_path / "missing.csv"), "--source", "x"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        main(["import", "pizzas", str(tmp_path), "--source", "x"])


# ------------------------------------------------------------------------------------- value bounds (issue 15)
def _iso(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def _in(minutes: float) -> str:
    """A time `minutes` from now, with its UTC offset."""
    return _iso(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes))


@pytest.mark.parametrize("changes, field, reason", [
    ({"reported_at": "2100-01-01T08:00:00+08:00"}, "reported_at", "in the future"),
    ({"reported_at": "9999-12-31T20:00:00Z"}, "reported_at", "in the future"),
    ({"reported_at": "1900-01-01T08:00:00+08:00"}, "reported_at", "before 2000-01-01"),
    ({"reported_at": "0001-01-01T00:00:00+14:00"}, "reported_at", "before 2000-01-01"),
    ({"reported_at": "1999-12-31T23:59:59+08:00"}, "reported_at", "before 2000-01-01"),
    ({"paid_at": "2100-01-01T08:00:00+08:00"}, "paid_at", "in the future"),
    ({"lon": float("nan")}, "lon", "finite"),
    ({"lat": float("inf")}, "lat", "finite"),
    ({"lon": "Infinity"}, "lon", "finite"),
    ({"paid_amount_yuan": float("nan")}, "paid_amount_yuan", "finite"),
    ({"paid_amount_yuan": "1e400"}, "paid_amount_yuan", "finite"),
    ({"paid_amount_yuan": 10 ** 400}, "paid_amount_yuan", "finite"),
    ({"case_id": "C\ud800"}, "case_id", "Unicode"),
    ({"insurer": "\udfff"}, "insurer", "Unicode"),
    ({"case_id": "C\x00D"}, "case_id", "control character"),
    ({"case_id": "C\nD"}, "case_id", "control character"),
    ({"case_id": "C\x1b[31mD"}, "case_id", "control character"),
    ({"district": {"adcode": D1}}, "district", "single value"),
    ({"handled_by": ["rider_team"]}, "handled_by", "single value"),
    ({"quick_handled": float("nan")}, "quick_handled", "finite"),
])
def test_iss15_out_of_bound_values_are_row_problems_never_errors_or_nulls(db, changes, field, reason):
    bad = good_case("BAD")
    bad.update(changes)
    result = store(db, [good_case("OK"), bad])
    assert result.inserted == 1
    assert [(p.index, p.field) for p in result.problems] == [(1, field)]
    assert reason in result.problems[0].reason


def test_iss15_times_from_2000_to_ten_minutes_ahead_are_taken(db):
    rows = [good_case("Y2K", reported_at="2000-01-01T00:00:00+08:00", on_scene_at="", cleared_at="",
                      liability_at="", liability_mode="", assessed_at="", assessment_mode="", paid_at="",
                      paid_amount_yuan=""),
            good_case("SOON", reported_at=_in(5), on_scene_at="", cleared_at="", liability_at="", liability_mode="",
                      assessed_at="", assessment_mode="", paid_at="", paid_amount_yuan=""),
            good_case("LATE", reported_at=_in(11), on_scene_at="", cleared_at="", liability_at="",
                      liability_mode="", assessed_at="", assessment_mode="", paid_at="", paid_amount_yuan="")]
    result = store(db, rows)
    assert result.inserted == 2
    assert [(p.index, p.field) for p in result.problems] == [(2, "reported_at")]


def test_iss15_nan_unicode_and_far_dates_over_rest_answer_422_not_500(client, db):
    body = ('[{"case_id": "N1", "city": "%s", "district": "%s", "reported_at": "2020-06-01T08:00:00+08:00", '
            '"lon": NaN, "lat": 24.52}, '
            '{"case_id": "N2\\ud800", "city": "%s", "district": "%s", "reported_at": "2020-06-01T08:00:00+08:00"}, '
            '{"case_id": "N3", "city": "%s", "district": "%s", "reported_at": "9999-12-31T20:00:00Z"}, '
            '{"case_id": "N4", "city": "%s", "district": "%s", "reported_at": "0001-01-01T00:00:00+14:00"}]'
            ) % ((CITY, D1) * 4)
    response = client.post("/api/v1/cases", data=body, content_type="application/json",
                           headers=bearer(client.token))
    assert response.status_code == 422
    assert [(p["index"], p["field"]) for p in response.get_json()["problems"]] == [
        (0, "lon"), (1, "case_id"), (2, "reported_at"), (3, "reported_at")]


def test_iss15_as_of_never_reports_a_negative_age(client, db):
    from data_access.models import AccidentCase
    from data_access.timeutil import local_day, local_hour, utcnow

    def case(external_id: str, at: dt.datetime) -> AccidentCase:
        return AccidentCase(source="legacy", external_id=external_id, city_adcode=CITY, district_adcode=D1,
                            channel="police_call", reported_at=at, local_day=local_day(at),
                            local_hour=local_hour(at))

    recent = utcnow().replace(microsecond=0) - dt.timedelta(minutes=3)
    with db.transaction() as session:     # stored before ingest refused such rows
        session.add_all([case("FUTURE", dt.datetime(2100, 1, 1)), case("RECENT", recent)])
    assert metrics.data_as_of(db, CITY) == recent
    answer = client.get(f"/api/v1/as-of?city={CITY}").get_json()
    assert answer["as_of_utc"] == recent.isoformat()
    assert 2.9 <= answer["age_minutes"] < 10 and answer["stale"] is False
