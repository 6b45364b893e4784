"""Reports printed by the CLI and served by the API from the same functions as the pages."""

from __future__ import annotations

from data_access import registry
from data_access.db import Database
from data_access.filters import Filters


def kpi_report(db: Database, filters: Filters, keys: tuple[str, ...] = registry.OVERVIEW) -> dict:
    """The overview KPIs (or the metrics `keys`) as plain data: what `jingbao kpis --format json` and the read API
    print; each with its unit and which direction is good, as the registry declares."""
    overview = registry.kpis(db, filters, keys)
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
                    "too_small_to_compare": k.too_small, "matured": k.matured, "immature": k.immature,
                    "higher_is_better": registry.METRICS[k.key].higher_is_better}
            for k in overview.kpis
        },
    }


def metric_catalogue(lang: str = "zh") -> list[dict]:
    """Every metric of the registry as plain data (`GET /api/v1/metrics`, `jingbao metrics`): key, name and definition
    in `lang`, unit, number format, which direction is good, and whether windows are compared."""
    return [{"key": m.key, "label": m.label(lang), "definition": m.definition(lang), "unit": m.unit,
             "number_format": m.number_format, "higher_is_better": m.higher_is_better, "compared": m.compared}
            for m in registry.METRICS.values()]


def administration(limit: int):
    """Every account and the newest `limit` audit entries (newest first), from the running process's database."""
    from data_access import audit
    from services.runtime import get_db

    return audit.administration(get_db(), limit)
