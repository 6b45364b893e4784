"""Insurers compete with each other: an insurer's viewer sees its own row of a ranking and its peers only as
anonymous quartiles (25th percentile, median, 75th percentile of the other insurers), never another insurer's name
or figure."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Filters
from data_access.models import Insurer

PEER_ROWS = (
    ("peers_p25", 0.25, "同业 25 分位", "Peers · 25th percentile"),
    ("peers_median", 0.50, "同业中位数", "Peers · median"),
    ("peers_p75", 0.75, "同业 75 分位", "Peers · 75th percentile"),
)


def in_view(frame: pd.DataFrame, filters: Filters, figures: list[str]) -> pd.DataFrame:
    """`frame` (one row per insurer, with `insurer_id`, `code`, `name_zh`, `name_en` and the numeric `figures`,
    computed for every insurer) as the viewer of `filters` may see it: unchanged for a viewer of every insurer; for
    an insurer's viewer its own row and three peer rows whose figures are quartiles of the other insurers' (rows
    without a figure are left out of its quartile)."""
    if filters.scope.every_insurer:
        return frame
    own = frame[frame["insurer_id"] == filters.insurer]
    others = frame[frame["insurer_id"] != filters.insurer]
    peers = []
    for code, q, name_zh, name_en in PEER_ROWS:
        row = {column: None for column in frame.columns}
        row.update(insurer_id=None, code=code, name_zh=name_zh, name_en=name_en)
        for column in figures:
            values = pd.to_numeric(others[column], errors="coerce").dropna()
            row[column] = float(values.quantile(q)) if len(values) else None
        peers.append(row)
    out = pd.concat([own, pd.DataFrame(peers, columns=frame.columns)], ignore_index=True)
    for column in figures:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    return out


@cached_query
def insurer_names(db: Database, city: str) -> dict[int, tuple[str, str]]:
    """The insurers registered in `city`: id -> (Chinese name, English name)."""
    with db.reading() as connection:
        rows = connection.execute(select(Insurer.id, Insurer.name_zh, Insurer.name_en)
                                  .where(Insurer.city_adcode == city)).all()
    frame = rows_frame(rows, ["insurer_id", "name_zh", "name_en"])
    return {int(i): (zh, en) for i, zh, en in frame.itertuples(index=False)}
