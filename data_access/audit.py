"""The append-only audit log: sign-ins (success and failure, with the address), sign-outs, exports (who, what, with
which filters), account and token changes, imports. The database refuses UPDATE and DELETE on the table."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select

from data_access.db import Database
from data_access.models import AuditEvent
from data_access.timeutil import utcnow

EVENTS = ("sign_in", "sign_in_failed", "sign_out", "kiosk_sign_in", "export", "account_created", "account_changed",
          "token_created", "token_revoked", "import", "city_added")
MAX_DETAIL = 2000


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    account: str
    event: str
    address: str
    detail: dict

    def as_dict(self) -> dict:
        return {"at": self.at.isoformat() + "Z", "account": self.account, "event": self.event,
                "address": self.address, "detail": self.detail}


def record(db: Database, event: str, account: str, address: str = "", **detail) -> None:
    """Append one event. Text from a request is cut to a bounded length; the detail is stored as JSON."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    text = json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)
    if len(text) > MAX_DETAIL:
        text = json.dumps({"truncated": text[:MAX_DETAIL]}, ensure_ascii=False)
    # Not `db.transaction()`: an audit line is no new data, and bumping the data version on every sign-in or feed
    # request would empty every query cache. The administration page reads the log uncached.
    with db.sessions.begin() as session:
        session.add(AuditEvent(at=utcnow(), account=(account or "-")[:64], event=event, address=(address or "")[:64],
                               detail=text))


def entries(db: Database, since: dt.datetime | None = None, account: str | None = None,
            limit: int = 10_000) -> list[AuditEntry]:
    """The newest `limit` events (since `since`, of `account`), oldest first."""
    statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if since is not None:
        statement = statement.where(AuditEvent.at >= since)
    if account:
        statement = statement.where(AuditEvent.account == account)
    with db.session() as session:
        rows = session.execute(statement).scalars().all()
    return [AuditEntry(row.at, row.account, row.event, row.address, json.loads(row.detail or "{}"))
            for row in reversed(rows)]


def administration(db: Database, limit: int) -> tuple[list, list[AuditEntry]]:
    """What the administration page lists: every account, and the newest `limit` audit entries, newest first.
    A database that does not answer raises DatabaseUnavailable, as every other read does."""
    from sqlalchemy.exc import SQLAlchemyError

    from data_access.accounts import list_accounts
    from data_access.db import DatabaseUnavailable

    try:
        return list_accounts(db), list(reversed(entries(db, limit=limit)))
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc
