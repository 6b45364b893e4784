"""Bearer tokens of the data sources: created once (shown once), stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from data_access.db import Database
from data_access.models import ApiToken, Insurer
from data_access.timeutil import utcnow

PREFIX = "jb_"


class TokenRejected(Exception):
    """Why a request's credentials are not accepted; `status` is 401 (who are you?) or 403 (not any more)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class TokenInfo:
    id: int
    source: str
    revoked: bool
    insurer_code: str = ""
    admin: bool = False


@dataclass(frozen=True)
class Caller:
    """Who an ingest request comes from: its source, the one insurer whose rows it may write ("" for any), and
    whether it may write reference data (insurers, stations, grids, units, duty periods)."""

    source: str
    insurer_code: str = ""
    admin: bool = False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: Database, source: str, insurer: str = "", admin: bool = False) -> str:
    """A new token for `source`; the only time the token itself is seen. With `insurer` (an active registered
    insurer's code) the token writes only that insurer's rows; an `admin` token also writes reference data."""
    source = source.strip()
    insurer = insurer.strip()
    if not source or len(source) > 40:
        raise ValueError("a source name of 1 to 40 characters is needed")
    if admin and insurer:
        raise ValueError("an admin token writes every insurer's rows: give --admin or --insurer, not both")
    token = PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as session:
        if insurer and not session.execute(select(Insurer.id).where(Insurer.code == insurer, Insurer.active)).first():
            raise ValueError(f"no active insurer {insurer[:24]} is registered")
        session.add(ApiToken(source=source, token_sha256=_digest(token), created_at=utcnow(), insurer_code=insurer,
                             admin=admin))
    return token


def revoke_tokens(db: Database, source: str) -> int:
    """Revoke every live token of `source`; returns how many."""
    with db.transaction() as session:
        result = session.execute(update(ApiToken).where(ApiToken.source == source, ApiToken.revoked_at.is_(None))
                                 .values(revoked_at=utcnow()))
        return result.rowcount or 0


def list_tokens(db: Database) -> list[TokenInfo]:
    with db.session() as session:
        rows = session.execute(select(ApiToken).order_by(ApiToken.source, ApiToken.id)).scalars().all()
    return [TokenInfo(t.id, t.source, t.revoked_at is not None, t.insurer_code or "", bool(t.admin)) for t in rows]


def authenticate(db: Database, authorization: str | None) -> Caller:
    """The source (and insurer) a request's `Authorization: Bearer …` header belongs to, or TokenRejected."""
    if not authorization:
        raise TokenRejected(401, "missing Authorization: Bearer <token>")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected(401, "use Authorization: Bearer <token>")
    digest = _digest(token.strip())
    with db.session() as session:
        found = session.execute(select(ApiToken).where(ApiToken.token_sha256 == digest)).scalar_one_or_none()
    if found is None or not hmac.compare_digest(found.token_sha256, digest):
        raise TokenRejected(401, "unknown token")
    if found.revoked_at is not None:
        raise TokenRejected(403, f"this token of {found.source} was revoked")
    return Caller(found.source, found.insurer_code or "", bool(found.admin))
