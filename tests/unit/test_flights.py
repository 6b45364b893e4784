"""Workers that share a cache compute a cold query once between them: the others wait for its value.

Four gunicorn workers each opening the same cold view after a data change computed it four times at once, on two
cores; the first wall screens then waited for all four."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import threading
import time
import uuid
from pathlib import Path

import pytest

from data_access.cache import QueryCache, cached_query

pytestmark = pytest.mark.sqlite_pass       # no database: the PostgreSQL pass would repeat it


@dataclasses.dataclass
class Versioned:
    cache: QueryCache
    identity: str
    calls: str                   # a folder: one file per computation, whichever process made it

    def data_version(self) -> int:
        return 1


@cached_query
def slow_double(db: Versioned, n: int) -> int:
    Path(db.calls, f"{os.getpid()}-{n}-{time.monotonic_ns()}").touch()
    time.sleep(0.6)
    return 2 * n


def ask(cache_url: str, identity: str, calls: str, n: int, start: float, answers) -> None:
    db = Versioned(QueryCache.from_url(cache_url), identity, calls)
    time.sleep(max(0.0, start - time.time()))        # every process asks at the same moment
    answers.put(slow_double(db, n))


def ask_together(cache_url: str, tmp_path: Path, numbers: list[int]) -> tuple[list[int], list[str]]:
    calls = tmp_path / "calls"
    calls.mkdir()
    identity = f"flights-{uuid.uuid4().hex}"
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    start = time.time() + 1.0
    workers = [context.Process(target=ask, args=(cache_url, identity, str(calls), n, start, answers))
               for n in numbers]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    return sorted(answers.get(timeout=5) for _ in numbers), sorted(p.name.split("-")[1] for p in calls.iterdir())


def test_processes_sharing_a_filesystem_cache_compute_a_key_once(tmp_path):
    answers, computed = ask_together(f"filesystem://{tmp_path / 'cache'}", tmp_path, [7, 7, 7, 7, 3])
    assert answers == [6, 14, 14, 14, 14]
    assert computed == ["3", "7"]              # 7 once for four processes; 3, another key, on its own


def test_processes_sharing_redis_compute_a_key_once(tmp_path, redis_server):
    answers, computed = ask_together(redis_server.url, tmp_path, [7, 7, 7, 3])
    assert answers == [6, 14, 14, 14]
    assert computed == ["3", "7"]


def test_an_in_process_cache_has_no_flights_to_share(tmp_path):
    """`simple` lives in one process: there is no one to wait for, and nothing is locked."""
    cache = QueryCache.from_url("simple")
    assert cache.flights is None
    with cache.computing("q:x") as waited:
        assert waited is False


def computing_in_another_process(url: str, key: str, holds: bool, held, release) -> None:
    cache = QueryCache.from_url(url)
    cache.holds_flights = holds
    with cache.computing(key):
        held.set()
        release.wait(10)


def waited_for_another_process(url: str, key: str, holds: bool, asker: QueryCache) -> bool:
    """Whether `asker` waits for a computation of `key` under way in another process (holding flights or not)."""
    context = multiprocessing.get_context("fork")
    held, release = context.Event(), context.Event()
    other = context.Process(target=computing_in_another_process, args=(url, key, holds, held, release))
    other.start()
    try:
        assert held.wait(10)
        threading.Timer(0.3, release.set).start()
        with asker.computing(key) as waited:
            return waited
    finally:
        release.set()
        other.join(10)


def test_a_background_process_waits_for_the_servers_but_makes_none_wait(tmp_path):
    """The warm-up runs niced: a server waiting for its computation would wait for the lowest priority on the
    machine. It waits for a server's computation of a key; a server computes a key the warm-up is computing."""
    url = f"filesystem://{tmp_path / 'cache'}"
    server, warm = QueryCache.from_url(url), QueryCache.from_url(url)
    warm.holds_flights = False
    assert waited_for_another_process(url, "q:one", True, warm) is True
    assert waited_for_another_process(url, "q:two", False, server) is False
    assert waited_for_another_process(url, "q:three", True, server) is True
