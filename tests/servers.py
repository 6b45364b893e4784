"""Throwaway PostgreSQL and Redis servers for tests: started on a free localhost port from the machine's own
binaries, as a non-root user, and stopped afterwards. Missing binaries skip the tests that need them; under CI
(CI=true) tests/conftest.py turns every skip into a failure, since a skip there would hide a broken set-up."""

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

LOCAL_BIN = Path("/usr/local/bin")
DEBIAN_POSTGRES = Path("/usr/lib/postgresql")    # Debian and Ubuntu: /usr/lib/postgresql/<version>/bin
PG_PROGRAMS = ("initdb", "pg_ctl")
PG_USER = "jingbao"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unavailable(reason: str):
    """Skip the test that needs what is missing (a failure under CI, by the rule in tests/conftest.py)."""
    pytest.skip(reason)


def _version_key(name: str) -> tuple[int, ...]:
    """'16' > '15' > '9.6': numeric parts compared as numbers; a name that is not a version sorts last."""
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return (-1,)


def postgres_bin_dirs(local_bin: Path = LOCAL_BIN, debian_root: Path = DEBIAN_POSTGRES) -> list[Path]:
    """Where PostgreSQL's server programs may be: the folders on PATH that hold them, /usr/local/bin, then every
    Debian-style /usr/lib/postgresql/<version>/bin, the newest version first."""
    on_path = [Path(found).parent for found in map(shutil.which, PG_PROGRAMS) if found]
    versions = sorted((folder for folder in debian_root.glob("*/bin") if folder.is_dir()),
                      key=lambda folder: _version_key(folder.parent.name), reverse=True)
    return list(dict.fromkeys([*on_path, local_bin, *versions]))


def postgres_bin_dir(local_bin: Path = LOCAL_BIN, debian_root: Path = DEBIAN_POSTGRES) -> Path | None:
    """The first of `postgres_bin_dirs` holding both initdb and pg_ctl (one version's pair, never a mix)."""
    for folder in postgres_bin_dirs(local_bin, debian_root):
        if all((folder / name).is_file() and os.access(folder / name, os.X_OK) for name in PG_PROGRAMS):
            return folder
    return None


class PostgresServer:
    """initdb + pg_ctl in a temporary directory; run as the `postgres` user when the tests run as root."""

    def __init__(self) -> None:
        folder = postgres_bin_dir()
        if folder is None:
            unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, in /usr/local/bin or in "
                        "/usr/lib/postgresql/*/bin")
        self.initdb, self.pg_ctl = str(folder / "initdb"), str(folder / "pg_ctl")
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

    def run(self, *args: str) -> None:
        command = list(args)
        if self.user is not None:
            command = ["runuser", "-u", self.user.pw_name, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self) -> PostgresServer:
        self.run(self.initdb, "-D", str(self.data), "-U", PG_USER, "-A", "trust", "-E", "UTF8", "--no-locale")
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(self.pg_ctl, "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", "start")
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
            self.run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
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
