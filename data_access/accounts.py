"""Accounts that sign in, their scope, and their long-lived tokens (wall kiosk links, API read tokens).

Passwords are hashed with argon2; tokens are stored as SHA-256 only and shown once. A password reset or disabling
raises the account's `session_epoch`, which ends its open sessions (the session cookie carries the epoch it was
issued under)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from data_access.db import Database
from data_access.models import Account, AccountToken, City, District, Insurer
from data_access.scope import ROLES, Scope
from data_access.timeutil import utcnow

NAME_PATTERN = re.compile(r"[\w.@-]{1,64}")
MIN_PASSWORD = 10
MAX_PASSWORD = 200
TOKEN_KINDS = ("kiosk", "read")
TOKEN_PREFIX = {"kiosk": "jbk_", "read": "jbr_"}
CITY_ROLES = ("district", "wall")          # roles that must name one city
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A request about accounts that cannot be done, with the reason in plain words."""


@dataclass(frozen=True)
class AccountInfo:
    id: int
    name: str
    role: str
    city: str | None
    districts: tuple[str, ...]
    insurer_code: str
    session_epoch: int
    disabled: bool
    has_password: bool

    def describe_scope(self) -> str:
        parts = [self.city or "every city"]
        if self.districts:
            parts.append("districts " + ",".join(self.districts))
        if self.insurer_code:
            parts.append("insurer " + self.insurer_code)
        return " · ".join(parts)


