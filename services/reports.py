"""Reports printed by the CLI and served by the API from the same functions as the pages."""

from __future__ import annotations

from data_access import metrics
from data_access.db import Database
from data_access.filters import Filters


def kpi_report(db: Database, filters: Filters) -> dict:
    """The overview KPIs as plain data: what `jingbao kpis --format json` and the read API print."""
    overview = metrics.overview_kpis(db, filters)
    return {
        "city": filters.city,
        "districts": list(filters.districts),
        "start": filters.start.isoformat(),
        "end": filters.end.isoformat(),
        "comparison": None if overview.comparison is None else {
            "kind": filters.comparison,
            "start": overview.comparison.start.isoformat(),
            "end": overview.comparison.end.isoformat(),
        },
        "kpis": {
            k.key: {"value": k.value, "unit": k.unit, "previous": k.previous, "change": k.change,
                    "too_small_to_compare": k.too_small}
            for k in overview.kpis
        },
    }
