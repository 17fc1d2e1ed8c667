"""`fcr`: feature coverage ratio (PETER, Li et al. 2021; PEPLER, Li et al. 2022).

    FCR = |union_i G_i| / |F|

G_i is the set of features narrative i names and F the feature vocabulary: by default
every feature of every item the scored examples carry (their histories' items and their
target items), or the features of `vocabulary_file` (`item_features.py` defines features,
words and the vocabulary). A model that names the same few features for everyone covers
little of F.

Confidence interval: the union is not a sum, so, as for `distinct`, each example gets an
exact share of it: a feature g named by c_g narratives credits 1/c_g to each of them, and
the credits of all examples sum to |union G_i|. The statistics are the per-example credits
and the aggregate is sum(credit) / |F|, which the core bootstrap resamples; c_g and F are
those of the full set (held fixed within a resample), so the interval is the uncertainty
of which examples make up the set. Per example (samples.jsonl): the credit, the example's
share of the covered features; details: `fcr_features`, how many features it names.
Signature, e.g.
`metric:fcr|features:category,brand,title|tok:lc-alpha3-nostop-plural|vocab:examples@1a2b3c4d5e6f|vocab_size:812|version:1`.
"""

from __future__ import annotations

import functools
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


def coverage_aggregate(sums: np.ndarray, n: int, *, size: int) -> np.ndarray:
    """sum(credit) / |F| over (..., 1) summed statistics; NaN for an empty vocabulary."""
    del n
    sums = np.asarray(sums, dtype=np.float64)
    return sums[..., 0] / size if size > 0 else np.full(sums.shape[:-1], np.nan)


def coverage_credits(feature_sets: list[frozenset[str]]) -> list[float]:
    """Each set's exact share of the union: sum over its features g of 1 / (sets naming g)."""
    named_by = Counter(g for features in feature_sets for g in features)
    return [float(sum(1.0 / named_by[g] for g in features)) for features in feature_sets]


class FeatureCoverageRatio(Metric):
    """Distinct features named across all narratives / all features (PETER's FCR)."""

    name = "fcr"
    description = "Feature coverage ratio (PETER/PEPLER): distinct features named by all narratives / all features."
    version = "1"
    higher_is_better = True
    Options = FeatureOptions

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        examples = require_examples(self.name, examples)
        vocabulary = build_vocabulary(self.options, examples)
        named = [vocabulary.text_features(p) for p in predictions]
        credits = coverage_credits(named)
        stats = np.asarray(credits, dtype=np.float64).reshape(-1, 1)
        size = len(vocabulary.features)
        component = Component("fcr", credits, stats, functools.partial(coverage_aggregate, size=size))
        details = [{"fcr_features": len(features)} for features in named]
        settings = {**vocabulary.signature_settings(), "vocab_size": size}
        signature = Signature(self.name, self.version, settings).format()
        counts = {"vocabulary": size, "covered": len(set().union(*named)) if named else 0}
        return MetricOutput([component], details=details, signature=signature, counts=counts)

    def signature(self) -> str:
        return Signature(self.name, self.version, default_signature_settings(self.options)).format()


@hookimpl
def register_metrics(register):
    register(FeatureCoverageRatio)
