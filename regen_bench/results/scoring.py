"""Scores sample rows with metrics: per-example values into the rows, CIs into ScoreEntry."""

from __future__ import annotations

import math
from collections import defaultdict

from regen_bench.contracts.metric import Metric
from regen_bench.contracts.tasks import task_kind
from regen_bench.results.schema import SampleRow, ScoreEntry
from regen_bench.stats.bootstrap import DEFAULT_RESAMPLES, bootstrap_interval


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
    entries: list[ScoreEntry] = []
    for task in sorted(by_task):
        task_rows = sorted(by_task[task], key=lambda r: r.example_id)
        for metric in metrics:
            if metric.kind != task_kind(task):
                continue
            predictions = [r.prediction for r in task_rows]
            references = [r.reference for r in task_rows]
            examples = [(examples_by_id or {}).get(r.example_id) for r in task_rows]
            output = metric.score(predictions, references, examples)
            signature = output.signature or metric.signature()
            for component in output.components:
                for row, value in zip(task_rows, component.per_example):
                    row.scores[component.name] = _clean(value)
                interval = bootstrap_interval(component, seed=seed, resamples=resamples)
                entries.append(
                    ScoreEntry(
                        task=task, metric=metric.name, component=component.name,
                        score=interval.score, ci_low=interval.low, ci_high=interval.high, n=interval.n,
                        signature=signature, higher_is_better=metric.higher_is_better,
                        counts=dict(output.counts),
                    )
                )
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
