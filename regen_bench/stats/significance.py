"""Paired significance tests between two systems scored on the same examples.

Both tests resample *examples* with replacement (the same draws for both systems,
hence "paired") and look at the difference A - B:

- `paired_bootstrap(a, b)`: per-example values (a mean metric such as ROUGE).
- `paired_bootstrap_components(a, b)`: two metric `Component`s over the same
  examples in the same order; each resample sums their sufficient statistics and
  aggregates, so corpus metrics (BLEU, distinct-n) are tested as corpus metrics.

Two ways to read the resampled differences d* into an interval and a p-value
(`PValueMethod`):

- PERCENTILE (`regen-bench compare`): one distribution gives both. The interval is
  the percentile interval of d*, taken as order statistics (the ceil(B*alpha/2)-th
  smallest and largest d*), and p is the two-sided percentile-bootstrap p,
  p = min(1, 2 * min(#{d* <= 0}, #{d* >= 0}) / B). The two are dual by construction:
  p < ALPHA exactly when the (1 - ALPHA) interval excludes 0, so a difference whose
  CI contains 0 is never called significant.
- SHIFTED (the leaderboard marks, kept so committed leaderboards rebuild unchanged):
  p by the shifted bootstrap (Efron & Tibshirani 1993, 16.4), the resampled
  differences centred on zero and p = (1 + #{|d* - d| >= |d|}) / (B + 1), beside the
  linear-interpolated percentile interval of d*. At the edge the two can disagree.

`holm_adjust(p_values)` is the Holm (1979) step-down adjustment for the rows of one
comparison. Seeded: same inputs and seed, same numbers. A difference is called
significant at p < ALPHA, wherever the harness reports one (`compare`, the leaderboard).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from regen_bench.contracts.metric import Component
from regen_bench.stats.bootstrap import DEFAULT_RESAMPLES, resample_counts

ALPHA = 0.05  # the significance level of every paired test the harness reports


class PValueMethod(str, Enum):
    PERCENTILE = "percentile"  # CI and p from the same percentile distribution (compare)
    SHIFTED = "shifted"  # shifted-bootstrap p beside a percentile CI (leaderboard marks)


@dataclass(frozen=True)
class PairedResult:
    mean_diff: float  # A - B on the full sample
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    resamples: int


def _percentile_result(observed: float, resampled: np.ndarray, n: int, confidence: float) -> PairedResult:
    """CI as order statistics of d*, p as twice the smaller tail at 0: p < 1 - confidence iff 0 is outside."""
    ordered = np.sort(resampled)
    size = ordered.size
    rank = max(1, math.ceil(size * (1.0 - confidence) / 2.0 - 1e-9))  # 1-based, from each end
    low, high = float(ordered[rank - 1]), float(ordered[size - rank])
    at_or_below = int(np.count_nonzero(ordered <= 0.0))
    at_or_above = int(np.count_nonzero(ordered >= 0.0))
    p_value = min(1.0, 2.0 * min(at_or_below, at_or_above) / size)
    return PairedResult(float(observed), low, high, float(p_value), n, int(size))


def _result(observed: float, resampled: np.ndarray, n: int, confidence: float,
            method: PValueMethod = PValueMethod.SHIFTED) -> PairedResult:
    resampled = resampled[np.isfinite(resampled)]
    if not math.isfinite(observed) or resampled.size == 0:
        return PairedResult(observed, float("nan"), float("nan"), float("nan"), n, 0)
    if method is PValueMethod.PERCENTILE:
        return _percentile_result(observed, resampled, n, confidence)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(resampled, [alpha, 1.0 - alpha])
    # Ties count as "at least as extreme" (>=), so identical systems get p = 1.
    extreme = int(np.count_nonzero(np.abs(resampled - observed) >= abs(observed) - 1e-12))
    p_value = (1 + extreme) / (resampled.size + 1)
    return PairedResult(float(observed), float(low), float(high), float(min(1.0, p_value)), n, int(resampled.size))


def _draws(n: int, resamples: int, seed: int):
    """Resample counts in chunks from one seeded stream (chunking never changes the draws)."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(resamples, 2_000_000 // max(n, 1)))
    for start in range(0, resamples, chunk):
        yield resample_counts(n, min(chunk, resamples - start), rng)


def paired_bootstrap(
    a, b, *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES, confidence: float = 0.95,
    method: PValueMethod = PValueMethod.SHIFTED,
) -> PairedResult:
    """Paired bootstrap of mean(a) - mean(b); a[i] and b[i] score the same example."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"paired values must be two lists of the same length, got {x.shape} and {y.shape}")
    n = x.size
    if n == 0:
        return PairedResult(float("nan"), float("nan"), float("nan"), float("nan"), 0, 0)
    diff = x - y
    observed = float(math.fsum(diff) / n)
    values = np.concatenate([counts @ diff / n for counts in _draws(n, resamples, seed)])
    return _result(observed, values, n, confidence, method)


def paired_bootstrap_components(
    a: Component, b: Component, *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES, confidence: float = 0.95,
    method: PValueMethod = PValueMethod.SHIFTED,
) -> PairedResult:
    """Paired bootstrap of a.corpus_score() - b.corpus_score() over the same examples."""
    sa = np.asarray(a.stats, dtype=np.float64)
    sb = np.asarray(b.stats, dtype=np.float64)
    if sa.shape[0] != sb.shape[0]:
        raise ValueError(
            f"components {a.name!r} and {b.name!r} cover {sa.shape[0]} and {sb.shape[0]} examples; "
            "a paired test needs the same examples in the same order"
        )
    n = sa.shape[0]
    if n == 0:
        return PairedResult(float("nan"), float("nan"), float("nan"), float("nan"), 0, 0)
    observed = a.corpus_score() - b.corpus_score()
    values = np.concatenate([
        np.asarray(a.aggregate(counts @ sa, n), dtype=np.float64) - np.asarray(b.aggregate(counts @ sb, n), dtype=np.float64)
        for counts in _draws(n, resamples, seed)
    ])
    return _result(float(observed), values, n, confidence, method)


def holm_adjust(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error), in the order given; NaN stays NaN."""
    finite = sorted((p, i) for i, p in enumerate(p_values) if math.isfinite(p))
    adjusted = [float("nan")] * len(p_values)
    running, m = 0.0, len(finite)
    for rank, (p, index) in enumerate(finite):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[index] = running
    return adjusted
