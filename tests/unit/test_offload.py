"""Heavy queries in a process of their own (data_access/offload.py): the answer comes back, the query's own errors
come back, a query past its time is stopped with its process and the next one runs in a new one, a query that wants
too much memory is refused, and the server's process is never the one computing."""

from __future__ import annotations

import os
import time

import pytest

from data_access import offload
from data_access.db import Database
from tests.servers import fresh_database_url


def where(db: Database, pause: float = 0.0) -> tuple[int, str]:
    time.sleep(pause)
    return os.getpid(), db.url


def broken(db: Database) -> None:
    raise ValueError("a query's own error")


def hungry(db: Database) -> int:
    return len(bytearray(offload.MEMORY_LIMIT_BYTES + 1024**3))


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    db = Database(fresh_database_url(tmp_path_factory.mktemp("offload"), "o.db"))
    db.create_schema()
    return db


def test_off001_the_query_runs_in_another_process_and_its_answer_comes_back(db):
    pid, url = offload.run(db, where, 0.0)
    assert url == db.url and pid != os.getpid()
    assert offload.run(db, where, 0.0)[0] == pid                # one child, kept for the next query


def test_off002_a_querys_own_error_comes_back_as_itself(db):
    with pytest.raises(ValueError, match="a query's own error"):
        offload.run(db, broken)


def test_off003_a_query_past_its_time_is_stopped_and_the_next_runs_afresh(db):
    before = offload.run(db, where, 0.0)[0]
    started = time.monotonic()
    with pytest.raises(offload.WorkRefused) as refused:
        offload.run(db, where, 30.0, timeout=0.5)
    assert refused.value.timed_out and time.monotonic() - started < 10
    after = offload.run(db, where, 0.0)[0]
    assert after not in (before, os.getpid())
    with pytest.raises(ProcessLookupError):                      # the stopped child is gone, not left running
        for _ in range(50):
            os.kill(before, 0)
            time.sleep(0.1)


def test_off004_a_query_wanting_more_memory_than_allowed_is_refused(db):
    with pytest.raises(offload.WorkRefused) as refused:
        offload.run(db, hungry)
    assert not refused.value.timed_out
    assert offload.run(db, where, 0.0)[1] == db.url              # and the server goes on


def test_off005_an_in_memory_database_is_queried_in_place():
    memory = Database("sqlite://")
    assert offload.run(memory, where, 0.0)[0] == os.getpid()


def test_off006_a_prestarted_child_is_the_one_that_answers_the_first_query(db):
    if offload._pool is not None:
        offload._discard(offload._pool)                          # a child that earlier tests started
    started = offload.prestart(db.url)
    child = started.result(timeout=60)
    assert child != os.getpid()
    assert offload.run(db, where, 0.0)[0] == child               # no second process for the first real query
    assert offload.prestart("sqlite://") is None                 # nothing to start for a database only we can open
