"""`jingbao serve`'s production server: gunicorn run inside this process, sized to the machine.

The master process does the start-up work and runs the background feeds (the demo top-up, the `--live` simulator)
exactly once; each worker builds its own app, with its own database engine, after the fork. Threads serve the cheap
requests (the wall's polls) beside a slow one in the same worker; processes keep one slow request's CPU from
holding up the others. Once serving, the master starts the warm-up (`jingbao warm --watch`, niced) as its own process:
it fills the cache the workers share with every page's default view whenever the data changes (JINGBAO_WARM=0: off).
The workers' cache is shared for that: the in-process `simple` cache becomes a folder of the master's."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from gunicorn.app.base import BaseApplication
from werkzeug.serving import WSGIRequestHandler

from base.settings import PROJECT_ROOT, Settings
from data_access import offload
from data_access.db import Database

MAX_WORKERS = 4               # each worker holds the app and its caches: a few hundred MB
WORKERS_PER_CORE = 2
THREADS = 4
TIMEOUT_S = 60                # a worker silent this long is restarted (gthread: the worker, not one slow request)
GRACEFUL_TIMEOUT_S = 30
KEEPALIVE_S = 5
LIMIT_REQUEST_LINE = 8190     # gunicorn's largest: a page address with every district of a city in its query
LIMIT_REQUEST_FIELDS = 100
LIMIT_REQUEST_FIELD_SIZE = 8190
SERVER_NAME = "jingbao"
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
WARMER_STOP_TIMEOUT_S = 10


def machine_cores() -> int:
    """The cores this process may run on (a container's or a cpuset's share, not the whole machine's)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:                          # not on Linux
        return os.cpu_count() or 1


def default_workers(cores: int | None = None) -> int:
    """Two workers per core, at most four: 4 on the two-core servers of the deployment."""
    return max(1, min(WORKERS_PER_CORE * (cores or machine_cores()), MAX_WORKERS))


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class QuietRequestHandler(WSGIRequestHandler):
    """The development server's request handler, without Werkzeug's and Python's versions in `Server`."""

    def version_string(self) -> str:
        return SERVER_NAME


def gunicorn_options(settings: Settings, workers: int, threads: int) -> dict:
    """gunicorn's settings of `jingbao serve`; GUNICORN_CMD_ARGS may still change any of them."""
    options = {
        "bind": bind_address(settings.host, settings.port),
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": TIMEOUT_S,
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "keepalive": KEEPALIVE_S,
        "limit_request_line": LIMIT_REQUEST_LINE,
        "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
        "accesslog": "-",
        "proc_name": SERVER_NAME,
        # https behind a proxy is read by dashboard.guard.TrustedProxyScheme from JINGBAO_TRUSTED_PROXIES only
        "forwarded_allow_ips": "",
        "control_socket_disable": True,             # gunicorn's admin socket in $HOME: unused, and one per user
    }
    if Path("/dev/shm").is_dir():                   # the workers' heartbeat files on tmpfs, never a slow disk
        options["worker_tmp_dir"] = "/dev/shm"
    return options


class DashboardServer(BaseApplication):
    """gunicorn serving `create_app(settings)`; `on_ready` runs once in the master when it listens."""

    def __init__(self, settings: Settings, options: dict, *, on_ready: Callable[[], None] | None = None,
                 inherited: Database | None = None, warm: bool = False) -> None:
        self.settings = settings
        self.options = options
        self.on_ready = on_ready
        self.inherited = inherited
        self.warm = warm
        self.warmer: subprocess.Popen | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:            # control_socket_disable is new in gunicorn 27
                self.cfg.set(key, value)
        self.cfg.set("when_ready", self._when_ready)
        self.cfg.set("post_fork", self._post_fork)
        self.cfg.set("post_worker_init", self._post_worker_init)
        self.cfg.set("child_exit", _child_exit)
        parser = self.cfg.parser()                  # GUNICORN_CMD_ARGS, as gunicorn's own command reads it
        for key, value in vars(parser.parse_args(self.cfg.get_cmd_args_from_env())).items():
            if value is not None and key != "args":
                self.cfg.set(key.lower(), value)

    def load(self):
        from dashboard.app import create_app

        return create_app(self.settings).server

    def _when_ready(self, arbiter) -> None:
        print(f"serving on http://{bind_address(self.settings.host, self.settings.port)} with "
              f"{self.cfg.workers} gunicorn workers × {self.cfg.threads} threads", file=sys.stderr, flush=True)
        if self.on_ready is not None:
            self.on_ready()
        if self.warm and self.warmer is None:
            self.warmer = start_warmer(self.settings)

    def _post_fork(self, arbiter, worker) -> None:
        # The master's engine came along in the fork: drop its pool here without closing the connections, which
        # are the master's (its feeds use them); the worker's app opens its own.
        if self.inherited is not None:
            self.inherited.engine.dispose(close=False)

    def _post_worker_init(self, worker) -> None:
        # The worker's process for heavy queries starts now rather than under its first viewer's coverage plan.
        offload.prestart(self.settings.database_url)


def _child_exit(arbiter, worker) -> None:
    if os.environ.get(METRICS_DIR_VARIABLE):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def start_warmer(settings: Settings) -> subprocess.Popen:
    """`jingbao warm --watch` on the workers' database and shared cache, niced, stopping when this process ends."""
    from dashboard.commands.warm import WARM_NICE

    environment = {key: value for key, value in os.environ.items() if key != METRICS_DIR_VARIABLE}
    environment.update(JINGBAO_DATABASE_URL=settings.database_url, JINGBAO_CACHE_URL=settings.cache_url,
                       JINGBAO_DEMO="0", JINGBAO_DEFAULT_CITY=settings.default_city,
                       JINGBAO_LANGUAGE=settings.language, JINGBAO_WALL_PLAYLIST=settings.wall_playlist)
    command = [sys.executable, "-m", "dashboard.cli", "warm", "--watch", "--nice", str(WARM_NICE),
               "--parent", str(os.getpid())]
    print(f"warm-up: every page's default view is computed whenever the data changes (process started by "
          f"{os.getpid()}; JINGBAO_WARM=0 turns it off)", file=sys.stderr, flush=True)
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment)


