"""Throwaway PostgreSQL (and later Redis) servers for tests: started on a free localhost port from the machine's
own binaries, as a non-root user, and stopped afterwards. Missing binaries skip the tests that need them, except in
CI (CI=true), where a skip would hide a broken set-up and fails instead."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

PG_BIN_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin")
PG_USER = "jingbao"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unavailable(reason: str):
    """Skip, or fail under CI, where every backend must be tested."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: these tests may not be skipped)")
    pytest.skip(reason)


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in PG_BIN_DIRS:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


class PostgresServer:
    """initdb + pg_ctl in a temporary directory; run as the `postgres` user when the tests run as root."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="jingbao-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.socket_dir.mkdir()
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                unavailable("running as root and there is no `postgres` user to run PostgreSQL as")
            for path in (self.root, self.socket_dir):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.user is not None:
            command = ["runuser", "-u", self.user.pw_name, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self) -> PostgresServer:
        self._run(self.initdb, "-D", str(self.data), "-U", PG_USER, "-A", "trust", "-E", "UTF8", "--no-locale")
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={PG_USER} dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except subprocess.SubprocessError:
            pass
        for _ in range(20):
            try:
                shutil.rmtree(self.root)
                return
            except OSError:
                time.sleep(0.1)


class RedisServer:
    """redis-server on a free localhost port, no persistence; stopped (and its directory removed) afterwards."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            unavailable("redis-server not found (apt-get install redis-server)")
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="jingbao-redis-"))
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


# ------------------------------------------------------------------------------- the backend the suite runs on
BACKEND_VARIABLE = "JINGBAO_TEST_BACKEND"
_shared_postgres: PostgresServer | None = None


def shared_postgres() -> PostgresServer:
    """One PostgreSQL for the whole test session, started on first use and stopped at exit."""
    global _shared_postgres
    if _shared_postgres is None:
        import atexit

        _shared_postgres = PostgresServer().start()
        atexit.register(_shared_postgres.stop)
    return _shared_postgres


def test_backend() -> str:
    backend = os.environ.get(BACKEND_VARIABLE, "sqlite").lower()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"{BACKEND_VARIABLE}={backend!r}: use sqlite or postgresql")
    return backend


def fresh_database_url(folder: Path, name: str = "test.db") -> str:
    """An empty database for one test: a SQLite file in `folder`, or a new PostgreSQL database when the suite
    runs with JINGBAO_TEST_BACKEND=postgresql (`make test` runs it both ways)."""
    if test_backend() == "postgresql":
        return shared_postgres().create_database()
    return f"sqlite:///{Path(folder) / name}"
