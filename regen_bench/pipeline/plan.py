"""The plan of a run: which tasks, which metrics by default, which `k`, and the cache keys.

Everything here is decided from the run's options, the loaded dataset and what the
model class can do, before any model is fitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.example_set import as_example_set
from regen_bench.contracts.metric import Metric
from regen_bench.contracts.model import Model
from regen_bench.contracts.pairwise import is_pairwise
from regen_bench.contracts.tasks import DEFAULT_K, RANKING, TEXT, default_metrics, kind_of
from regen_bench.pipeline.generation_cache import GenerationCache
from regen_bench.plugin.registry import get_registry
from regen_bench.util.hashing import run_config_hash

# The task the default plan adds for a model that recommends, when the dataset has targets.
DEFAULT_RANKING_TASK = "next_item"


@dataclass(frozen=True)
class RunPlan:
    tasks: list[str]
    metric_names: list[str]
    k: int | None  # items asked of recommend(); None when no ranking task runs (results.json `k`)
    hash_k: int | None  # k as part of the cache key: only when it is not the default


@dataclass(frozen=True)
class CacheKeys:
    config_hash: str  # results.json model.config_hash
    run_key: str  # the generation cache's key of this run


def default_tasks(available_tasks: list[str], has_targets: bool, kinds: set[str]) -> list[str]:
    """Every task the dataset has that a model able to do `kinds` can do."""
    tasks = [t for t in available_tasks if kind_of(t) is TEXT] if TEXT.name in kinds else []
    if RANKING.name in kinds and has_targets:
        tasks.append(DEFAULT_RANKING_TASK)
    return tasks


def check_tasks(tasks: list[str], kinds: set[str], model: str, dataset: str) -> None:
    if not tasks:
        raise RegenBenchError(f"dataset {dataset!r} has no task that model {model!r} can do")
    for task in tasks:
        kind = kind_of(task)
        if kind.name in kinds:
            continue
        if kind is RANKING:
            raise RegenBenchError(f"model {model!r} does not recommend items, so it cannot run task {task!r}")
        if kind is TEXT:
            raise RegenBenchError(f"model {model!r} only recommends items; it cannot run task {task!r}")
        raise RegenBenchError(f"model {model!r} has no {kind.model_method}(), so it cannot run task {task!r}")


def plan_run(config, loaded, model_cls: type[Model], dataset_name: str) -> RunPlan:
    """Tasks (the given ones, else every one the dataset and model allow), metrics and k.

    `config` is a RunConfig, `loaded` the load stage's LoadedExamples.
    """
    kinds = set(model_cls.task_kinds())
    if config.tasks:
        tasks = list(config.tasks)
    else:
        has_targets = any(t is not None for t in as_example_set(loaded.examples).target_item_ids())
        tasks = default_tasks(loaded.available_tasks, has_targets, kinds)
    check_tasks(tasks, kinds, config.model, dataset_name)
    ranks = any(kind_of(t) is RANKING for t in tasks)
    return RunPlan(
        tasks=tasks,
        metric_names=list(config.metrics) or default_metrics(tasks),
        k=config.k if ranks else None,
        hash_k=config.k if ranks and config.k != DEFAULT_K else None,
    )


def metrics_of_kind(kind: str) -> list[str]:
    """The registered metrics that score tasks of `kind`, by name."""
    entries = get_registry().entries["metric"]
    return sorted(name for name, entry in entries.items() if entry.cls.kind == kind)


def check_metric_kinds(tasks: list[str], metrics: list[Metric], *, tasks_given: bool) -> None:
    """Fail before any work when the run would score nothing it was asked for.

    A task named with `--task` needs at least one metric of its kind; a run of the
    default tasks needs one task with a metric of its kind (the others stay unscored,
    as before). The error names the metrics that fit."""
    for metric in metrics:
        if is_pairwise(metric):
            raise RegenBenchError(f"metric {metric.spec!r} judges two runs against each other: use "
                                  f"`regen-bench compare RUN_A RUN_B --metric {metric.name}`")
    kinds = {metric.kind for metric in metrics}
    unscored = [task for task in tasks if kind_of(task).name not in kinds]
    if not unscored or (not tasks_given and len(unscored) < len(tasks)):
        return
    task = unscored[0]
    kind = kind_of(task).name
    chosen = ", ".join(m.spec for m in metrics)
    fits = ", ".join(metrics_of_kind(kind)) or "(none registered)"
    raise RegenBenchError(
        f"task {task!r} is a {kind} task, and no selected metric ({chosen}) scores {kind} tasks; "
        f"add --metric with one of: {fits} (or leave out --metric for the defaults)"
    )


def cache_keys(plan: RunPlan, model_config: dict, seed: int, split_hash: str, dataset_sha256: str) -> CacheKeys:
    config_hash = run_config_hash(model_config, seed, split_hash, plan.tasks, k=plan.hash_k)
    return CacheKeys(config_hash=config_hash, run_key=GenerationCache.run_key(config_hash, dataset_sha256))
