"""Latency sketches: mergeable by addition, percentiles within 0.4 % of numpy's, lossless encoding, and stored
sketches of the first format (γ = 1.02, no header) still read right and known as needing a rebuild."""

from __future__ import annotations

import numpy as np
import pytest

from data_access import sketch


@pytest.mark.parametrize("q", [1, 50, 90, 99])
def test_percentile_within_the_bound_of_exact(q):
    values = np.random.default_rng(3).lognormal(np.log(600), 1.5, size=20_000)
    exact = np.percentile(values, q, method="inverted_cdf")
    assert sketch.RELATIVE_ERROR < 0.004
    assert sketch.percentile(sketch.histogram(values), q) == pytest.approx(exact, rel=sketch.RELATIVE_ERROR)


def test_bin_edges_are_the_worst_case_and_within_the_bound():
    """The value reported for a bin is at most RELATIVE_ERROR from either of its edges, and no closer to both."""
    edges = np.power(sketch.GAMMA, np.arange(0, 1200, 37, dtype=float))
    for value in (edges, edges * sketch.GAMMA * (1 - 1e-12)):
        reported = sketch.bin_value(sketch.bin_index(value))
        assert np.abs(reported / value - 1).max() == pytest.approx(sketch.RELATIVE_ERROR, rel=1e-6)


def test_every_bin_index_fits_the_stored_int16():
    assert sketch.N_BINS - 1 <= np.iinfo(np.int16).max
    assert sketch.bin_index(np.array([sketch.MAX_SECONDS * 10]))[0] < sketch.N_BINS


def test_histograms_merge_by_addition():
    rng = np.random.default_rng(5)
    a, b = rng.exponential(300, 5000), rng.exponential(3000, 7000)
    assert np.array_equal(sketch.histogram(a) + sketch.histogram(b), sketch.histogram(np.concatenate([a, b])))


def test_zero_latency_has_its_own_bin():
    hist = sketch.histogram(np.array([0.0, 0.0, 0.0, 120.0]))
    assert sketch.percentile(hist, 50) == 0.0
    assert sketch.percentile(hist, 100) == pytest.approx(120, rel=sketch.RELATIVE_ERROR)


def test_encode_decode_round_trip_and_empty():
    hist = sketch.histogram(np.random.default_rng(1).uniform(1, 86400, 999))
    assert np.array_equal(sketch.decode(sketch.encode(hist)), hist)
    assert sketch.percentile(np.zeros(sketch.N_BINS, dtype=np.int64), 50) is None


def test_nan_values_are_ignored():
    assert sketch.histogram(np.array([np.nan, 60.0])).sum() == 1


def test_decode_many_equals_the_sum_of_decodes():
    rng = np.random.default_rng(3)
    hists = [sketch.histogram(rng.lognormal(6, 1.5, size=n)) for n in (1, 50, 5000)]
    blobs = [sketch.encode(h) for h in hists]
    assert np.array_equal(sketch.decode_many(blobs), sum(sketch.decode(b) for b in blobs))
    assert sketch.decode_many([]).sum() == 0


def legacy_blob(values: np.ndarray) -> bytes:
    """A sketch as the first format stored it: γ = 1.02 bins, int16 indexes then int32 counts, no header."""
    gamma = sketch.LEGACY_GAMMA
    idx = np.where(values < 0.5, 0, 1 + np.floor(np.log(np.clip(values, 1.0, None)) / np.log(gamma)))
    bins, counts = np.unique(idx.astype(np.int64), return_counts=True)
    return bins.astype("<i2").tobytes() + counts.astype("<i4").tobytes()


def test_stored_sketches_carry_their_format():
    blob = sketch.encode(sketch.histogram(np.array([0.0, 60.0, 3600.0])))
    assert sketch.is_current(blob)
    assert sketch.is_current(sketch.encode(np.zeros(sketch.N_BINS, dtype=np.int64)))
    assert not sketch.is_current(legacy_blob(np.array([0.0, 60.0, 3600.0])))
    assert not sketch.is_current(b"")


def test_a_first_format_sketch_reads_within_the_old_bound_and_asks_for_a_rebuild():
    values = np.random.default_rng(7).lognormal(np.log(900), 1.2, size=5000)
    old = legacy_blob(values)
    hist = sketch.decode(old)
    assert hist.sum() == values.size
    old_bound = (sketch.LEGACY_GAMMA - 1) / (sketch.LEGACY_GAMMA + 1) + sketch.RELATIVE_ERROR
    for q in (50, 90, 99):
        exact = np.percentile(values, q, method="inverted_cdf")
        assert sketch.percentile(hist, q) == pytest.approx(exact, rel=old_bound)
    new = sketch.encode(sketch.histogram(values[:100]))
    assert np.array_equal(sketch.decode_many([old, new]), hist + sketch.decode(new))


def test_a_blob_of_no_known_format_is_refused():
    with pytest.raises(ValueError):
        sketch.decode(np.array([-9, 3], dtype="<i2").tobytes() + np.array([1], dtype="<i4").tobytes())
    with pytest.raises(ValueError):
        sketch.decode(b"\x01\x00\x02")
