"""快赔 Payouts: how fast the insurers pay after a report — stage clocks, shares paid within 15 min / 1 h / 1 day,
payout p90 by district (a click drills in) and the insurers ranked by p90; each chart downloads its data as CSV.

Everything follows the URL (city, window, comparison, districts, insurer, language), as on the overview.
"""

from __future__ import annotations

import dash
import pandas as pd

from base.i18n import t
from components.payout_figures import (
    DISTRICTS_HEIGHT,
    STAGES_HEIGHT,
    WITHIN_HEIGHT,
    districts_figure,
    stages_figure,
    within_figure,
)
from data_access import payouts, registry
from data_access.db import Database
from data_access.filters import Filters
from pages._kit import AnalyticsPage, Chart, build, number_column

dash.register_page(__name__, path="/payouts", title="快赔 · 警保联动", name="payouts", title_key="nav.payouts",
                   order=20)


# ----------------------------------------------------------------------------------------- the rows of each chart
def within_rows(db: Database, filters: Filters) -> pd.DataFrame:
    """The share of paid cases paid within each time of the report: within, seconds, share."""
    shares = payouts.payout_within(db, filters)
    return pd.DataFrame({"within": list(shares), "seconds": [payouts.PAID_WITHIN_S[key] for key in shares],
                         "share": list(shares.values())})


def district_rows(db: Database, filters: Filters) -> pd.DataFrame:
    """Every district's payouts, the longest p90 first (the order of the bars)."""
    frame = payouts.payouts_by_district(db, filters)
    return frame.sort_values("p90", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


def insurer_rows(db: Database, filters: Filters) -> pd.DataFrame:
    """The insurers ranked by payout p90, fastest first; those without a p90 are unranked. An insurer's account sees
    its own rank among all insurers, and its peers as unranked quartile rows."""
    return payouts.insurer_payouts(db, filters)


def insurer_columns(lang: str) -> list[dict]:
    """Column definitions of the insurer grid in `lang`; numbers sort as numbers, a missing value reads —."""
    return [
        number_column("rank", t("payouts.col.rank", lang), "d", width=90, maxWidth=110),
        {"field": "name_zh" if lang == "zh" else "name_en", "headerName": t("payouts.col.insurer", lang),
         "minWidth": 180, "filter": True},
        number_column("paid", t("payouts.col.paid", lang), ",d"),
        number_column("amount_yuan", t("payouts.col.amount", lang), ",.0f"),
        number_column("p50", t("payouts.col.p50", lang), ",.1f"),
        number_column("p90", t("payouts.col.p90", lang), ",.1f", sort="asc"),
        number_column("remote_sla_share", t("payouts.col.sla", lang), ".1%"),
    ]


PAGE = AnalyticsPage(
    name="payouts", path="/payouts", title_key="nav.payouts",
    kpis=registry.PAYOUTS,
    charts=(
        Chart("stages", "payouts.stages.title", payouts.stage_clocks,
              lambda frame, ctx: stages_figure(frame, ctx.lang, ctx.subtitle), height=STAGES_HEIGHT,
              definition_key="payouts.stages.definition"),
        Chart("within", "payouts.within.title", within_rows, within_figure, height=WITHIN_HEIGHT,
              metrics=("payout_within_15m",), definition_key="payouts.within.definition"),
        Chart("districts", "payouts.district.title", district_rows, districts_figure, height=DISTRICTS_HEIGHT,
              drill=True, wide=True, hint_key="drill.hint", metrics=("payout_p90", "payout_p50")),
        Chart("insurers", "payouts.insurers.title", insurer_rows, columns=insurer_columns, wide=True,
              metrics=("paid", "payout_p50", "payout_p90", "remote_sla_share")),
    ),
    has_data=lambda kpis: bool(kpis.get("paid").value),
)

layout = build(PAGE)
