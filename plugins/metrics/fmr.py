"""`fmr`: feature matching ratio (PETER, Li et al. 2021; PEPLER, Li et al. 2022).

    FMR = (1/N) sum_i 1[ a feature of example i's target item appears in narrative i ]

In PETER the feature of a (user, item) pair is the aspect its ground-truth review names;
REGEN has no aspect extraction, so the features here are the target item's own catalogue
words (category path without its root, brand, title: `item_features.py` says exactly
which, and the `features` option picks the sources). The target is the example's next
purchase (`Example.target`); only its item's attributes are read, never its review or a
reference narrative. The measure fits the tasks about the next purchase
(`purchase_reason`, `endorsement`) best; on a user summary it says how often the narrative
happens to name what the user bought next.

Per example: 1 or 0 (`match=any`, PETER's indicator), or the share of the target's features
the narrative names (`match=share`); undefined (null, left out of n) when the example has no
target or its target has no feature in the vocabulary. The corpus score is the mean, so the
bootstrap is the core's bootstrap of a mean. Signature, e.g.
`metric:fmr|match:any|features:category,brand,title|tok:lc-alpha3-nostop-plural|vocab:examples@1a2b3c4d5e6f|version:1`.
"""

from __future__ import annotations

from typing import Literal

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOutput, Signature
from regen_bench_plugins.metrics.catalogue import require_examples
from regen_bench_plugins.metrics.item_features import (
    FeatureOptions,
    build_vocabulary,
    default_signature_settings,
)


class FmrOptions(FeatureOptions):
    match: Literal["any", "share"] = "any"


class FeatureMatchingRatio(Metric):
    """Share of narratives that name a feature of the target item (PETER's FMR)."""

    name = "fmr"
    description = "Feature matching ratio (PETER/PEPLER): share of narratives naming a feature of the target item."
    version = "1"
    higher_is_better = True
    Options = FmrOptions

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        examples = require_examples(self.name, examples)
        vocabulary = build_vocabulary(self.options, examples)
        values, details = [], []
        counts = {"no_target_features": 0}
        for prediction, example in zip(predictions, examples):
            target = vocabulary.item_features(example.target.item) if example.target is not None else frozenset()
            if not target:
                counts["no_target_features"] += 1
                values.append(None)
                details.append({"fmr_target_features": 0, "fmr_matched": 0})
                continue
            matched = len(target & vocabulary.text_features(prediction))
            values.append(float(matched > 0) if self.options.match == "any" else matched / len(target))
            details.append({"fmr_target_features": len(target), "fmr_matched": matched})
        settings = {"match": self.options.match, **vocabulary.signature_settings()}
        signature = Signature(self.name, self.version, settings).format()
        return MetricOutput([Component.mean("fmr", values)], details=details, signature=signature, counts=counts)

    def signature(self) -> str:
        settings = {"match": self.options.match, **default_signature_settings(self.options)}
        return Signature(self.name, self.version, settings).format()


@hookimpl
def register_metrics(register):
    register(FeatureMatchingRatio)
