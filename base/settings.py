"""Settings of one dashboard process, read from `JINGBAO_*` environment variables by the app factory and the CLI."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"

TILE_DATUMS = ("wgs84", "gcj02")
AUTH_MODES = ("local", "proxy", "oidc", "none")
LANGUAGES = ("zh", "en")
MAX_DEMO_SCALE = 10.0
CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")   # the demo's days are local days


class SettingsError(ValueError):
    """A `JINGBAO_*` variable holds a value the dashboard cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    cache_url: str = "simple"
    host: str = "127.0.0.1"
    port: int = 8050
    default_city: str = "350600"
    language: str = "zh"
    tile_url: str = ""
    tile_attribution: str = ""
    tile_datum: str = "wgs84"
    demo: bool = True
    seed: int = 20191202
    demo_scale: float = 1.0
    demo_start: dt.date | None = None
    stale_after_minutes: int = 30
    wall_playlist: str = ""
    auth: str = "local"
    auth_header: str = ""
    trusted_proxies: tuple[str, ...] = ()
    frame_ancestors: str = ""
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    secret_key: str = ""
    session_hours: float = 12.0
    warm: bool = True              # keep every page's default view computed ahead of its viewers (services/warm.py)
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{DEFAULT_DATA_DIR / 'jingbao.db'}")
        if self.language not in LANGUAGES:
            raise SettingsError(f"JINGBAO_LANGUAGE must be one of {', '.join(LANGUAGES)}, not {self.language!r}")
        if self.tile_datum not in TILE_DATUMS:
            raise SettingsError(f"JINGBAO_TILE_DATUM must be one of {', '.join(TILE_DATUMS)}, not {self.tile_datum!r}")
        if not 0 < self.port < 65536:
            raise SettingsError(f"JINGBAO_PORT must be between 1 and 65535, not {self.port}")
        if not 0 < self.demo_scale <= MAX_DEMO_SCALE:
            raise SettingsError(f"JINGBAO_DEMO_SCALE must be more than 0 and at most {MAX_DEMO_SCALE:g}, "
                                f"not {self.demo_scale:g}")
        if self.demo_start is not None and self.demo_start > dt.datetime.now(CHINA_TIME).date():
            raise SettingsError(f"JINGBAO_DEMO_START must not be after today, not {self.demo_start}")
        if self.auth not in AUTH_MODES:
            raise SettingsError(f"JINGBAO_AUTH must be one of {', '.join(AUTH_MODES)}, not {self.auth!r}")
        if self.auth == "proxy" and not (self.auth_header and self.trusted_proxies):
            raise SettingsError("JINGBAO_AUTH=proxy needs JINGBAO_AUTH_HEADER and JINGBAO_TRUSTED_PROXIES")
        if self.auth == "oidc" and not (self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret):
            raise SettingsError("JINGBAO_AUTH=oidc needs JINGBAO_OIDC_ISSUER, JINGBAO_OIDC_CLIENT_ID and "
                                "JINGBAO_OIDC_CLIENT_SECRET")
        if not 0 < self.session_hours <= 24 * 30:
            raise SettingsError(f"JINGBAO_SESSION_HOURS must be more than 0 and at most 720, not {self.session_hours}")

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **changes)


