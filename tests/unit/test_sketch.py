"""Latency sketches: mergeable by addition, percentiles within 1 % of numpy's, lossless encoding."""

from __future__ import annotations

import numpy as np
import pytest

from data_access import sketch


@pytest.mark.parametrize("q", [1, 50, 90, 99])
def test_percentile_within_one_percent_of_exact(q):
    values = np.random.default_rng(3).lognormal(np.log(600), 1.5, size=20_000)
    exact = np.percentile(values, q, method="inverted_cdf")
    assert sketch.percentile(sketch.histogram(values), q) == pytest.approx(exact, rel=0.01)


def test_histograms_merge_by_addition():
    rng = np.random.default_rng(5)
    a, b = rng.exponential(300, 5000), rng.exponential(3000, 7000)
    assert np.array_equal(sketch.histogram(a) + sketch.histogram(b), sketch.histogram(np.concatenate([a, b])))


def test_zero_latency_has_its_own_bin():
    hist = sketch.histogram(np.array([0.0, 0.0, 0.0, 120.0]))
    assert sketch.percentile(hist, 50) == 0.0
    assert sketch.percentile(hist, 100) == pytest.approx(120, rel=0.01)


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
