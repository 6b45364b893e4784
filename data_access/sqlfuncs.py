"""Portable SQL expressions that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from sqlalchemy import Date, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement):  # noqa: N801 — reads like the SQL function it stands for
    """`later - earlier` in seconds as a float; NULL when either side is NULL."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"

    def __init__(self, later: ColumnElement, earlier: ColumnElement) -> None:
        super().__init__(later, earlier)


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw) -> str:
    later, earlier = list(element.clauses)
    return (f"((julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)}))"
            " * 86400.0)")


@compiles(seconds_between)
def _seconds_between_default(element, compiler, **kw) -> str:
    later, earlier = list(element.clauses)
    # float8: EXTRACT gives numeric, which the driver hands over as Decimal objects, slow to convert by the million
    return f"CAST(EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})) AS FLOAT8)"


class month_of(FunctionElement):  # noqa: N801 — reads like the SQL function it stands for
    """The first day of a date's calendar month, as a date."""

    type = Date()
    inherit_cache = True
    name = "month_of"

    def __init__(self, day: ColumnElement) -> None:
        super().__init__(day)


@compiles(month_of, "sqlite")
def _month_of_sqlite(element, compiler, **kw) -> str:
    (day,) = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, 'start of month')"


@compiles(month_of)
def _month_of_default(element, compiler, **kw) -> str:
    (day,) = list(element.clauses)
    return f"CAST(date_trunc('month', {compiler.process(day, **kw)}) AS DATE)"