# (environment variable, Settings field, converter, what it means) — the README table is generated from this list.
ENVIRONMENT = (
    ("JINGBAO_DATABASE_URL", "database_url", str,
     "SQLAlchemy URL; default a SQLite file `var/jingbao.db` (WAL), built with demo data on first start"),
    ("JINGBAO_CACHE_URL", "cache_url", str,
     "`simple` (in-process), `null`, `filesystem:///path` or `redis://host:port/db`"),
    ("JINGBAO_HOST", "host", str, "address `jingbao serve` binds to"),
    ("JINGBAO_PORT", "port", int, "port `jingbao serve` listens on"),
    ("JINGBAO_DEFAULT_CITY", "default_city", str, "adcode of the city shown when the URL names none (350600, 500000)"),
    ("JINGBAO_LANGUAGE", "language", str, "`zh` or `en`: the language shown when the URL names none"),
    ("JINGBAO_TILE_URL", "tile_url", str, "tile URL template; empty: the shipped district boundaries are the base map"),
    ("JINGBAO_TILE_ATTRIBUTION", "tile_attribution", str, "attribution shown for the tiles"),
    ("JINGBAO_TILE_DATUM", "tile_datum", str, "`wgs84` (OSM, Tianditu) or `gcj02` (Amap): overlays shift to match"),
    ("JINGBAO_DEMO", "demo", lambda v: v.strip().lower() in ("1", "true", "yes", "on"),
     "`1`: build demo data into an empty database and top up the gap since the last event at start"),
    ("JINGBAO_SEED", "seed", int, "seed of the demo data (same seed, same data)"),
    ("JINGBAO_DEMO_SCALE", "demo_scale", float,
     "multiplies the demo data's volumes when it is built (more than 0, at most 10); the tests build a small demo"),
    ("JINGBAO_DEMO_START", "demo_start", dt.date.fromisoformat,
     "first local day (YYYY-MM-DD) of the demo data when it is built, like `jingbao seed --start`; empty: a year "
     "before each programme began"),
    ("JINGBAO_STALE_AFTER_MINUTES", "stale_after_minutes", int, "data older than this is marked stale on screen"),
    ("JINGBAO_WALL_PLAYLIST", "wall_playlist", str,
     "the wall's playlist when its URL names none, e.g. `overview:30,map:60,payouts:20`"),
    ("JINGBAO_AUTH", "auth", str,
     "`local` (accounts and passwords of `jingbao users`), `proxy` (the bureau's sign-on gateway sets a header), "
     "`oidc` (an OpenID Connect issuer) or `none` (no sign-in: every page says so in red)"),
    ("JINGBAO_AUTH_HEADER", "auth_header", str, "with `proxy`: the header naming the signed-in account"),
    ("JINGBAO_TRUSTED_PROXIES", "trusted_proxies", lambda v: tuple(p.strip() for p in v.split(",") if p.strip()),
     "with `proxy`: comma-separated addresses of the gateway; the header is believed only from these"),
    ("JINGBAO_FRAME_ANCESTORS", "frame_ancestors", str,
     "origins that may show the pages in a frame (a portal embedding the wall), comma-separated; empty: none"),
    ("JINGBAO_OIDC_ISSUER", "oidc_issuer", str, "with `oidc`: the issuer URL (its discovery document is read)"),
    ("JINGBAO_OIDC_CLIENT_ID", "oidc_client_id", str, "with `oidc`: this dashboard's client id"),
    ("JINGBAO_OIDC_CLIENT_SECRET", "oidc_client_secret", str, "with `oidc`: this dashboard's client secret"),
    ("JINGBAO_SECRET_KEY", "secret_key", str,
     "signs the session cookies; empty: a random key kept in `var/secret_key` (shared by the workers of one host)"),
    ("JINGBAO_SESSION_HOURS", "session_hours", float, "a signed-in session ends after this many idle hours"),
    ("JINGBAO_WARM", "warm", lambda v: v.strip().lower() not in ("0", "false", "no", "off"),
     "`0`: do not compute the default views of every page ahead of their viewers (on by default)"),
)


def load_settings(environ: Mapping[str, str] | None = None, **overrides) -> Settings:
    """Build `Settings` from the environment; a malformed value raises `SettingsError` naming the variable."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name, attr, convert, _ in ENVIRONMENT:
        raw = environ.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[attr] = convert(raw)
        except ValueError as exc:
            raise SettingsError(f"{name}={raw!r} is not valid: {exc}") from None
    values.update(overrides)
    return Settings(**values)
