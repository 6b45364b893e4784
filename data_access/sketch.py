"""Log-binned latency histograms that merge by addition and give any percentile within 0.4% relative error.

A latency of s seconds falls in bin 1 + floor(log_γ s) (γ = 1.008, s ≥ 1), or bin 0 when it is zero (a patrol that
found the accident is on scene at once). A percentile is read by the inverted-CDF rule (numpy's
method='inverted_cdf', the definition of every exact percentile in this project): the bin holding the value of rank
⌈q·n⌉ is found exactly, and that bin is reported by a value whose distance to either of its edges is at most
(γ−1)/(γ+1) < 0.4% of the value, so a percentile read from summed histograms is within 0.4% of the exact one.

Stored sketches (the rollups' `bins` column) carry their format: a leading int16 of −FORMAT, then the nonzero bins'
int16 indices and their int32 counts. A blob without it is of the first format (γ = 1.02, no header); `decode`
still reads one by moving each old bin's value into the current bins (within the old 1%, never misread), and
`is_current` tells a migration or a start-up check that the rollups holding it must be rebuilt.
"""

from __future__ import annotations

import numpy as np

GAMMA = 1.008
LOG_GAMMA = float(np.log(GAMMA))
MAX_SECONDS = 400 * 86400.0
N_BINS = 2 + int(np.ceil(np.log(MAX_SECONDS) / LOG_GAMMA))
# The bound on the relative error of a percentile (and of any value reported for its bin).
RELATIVE_ERROR = (GAMMA - 1.0) / (GAMMA + 1.0)
FORMAT = 2
_HEADER = np.array([-FORMAT], dtype="<i2").tobytes()
_INDEX_MAX = np.iinfo(np.int16).max
assert N_BINS <= _INDEX_MAX, "bin indexes are stored as int16"

# The first stored format: no header, γ = 1.02.
LEGACY_GAMMA = 1.02
LEGACY_N_BINS = 2 + int(np.ceil(np.log(MAX_SECONDS) / np.log(LEGACY_GAMMA)))


def bin_index(seconds: np.ndarray) -> np.ndarray:
    seconds = np.asarray(seconds, dtype=float)
    idx = np.empty(seconds.shape, dtype=np.int64)
    zero = seconds < 0.5
    clipped = np.clip(seconds, 1.0, MAX_SECONDS)
    idx[:] = 1 + np.floor(np.log(clipped) / LOG_GAMMA).astype(np.int64)
    idx[zero] = 0
    return np.minimum(idx, N_BINS - 1)


def _reported(index: np.ndarray | int, gamma: float) -> np.ndarray:
    index = np.asarray(index)
    value = 2.0 * np.power(gamma, index) / (1.0 + gamma)
    return np.where(index == 0, 0.0, value)


def bin_value(index: np.ndarray | int) -> np.ndarray:
    """The value reported for a bin: 2·γ^(k+1)/(1+γ) for [γ^k, γ^(k+1)) (bin k + 1), 0 for the zero bin."""
    return _reported(index, GAMMA)


# Where each bin of the first format lands in the current bins: the bin of the value that format reported for it.
_LEGACY_TO_CURRENT = bin_index(_reported(np.arange(LEGACY_N_BINS), LEGACY_GAMMA))


def histogram(seconds: np.ndarray) -> np.ndarray:
    seconds = np.asarray(seconds, dtype=float)
    seconds = seconds[~np.isnan(seconds)]
    return np.bincount(bin_index(seconds), minlength=N_BINS).astype(np.int64)


def encode(hist: np.ndarray) -> bytes:
    nonzero = np.flatnonzero(hist)
    return encode_sparse(nonzero, hist[nonzero])


def encode_sparse(indices: np.ndarray, counts: np.ndarray) -> bytes:
    """The stored form of a histogram given as its nonzero bins (ascending) and their counts."""
    return _HEADER + np.asarray(indices).astype("<i2").tobytes() + np.asarray(counts).astype("<i4").tobytes()


def is_current(blob: bytes) -> bool:
    """Whether a stored sketch is of the current format (else the rollups holding it need rebuilding)."""
    return len(blob) % 6 == 2 and bytes(blob[:2]) == _HEADER


def _parts(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The bin indexes (in the current bins) and counts of one stored sketch, of either format."""
    size = len(blob)
    n = size // 6
    if size % 6 == 2:
        if bytes(blob[:2]) != _HEADER:
            raise ValueError(f"a latency sketch of unknown format {np.frombuffer(blob, '<i2', count=1)[0]}")
        return (np.frombuffer(blob, "<i2", count=n, offset=2),
                np.frombuffer(blob, "<i4", count=n, offset=2 + 2 * n))
    if size % 6:
        raise ValueError(f"a latency sketch of {size} bytes is of no known format")
    return (_LEGACY_TO_CURRENT[np.frombuffer(blob, "<i2", count=n)],
            np.frombuffer(blob, "<i4", count=n, offset=2 * n))


def decode(blob: bytes) -> np.ndarray:
    return decode_many([blob])


def decode_many(blobs: list[bytes]) -> np.ndarray:
    """The sum of many stored histograms, in one pass."""
    if not blobs:
        return np.zeros(N_BINS, dtype=np.int64)
    indices, counts = zip(*(_parts(blob) for blob in blobs), strict=True)
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
