"""Fixtures shared by every test: a database on each backend the project supports."""

from __future__ import annotations

import pytest

from tests.servers import RedisServer, shared_postgres

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres():
    return shared_postgres()


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres").create_database()
