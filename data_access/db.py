"""Engine, sessions and the data-version counter of one database (SQLite file in WAL mode, or PostgreSQL).

Outages: every driver error that means "the database is away" (a moved, locked or replaced SQLite file, a stopped
PostgreSQL) is raised as DatabaseUnavailable, and the pool drops connections to a database that went away, so the
next request after its return connects afresh. A SQLite file is created only by `Database.create_file` (the first
start); every other connection opens an existing file or fails.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from contextvars import ContextVar, Token
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from sqlalchemy import create_engine, event, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine, ExceptionContext, make_url
from sqlalchemy.exc import DatabaseError, InterfaceError, InvalidatePoolError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from data_access.cache import QueryCache
from data_access.models import DataVersion
from data_access.timeutil import utcnow

SQLITE_BUSY_TIMEOUT_S = 30
# SQLite's words for a connection whose file is gone, moved or replaced: such a connection is of no more use, and
# neither is any other in the pool (they all point at the old file), so the pool is emptied.
SQLITE_FILE_GONE = ("unable to open database file", "disk i/o error", "no such table", "file is not a database",
                    "database disk image is malformed", "readonly database")


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; views keep their last good data and mark it stale."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, absolute; None for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:" \
            or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).absolute()


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _holds_a_database(path: Path) -> bool:
    try:
        return os.stat(path).st_size > 0
    except OSError:
        return False


def _open_existing(path: Path, busy_timeout_s: float) -> Callable[[], sqlite3.Connection]:
    """A connection factory that opens `path` read-write and never creates it (sqlite3's `mode=rw`): a missing file
    is "unable to open database file", never a new empty database in its place. An empty file put at the path is
    refused too: the pragmas would turn it into a database, and `Database.create_file` never leaves one empty."""
    uri = f"file:{quote(str(path))}?mode=rw"

    def connect() -> sqlite3.Connection:
        try:
            empty = os.stat(path).st_size == 0
        except OSError:
            empty = False                  # missing: sqlite3 says so in its own words
        if empty:
            raise sqlite3.OperationalError(f"the database file {path.name} is empty: it is not this server's database")
        return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=busy_timeout_s)

    return connect


def is_outage(error: BaseException | None) -> bool:
    """Whether a driver error means the database is away (or locked past the busy timeout), as opposed to a bad
    statement or a broken constraint: connection errors, SQLite's operational errors, a file that is no database."""
    return isinstance(error, (OperationalError, InterfaceError)) or type(error) is DatabaseError


def _translate_outages(engine: Engine, sqlite: bool) -> None:
    @event.listens_for(engine, "handle_error")
    def _as_unavailable(context: ExceptionContext) -> BaseException | None:
        error = context.sqlalchemy_exception
        if sqlite and error is not None and any(words in str(error.orig).lower() for words in SQLITE_FILE_GONE):
            context.is_disconnect = True
        if context.is_pre_ping:       # the pool answers a failed ping itself, by connecting afresh
            return None
        if context.is_disconnect or is_outage(error):
            reason = str(error if error is not None else context.original_exception).splitlines()[0]
            return DatabaseUnavailable(reason)
        return None


def make_engine(url: str, busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        engine = create_engine(url, creator=_open_existing(path, busy_timeout_s))

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, record) -> None:
            record.info["file"] = _file_identity(path)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.close()

        @event.listens_for(engine, "checkout")
        def _still_the_same_file(_dbapi_connection, record, _proxy) -> None:
            # A pooled connection keeps reading the file it opened even after that file was moved away or replaced;
            # hand out only connections to the file now at the path (one stat, a few microseconds).
            if record.info.get("file") != _file_identity(path):
                raise InvalidatePoolError("the database file was moved, replaced or removed")

        _translate_outages(engine, sqlite=True)
        return engine
    if make_url(url).get_backend_name() == "sqlite":       # in memory, or a `file:` URI spelled out in the URL
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout_s})
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _translate_outages(engine, sqlite=False)
    return engine


class Database:
    """One database and the query cache in front of it; passed to every data_access query function."""

    def __init__(self, url: str, cache: QueryCache | None = None, *,
                 busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_s)
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
    def reading(self) -> Iterator[Connection]:
        """A connection for reads of Core statements (columns, not ORM objects): a third of the per-query cost of a
        session, which readies ORM state that a read of columns never uses. A page's cold view runs dozens."""
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits on success and bumps the data version once, or rolls back whole."""
        with self.sessions.begin() as session:
            yield session
            bump_data_version(session)

    def create_file(self) -> bool:
        """Create the SQLite file (and its folder) when there is none, or only an empty one: the explicit first start
        only, since every other connection opens an existing database or fails. True when one was made."""
        path = sqlite_path(self.url)
        if path is None or _holds_a_database(path):
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")        # writes the header: the file is a database now
        return True

    def create_schema(self) -> None:
        """Bring the schema to the newest migration (Alembic is the only way tables are made or changed); on the
        first start of a SQLite database this creates its file."""
        from data_access.schema import upgrade

        self.create_file()
        upgrade(self.engine)
        with self.sessions.begin() as session:
            if session.get(DataVersion, 1) is None:
                session.add(DataVersion(id=1, version=0, updated_at=utcnow()))

    def has_schema(self) -> bool:
        """Whether the tables exist; False for a SQLite file that does not exist (yet) or is empty."""
        path = sqlite_path(self.url)
        if path is not None and not _holds_a_database(path):
            return False
        return inspect(self.engine).has_table("accident_case")

    def data_version(self) -> int:
        """The data version; read once per request when the request pinned it (`pin_data_versions`): a page callback
        asks for it once per cached query, dozens of times, and each ask was a round trip to the database."""
        pinned = _PINNED.get()
        if pinned is None:
            return self._read_data_version()
        version = pinned.get(self.identity)
        if version is None:
            version = pinned[self.identity] = self._read_data_version()
        return version

    def _read_data_version(self) -> int:
        try:
            with self.engine.connect() as connection:
                value = connection.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar()
        except DatabaseUnavailable:
            raise
        except Exception as exc:  # any driver error means the same thing to a screen: no fresh data
            raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc
        return int(value or 0)

    def ping(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DatabaseUnavailable:
            raise
        except Exception as exc:
            raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def rows_frame(rows, columns: list[str]) -> pd.DataFrame:
    """A DataFrame of SQLAlchemy result rows. Rows go in as plain tuples: pandas probes each Row for attributes,
    and a Row answers a missing attribute by raising an exception, which costs 10 µs a row."""
    return pd.DataFrame.from_records([tuple(row) for row in rows], columns=columns)


# The data versions read during one request (by database identity): the request sees one state of the data.
_PINNED: ContextVar[dict[str, int] | None] = ContextVar("jingbao_pinned_data_versions", default=None)


def pin_data_versions() -> Token:
    """From now until `unpin_data_versions(token)`, each database's version is read once (a request's start and end)."""
    return _PINNED.set({})


def unpin_data_versions(token: Token) -> None:
    try:
        _PINNED.reset(token)
    except ValueError:          # reset from another context than the pin's: end the pin there instead
        _PINNED.set(None)


def bump_data_version(session: Session) -> None:
    pinned = _PINNED.get()
    if pinned:                  # a request that writes reads the new version afterwards
        pinned.clear()
    session.execute(
        update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1, updated_at=utcnow())
    )