def stop_warmer(warmer: subprocess.Popen | None) -> None:
    if warmer is None or warmer.poll() is not None:
        return
    warmer.terminate()
    try:
        warmer.wait(WARMER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        warmer.kill()
        warmer.wait(WARMER_STOP_TIMEOUT_S)


def shared_cache(settings: Settings) -> tuple[Settings, Path | None]:
    """The settings the workers and the warm-up use: the in-process `simple` cache becomes a new temporary folder
    they all share (returned, to be removed at exit); a Redis or filesystem cache is shared already."""
    if settings.cache_url != "simple":
        return settings, None
    folder = Path(tempfile.mkdtemp(prefix="jingbao-cache-"))
    return settings.with_overrides(cache_url=f"filesystem://{folder}"), folder


def warming(settings: Settings) -> bool:
    """Whether `jingbao serve` warms the cache: unless JINGBAO_WARM=0, and not into a null cache (nothing kept)."""
    return settings.warm and settings.cache_url not in ("null", "none", "")


def prepare_metrics_dir() -> Path | None:
    """Where the workers' Prometheus counters meet, so that any worker's /metrics counts them all: the operator's
    PROMETHEUS_MULTIPROC_DIR (emptied of a previous run's files), else a new temporary folder (returned, to be
    removed at exit). Must run before anything imports prometheus_client."""
    given = os.environ.get(METRICS_DIR_VARIABLE)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink(missing_ok=True)
        return None
    folder = Path(tempfile.mkdtemp(prefix="jingbao-metrics-"))
    os.environ[METRICS_DIR_VARIABLE] = str(folder)
    return folder


def serve(settings: Settings, *, workers: int, threads: int = THREADS, on_ready: Callable[[], None] | None = None,
          inherited: Database | None = None) -> int:
    """Run gunicorn until it is stopped (SIGTERM, SIGINT); `inherited` is the master's own database."""
    import shutil

    own_folder = prepare_metrics_dir()
    warm = warming(settings)
    cache_folder = None
    if warm:
        settings, cache_folder = shared_cache(settings)
    import dashboard.app  # noqa: F401 — imported once in the master, shared by the forked workers

    master = os.getpid()
    server = DashboardServer(settings, gunicorn_options(settings, workers, threads), on_ready=on_ready,
                             inherited=inherited, warm=warm)
    try:
        server.run()
    finally:
        # A worker leaves through this same stack when it exits (gunicorn forks it from `run`): only the master,
        # once everything has stopped, may stop the warm-up and remove the folders the living workers still use.
        if os.getpid() == master:
            stop_warmer(server.warmer)
            for folder in (own_folder, cache_folder):
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
    return 0
