"""The pairwise-metric contract: a judge of two runs' outputs on the same examples.

A `PairwiseMetric` is a `Metric` (a name, options, a signature, components with per-example
values, so the core bootstraps its CIs the same way) whose scores need two runs: it is used
by `regen-bench compare A B --metric NAME`, never by a single run, and implements
`score_pairs(baseline, candidate, references, examples)` instead of `score`. Each component
is from the candidate's side (B against the baseline A): e.g. the share of examples B wins.
"""

from __future__ import annotations

from typing import ClassVar

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.metric import Metric, MetricOutput, check_metric_output, check_text_inputs


class PairwiseMetric(Metric):
    pairwise: ClassVar[bool] = True

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        raise RegenBenchError(f"metric {self.name!r} judges two runs against each other: use "
                              f"`regen-bench compare RUN_A RUN_B --metric {self.name}`, not `run --metric`")

    def score_pairs(self, baseline: list, candidate: list, references: list, examples: list) -> MetricOutput:
        """Judge `candidate[i]` against `baseline[i]` for each example (same reference, same
        example); components from the candidate's side, one per-example value each."""
        raise NotImplementedError

    def checked_score_pairs(self, baseline: list, candidate: list, references: list, examples: list) -> MetricOutput:
        """`score_pairs` with the inputs and the output checked, as `score` is for any metric."""
        if len(baseline) != len(candidate):
            raise ValueError(f"{self.name}: {len(baseline)} baseline outputs but {len(candidate)} candidate outputs")
        check_text_inputs(self.name, baseline, references)
        check_text_inputs(self.name, candidate, references)
        output = self.score_pairs(baseline, candidate, references, examples)
        check_metric_output(self.name, output, len(candidate))
        return output


def is_pairwise(metric) -> bool:
    return isinstance(metric, PairwiseMetric)
