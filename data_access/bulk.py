"""Fast inserts of many rows from pandas frames: the demo generator and the ingest path write through here.

SQLite gets plain `executemany` on the DBAPI cursor with values already in SQLAlchemy's storage format (ISO text
for dates and times, 0/1 for booleans), which is several times faster than the ORM. PostgreSQL gets COPY through
psycopg 3. Other databases get Core `insert()` executemany in chunks.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

CHUNK_ROWS = 50_000


def _sqlite_text(values: pd.Series) -> list:
    """A column as Python values SQLite stores the way SQLAlchemy would: datetimes and dates as ISO text."""
    if pd.api.types.is_datetime64_any_dtype(values):
        array = values.to_numpy(dtype="datetime64[us]")
        missing = np.isnat(array)
        text = np.datetime_as_string(array, unit="us").astype("S26")
        text.view(np.uint8).reshape(-1, 26)[:, 10] = ord(" ")   # SQLAlchemy writes "YYYY-MM-DD HH:MM:SS.ffffff"
        out = text.astype("U26").astype(object)
        out[missing] = None
        return out.tolist()
    if pd.api.types.is_bool_dtype(values):
        return values.astype(int).tolist()
    if pd.api.types.is_float_dtype(values):
        out = values.astype(object)
        out[values.isna()] = None
        return out.tolist()
    if pd.api.types.is_integer_dtype(values):
        if values.isna().any():   # nullable Int64
            out = values.astype(object)
            out[values.isna()] = None
            return out.tolist()
        return values.astype("int64").tolist()
    out = values.astype(object)
    out[values.isna()] = None
    return [v.isoformat() if hasattr(v, "isoformat") else (getattr(v, "value", v)) for v in out.tolist()]


def _python_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as Python objects the driver adapts: datetimes as datetime, missing values as None."""
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            out = np.array(series.dt.to_pydatetime(), dtype=object)
        else:
            out = series.astype(object).to_numpy(copy=True)
        out[series.isna().to_numpy()] = None
        columns[name] = out
    return pd.DataFrame(columns, dtype=object)


def insert_frame(session: Session, table: Table, frame: pd.DataFrame) -> int:
    """Insert every row of `frame` (columns named like the table's) into `table`; returns the row count."""
    if frame.empty:
        return 0
    unknown = set(frame.columns) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name} has no columns {sorted(unknown)}")
    columns = list(frame.columns)
    if session.bind.dialect.name == "sqlite":
        data = [_sqlite_text(frame[name]) for name in columns]
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' for _ in columns)})")
        cursor = session.connection().connection.driver_connection.cursor()
        rows = list(zip(*data, strict=True))
        for start in range(0, len(rows), CHUNK_ROWS):
            cursor.executemany(sql, rows[start:start + CHUNK_ROWS])
        cursor.close()
        return len(rows)
    values = _python_values(frame)
    if session.bind.dialect.name == "postgresql":
        raw = session.connection().connection.driver_connection      # psycopg 3: COPY, ten times executemany
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in values.itertuples(index=False, name=None):
                copy.write_row(tuple(getattr(v, "value", v) for v in row))
        return len(values)
    records = values.to_dict("records")
    for start in range(0, len(records), CHUNK_ROWS):
        session.execute(insert(table), records[start:start + CHUNK_ROWS])
    return len(records)


def span_where(table: Table, day_column: str, city: str | None, start: dt.date | None, end: dt.date | None) -> list:
    """The WHERE of a table's rows of `city` (all when None) with `day_column` from `start` to `end` (open when
    None): the span a rollup rebuild deletes and reads."""
    where = []
    if city:
        where.append(table.c.city_adcode == city)
    if start:
        where.append(table.c[day_column] >= start)
    if end:
        where.append(table.c[day_column] <= end)
    return where
