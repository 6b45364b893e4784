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
    """Every district of the city with each overview KPI over the window, equal to what the overview shows for a
    one-district filter (`registry.values`), so the ranks cannot disagree with the pages. The districts the viewer
    may see; `district_ranks` reads the whole city's table to rank them.

    The KPIs come from one grouped pass over each of their inputs (case totals, payout sketches, mediations,
    rescues) taken apart by district, each through the same function as the metric; a KPI of the overview drawn
    from anything else is computed per district through the registry."""
    names = metrics.districts_in_view(db, filters)
    codes = list(names["district_adcode"])
    # every district's own figures, whichever districts the window was narrowed to (the district page ranks one)
    grouped = _grouped_overview(db, filters.with_districts(tuple(codes)), codes) if codes else {}
    rest = tuple(key for key in registry.OVERVIEW if key not in grouped)
    rows = []
    for code in codes:
        values = registry.values(db, filters.with_districts((code,)), rest) if rest else {}
        rows.append({"district_adcode": code,
                     **{key: grouped[key][code] if key in grouped else values[key] for key in registry.OVERVIEW}})
    return names[["district_adcode", "name_zh", "name_en"]].merge(
        pd.DataFrame(rows, columns=["district_adcode", *registry.OVERVIEW]), on="district_adcode")


def _grouped_overview(db: Database, filters: Filters, codes: list[str]) -> dict[str, dict[str, object]]:
    """{KPI key: {district: value}} of the overview KPIs whose inputs can be read for every district at once."""
    totals = metrics.case_totals_by_district(db, filters)
    payout = metrics.latency_histograms_by_district(db, filters, "payout")
    mediations = metrics.mediation_outcomes_by_district(db, filters)
    rescues = metrics.rescue_summary_by_district(db, filters)
    of_totals = {code: totals.get(code) or metrics.no_case_totals() for code in codes}
    of_payout = {code: metrics.latency_stats(*payout.get(code, metrics.no_latency())) for code in codes}
    no_mediation = metrics.mediation_stats(0, 0, 0, 0, 0.0)
    by_key = {
        "alerts": {code: int(t["alerts"]) for code, t in of_totals.items()},
        "handled": {code: int(t["cases"]) for code, t in of_totals.items()},
        "quick": {code: int(t["quick"]) for code, t in of_totals.items()},
        "quick_rate": {code: metrics.totals_share(t, "quick", "alerts") for code, t in of_totals.items()},
        "patrol_share": {code: metrics.totals_share(t, "alerts_by_patrol", "alerts") for code, t in of_totals.items()},
        "remote_liability": {code: int(t["remote_liability"]) for code, t in of_totals.items()},
        "online_share": {code: metrics.totals_share(t, "handled_online", "cases") for code, t in of_totals.items()},
        "payout_p50": {code: stats.p50 for code, stats in of_payout.items()},
        "payout_p90": {code: stats.p90 for code, stats in of_payout.items()},
        "mediation_success_rate": {code: mediations.get(code, no_mediation).success_rate for code in codes},
        "rescues": {code: rescues[code].missions if code in rescues else 0 for code in codes},
    }
    return {key: values for key, values in by_key.items() if key in registry.OVERVIEW}


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
