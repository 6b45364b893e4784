"""Engine, sessions and the data-version counter of one database (SQLite file in WAL mode, or PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, event, inspect, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from data_access.cache import QueryCache
from data_access.models import DataVersion
from data_access.timeutil import utcnow


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; views keep their last good data and mark it stale."""


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """One database and the query cache in front of it; passed to every data_access query function."""

    def __init__(self, url: str, cache: QueryCache | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.cache = cache or QueryCache.from_url("null")
        # Which database a cached value belongs to: two databases sharing one Redis never read each other's entries.
        self.identity = hashlib.sha1(make_url(url).render_as_string(hide_password=True).encode()).hexdigest()[:12]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits on success and bumps the data version once, or rolls back whole."""
        with self.sessions.begin() as session:
            yield session
            bump_data_version(session)

    def create_schema(self) -> None:
        """Bring the schema to the newest migration (Alembic is the only way tables are made or changed)."""
        from data_access.schema import upgrade

        upgrade(self.engine)
        with self.sessions.begin() as session:
            if session.get(DataVersion, 1) is None:
                session.add(DataVersion(id=1, version=0, updated_at=utcnow()))

    def has_schema(self) -> bool:
        return inspect(self.engine).has_table("accident_case")

    def data_version(self) -> int:
        try:
            with self.engine.connect() as connection:
                value = connection.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar()
        except Exception as exc:  # any driver error means the same thing to a screen: no fresh data
            raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc
        return int(value or 0)

    def ping(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def rows_frame(rows, columns: list[str]) -> pd.DataFrame:
    """A DataFrame of SQLAlchemy result rows. Rows go in as plain tuples: pandas probes each Row for attributes,
    and a Row answers a missing attribute by raising an exception, which costs 10 µs a row."""
    return pd.DataFrame.from_records([tuple(row) for row in rows], columns=columns)


def bump_data_version(session: Session) -> None:
    session.execute(
        update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1, updated_at=utcnow())
    )
