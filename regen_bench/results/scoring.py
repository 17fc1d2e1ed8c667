"""Scores sample rows with metrics: per-example values into the rows, CIs into ScoreEntry.

A component that scored no example (n=0, e.g. an LLM judge whose every answer was
unparsable), or whose score is not a number, is a *failed* entry: status "failed", a
reason built from the metric's counts, and no score or interval, never NaN.

Who computes a metric: by default every `metric.score` call runs here, one after the
other. An executor may take some elsewhere (`--executor ray` scores semsim and bertscore
on the cluster): inside `use_scorer(scorer)`, `score_rows` hands the scorer every
(metric, predictions, references, examples) job at once and gets back one MetricOutput
per job, in order; intervals and rows are filled here from those outputs, exactly as
for a local score, so where a metric ran never changes its numbers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from regen_bench.contracts.metric import Metric
from regen_bench.contracts.tasks import task_kind
from regen_bench.results.schema import SampleRow, ScoreEntry
from regen_bench.stats.bootstrap import DEFAULT_RESAMPLES, bootstrap_interval

# The level of every score's interval; results.json records it, validate checks it.
SCORE_CONFIDENCE = 0.95


# A scorer: list of (metric, predictions, references, examples) -> one MetricOutput each, in order
# (an iterable: the local one computes each as it is asked for, so progress shows as it goes).
Scorer = Callable[[list[tuple]], Iterable]
_SCORER: ContextVar[Scorer | None] = ContextVar("regen_bench_scorer", default=None)


def score_locally(jobs: list[tuple]) -> Iterator:
    for metric, predictions, references, examples in jobs:
        yield metric.score(predictions, references, examples)


@contextmanager
def use_scorer(scorer: Scorer | None) -> Iterator[None]:
    """Within the block, `score_rows` computes metric outputs with `scorer` (None: here)."""
    token = _SCORER.set(scorer)
    try:
        yield
    finally:
        _SCORER.reset(token)


def _clean(value):
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _add_usage(total, value):
    """Sum usage numbers; an unknown (None) cost stays unknown rather than becoming 0."""
    if total is None or value is None:
        return None
    if isinstance(total, (int, float)) and isinstance(value, (int, float)):
        return total + value
    return value


def failure_reason(n_rows: int, n_scored: int, counts: dict[str, int]) -> str:
    """Why a component has no score, from the metric's counts: 'unrated: 10 of 10, judge answers unparsable'."""
    if "unrated" in counts:
        head = f"unrated: {counts['unrated']} of {counts['unrated'] + counts.get('rated', 0)}"
    elif n_scored == 0:
        head = f"no defined value for any of {n_rows} example(s)"
    else:
        head = f"the score or its confidence interval is not a number on {n_scored} example(s)"
    why = []
    invalid, failed_calls = counts.get("invalid_answers", 0), counts.get("failed_calls", 0)
    if invalid:
        why.append("judge answers unparsable" if invalid == counts.get("unrated") else f"{invalid} answers unparsable")
    if failed_calls:
        why.append(f"{failed_calls} API call(s) failed")
    if not why and counts:
        why.append("counts: " + ", ".join(f"{key}={value}" for key, value in sorted(counts.items())))
    return ", ".join([head, *why])


def score_entry(task: str, metric: Metric, component, interval, signature: str, counts: dict[str, int],
                n_rows: int) -> ScoreEntry:
    """The entry of one component: ok with its score and CI, or failed with a reason when it scored nothing."""
    common = dict(task=task, metric=metric.name, component=component.name, n=interval.n, signature=signature,
                  higher_is_better=metric.higher_is_better, counts=dict(counts))
    if interval.n == 0 or not all(math.isfinite(v) for v in (interval.score, interval.low, interval.high)):
        return ScoreEntry(**common, status="failed", reason=failure_reason(n_rows, interval.n, counts),
                          score=None, ci_low=None, ci_high=None)
    return ScoreEntry(**common, score=interval.score, ci_low=interval.low, ci_high=interval.high)


def score_rows(
    rows: list[SampleRow],
    metrics: list[Metric],
    *,
    seed: int,
    resamples: int = DEFAULT_RESAMPLES,
    examples_by_id: dict | None = None,
    progress=None,
    usage: dict | None = None,
) -> list[ScoreEntry]:
    """Fill `row.scores` (and `row.details`) and return one ScoreEntry per task x component.

    API usage reported by metrics is summed into `usage[metric name]` when given.
    """
    by_task: dict[str, list[SampleRow]] = defaultdict(list)
    for row in rows:
        by_task[row.task].append(row)
    work = []  # (task, its rows, metric) in task then metric order
    for task in sorted(by_task):
        task_rows = sorted(by_task[task], key=lambda r: r.example_id)
        work.extend((task, task_rows, metric) for metric in metrics if metric.kind == task_kind(task))
    jobs = [(metric, [r.prediction for r in task_rows], [r.reference for r in task_rows],
             [(examples_by_id or {}).get(r.example_id) for r in task_rows]) for _, task_rows, metric in work]
    outputs = (_SCORER.get() or score_locally)(jobs)
    entries: list[ScoreEntry] = []
    for (task, task_rows, metric), output in zip(work, outputs, strict=True):
        entries.extend(component_entries(task, task_rows, metric, output, seed=seed, resamples=resamples))
        if usage is not None and output.usage:
            merged = usage.setdefault(metric.name, {})
            for key, value in output.usage.items():
                merged[key] = _add_usage(merged[key], value) if key in merged else value
        if output.details:
            for row, detail in zip(task_rows, output.details):
                row.details.update(detail)
        if progress is not None:
            progress.update(1)
    return entries


def component_entries(task: str, task_rows: list[SampleRow], metric: Metric, output, *, seed: int,
                resamples: int) -> list[ScoreEntry]:
    """Per-example values into `task_rows`, and one ScoreEntry per component of `output`."""
    signature = output.signature or metric.signature()
    metric.scored_signature = signature
    entries = []
    for component in output.components:
        for row, value in zip(task_rows, component.per_example):
            row.scores[component.name] = _clean(value)
        interval = bootstrap_interval(component, seed=seed, resamples=resamples, confidence=SCORE_CONFIDENCE)
        entries.append(score_entry(task, metric, component, interval, signature, output.counts, len(task_rows)))
    return entries
