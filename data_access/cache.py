"""Memoization of query functions on (arguments, data version), stored in a Flask-Caching backend.

The backend is built from a URL so that the CLI, tests and every gunicorn worker can use it without a Flask app:
`simple` (in-process), `null`, `filesystem:///path`, `redis://host:port/db`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

from flask_caching.backends import FileSystemCache, NullCache, RedisCache, SimpleCache

from data_access.scope import Scope

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 24 * 3600   # entries are keyed on the data version, so age never makes them wrong


class CacheUrlError(ValueError):
    pass


LOCAL_ENTRIES = 256
PROBE_KEY = "readyz-probe"
FLIGHT_WAIT_S = 30.0       # a process waits this long for another's computation of a key, then computes it itself
FLIGHT_POLL_S = 0.02


class _FileFlights:
    """Which process computes a key of a filesystem cache the workers share: one byte of a lock file per key,
    locked with `fcntl.lockf` (the kernel releases it when a worker dies). The file lives in the temp folder, not in
    the cache folder, whose clearing and pruning remove every file in it. One descriptor per process stays open:
    closing any descriptor of a file drops all of the process's locks on it."""

    SPAN = 1 << 30

    def __init__(self, cache_path: str) -> None:
        digest = hashlib.sha1(os.path.abspath(cache_path).encode("utf-8")).hexdigest()[:16]
        self.path = os.path.join(tempfile.gettempdir(), f"jingbao-flights-{digest}.lock")
        self._fd: int | None = None
        self._pid = 0

    def _descriptor(self) -> int:
        if self._fd is None or self._pid != os.getpid():     # a forked worker opens its own
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self._fd

    @contextlib.contextmanager
    def hold(self, key: str, wait_s: float, keep: bool = True) -> Iterator[bool]:
        import fcntl

        offset = int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % self.SPAN
        fd = self._descriptor()
        deadline = time.monotonic() + wait_s
        locked = waited = False
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
                locked = True
                break
            except OSError:
                waited = True
                if time.monotonic() >= deadline:
                    break                     # the other computation takes too long: compute it here as well
                time.sleep(FLIGHT_POLL_S)
        if locked and not keep:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)
            locked = False
        try:
            yield waited
        finally:
            if locked:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)


class _RedisFlights:
    """Which process computes a key of a Redis cache: a Redis lock that expires by itself if its holder dies."""

    def __init__(self, client) -> None:
        self.client = client

    @contextlib.contextmanager
    def hold(self, key: str, wait_s: float, keep: bool = True) -> Iterator[bool]:
        lock = self.client.lock(f"jingbao:flight:{key}", timeout=max(60.0, 2 * wait_s), blocking_timeout=wait_s,
                                sleep=FLIGHT_POLL_S)
        try:
            locked = lock.acquire(blocking=False)
            waited = not locked
            if waited:
                locked = lock.acquire()
            if locked and not keep:
                lock.release()
                locked = False
        except Exception:                         # Redis away: the cache is away too, nothing to share
            locked = waited = False
        try:
            yield waited
        finally:
            if locked:
                with contextlib.suppress(Exception):   # expired meanwhile (a computation past 60 s): already free
                    lock.release()


class QueryCache:
    """A shared backend, and in front of it a small in-process LRU of live objects.

    The backend (SimpleCache included) pickles every value; unpickling a city's boundaries or a figure costs tens
    of milliseconds per hit, so each process keeps its most recent hits unpickled. Keys carry the data version, so
    both layers are always right. Cached values are shared: callers treat them as read-only.
    """

    def __init__(self, backend, url: str, local_entries: int = LOCAL_ENTRIES) -> None:
        self.backend = backend
        self.url = url
        self.local_entries = 0 if isinstance(backend, NullCache) else local_entries
        self._local: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0                  # lookups answered by either layer, and the others: the hit rate of /metrics
        self.misses = 0
        # called with True (hit) or False (miss) after each lookup: the app counts them for every worker at once
        self.on_lookup: Callable[[bool], None] | None = None
        # a cache other processes share also tells them who is computing what (None: in-process only)
        self.flights: _FileFlights | _RedisFlights | None = None
        # False in a background process (the niced warm-up): it waits for the servers' computations but makes them
        # wait for none of its own, which its low priority would stretch
        self.holds_flights = True

    @classmethod
    def from_url(cls, url: str) -> QueryCache:
        scheme = urlparse(url).scheme or url
        if url in ("null", "none", ""):
            backend = NullCache()
        elif url == "simple":
            backend = SimpleCache(threshold=2000, default_timeout=DEFAULT_TIMEOUT_S)
        elif scheme == "filesystem":
            backend = FileSystemCache(urlparse(url).path, threshold=5000, default_timeout=DEFAULT_TIMEOUT_S)
            flights = _FileFlights(urlparse(url).path) if os.name == "posix" else None
        elif scheme in ("redis", "rediss", "unix"):
            import redis

            client = redis.Redis.from_url(url)
            backend = RedisCache(host=client, default_timeout=DEFAULT_TIMEOUT_S, key_prefix="jingbao:")
            flights = _RedisFlights(client)
        else:
            raise CacheUrlError(f"JINGBAO_CACHE_URL {url!r}: use simple, null, filesystem:///path or redis://…")
        cache = cls(backend, url)
        if scheme in ("filesystem", "redis", "rediss", "unix"):
            cache.flights = flights
        return cache

    def computing(self, key: str) -> contextlib.AbstractContextManager[bool]:
        """Held while this process computes `key`: another process sharing the backend waits for it (up to
        FLIGHT_WAIT_S) and then finds the value stored, instead of computing it at the same time. Yields whether
        it waited for another process (then the value may be stored now)."""
        if self.flights is None:
            return contextlib.nullcontext(False)
        return self.flights.hold(key, FLIGHT_WAIT_S, keep=self.holds_flights)

    def get(self, key: str) -> Any:
        with self._lock:
            if key in self._local:
                self._local.move_to_end(key)
                self._count(True)
                return self._local[key]
        value = self.backend.get(key)
        if value is not None:
            self._remember(key, value)
        self._count(value is not None)
        return value

    def _count(self, hit: bool) -> None:
        if hit:
            self.hits += 1
        else:
            self.misses += 1
        if self.on_lookup is not None:
            self.on_lookup(hit)

    def reachable(self) -> bool:
        """Whether the backend answers a write and a read (a null cache always does: it holds nothing)."""
        if isinstance(self.backend, NullCache):
            return True
        try:
            return bool(self.backend.set(PROBE_KEY, 1, timeout=60)) and self.backend.get(PROBE_KEY) == 1
        except Exception:                  # the backend's own error (a refused connection, a full disk): unreachable
            return False

    def set(self, key: str, value: Any) -> None:
        self.backend.set(key, value)
        self._remember(key, value)

    def _remember(self, key: str, value: Any) -> None:
        if not self.local_entries:
            return
        with self._lock:
            self._local[key] = value
            self._local.move_to_end(key)
            while len(self._local) > self.local_entries:
                self._local.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._local.clear()
        self.backend.clear()


