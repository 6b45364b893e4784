"""Who is looking: the signed-in account (or kiosk screen) of the current request, the pages its role may open,
and the scope every one of its queries is bounded by.

`dashboard.signin` signs people in and out; everything that reads data asks `current_viewer()` here, so a page, a
callback, a download and an API read all see the same account and the same scope."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, g, has_request_context
from flask_login import current_user

from data_access.accounts import AccountInfo
from data_access.scope import EVERYTHING, Scope

EVERY_PAGE = "*"
# The pages each role may open, by path ("/district" stands for every /district/<adcode>).
ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "leader": (EVERY_PAGE,),
    "district": ("/", "/throughput", "/teams", "/payouts", "/fraud", "/mediation", "/rescue", "/stations",
                 "/briefing", "/district"),
    "insurer": ("/payouts", "/fraud", "/mediation"),
    "planner": ("/coverage", "/map"),
    "wall": ("/wall",),
    "admin": ("/admin", "/onboarding"),
}
ADMIN_PAGES = ("/admin",)
HOME = {"leader": "/", "district": "/", "insurer": "/payouts", "planner": "/coverage", "wall": "/wall",
        "admin": "/admin"}


@dataclass(frozen=True)
class Viewer:
    """The account behind a request, as Flask-Login's user object. `kiosk` marks a wall screen signed in by its
    kiosk link; `open_access` a dashboard served with JINGBAO_AUTH=none (every page then says so in red)."""

    account: AccountInfo | None
    scope: Scope
    kiosk: bool = False
    open_access: bool = False
    token_id: int | None = None
    extra: dict = field(default_factory=dict, compare=False)

    # Flask-Login's user protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """"<account>:<epoch>", with ":k<token>" for a kiosk screen: what the session cookie keeps."""
        if self.account is None:
            return "open"
        kiosk = f":k{self.token_id}" if self.kiosk and self.token_id is not None else ""
        return f"{self.account.id}:{self.account.session_epoch}{kiosk}"

    @property
    def name(self) -> str:
        return self.account.name if self.account else "-"

    @property
    def role(self) -> str:
        return self.account.role if self.account else "leader"

    def may_open(self, path: str) -> bool:
        """Whether this viewer's role may open the page at `path`."""
        path = (path or "/").rstrip("/") or "/"
        if path.startswith("/district/"):
            path = "/district"
        allowed = ROLE_PAGES.get(self.role, ())
        if EVERY_PAGE in allowed:
            return path not in ADMIN_PAGES
        return path in allowed

    @property
    def home(self) -> str:
        return HOME.get(self.role, "/")


OPEN_VIEWER = Viewer(None, EVERYTHING, open_access=True)


def current_viewer() -> Viewer | None:
    """The viewer of the current request, or None when nobody is signed in. Outside a request (the command line,
    background jobs) there is no viewer. With JINGBAO_AUTH=none every request is the open viewer."""
    if not has_request_context():
        return None
    viewer = g.get("jingbao_viewer")
    if viewer is not None:
        return viewer
    settings = current_app.config.get("JINGBAO_SETTINGS")
    if settings is not None and settings.auth == "none":
        return OPEN_VIEWER
    user = current_user._get_current_object() if current_app.config.get("JINGBAO_SIGN_IN") else None
    return user if isinstance(user, Viewer) else None


def current_scope() -> Scope | None:
    viewer = current_viewer()
    return viewer.scope if viewer is not None else None


def record_export(db, kind: str, what: str, filters, **detail) -> None:
    """Write an export (CSV, GeoJSON, PDF, PNG) to the audit log: who, what, with which filters."""
    from flask import request

    from data_access import audit

    viewer = current_viewer()
    place = {"city": filters.city, "districts": list(filters.districts), "start": filters.start.isoformat(),
             "end": filters.end.isoformat(), "insurer": filters.insurer} if filters is not None else {}
    audit.record(db, "export", viewer.name if viewer else "-", (request.remote_addr or "") if has_request_context()
                 else "", kind=kind, what=what, **place, **detail)
