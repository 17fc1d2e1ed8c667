"""Seeded bootstrap intervals for mean components and for corpus BLEU."""

import math

import numpy as np
import pytest
import sacrebleu

from regen_bench.contracts.metric import Component
from regen_bench.stats.bootstrap import bootstrap_interval, resample_counts
from regen_bench_plugins.metrics.bleu import BleuMetric


def _synthetic(n=400):
    # Fixed, skewed per-example scores (like sentence-level metrics): a seeded beta draw.
    return np.random.default_rng(12345).beta(2.0, 5.0, size=n)


def test_same_seed_same_interval():
    component = Component.mean("score", _synthetic())
    a = bootstrap_interval(component, seed=3, resamples=500)
    b = bootstrap_interval(component, seed=3, resamples=500)
    assert a == b


def test_different_seed_different_interval():
    component = Component.mean("score", _synthetic())
    a = bootstrap_interval(component, seed=3, resamples=500)
    b = bootstrap_interval(component, seed=4, resamples=500)
    assert a.score == b.score
    assert (a.low, a.high) != (b.low, b.high)


def test_interval_contains_point_estimate_of_a_mean():
    values = _synthetic()
    component = Component.mean("score", values)
    interval = bootstrap_interval(component, seed=0, resamples=1000)
    assert interval.n == len(values)
    assert interval.score == pytest.approx(values.mean())
    assert interval.low < interval.score < interval.high


def test_interval_is_the_quantiles_of_resampled_means():
    values = _synthetic()
    component = Component.mean("score", values)
    interval = bootstrap_interval(component, seed=9, resamples=300, confidence=0.9)
    counts = resample_counts(len(values), 300, 9)
    means = counts @ values / len(values)
    low, high = np.quantile(means, [0.05, 0.95])
    assert interval.low == pytest.approx(low, abs=1e-12)
    assert interval.high == pytest.approx(high, abs=1e-12)


def test_width_matches_a_naive_bootstrap_loop():
    values = _synthetic()
    n = len(values)
    interval = bootstrap_interval(Component.mean("score", values), seed=1, resamples=2000)
    rng = np.random.default_rng(2024)  # independent draws: only the width should agree
    naive = np.array([values[rng.integers(0, n, size=n)].mean() for _ in range(2000)])
    low, high = np.quantile(naive, [0.025, 0.975])
    width = interval.high - interval.low
    assert width == pytest.approx(high - low, rel=0.15)
    # And both agree with the normal approximation 2 * 1.96 * sd / sqrt(n).
    assert width == pytest.approx(2 * 1.96 * values.std(ddof=1) / math.sqrt(n), rel=0.15)


def test_higher_confidence_gives_a_wider_interval():
    component = Component.mean("score", _synthetic())
    narrow = bootstrap_interval(component, seed=5, resamples=1000, confidence=0.8)
    wide = bootstrap_interval(component, seed=5, resamples=1000, confidence=0.99)
    assert wide.low < narrow.low < narrow.high < wide.high


def test_resample_counts_draw_n_examples_per_resample():
    counts = resample_counts(17, 50, seed=2)
    assert counts.shape == (50, 17)
    assert np.all(counts.sum(axis=1) == 17)
    assert np.array_equal(counts, resample_counts(17, 50, seed=2))


def _counts_to_indices(row):
    return np.repeat(np.arange(row.shape[0]), row.astype(np.int64))


def test_bleu_interval_matches_naive_sacrebleu_recompute():
    rng = np.random.default_rng(11)
    words = [f"w{i}" for i in range(15)]

    def sentence():
        return " ".join(rng.choice(words, size=int(rng.integers(0, 12))))

    preds = [sentence() for _ in range(30)]
    refs = [sentence() for _ in range(30)]
    preds[0] = ""
    component = BleuMetric().score(preds, refs, [None] * len(preds)).components[0]
    assert component.corpus_score() == pytest.approx(sacrebleu.corpus_bleu(preds, [refs]).score, abs=1e-9)

    resamples, seed, n = 40, 17, len(preds)
    counts = resample_counts(n, resamples, seed)
    naive = []
    for row in counts:
        idx = _counts_to_indices(row)
        naive.append(sacrebleu.corpus_bleu([preds[i] for i in idx], [[refs[i] for i in idx]]).score)
    naive = np.array(naive)
    np.testing.assert_allclose(component.aggregate(counts @ component.stats, n), naive, rtol=0, atol=1e-9)

    interval = bootstrap_interval(component, seed=seed, resamples=resamples)
    low, high = np.quantile(naive, [0.025, 0.975])
    assert interval.low == pytest.approx(low, abs=1e-9)
    assert interval.high == pytest.approx(high, abs=1e-9)
    assert interval.score == pytest.approx(component.corpus_score())


def test_empty_component_gives_nans():
    for component in (Component.mean("score", []), BleuMetric().score([], [], []).components[0]):
        interval = bootstrap_interval(component, seed=0, resamples=100)
        assert interval.n == 0
        assert math.isnan(interval.score) and math.isnan(interval.low) and math.isnan(interval.high)


def test_single_example():
    interval = bootstrap_interval(Component.mean("score", [0.25]), seed=0, resamples=50)
    assert (interval.score, interval.low, interval.high, interval.n) == (0.25, 0.25, 0.25, 1)


def test_draws_do_not_depend_on_chunking_and_seeds_do_not_overlap():
    """Regression: chunks were seeded seed+start, so seed s and s+chunk shared resamples."""
    import numpy as np

    from regen_bench.stats.bootstrap import resample_counts

    rng = np.random.default_rng(7)
    chunked = np.vstack([resample_counts(50, 10, rng) for _ in range(3)])
    assert np.array_equal(chunked, resample_counts(50, 30, 7))
    a, b = resample_counts(50, 30, 7), resample_counts(50, 30, 8)
    assert not any(np.array_equal(a[i], b[j]) for i in range(30) for j in range(30))
