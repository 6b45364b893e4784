"""What a running dashboard process holds: its database and settings, and the demo-data start-up step."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from flask import current_app
from sqlalchemy.engine import make_url

from base.settings import DEFAULT_DATA_DIR, Settings
from data_access.cache import QueryCache
from data_access.db import Database

log = logging.getLogger(__name__)


def open_database(settings: Settings) -> Database:
    return Database(settings.database_url, QueryCache.from_url(settings.cache_url))


def get_db() -> Database:
    return current_app.config["JINGBAO_DB"]


def get_settings() -> Settings:
    return current_app.config["JINGBAO_SETTINGS"]


DEMO_FEED_SECONDS = 300


def start_demo_feed(db: Database, settings: Settings, every_s: float = DEMO_FEED_SECONDS) -> threading.Thread:
    """In demo mode keep the data current while serving: top up every few minutes in a background thread, so a
    wall display left running shows new cases instead of turning stale."""
    from data_access.demo.build import top_up_demo
    from data_access.demo.positions import backfill_history
    from data_access.timeutil import utcnow

    def feed() -> None:
        try:   # once, in the background so the first start stays fast: 48 hours of patrols for playback
            hours = backfill_history(db, utcnow(), seed=settings.seed)
            if hours:
                log.info("demo feed: %.0f hours of patrol positions written for playback", hours)
        except Exception:
            log.exception("demo position history failed")
        while True:
            time.sleep(every_s)
            try:
                added = top_up_demo(db)   # the seed and scale the data was built with
                log.info("demo feed: %d accident cases added", added)
            except Exception:   # a feed failure must never take the server down; the next round retries
                log.exception("demo feed failed")

    thread = threading.Thread(target=feed, name="demo-feed", daemon=True)
    thread.start()
    return thread


def demo_folder(settings: Settings) -> Path:
    """Where a demo database's side files live (its accounts' passwords): beside a SQLite file, else var/."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return DEFAULT_DATA_DIR


def ensure_demo_accounts(db: Database, settings: Settings) -> str:
    """In demo mode: the demo accounts of every role (created at the first start), remembered in the app config for
    the login page; returns the lines the terminal prints."""
    from data_access.demo.accounts import ensure_demo_accounts as ensure

    demo, kiosk = ensure(db, demo_folder(settings))
    lines = ["demo accounts (demo mode only; sign in at /login):"]
    lines += [f"  {account.role:<9} {account.name:<15} {account.password}" for account in demo]
    if kiosk:
        lines.append(f"  wall kiosk link: http://{settings.host}:{settings.port}/wall?kiosk={kiosk}")
    return "\n".join(lines)


def demo_accounts(settings: Settings) -> tuple[tuple[str, str, str], ...]:
    """(name, role, password) of the demo accounts on file, for the login page in demo mode."""
    import json

    from data_access.demo.accounts import FILE_NAME

    path = demo_folder(settings) / FILE_NAME
    try:
        passwords = json.loads(path.read_text(encoding="utf-8")).get("passwords", {})
    except (OSError, ValueError):
        return ()
    roles = ("leader", "district", "insurer", "planner", "wall", "admin")
    names = sorted(passwords, key=lambda name: (roles.index(name.removeprefix("demo-"))
                                                if name.removeprefix("demo-") in roles else 99, name))
    return tuple((name, name.removeprefix("demo-"), passwords[name]) for name in names)


def ensure_demo_data(db: Database, settings: Settings, progress: bool = True) -> str:
    """In demo mode build the demo database when it is empty, or top up the gap since its newest event. With the demo
    off (JINGBAO_DEMO=0, `serve --no-demo`) only bring the schema up to date: a real deployment starts empty and is
    filled by `jingbao city add` and the imports (the /onboarding page lists what is missing).

    Returns what was done, for the start-up log line.
    """
    from data_access.demo.build import build_demo, is_empty, top_up_demo

    if not settings.demo:
        db.create_schema()
        if is_empty(db):
            return "demo off: empty database, schema ready; add a city with `jingbao city add ADCODE` (see /onboarding)"
        return "using existing data"
    if not db.has_schema() or is_empty(db):
        from data_access.demo.positions import build_positions
        from data_access.timeutil import utcnow

        summary = build_demo(db, seed=settings.seed, scale=settings.demo_scale, start=settings.demo_start,
                             progress=progress)
        # two hours of patrol positions up to now, so the live map shows every unit from the first start
        build_positions(db, utcnow(), seed=settings.seed)
        return f"built demo data: {summary.cases:,} accident cases in {summary.seconds:.0f} s"
    db.create_schema()            # a database from an older release: apply the newer migrations first
    added = top_up_demo(db)       # the seed and scale the data was built with
    return f"demo data topped up with {added:,} accident cases"
