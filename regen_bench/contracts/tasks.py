"""Task kinds as data: what a task asks of a model and which metrics score it by default.

A task is a name (`user_summary`, `next_item`, ...). Its kind says what a model returns
for it and what kind of metric can score that:

- `text`: a narrative (a string) from `Model.generate`; scored by `Metric.kind == "text"`.
- `ranking`: a ranked list of item ids from `Model.recommend`; scored by ranking metrics.

Every task is a text task unless `TASK_KINDS` names it. Adding a task kind is adding a
`TaskKind` here (and the model method that produces it in `contracts/model.py`).

What a model is shown of a test example also depends on the task (`takes_target_item`):
the narrative tasks about the next purchase get that item as input; no other task does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskKind:
    name: str
    model_method: str  # the Model method that produces outputs of this kind
    default_metrics: tuple[str, ...]  # used when a run names no --metric
    output: str  # what one output is, for error messages

    def __reduce__(self):
        # Pickled by name, unpickled as the very constant: code compares kinds with `is`
        # (`kind is RANKING`), and executors ship batches holding them to other processes.
        return _kind_named, (self.name,)


TEXT = TaskKind("text", "generate", ("bleu", "rouge"), "a narrative (str)")
RANKING = TaskKind("ranking", "recommend", ("recall@k", "ndcg@k", "mrr"), "a ranked list of item ids")
KINDS: dict[str, TaskKind] = {kind.name: kind for kind in (TEXT, RANKING)}


def _kind_named(name: str) -> TaskKind:
    return KINDS[name]


# Tasks that are not text tasks; any other task name is a narrative task.
TASK_KINDS: dict[str, TaskKind] = {"next_item": RANKING}

# Narrative tasks about the next purchase. In REGEN (and in the files `data generate`
# writes) their reference lives beside the target item, under `last_purchase`: why the
# user bought that item, a pitch for that item. As in the REGEN papers, a model writing
# them is told which item it is (its asin, title, category, price, other metadata), never
# the review written after the purchase. The user narratives (`user_summary`,
# `user_profile`) describe the history and get no target; for `next_item` the target is
# the answer. A task a dataset adds under another name gets no target either.
TARGET_ITEM_TASKS: frozenset[str] = frozenset({"purchase_reason", "endorsement"})

# The number of items `recommend` is asked for unless a run sets `--k`.
DEFAULT_K = 100


def kind_of(task: str) -> TaskKind:
    return TASK_KINDS.get(task, TEXT)


def task_kind(task: str) -> str:
    """"text" or "ranking"."""
    return kind_of(task).name


def takes_target_item(task: str) -> bool:
    """Whether `generate` is shown the target item (not its review) for `task`."""
    return task in TARGET_ITEM_TASKS and kind_of(task) is not RANKING


def ranking_tasks() -> set[str]:
    return {task for task, kind in TASK_KINDS.items() if kind is RANKING}


def default_metrics(tasks) -> list[str]:
    """The default metrics of every kind among `tasks`, in kind order, without repeats."""
    kinds = {kind_of(task).name for task in tasks}
    names: list[str] = []
    for kind in KINDS.values():
        if kind.name in kinds:
            names += [m for m in kind.default_metrics if m not in names]
    return names
