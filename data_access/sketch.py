"""Log-binned latency histograms that merge by addition and give any percentile within 1% relative error.

A latency of s seconds falls in bin 1 + floor(log_γ s) (γ = 1.02, s ≥ 1), or bin 0 when it is zero (a patrol that
found the accident is on scene at once). A bin is reported by a value inside it whose distance to either edge is at
most (γ−1)/(γ+1) < 1% of the value, so a percentile read from summed histograms is within 1% of the exact one.
"""

from __future__ import annotations

import numpy as np

GAMMA = 1.02
LOG_GAMMA = float(np.log(GAMMA))
MAX_SECONDS = 400 * 86400.0
N_BINS = 2 + int(np.ceil(np.log(MAX_SECONDS) / LOG_GAMMA))


def bin_index(seconds: np.ndarray) -> np.ndarray:
    seconds = np.asarray(seconds, dtype=float)
    idx = np.empty(seconds.shape, dtype=np.int64)
    zero = seconds < 0.5
    clipped = np.clip(seconds, 1.0, MAX_SECONDS)
    idx[:] = 1 + np.floor(np.log(clipped) / LOG_GAMMA).astype(np.int64)
    idx[zero] = 0
    return np.minimum(idx, N_BINS - 1)


def bin_value(index: np.ndarray | int) -> np.ndarray:
    """The value reported for a bin: 2·γ^(k+1)/(1+γ) for [γ^k, γ^(k+1)), 0 for the zero bin."""
    index = np.asarray(index)
    k = index - 1
    value = 2.0 * np.power(GAMMA, k + 1) / (1.0 + GAMMA)
    return np.where(index == 0, 0.0, value)


def histogram(seconds: np.ndarray) -> np.ndarray:
    seconds = np.asarray(seconds, dtype=float)
    seconds = seconds[~np.isnan(seconds)]
    return np.bincount(bin_index(seconds), minlength=N_BINS).astype(np.int64)


def encode(hist: np.ndarray) -> bytes:
    nonzero = np.flatnonzero(hist)
    return encode_sparse(nonzero, hist[nonzero])


def encode_sparse(indices: np.ndarray, counts: np.ndarray) -> bytes:
    """The stored form of a histogram given as its nonzero bins (ascending) and their counts."""
    return np.asarray(indices).astype("<i2").tobytes() + np.asarray(counts).astype("<i4").tobytes()


def decode(blob: bytes) -> np.ndarray:
    n = len(blob) // 6
    idx = np.frombuffer(blob[: 2 * n], dtype="<i2")
    counts = np.frombuffer(blob[2 * n:], dtype="<i4")
    hist = np.zeros(N_BINS, dtype=np.int64)
    np.add.at(hist, idx.astype(np.int64), counts)
    return hist


def decode_many(blobs: list[bytes]) -> np.ndarray:
    """The sum of many stored histograms, in one pass."""
    hist = np.zeros(N_BINS, dtype=np.int64)
    if not blobs:
        return hist
    indices, counts = [], []
    for blob in blobs:
        n = len(blob) // 6
        indices.append(np.frombuffer(blob[: 2 * n], dtype="<i2"))
        counts.append(np.frombuffer(blob[2 * n:], dtype="<i4"))
    return np.bincount(np.concatenate(indices).astype(np.int64), weights=np.concatenate(counts),
                       minlength=N_BINS).astype(np.int64)


def percentile(hist: np.ndarray, q: float) -> float | None:
    """The q-th percentile (0–100) by the inverted-CDF rule, as numpy's method='inverted_cdf'."""
    total = int(hist.sum())
    if total == 0:
        return None
    rank = max(1, int(np.ceil(q / 100.0 * total)))
    index = int(np.searchsorted(np.cumsum(hist), rank))
    return float(bin_value(index))


def share_at_most(hist: np.ndarray, seconds: float) -> float | None:
    """Share of values ≤ `seconds`, counting whole bins whose upper edge is within it (exact at bin edges)."""
    total = int(hist.sum())
    if total == 0:
        return None
    last = int(bin_index(np.array([seconds]))[0])
    return float(hist[: last + 1].sum() / total)
