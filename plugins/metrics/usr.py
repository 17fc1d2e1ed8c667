"""`usr`: unique sentence ratio of the predictions (PETER, Li et al. 2021; PEPLER, 2022).

    USR = (number of different generated sentences) / N

PETER's explanations are one sentence each, so a "sentence" is one prediction
(`unit=prediction`, the default): USR is the share of different narratives, 1 when no
two are the same and 1/N when a model writes one narrative for everyone. `unit=sentence`
splits each narrative into sentences (after `.`, `!` or `?` followed by a space) and
counts different sentences over all sentences, for narratives of several sentences.
Two texts are the same when they are equal after NFKC normalisation, lowercasing and
collapsing runs of white space (`norm:nfkc-lc-ws` in the signature). References are
not used.

Confidence interval: as for `distinct`, each unit occurring c times in all predictions
credits 1/c to each occurrence; the credits sum to the number of different units, so the
statistics are the per-example rows [credit, units] and the aggregate sum(credit) /
sum(units), which the core bootstrap resamples with the counts c of the full set held
fixed. Per example (samples.jsonl): credit / units, 1 for a narrative no other repeats,
1/c for one of c copies; a prediction with no sentence (`unit=sentence`, empty text) is
undefined (null) and left out. Signature, e.g. `metric:usr|unit:prediction|norm:nfkc-lc-ws|version:1`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Literal

import numpy as np

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput, Signature

NORMALISATION = "nfkc-lc-ws"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class UsrOptions(MetricOptions):
    unit: Literal["prediction", "sentence"] = "prediction"


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def units_of(text: str, unit: str) -> list[str]:
    if unit == "prediction":
        return [normalise(text)]
    return [s for s in (normalise(part) for part in _SENTENCE_END.split(text)) if s]


def ratio_aggregate(sums: np.ndarray, n: int) -> np.ndarray:
    del n
    sums = np.asarray(sums, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sums[..., 1] > 0, sums[..., 0] / sums[..., 1], np.nan)


class UniqueSentenceRatio(Metric):
    """Different generated narratives (or sentences) / all of them (PETER's USR)."""

    name = "usr"
    description = "Unique sentence ratio (PETER/PEPLER): different narratives (or sentences, unit=sentence) / all."
    version = "1"
    higher_is_better = True
    Options = UsrOptions

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        units = [units_of(p, self.options.unit) for p in predictions]
        frequency = Counter(u for found in units for u in found)
        per_example, rows = [], []
        for found in units:
            if not found:
                per_example.append(float("nan"))
                continue
            credit = float(sum(1.0 / frequency[u] for u in found))
            per_example.append(credit / len(found))
            rows.append((credit, float(len(found))))
        stats = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
        component = Component("usr", per_example, stats, ratio_aggregate)
        counts = {"units": sum(frequency.values()), "different": len(frequency)}
        return MetricOutput([component], signature=self.signature(), counts=counts)

    def signature(self) -> str:
        return Signature(self.name, self.version, {"unit": self.options.unit, "norm": NORMALISATION}).format()


@hookimpl
def register_metrics(register):
    register(UniqueSentenceRatio)
