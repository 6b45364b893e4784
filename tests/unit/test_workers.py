"""Several workers, one database, one Redis: what one worker writes, every other shows on its next request."""

from __future__ import annotations

import pytest

from base.settings import load_settings
from dashboard.app import create_app
from data_access.cache import QueryCache
from data_access.db import Database
from data_access.models import Insurer
from data_access.tokens import create_token
from tests.unit import handmade
from tests.unit.test_ingest import good_case


def worker(url: str, redis_url: str):
    """One gunicorn worker's app: its own engine and cache client, the shared database and Redis."""
    settings = load_settings({}, database_url=url, cache_url=redis_url, demo=False)
    db = Database(url, QueryCache.from_url(redis_url))
    return create_app(settings, db).server.test_client(), db


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_ingest_through_worker_a_shows_through_worker_b(backend, tmp_path, redis_server, request):
    url = (f"sqlite:///{tmp_path / 'shared.db'}" if backend == "sqlite"
           else request.getfixturevalue("postgres").create_database())
    seed = handmade.empty_city(url)
    with seed.transaction() as session:
        session.add(Insurer(id=1, city_adcode=handmade.CITY, code="INS01", name_zh="保险机构01", name_en="Insurer 01"))
    token = create_token(seed, "dispatch")
    a, db_a = worker(url, redis_server.url)
    b, db_b = worker(url, redis_server.url)
    kpis = f"/api/v1/kpis?city={handmade.CITY}&start=2020-06-01&end=2020-06-30&compare=none"

    def alerts(client) -> int:
        return client.get(kpis).get_json()["kpis"]["alerts"]["value"]

    assert alerts(b) == 0 and alerts(b) == 0               # B has it cached now
    rows = [good_case(f"C{i}") for i in range(3)]
    response = a.post("/api/v1/cases", json=rows, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert alerts(b) == 3
    assert alerts(a) == 3
    assert type(db_a.cache.backend).__name__ == type(db_b.cache.backend).__name__ == "RedisCache"
