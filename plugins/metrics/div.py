"""`div`: feature diversity (PETER, Li et al. 2021; PEPLER, Li et al. 2022); lower is more diverse.

    DIV = 2 / (N (N - 1)) * sum_{i < j} |G_i ∩ G_j|

the mean number of features two narratives share, over all pairs; G_i is the set of
features narrative i names (`item_features.py`: the words of the items' categories, brands
and titles that are in the vocabulary). 0 when no two narratives name a common feature;
a model that repeats one narrative scores the number of features it names.

Computing it: sum_{i<j} |G_i ∩ G_j| = sum_g c_g (c_g - 1) / 2, where c_g is how many
narratives name feature g, so DIV costs one pass, not N^2 / 2 pairs. Per example
(samples.jsonl): h_i = sum_{g in G_i} (c_g - 1) / (N - 1), the mean number of features
narrative i shares with each other narrative; DIV is exactly the mean of the h_i.

Confidence interval: DIV is a U-statistic of degree 2 (a mean over pairs), not a sum over
examples, and a plain bootstrap of it would pair an example with its own copies. Its
first-order (Hoeffding) projection is linear: DIV ≈ θ + (2/N) sum_i (h_i - θ), so the
statistics are the pseudo-values ψ_i = 2 h_i - DIV, whose mean is DIV exactly and whose
bootstrap gives the U-statistic's first-order variance 4 Var(h) / N (the mean of the h_i
alone would give a quarter of it). The aggregate is their mean floored at 0 (DIV cannot
be negative; a resample near 0 could be). It is an approximation: the second-order term
(of order 1/N^2) is left out. Undefined (failed) for fewer than 2 narratives.
Signature, e.g.
`metric:div|features:category,brand,title|tok:lc-alpha3-nostop-plural|vocab:examples@1a2b3c4d5e6f|ci:hoeffding-pseudo|version:1`.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOutput, Signature
from regen_bench_plugins.metrics.catalogue import require_examples
from regen_bench_plugins.metrics.item_features import (
    FeatureOptions,
    build_vocabulary,
    default_signature_settings,
)

CI_METHOD = "hoeffding-pseudo"


def floored_mean(sums: np.ndarray, n: int) -> np.ndarray:
    return np.maximum(np.asarray(sums, dtype=np.float64)[..., 0] / n, 0.0)


def mean_overlaps(feature_sets: list[frozenset[str]]) -> np.ndarray:
    """h_i: the mean |G_i ∩ G_j| over the other narratives j (NaN-free; needs N >= 2)."""
    n = len(feature_sets)
    named_by = Counter(g for features in feature_sets for g in features)
    return np.asarray([sum(named_by[g] - 1 for g in features) / (n - 1) for features in feature_sets],
                      dtype=np.float64)


def div_component(feature_sets: list[frozenset[str]]) -> Component:
    n = len(feature_sets)
    if n < 2:
        return Component("div", [float("nan")] * n, np.zeros((0, 1)), floored_mean)
    h = mean_overlaps(feature_sets)
    div = float(h.mean())
    pseudo = (2.0 * h - div).reshape(-1, 1)
    return Component("div", [float(v) for v in h], pseudo, floored_mean)


class FeatureDiversity(Metric):
    """Mean number of features shared by two narratives (PETER's DIV; lower is more diverse)."""

    name = "div"
    description = "Feature diversity (PETER/PEPLER): mean features shared by two narratives (lower is more diverse)."
    version = "1"
    higher_is_better = False
    Options = FeatureOptions

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        examples = require_examples(self.name, examples)
        vocabulary = build_vocabulary(self.options, examples)
        named = [vocabulary.text_features(p) for p in predictions]
        details = [{"div_features": len(features)} for features in named]
        settings = {**vocabulary.signature_settings(), "ci": CI_METHOD}
        signature = Signature(self.name, self.version, settings).format()
        return MetricOutput([div_component(named)], details=details, signature=signature)

    def signature(self) -> str:
        settings = {**default_signature_settings(self.options), "ci": CI_METHOD}
        return Signature(self.name, self.version, settings).format()


@hookimpl
def register_metrics(register):
    register(FeatureDiversity)
