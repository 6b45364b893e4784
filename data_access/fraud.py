"""Figures of the anti-fraud section (反欺诈): leads from trajectory analysis, those that became suspected-fraud
cases, and the amounts involved, over time and by insurer and district."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import case, func, select

from data_access import metrics, peers
from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Filters
from data_access.metrics import share
from data_access.models import FraudLead, Insurer

F = FraudLead.__table__.c
COLUMNS = ["leads", "suspected", "amount_yuan"]


def _where(filters: Filters, whole_city: bool = False) -> list:
    conditions = [F.city_adcode == filters.city, F.local_day >= filters.start, F.local_day <= filters.end]
    if filters.districts and not whole_city:
        conditions.append(F.district_adcode.in_(filters.districts))
    if filters.insurer is not None:
        conditions.append(F.insurer_id == filters.insurer)
    return conditions


def _sums() -> list:
    return [func.count(), func.coalesce(func.sum(case((F.suspected, 1), else_=0)), 0),
            func.coalesce(func.sum(case((F.suspected, F.amount_yuan), else_=0)), 0)]


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("leads", "suspected"):
        frame[column] = frame[column].fillna(0).astype(int)
    frame["amount_yuan"] = frame["amount_yuan"].fillna(0).astype(float).round(2)
    frame["suspected_share"] = share(frame["suspected"], frame["leads"])
    return frame


@cached_query
def fraud_totals(db: Database, filters: Filters) -> dict[str, float]:
    """Leads opened in the window, those suspected, and the amount involved in the suspected ones."""
    with db.reading() as connection:
        leads, suspected, amount = connection.execute(select(*_sums()).where(*_where(filters))).one()
    return {"leads": int(leads), "suspected": int(suspected), "amount_yuan": round(float(amount), 2)}


@cached_query
def fraud_by_month(db: Database, filters: Filters) -> pd.DataFrame:
    with db.reading() as connection:
        rows = connection.execute(select(F.local_day, *_sums()).where(*_where(filters)).group_by(F.local_day)).all()
    return _finish(metrics.per_month(rows_frame(rows, ["day", *COLUMNS]), filters, COLUMNS))


@cached_query
def fraud_by_insurer(db: Database, filters: Filters) -> pd.DataFrame:
    """Per insurer of the city (all of them, most suspected first); an insurer's viewer gets its own row and the
    other insurers as anonymous quartiles (`peers.in_view`)."""
    if not filters.scope.every_insurer:
        return peers.in_view(fraud_by_insurer(db, filters.unscoped()), filters, [*COLUMNS, "suspected_share"])
    with db.reading() as connection:
        rows = connection.execute(select(F.insurer_id, *_sums()).where(*_where(filters)).group_by(F.insurer_id)).all()
        insurers = connection.execute(select(Insurer.id, Insurer.name_zh, Insurer.name_en)
                                      .where(Insurer.city_adcode == filters.city)).all()
    frame = rows_frame(insurers, ["insurer_id", "name_zh", "name_en"]).merge(
        rows_frame(rows, ["insurer_id", *COLUMNS]), on="insurer_id", how="left")
    return _finish(frame).sort_values(["suspected", "leads", "insurer_id"], ascending=[False, False, True],
                                      kind="stable").reset_index(drop=True)


@cached_query
def fraud_by_district(db: Database, filters: Filters) -> pd.DataFrame:
    """Per district of the whole city, so that districts can be compared (and clicked)."""
    with db.reading() as connection:
        rows = connection.execute(select(F.district_adcode, *_sums()).where(*_where(filters, whole_city=True))
                                  .group_by(F.district_adcode)).all()
    frame = metrics.districts_in_view(db, filters)[["district_adcode", "name_zh", "name_en"]].merge(
        rows_frame(rows, ["district_adcode", *COLUMNS]), on="district_adcode", how="left")
    return _finish(frame)


def fraud_leads(db: Database, filters: Filters) -> int:
    return fraud_totals(db, filters)["leads"]


def fraud_suspected(db: Database, filters: Filters) -> int:
    return fraud_totals(db, filters)["suspected"]


def fraud_suspected_share(db: Database, filters: Filters) -> float | None:
    """Suspected-fraud cases ÷ leads."""
    totals = fraud_totals(db, filters)
    return totals["suspected"] / totals["leads"] if totals["leads"] else None


def fraud_amount(db: Database, filters: Filters) -> float:
    return fraud_totals(db, filters)["amount_yuan"]
