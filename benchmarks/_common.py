"""What every benchmark shares: a result row against its target, the timing of repeated runs, and a page's main
callback posted through the Flask test client as a browser sends it."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from data_access.db import Database


@dataclass(frozen=True)
class Row:
    name: str
    p50: str
    p95: str
    target: str
    ok: bool | None


def timed(func: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def row(name: str, samples: list[float], target_ms: float | None) -> Row:
    p50, p95 = statistics.median(samples), float(np.percentile(samples, 95))
    return Row(name, f"{p50:.1f} ms", f"{p95:.1f} ms", f"< {target_ms:.0f} ms" if target_ms else "baseline",
               None if target_ms is None else p95 < target_ms)


def payload(app, path: str, search: str, marker: str) -> dict:
    """The body of the POST /_dash-update-component that draws the page for `path` and `search`; `marker` is the
    first output of the page's main callback (its problems area)."""
    key = next(k for k in app.callback_map if f"{marker}.children" in k)
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in key[2:-2].split("...")]
    values = {"search": search, "pathname": path, "n_intervals": None}
    inputs = [{"id": i["id"], "property": i["property"], "value": values.get(i["property"])}
              for i in app.callback_map[key]["inputs"]]
    return {"output": key, "outputs": outputs, "inputs": inputs, "changedPropIds": ["app-url.search"]}


def post_callback(client, body: str, clear: Database | None = None) -> None:
    """POST one callback request; with `clear`, that database's cache is emptied first (a cold request)."""
    if clear is not None:
        clear.cache.clear()
    response = client.post("/_dash-update-component", data=body, content_type="application/json")
    if response.status_code not in (200, 204):
        raise RuntimeError(f"callback answered {response.status_code}: {response.get_data(as_text=True)[:200]}")


BENCH_ACCOUNT = "bench-leader"


def signed_in_client(app, account: str = BENCH_ACCOUNT, role: str = "leader", **scope):
    """A Flask test client signed in through the login form as `account` (created with a fresh random password, or
    given one, each run): the benchmarks time what a signed-in browser asks, scope checks included."""
    import re
    import secrets

    from data_access import accounts

    db = app.server.config["JINGBAO_DB"]
    app.server.config["JINGBAO_HEAVY_PER_MINUTE"] = 0      # the benchmarks time the work, not the rate limit
    password = secrets.token_urlsafe(16)
    if accounts.find_account(db, account) is None:
        accounts.create_account(db, account, role, password=password, **scope)
    else:
        accounts.set_password(db, account, password)
    client = app.server.test_client()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": account, "password": password, "csrf": csrf})
    if response.status_code != 302:
        raise RuntimeError(f"the benchmark could not sign in as {account}: {response.status_code}")
    return client


def on_both_backends(measure: Callable[[str], object], name: str) -> list[tuple[str, object, str]]:
    """(backend, measure(database URL), note) on a fresh SQLite file and on a PostgreSQL started for the run (None
    and why when its binaries are missing)."""
    import tempfile
    from pathlib import Path

    results: list[tuple[str, object, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(("SQLite", measure(f"sqlite:///{Path(folder) / f'{name}.db'}"), ""))
    try:
        from tests.servers import PostgresServer

        server = PostgresServer().start()
    except BaseException as exc:   # pytest.skip raises a BaseException when the binaries are missing
        results.append(("PostgreSQL", None, f"not measured: {exc}"))
        return results
    try:
        results.append(("PostgreSQL", measure(server.create_database()), ""))
    finally:
        server.stop()
    return results


def render(rows) -> str:
    """The rows of a benchmark as the table `make bench` prints."""
    header = f"{'benchmark':<72}{'p50':>10}{'p95':>10}{'target':>12}  ok"
    lines = [header, "-" * len(header)]
    for row in rows:
        ok = "" if row.ok is None else ("yes" if row.ok else "NO")
        lines.append(f"{row.name:<72}{row.p50:>10}{row.p95:>10}{row.target:>12}  {ok}")
    return "\n".join(lines)