class Versioned(Protocol):
    """What a query function's first argument offers the cache (data_access.db.Database does)."""

    cache: QueryCache
    identity: str              # which database: part of every key, so one shared cache can serve several

    def data_version(self) -> int: ...


# Who holds a scope changes nothing a query returns (what it may see does): two leaders, or the background warm-up
# and a leader, share one entry per view instead of one each.
SCOPE_HOLDER_FIELDS = ("role", "user")


def key_text(value: object) -> str:
    """The text of an argument in a cache key: its repr, except that a `Scope` anywhere inside (a `Filters` carries
    one) is written without the account that holds it."""
    if isinstance(value, Scope):
        return repr(dataclasses.replace(value, **{name: "" for name in SCOPE_HOLDER_FIELDS}))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = (f"{f.name}={key_text(getattr(value, f.name))}" for f in dataclasses.fields(value) if f.repr)
        return f"{type(value).__qualname__}({', '.join(fields)})"
    if isinstance(value, tuple | list):
        inner = ", ".join(key_text(item) for item in value)
        return f"({inner},)" if isinstance(value, tuple) and len(value) == 1 else (
            f"({inner})" if isinstance(value, tuple) else f"[{inner}]")
    return repr(value)


_remembered_key_text = functools.lru_cache(maxsize=4096)(key_text)


def _args_text(args: tuple) -> str:
    """`key_text` of a call's arguments, remembered for hashable ones: a cold page asks dozens of cached queries
    about the same `Filters`, and writing one out field by field cost more than some of the queries."""
    try:
        return _remembered_key_text(args)
    except TypeError:                      # an unhashable argument (a list, a data frame): written out each time
        return key_text(args)


# The computations under way in this process, by cache key: a second thread asking for the same value waits for the
# first instead of computing it again (fifty wall screens whose per-minute figures all expire at once compute them
# once per process, not fifty times).
_computing: dict[str, threading.Lock] = {}
_computing_guard = threading.Lock()


def _computation_lock(key: str) -> threading.Lock:
    with _computing_guard:
        lock = _computing.get(key)
        if lock is None:
            lock = _computing[key] = threading.Lock()
        return lock


def cached_query(func: Callable[..., T]) -> Callable[..., T]:
    """Memoize `func(db, *args)` on the database, its current data version and the hashable arguments (see
    `key_text`: the viewer's scope counts, not the viewer). Concurrent misses of one key compute it once: once per
    process, and once in all when the backend is shared (`QueryCache.computing`: four gunicorn workers opening the
    same cold view)."""

    name = f"{func.__module__}.{func.__qualname__}"

    @functools.wraps(func)
    def wrapper(db: Versioned, *args, **kwargs) -> T:
        version = db.data_version()
        raw = f"{db.identity}|{name}|{version}|{_args_text(args)}|{key_text(sorted(kwargs.items()))}"
        key = "q:" + hashlib.sha1(raw.encode("utf-8")).hexdigest()
        hit = db.cache.get(key)
        if hit is not None:
            return hit
        lock = _computation_lock(key)
        try:
            if not lock.acquire(blocking=False):     # another thread is computing it: wait for its value
                lock.acquire()
                hit = db.cache.get(key)
                if hit is not None:
                    lock.release()
                    return hit
            try:
                with db.cache.computing(key) as waited:
                    hit = db.cache.get(key) if waited else None    # stored by the process this one waited for
                    if hit is not None:
                        return hit
                    value = func(db, *args, **kwargs)
                    db.cache.set(key, value)
                    return value
            finally:
                lock.release()
        finally:
            with _computing_guard:
                if _computing.get(key) is lock:
                    del _computing[key]

    wrapper.uncached = func  # type: ignore[attr-defined]
    return wrapper
