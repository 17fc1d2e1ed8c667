"""Seeded bootstrap confidence intervals over examples, for mean and corpus metrics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regen_bench.contracts.metric import Component

DEFAULT_RESAMPLES = 1000


@dataclass(frozen=True)
class Interval:
    score: float
    low: float
    high: float
    n: int


def resample_counts(n: int, resamples: int, seed: int | np.random.Generator) -> np.ndarray:
    """(resamples, n) counts of how often each example is drawn; same seed, same draws.

    Pass a Generator to continue one stream across chunks: the draws then depend
    only on the seed, never on how the resamples were chunked.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    counts = np.empty((resamples, n), dtype=np.float64)
    for row in range(resamples):
        counts[row] = np.bincount(rng.integers(0, n, size=n), minlength=n)
    return counts


def bootstrap_interval(
    component: Component, *, seed: int, resamples: int = DEFAULT_RESAMPLES, confidence: float = 0.95
) -> Interval:
    stats = np.asarray(component.stats, dtype=np.float64)
    n = stats.shape[0]
    score = component.corpus_score()
    if n == 0:
        return Interval(score, float("nan"), float("nan"), 0)
    values = np.empty(resamples, dtype=np.float64)
    chunk = max(1, min(resamples, 2_000_000 // max(n, 1)))
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        counts = resample_counts(n, stop - start, rng)
        values[start:stop] = component.aggregate(counts @ stats, n)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return Interval(score, float(low), float(high), n)
