"""The district drill-down: one district's overview KPIs and its rank among the city's districts for each."""

from __future__ import annotations

import pandas as pd

from data_access import metrics, registry
from data_access.cache import cached_query
from data_access.db import Database
from data_access.filters import Filters
from data_access.scope import OutOfScope


@cached_query
def district_kpi_table(db: Database, filters: Filters) -> pd.DataFrame:
    """Every district of the city with each overview KPI over the window, computed by the same function as the
    overview for a one-district filter (`registry.values`), so the ranks cannot disagree with the pages. The districts
    the viewer may see; `district_ranks` reads the whole city's table to rank them."""
    names = metrics.districts_in_view(db, filters)
    rows = []
    for code in names["district_adcode"]:
        values = registry.values(db, filters.with_districts((code,)), registry.OVERVIEW)
        rows.append({"district_adcode": code, **values})
    return names[["district_adcode", "name_zh", "name_en"]].merge(pd.DataFrame(rows), on="district_adcode")


@cached_query
def district_ranks(db: Database, filters: Filters, district: str) -> pd.DataFrame:
    """For each overview KPI: the district's value, its rank among the districts with a value (1 = best; no rank for
    a KPI that is neither better high nor low, such as rescues), how many districts were ranked, and the median
    district's value. A viewer who sees only some districts gets their rank and the number ranked ("第 3 / 11"), never
    another district's figure: no city median."""
    if not filters.scope.allows_district(district):
        raise OutOfScope("district", district)
    whole_cities = filters.scope.whole_cities
    table = district_kpi_table(db, filters.unscoped()).set_index("district_adcode")
    rows = []
    for key in registry.OVERVIEW:
        values = pd.to_numeric(table[key], errors="coerce").dropna()
        better = registry.METRICS[key].higher_is_better
        ascending = better is False
        ranks = values.rank(ascending=ascending, method="min")
        value = table.at[district, key] if district in table.index else None
        rank = int(ranks[district]) if district in ranks.index and better is not None else None
        rows.append({"kpi": key, "unit": registry.METRICS[key].unit, "value": None if pd.isna(value) else value,
                     "rank": rank, "ranked": int(len(values)),
                     "city_median": float(values.median()) if len(values) and whole_cities else None,
                     "higher_is_better": better})
    return pd.DataFrame(rows)
