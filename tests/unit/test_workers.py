"""Several workers, one database, one Redis: what one worker computed, another serves from the shared cache without
asking the database; what one worker writes, every other shows on its next request."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import event

from base.settings import load_settings
from dashboard.app import create_app
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.models import Insurer
from data_access.tokens import create_token
from tests.signin import signed_in_client
from tests.unit import handmade
from tests.unit.test_ingest import good_case


def worker(url: str, redis_url: str):
    """One gunicorn worker's app: its own engine and cache client, the shared database and Redis."""
    settings = load_settings({}, database_url=url, cache_url=redis_url, demo=False)
    db = Database(url, QueryCache.from_url(redis_url))
    return signed_in_client(create_app(settings, db)), db


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_ingest_through_worker_a_shows_through_worker_b(backend, tmp_path, redis_server, request):
    url = (f"sqlite:///{tmp_path / 'shared.db'}" if backend == "sqlite"
           else request.getfixturevalue("postgres").create_database())
    seed = handmade.empty_city(url)
    with seed.transaction() as session:
        session.add(Insurer(id=1, city_adcode=handmade.CITY, code="INS01", name_zh="保险机构01", name_en="Insurer 01"))
    token = create_token(seed, "dispatch")
    shared_cache = redis.Redis.from_url(redis_server.url)
    shared_cache.flushdb()                # the Redis serves the whole session: start this test from an empty one
    a, db_a = worker(url, redis_server.url)
    b, db_b = worker(url, redis_server.url)
    kpis = f"/api/v1/kpis?city={handmade.CITY}&start=2020-06-01&end=2020-06-30&compare=none"

    def alerts(client) -> int:
        return client.get(kpis).get_json()["kpis"]["alerts"]["value"]

    queries_a, queries_b = statements(db_a), statements(db_b)
    assert alerts(a) == 0                                  # A computes the KPIs and stores them in Redis
    assert [q for q in queries_a if not reads_version(q)]
    assert shared_cache.keys("jingbao:q:*")
    assert alerts(b) == 0                                  # B, which never computed them, only reads the version
    assert queries_b and all(reads_version(q) for q in queries_b)

    rows = [good_case(f"C{i}") for i in range(3)]
    response = a.post("/api/v1/cases", json=rows, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    queries_a.clear()
    queries_b.clear()
    assert alerts(b) == 3                                  # a new data version: B computes afresh
    assert [q for q in queries_b if not reads_version(q)]
    assert alerts(a) == 3                                  # and A serves B's result from Redis
    assert queries_a and all(reads_version(q) for q in queries_a)
    assert type(db_a.cache.backend).__name__ == type(db_b.cache.backend).__name__ == "RedisCache"


def statements(db: Database) -> list[str]:
    """Every SQL statement `db` sends from now on (the list grows as it does), less those that check who is asking
    (the signed-in account, its insurer): every request makes them, cached or not."""
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_):
        words = " ".join(statement.upper().split())
        if not any(f"FROM {table}" in words for table in ("ACCOUNT", "ACCOUNT_TOKEN", "INSURER")):
            sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    return sent


def reads_version(statement: str) -> bool:
    """The one query a cache hit costs: the data version the cache keys carry."""
    words = " ".join(statement.upper().split())
    return words.startswith("SELECT") and "FROM DATA_VERSION" in words
