"""Heavy queries in a process of their own, so that cheap requests never wait behind them.

A coverage plan over a city's million accidents takes seconds of CPU. Run on a request thread it holds the worker's
GIL for all of them, and every cheap request of that worker (a wall's poll above all) waits its turn. `run` sends such
a query to a child process instead: one per server process, started through multiprocessing's forkserver (never a
fork of a threaded server) when a server worker boots (`prestart`) or else on first use, with a memory ceiling; the
request thread only waits, without the GIL. A query that takes longer than its timeout is stopped with its process
(the next one starts afresh) and the request is told so; so is one that runs out of memory.

Functions given to `run` are module-level functions of data_access taking the database first; in the child they get a
database of the same URL (its own connections, no cache: the caller caches the result).
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import multiprocessing
import os
import threading
from collections.abc import Callable
from typing import TypeVar

from data_access.db import Database

TIMEOUT_S = 60.0
MEMORY_LIMIT_BYTES = 4 * 1024**3          # address space of the child: a runaway query fails, the server stays
NICENESS = 0    # not lowered: under a busy browser test or a loaded server a niced child starved past its timeout
PRELOAD = ("data_access.coverage",)       # imported once by the forkserver, so the first query starts warm

T = TypeVar("T")


class WorkRefused(RuntimeError):
    """A heavy query that could not be finished: too long (`timed_out`) or too large; the page says so."""

    def __init__(self, message: str, timed_out: bool) -> None:
        super().__init__(message)
        self.timed_out = timed_out


_lock = threading.Lock()
_pool: cf.ProcessPoolExecutor | None = None
_owner: int | None = None
_in_child = False
_child_databases: dict[str, Database] = {}


def _start_child() -> None:
    global _in_child
    _in_child = True
    if NICENESS:
        try:
            os.nice(NICENESS)
        except OSError:
            pass
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    except (ImportError, ValueError, OSError):
        pass


def _call(url: str, func: Callable, args: tuple):
    db = _child_databases.get(url)
    if db is None:
        db = _child_databases[url] = Database(url)
    return func(db, *args)


def _ready(db: Database) -> int:
    """The child's first job: open its connection, so that a viewer's first heavy query finds the process running."""
    with db.reading() as connection:
        connection.exec_driver_sql("SELECT 1")
    return os.getpid()


def prestart(url: str) -> cf.Future | None:
    """Start this process's child now and have it connect to `url`, without waiting: a new server worker calls it,
    so that its first heavy query does not also wait for a forkserver, a process and a connection (about 2 s of a
    cold coverage plan). The future answers the child's pid; None for a database only this process can open."""
    if _in_place(url):
        return None
    return _executor().submit(_call, url, _ready, ())


def _executor() -> cf.ProcessPoolExecutor:
    global _pool, _owner
    with _lock:
        if _pool is None or _owner != os.getpid():      # a forked server worker starts its own
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(list(PRELOAD))
            _pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_start_child)
            _owner = os.getpid()
        return _pool


@atexit.register
def _shutdown() -> None:
    """At exit, before the interpreter tears down the modules the pool's own clean-up needs: the child is stopped,
    not waited for (a query still running has no one left to answer)."""
    pool = _pool
    if pool is not None and os.getpid() == _owner:
        _discard(pool)


def _discard(pool: cf.ProcessPoolExecutor) -> None:
    """Stop the child (a query past its time cannot be cancelled otherwise) and forget the pool."""
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def inline(db: Database) -> bool:
    """Whether a query for `db` runs in the calling process: inside the child itself, or for an in-memory SQLite
    database that no other process can open."""
    return _in_place(db.url)


def _in_place(url: str) -> bool:
    return _in_child or url in ("sqlite://", "sqlite:///:memory:") or ":memory:" in url


def run(db: Database, func: Callable[..., T], *args, timeout: float = TIMEOUT_S) -> T:
    """func(db, *args) computed in the child process and returned here; raises WorkRefused when it takes longer than
    `timeout` seconds or more memory than the child may have, and passes on the query's own exceptions."""
    if inline(db):
        return func(db, *args)
    pool = _executor()
    try:
        future = pool.submit(_call, db.url, func, args)
    except RuntimeError:                         # shut down under us by another thread's timeout: once more
        pool = _executor()
        future = pool.submit(_call, db.url, func, args)
    try:
        return future.result(timeout=timeout)
    except cf.TimeoutError:
        _discard(pool)
        raise WorkRefused(f"stopped after {timeout:g} s", timed_out=True) from None
    except MemoryError:
        raise WorkRefused("needed more memory than a query may have", timed_out=False) from None
    except cf.process.BrokenProcessPool:
        _discard(pool)
        raise WorkRefused("the query's process ended", timed_out=False) from None
