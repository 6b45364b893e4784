"""Demo accounts of every role, created at the first start of a demo database so that a newcomer can sign in as
each kind of user. Their passwords are random per installation and kept beside the database (readable by its owner
only); the terminal and, in demo mode only, the login page show them."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from data_access import accounts
from data_access.db import Database
from data_access.models import District, Insurer

FILE_NAME = "demo_accounts.json"
ZHANGZHOU = "350600"


@dataclass(frozen=True)
class DemoAccount:
    name: str
    role: str
    password: str


def _plan(db: Database) -> list[dict]:
    """The demo accounts this database can hold: Zhangzhou's two main-urban districts for the district account, the
    first insurer registered in Zhangzhou for the insurer account."""
    with db.session() as session:
        districts = session.execute(select(District.adcode).where(District.city_adcode == ZHANGZHOU,
                                                                  District.main_urban)
                                    .order_by(District.adcode).limit(2)).scalars().all()
        insurer = session.execute(select(Insurer.code).where(Insurer.city_adcode == ZHANGZHOU)
                                  .order_by(Insurer.code).limit(1)).scalar_one_or_none()
    plan = [dict(name="demo-leader", role="leader"), dict(name="demo-planner", role="planner"),
            dict(name="demo-admin", role="admin")]
    if districts:
        plan.append(dict(name="demo-district", role="district", city=ZHANGZHOU, districts=tuple(districts)))
        plan.append(dict(name="demo-wall", role="wall", city=ZHANGZHOU))
    if insurer:
        plan.append(dict(name="demo-insurer", role="insurer", insurer=insurer))
    order = {role: i for i, role in enumerate(("leader", "district", "insurer", "planner", "wall", "admin"))}
    return sorted(plan, key=lambda entry: order[entry["role"]])


def ensure_demo_accounts(db: Database, folder: Path) -> tuple[list[DemoAccount], str | None]:
    """Create the missing demo accounts (and a kiosk link of the demo wall); returns every demo account with its
    password and the wall's kiosk token. A demo account whose password is not on file gets a new one."""
    path = folder / FILE_NAME
    known: dict = {}
    if path.exists():
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
    passwords: dict[str, str] = dict(known.get("passwords", {}))
    kiosk = known.get("kiosk")
    result = []
    for entry in _plan(db):
        name = entry["name"]
        existing = accounts.find_account(db, name)
        password = passwords.get(name)
        if existing is None:
            password = password or secrets.token_urlsafe(9)
            accounts.create_account(db, password=password, **entry)
        elif password is None:
            password = secrets.token_urlsafe(9)
            accounts.set_password(db, name, password)
        passwords[name] = password
        result.append(DemoAccount(name, entry["role"], password))
    wall = accounts.find_account(db, "demo-wall")
    if wall is not None and (not kiosk or accounts.token_id_of(db, kiosk) is None
                             or not accounts.token_is_live(db, accounts.token_id_of(db, kiosk), wall.id)):
        kiosk = accounts.create_token(db, "demo-wall", "kiosk")
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"passwords": passwords, "kiosk": kiosk}, indent=1), encoding="utf-8")
    path.chmod(0o600)
    return result, kiosk
