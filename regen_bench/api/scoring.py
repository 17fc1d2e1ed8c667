"""`regen_bench.score(predictions, references, metrics=[...])`: ad-hoc scoring, no run folder.

The same scoring as a run (`results/scoring.py`): per-example scores, corpus statistics,
seeded bootstrap intervals and each metric's signature.

    s = regen_bench.score(["a narrative"], ["the reference"], metrics=["bleu", "rouge"])
    s["bleu"], s.score("bleu").ci_low, s.scores_frame()

`task` picks the kind: a text task (default `user_summary`) scores narratives; `next_item`
scores ranked lists of item ids against the next item's id.
"""

from __future__ import annotations

from collections.abc import Sequence

from regen_bench.api.results import Scores
from regen_bench.api.running import _metric_objects, _strings
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.examples import Example
from regen_bench.contracts.metric import Metric
from regen_bench.contracts.tasks import default_metrics
from regen_bench.plugin.specs import build_metrics
from regen_bench.results.schema import SampleRow
from regen_bench.results.scoring import score_rows
from regen_bench.stats.bootstrap import DEFAULT_RESAMPLES


def _rows(predictions: list, references: list, examples: list | None, task: str) -> list[SampleRow]:
    if len(predictions) != len(references):
        raise RegenBenchError(f"{len(predictions)} predictions but {len(references)} references; give one of each "
                              "per example")
    if not predictions:
        raise RegenBenchError("nothing to score: no predictions")
    if examples is not None and len(examples) != len(predictions):
        raise RegenBenchError(f"{len(examples)} examples for {len(predictions)} predictions; give one per prediction")
    width = len(str(len(predictions)))
    rows = []
    for i, (prediction, reference) in enumerate(zip(predictions, references)):
        example = examples[i] if examples is not None else None
        # ids sort in the order given (the scorer orders rows by id) unless examples name them
        rows.append(SampleRow(task=task, example_id=example.id if example else f"{i:0{width}d}",
                              user_id=example.user_id if example else "", prediction=prediction,
                              reference=reference))
    return rows


def score(predictions: Sequence, references: Sequence, metrics: Sequence[str | Metric] = (), *,
          examples: Sequence[Example] | None = None, task: str = "user_summary",
          metric_args: dict[str, dict] | None = None, seed: int = 0,
          resamples: int = DEFAULT_RESAMPLES) -> Scores:
    """Score `predictions` against `references` (one each per example) with `metrics`
    (names and/or Metric instances; empty: the defaults of `task`'s kind). `examples`
    (Examples, in the same order) are handed to metrics that read the inputs."""
    rows = _rows(list(predictions), list(references), None if examples is None else list(examples), task)
    metric_args = {name: _strings(options) for name, options in (metric_args or {}).items()}
    names = list(metrics) or default_metrics({task})
    built = _metric_objects(names, metric_args) or build_metrics(names, metric_args)
    by_id = {row.example_id: example for row, example in zip(rows, examples)} if examples is not None else None
    entries = score_rows(rows, built, seed=seed, resamples=resamples, examples_by_id=by_id)
    if not entries:
        raise RegenBenchError(f"no metric of task {task!r}'s kind among {', '.join(m.name for m in built)}")
    order = {row.example_id: i for i, row in enumerate(rows)}
    return Scores(entries, sorted(rows, key=lambda r: order[r.example_id]))
