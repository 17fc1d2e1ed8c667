"""Is there enough data to run? Checked after the split and before any model is fitted.

One `RegenBenchError` line per problem, naming the split, the counts and what to do
(the minimums are in `data/splits.py` and docs/data.md, "Too little data"):

- the train split is empty (a model has nothing to fit on);
- a text task has no narrative among the training users (nothing to learn it from);
- a task has no example in the evaluated split (nothing to score);
- the model cannot fit what it was given: a `ValueError` from `fit` (say, scikit-learn's
  "empty vocabulary" when no training history has any text) is one line naming the
  model, the split and its counts (`fit_errors`).

A task scored on fewer than `MIN_SCORED_EXAMPLES` examples, or an empty validation
split, is a warning: the run goes on, and prints it once its results are written.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from pydantic import ValidationError

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.example_set import as_example_set
from regen_bench.contracts.layout import DatasetLayout
from regen_bench.contracts.tasks import RANKING, TEXT, kind_of
from regen_bench.data.splits import MIN_SCORED_EXAMPLES, MIN_TRAIN_USERS, Splits
from regen_bench.pipeline.stages import Evaluation


def _counts(splits: Splits) -> str:
    sizes = {name: len(splits.get(name)) for name in ("train", "validation", "test")}
    total = sum(sizes.values())
    return f"{total} user(s): train {sizes['train']}, validation {sizes['validation']}, test {sizes['test']}"


def _what(task: str, layout: DatasetLayout) -> str:
    if kind_of(task) is RANKING:
        return "a target item (last_purchase.item, or a history of two or more purchases)"
    return f"text at {layout.tasks.get(task, '?')}"


def check_train(splits: Splits, tasks: list[str], layout: DatasetLayout, dataset: str) -> None:
    train = splits.train
    if len(train) < MIN_TRAIN_USERS:
        raise RegenBenchError(
            f"the train split of {dataset!r} is empty ({_counts(splits)}): a model needs at least "
            f"{MIN_TRAIN_USERS} training user to fit. Use a file with more users (with the default "
            f"80/10/10 split, {MIN_SCORED_EXAMPLES * 10} or more give {MIN_SCORED_EXAMPLES} test examples)"
        )
    for task in tasks:
        if kind_of(task) is not TEXT:
            continue
        have = int(as_example_set(train).has_reference(task).sum())
        if have < MIN_TRAIN_USERS:
            raise RegenBenchError(
                f"task {task!r} has no training narratives: none of the {len(train)} train user(s) of "
                f"{dataset!r} has {_what(task, layout)} ({_counts(splits)}). Use a file where more users "
                f"have it, leave the task out (--task), or map it to another field with --task-map {task}=FIELD.PATH"
            )


def check_evaluated(evaluation: Evaluation, split: str, layout: DatasetLayout, dataset: str) -> list[str]:
    """Raise for a task with no evaluated example; return warnings for tasks below the minimum."""
    warnings = []
    n_users = len(evaluation.examples)
    for task, examples in evaluation.per_task.items():
        if not examples:
            raise RegenBenchError(
                f"task {task!r} has nothing to score: none of the {n_users} {split} user(s) of {dataset!r} "
                f"has {_what(task, layout)} ({_counts(evaluation.splits)}). Use a larger file, or leave the "
                f"task out (--task)"
            )
        if len(examples) < MIN_SCORED_EXAMPLES:
            warnings.append(
                f"warning: task {task!r} is scored on {len(examples)} {split} example(s), fewer than "
                f"{MIN_SCORED_EXAMPLES}: its confidence interval says little, and leaderboards should not rank it"
            )
    return warnings


def check_enough_data(evaluation: Evaluation, tasks: list[str], layout: DatasetLayout, *, split: str,
                      dataset: str) -> list[str]:
    """All the checks above, before fit; returns the warnings (`print_warnings` prints them)."""
    check_train(evaluation.splits, tasks, layout, dataset)
    warnings = check_evaluated(evaluation, split, layout, dataset)
    if not len(evaluation.splits.validation):
        warnings.append(f"warning: the validation split of {dataset!r} is empty ({_counts(evaluation.splits)}); "
                        "models that tune on it get none")
    return warnings


@contextmanager
def fit_errors(model: str, splits: Splits, dataset: str):
    """Around `fit`: a ValueError (the data does not suit the model) becomes one line."""
    try:
        yield
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise RegenBenchError(
            f"model {model!r} cannot fit the train split of {dataset!r} ({_counts(splits)}): "
            f"{type(exc).__name__}: {reason}. See what the training users hold with `regen-bench data info`, "
            f"or use a larger or fuller file"
        ) from exc


def print_warnings(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


__all__ = ["check_enough_data", "check_evaluated", "check_train", "fit_errors", "print_warnings"]
