"""Figures of the payouts page (快赔): stage clocks, shares paid within a time, and payouts by insurer and district.

Every figure is composed from the metric functions of `metrics`, so the page, the wall and the API cannot disagree.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
from sqlalchemy import func, select

from data_access import metrics, peers, sketch
from data_access.cache import cached_query
from data_access.db import Database, rows_frame
from data_access.filters import Filters
from data_access.metrics import LatencyStats
from data_access.models import Insurer, InsurerDailyStat

STAGES = ("to_scene", "clearance", "liability", "assessment", "payout")
PAID_WITHIN_S = {"15m": 15 * 60, "1h": 3600, "1d": 86400}
STAT_COLUMNS = ["count", "p50", "p90", "p99", "fastest"]


def _stage_stats(db: Database, filters: Filters, stage: str) -> LatencyStats:
    if stage == "to_scene":
        return metrics.time_to_scene(db, filters)
    if stage == "clearance":
        return metrics.clearance_time(db, filters)
    if stage == "liability":
        return metrics.liability_latency(db, filters)
    if stage == "assessment":
        return metrics.damage_assessment_latency(db, filters)
    return metrics.payout_latency_percentiles(db, filters)


@cached_query
def stage_clocks(db: Database, filters: Filters) -> pd.DataFrame:
    """Each stage's clock in minutes, as p50 / p90 / p99 / fastest and the number of cases that reached it:
    to_scene (on scene − report), clearance (cleared − on scene), liability (liability − report),
    assessment (damage assessed − report), payout (paid − report)."""
    rows = []
    for stage in STAGES:
        stats = _stage_stats(db, filters, stage)
        rows.append((stage, stats.count, stats.p50, stats.p90, stats.p99, stats.fastest))
    frame = pd.DataFrame.from_records(rows, columns=["stage", *STAT_COLUMNS])
    frame["count"] = frame["count"].astype(int)
    return frame


@cached_query
def payout_within(db: Database, filters: Filters) -> dict[str, float | None]:
    """Share of the paid cases of the window paid within 15 minutes, 1 hour and 1 day of the report
    (keys 15m, 1h, 1d; None when nothing was paid), read from the payout latency histogram."""
    hist, _ = metrics.latency_histogram(db, filters, "payout")
    return {key: sketch.share_at_most(hist, seconds) for key, seconds in PAID_WITHIN_S.items()}


def paid_within_15_minutes(db: Database, filters: Filters) -> float | None:
    """Share of the paid cases of the window paid within 15 minutes of the report (the headline SLA)."""
    return payout_within(db, filters)["15m"]


@cached_query
def insurers_on_platform(db: Database, filters: Filters) -> int:
    """Active insurers of the city connected to the 12123 quick-handling platform now."""
    with db.reading() as connection:
        return int(connection.execute(
            select(func.count()).where(Insurer.city_adcode == filters.city, Insurer.on_platform, Insurer.active)
        ).scalar() or 0)


@cached_query
def insurer_payouts(db: Database, filters: Filters) -> pd.DataFrame:
    """One row per insurer of the city: cases paid and amount paid (yuan) in the window, payout latency p50 / p90
    (minutes, paid − report) and the remote-liability SLA share (≤ 5 min); ranked by p90, fastest first (`rank`),
    insurers without payouts last and unranked. The district filter applies; an insurer filter in `filters` is
    replaced by each insurer.

    Every insurer at once from the per-insurer rollups instead of one query per insurer: the counts grouped by insurer
    from the day rollup, the percentiles from `metrics.latency_histograms_by_insurer`, so each row equals the metric
    functions for that insurer. An insurer's viewer gets its own row and the other insurers as anonymous quartiles
    (`peers.in_view`)."""
    if not filters.scope.every_insurer:
        frame = insurer_payouts(db, filters.unscoped())
        return peers.in_view(frame, filters, ["paid", "amount_yuan", "p50", "p90", "remote_sla_share"]).sort_values(
            ["p90", "code"], na_position="last", kind="stable").reset_index(drop=True)
    everyone = replace(filters, insurer=None)
    table = InsurerDailyStat.__table__
    with db.reading() as connection:
        rows = connection.execute(
            select(Insurer.id, Insurer.code, Insurer.name_zh, Insurer.name_en)
            .where(Insurer.city_adcode == filters.city).order_by(Insurer.code, Insurer.id)
        ).all()
        sums = connection.execute(
            select(table.c.insurer_id, *[func.sum(table.c[name]) for name in
                                         ("paid", "paid_amount_yuan", "remote_liability", "remote_liability_in_sla")])
            .where(metrics.stat_where(everyone, table)).group_by(table.c.insurer_id)
        ).all()
    histograms = metrics.latency_histograms_by_insurer(db, everyone, "payout")
    insurers = rows_frame(rows, ["insurer_id", "code", "name_zh", "name_en"])
    totals = rows_frame(sums, ["insurer_id", "paid", "amount_yuan", "remote", "remote_in_sla"])
    frame = insurers.merge(totals, on="insurer_id", how="left")
    frame["paid"] = frame["paid"].fillna(0).astype(int)
    frame["amount_yuan"] = frame["amount_yuan"].fillna(0.0).astype(float).round(2)
    frame["remote_sla_share"] = metrics.share(frame["remote_in_sla"].fillna(0), frame["remote"].fillna(0))
    empty = (None, None)
    percentiles = {insurer: tuple(metrics.percentile_minutes(hist, q) for q in (50, 90))
                   for insurer, (hist, _) in histograms.items()}
    frame["p50"] = [percentiles.get(i, empty)[0] for i in frame["insurer_id"]]
    frame["p90"] = [percentiles.get(i, empty)[1] for i in frame["insurer_id"]]
    frame = frame[["insurer_id", "code", "name_zh", "name_en", "paid", "amount_yuan", "p50", "p90",
                   "remote_sla_share"]]
    for column in ("p50", "p90", "remote_sla_share"):
        frame[column] = frame[column].astype(float)
    frame = frame.sort_values(["p90", "code"], na_position="last", kind="stable").reset_index(drop=True)
    ranked = frame["p90"].notna()
    frame.insert(0, "rank", pd.Series(range(1, len(frame) + 1), index=frame.index).where(ranked).astype("Int64"))
    return frame


@cached_query
def payouts_by_district(db: Database, filters: Filters) -> pd.DataFrame:
    """One row per district of the whole city (the district filter is ignored so districts can be compared; an
    insurer filter applies): cases paid and amount paid (yuan) in the window, payout latency p50 / p90 (minutes).

    Every district at once — the counts grouped by district from the day rollup, the percentiles from
    `metrics.latency_histograms_by_district` — so each row equals the metric functions for that district alone."""
    whole_city = filters.whole_city()
    table = metrics.stat_table(whole_city)
    with db.reading() as connection:
        sums = connection.execute(
            select(table.c.district_adcode, func.sum(table.c.paid), func.sum(table.c.paid_amount_yuan))
            .where(metrics.stat_where(whole_city, table)).group_by(table.c.district_adcode)
        ).all()
    histograms = metrics.latency_histograms_by_district(db, whole_city, "payout")
    totals = rows_frame(sums, ["district_adcode", "paid", "amount_yuan"])
    frame = metrics.districts_in_view(db, filters)[["district_adcode", "name_zh", "name_en"]].merge(
        totals, on="district_adcode", how="left")
    frame["paid"] = frame["paid"].fillna(0).astype(int)
    frame["amount_yuan"] = frame["amount_yuan"].fillna(0.0).astype(float).round(2)
    percentiles = {district: tuple(metrics.percentile_minutes(hist, q) for q in (50, 90))
                   for district, (hist, _) in histograms.items()}
    for i, column in enumerate(("p50", "p90")):
        frame[column] = [percentiles.get(code, (None, None))[i] for code in frame["district_adcode"]]
        frame[column] = frame[column].astype(float)
    return frame