def _info(row: Account) -> AccountInfo:
    return AccountInfo(row.id, row.name, row.role, row.city_adcode,
                       tuple(code for code in (row.districts or "").split(",") if code), row.insurer_code or "",
                       row.session_epoch, row.disabled_at is not None, row.password_hash is not None)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_password_rules(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")


def create_account(db: Database, name: str, role: str, *, city: str | None = None,
                   districts: tuple[str, ...] = (), insurer: str = "", password: str | None = None) -> AccountInfo:
    """A new account; every part of its scope is checked against the database (the city, that the districts lie in
    it, that the insurer is registered there)."""
    name = name.strip()
    if not NAME_PATTERN.fullmatch(name):
        raise AccountError("a name of 1 to 64 letters, digits or . _ @ - is needed")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if password is not None:
        check_password_rules(password)
    districts = tuple(sorted({code.strip() for code in districts if code.strip()}))
    insurer = insurer.strip()
    if role in CITY_ROLES and not city:
        raise AccountError(f"a {role} account needs --city")
    if role == "district" and not districts:
        raise AccountError("a district account needs --districts")
    if districts and role != "district":
        raise AccountError("only a district account has --districts")
    if role == "insurer" and not insurer:
        raise AccountError("an insurer account needs --insurer")
    if insurer and role != "insurer":
        raise AccountError("only an insurer account has --insurer")
    with db.transaction() as session:
        if session.execute(select(Account.id).where(Account.name == name)).first():
            raise AccountError(f"an account named {name} exists already")
        if city and session.get(City, city) is None:
            raise AccountError(f"no city {city} in the database")
        if districts:
            known = set(session.execute(select(District.adcode).where(District.city_adcode == city)).scalars())
            unknown = [code for code in districts if code not in known]
            if unknown:
                raise AccountError(f"district {unknown[0]} is not a district of {city}")
        if insurer:
            found = select(Insurer.id).where(Insurer.code == insurer, Insurer.active)
            if city:
                found = found.where(Insurer.city_adcode == city)
            if not session.execute(found).first():
                raise AccountError(f"no active insurer {insurer} registered" + (f" in {city}" if city else ""))
        row = Account(name=name, role=role, city_adcode=city or None, districts=",".join(districts),
                      insurer_code=insurer, password_hash=_hasher.hash(password) if password else None,
                      session_epoch=0, created_at=utcnow())
        session.add(row)
        session.flush()
        return _info(row)


def find_account(db: Database, name: str) -> AccountInfo | None:
    with db.session() as session:
        row = session.execute(select(Account).where(Account.name == name[:64])).scalar_one_or_none()
        return _info(row) if row else None


def get_account(db: Database, account_id: int) -> AccountInfo | None:
    with db.session() as session:
        row = session.get(Account, account_id)
        return _info(row) if row else None


def list_accounts(db: Database) -> list[AccountInfo]:
    with db.session() as session:
        return [_info(row) for row in session.execute(select(Account).order_by(Account.name)).scalars()]


def verify_password(db: Database, name: str, password: str) -> AccountInfo | None:
    """The account when `name` and `password` match an enabled account, else None. The same work is done for an
    unknown name, so the answer's timing does not tell which names exist."""
    with db.session() as session:
        row = session.execute(select(Account).where(Account.name == name[:64])).scalar_one_or_none()
        stored = row.password_hash if row is not None and row.password_hash else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    if row is None or stored is None or row.disabled_at is not None:
        return None
    return _info(row)


_DUMMY_HASH = _hasher.hash("not a password of anyone")


def _change(db: Database, name: str, **values) -> AccountInfo:
    with db.transaction() as session:
        row = session.execute(select(Account).where(Account.name == name)).scalar_one_or_none()
        if row is None:
            raise AccountError(f"no account named {name[:64]}")
        for key, value in values.items():
            setattr(row, key, value)
        row.session_epoch += 1
        session.flush()
        return _info(row)


def set_password(db: Database, name: str, password: str) -> AccountInfo:
    check_password_rules(password)
    return _change(db, name, password_hash=_hasher.hash(password))


def disable_account(db: Database, name: str) -> AccountInfo:
    """Disable an account: its sessions end and its tokens stop working; its history stays."""
    info = _change(db, name, disabled_at=utcnow())
    revoke_tokens(db, name)
    return info


def enable_account(db: Database, name: str) -> AccountInfo:
    return _change(db, name, disabled_at=None)


def scope_of(db: Database, account: AccountInfo) -> Scope:
    """The scope an account's every view is bounded by, with its insurer resolved to the insurer's id in each city."""
    cities: tuple[str, ...] = (account.city,) if account.city else ()
    insurers: tuple[tuple[str, int], ...] = ()
    if account.insurer_code:
        with db.session() as session:
            found = select(Insurer.city_adcode, Insurer.id).where(Insurer.code == account.insurer_code)
            if account.city:
                found = found.where(Insurer.city_adcode == account.city)
            insurers = tuple(sorted((city, insurer) for city, insurer in session.execute(found).all()))
        if not cities:
            cities = tuple(city for city, _ in insurers)
        if not insurers:   # the insurer is gone from the register: the account sees nothing rather than everything
            cities = ("-",)
            insurers = (("-", -1),)
    return Scope(role=account.role, user=account.name, cities=cities, districts=account.districts,
                 insurers=insurers, insurer_code=account.insurer_code)


# ---------------------------------------------------------------------------------------------- account tokens
def create_token(db: Database, name: str, kind: str) -> str:
    """A new token of `kind` for the account `name`; the only time the token itself is seen."""
    if kind not in TOKEN_KINDS:
        raise AccountError(f"token kind must be one of {', '.join(TOKEN_KINDS)}")
    account = find_account(db, name)
    if account is None:
        raise AccountError(f"no account named {name[:64]}")
    if account.disabled:
        raise AccountError(f"account {name} is disabled")
    if kind == "kiosk" and account.role != "wall":
        raise AccountError("kiosk links are for wall accounts")
    token = TOKEN_PREFIX[kind] + secrets.token_urlsafe(32)
    with db.transaction() as session:
        session.add(AccountToken(account_id=account.id, kind=kind, token_sha256=_digest(token), created_at=utcnow()))
    return token


def revoke_tokens(db: Database, name: str, kind: str | None = None) -> int:
    """Revoke every live token (of `kind`, or all) of the account `name`; returns how many."""
    account = find_account(db, name)
    if account is None:
        raise AccountError(f"no account named {name[:64]}")
    with db.transaction() as session:
        statement = update(AccountToken).where(AccountToken.account_id == account.id,
                                               AccountToken.revoked_at.is_(None))
        if kind:
            statement = statement.where(AccountToken.kind == kind)
        return session.execute(statement.values(revoked_at=utcnow())).rowcount or 0


class TokenRefused(Exception):
    """Why an account token is not accepted: `status` 401 (unknown) or 403 (revoked, disabled)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def account_of_token(db: Database, token: str, kind: str) -> AccountInfo:
    """The account a token of `kind` belongs to, or TokenRefused."""
    token = (token or "").strip()
    if not token.startswith(TOKEN_PREFIX[kind]) or len(token) > 100:
        raise TokenRefused(401, f"not a {kind} token")
    digest = _digest(token)
    with db.session() as session:
        found = session.execute(select(AccountToken).where(AccountToken.token_sha256 == digest,
                                                           AccountToken.kind == kind)).scalar_one_or_none()
        row = session.get(Account, found.account_id) if found is not None else None
    if found is None or row is None or not hmac.compare_digest(found.token_sha256, digest):
        raise TokenRefused(401, f"unknown {kind} token")
    if found.revoked_at is not None:
        raise TokenRefused(403, f"this {kind} token was revoked")
    if row.disabled_at is not None:
        raise TokenRefused(403, "this account is disabled")
    return _info(row)


def token_id_of(db: Database, token: str) -> int | None:
    with db.session() as session:
        return session.execute(select(AccountToken.id).where(
            AccountToken.token_sha256 == _digest((token or "").strip()))).scalar_one_or_none()


def token_is_live(db: Database, token_id: int, account_id: int) -> bool:
    """Whether the token `token_id` of `account_id` is still unrevoked (a kiosk screen's session ends with it)."""
    with db.session() as session:
        found = session.get(AccountToken, token_id)
        return found is not None and found.account_id == account_id and found.revoked_at is None
