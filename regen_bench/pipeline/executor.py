"""Executors: how the generate stage gets a fitted model's outputs for a list of batches.

The generate stage (pipeline/stages.py) reads the generation cache, cuts what is still
missing into `Batch`es of `model.batch_size` examples, hands them to an executor and
writes each `FinishedBatch` to the cache as soon as the executor yields it, so a killed
run loses at most the batches in flight. It also checks that every batch came back with
one output per example. Two executors exist: `local` (here) and `ray`
(pipeline/ray_executor.py); `RunConfig.executor` picks one by name (`EXECUTORS` in
pipeline/runner.py, which knows both).

The interface, for whoever adds an executor:

- `run(model, batches)` receives the model already built and fitted (`fit` ran in this
  process; generation must not refit it) and the batches still missing from the cache.
  A batch is self-contained: its task, the task's kind (`contracts/tasks.py`: which
  model method to call), its examples, and `k` for ranking tasks. The model may be
  copied to other processes (pickled) and called there; an executor that does so
  must send the same fitted state to every worker (Ray: one `ray.put` of the model,
  read once by each actor of the pool). A model may hold `ExampleSet`s: they pickle as
  their Arrow file's path and row indices, so workers must see the same cache folder.
- It yields one `FinishedBatch` per batch it was given, EXACTLY ONCE each, with the
  outputs the model method returned for that batch (one per example, in the batch's
  example order; `None` for an example that failed, which is neither cached nor scored
  and is retried by the next run). It must not merge, split or drop batches.
- Batches may be yielded in any order (the local executor keeps the given order). The
  run's results do not depend on the order, only on the outputs.
- An exception raised by the model ends the run; batches already yielded stay cached.
- `produce(model, batch)` is the one way to call the model on a batch; use it. It shows
  the model each example's `model_input(task)` (`contracts/examples.py`), never the
  `Example` itself: a model sees a test user's inputs, not the answers it is scored on.
- The runner calls `start(cache_path, run_key)` before `run` (an executor whose workers
  write their own cache shards puts them beside `cache_path`: SQLite has one writer per
  file; `GenerationCache.merge_shards` folds them in), `info()` for results.json (the
  executor and the size of what it ran on), `metric_scorer()` for the score stage (None:
  every metric in this process) and `close()` at the end, killed or not.
- Rate limits stay global: a worker process calls `share_limits(service)` before it
  builds the model's clients, and every rate limiter built there books its slots with
  that one service (`shared_limits()`; plugins/api_client/rate_limit.py), not its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Iterator

from regen_bench.contracts.examples import Example
from regen_bench.contracts.model import Model
from regen_bench.contracts.tasks import RANKING, TaskKind


@dataclass(frozen=True)
class Batch:
    """Examples of one task that one model call answers."""

    task: str
    kind: TaskKind
    examples: list[Example]
    k: int | None = None  # items asked of recommend() (ranking tasks only)


@dataclass(frozen=True)
class FinishedBatch:
    batch: Batch
    outputs: list  # one per example of `batch`, in order; None: that example failed


def produce(model: Model, batch: Batch) -> list:
    """The model's outputs for one batch, from the method the task's kind names.

    The model gets each example's inputs for the task (`Example.model_input`), without its
    references or (for next_item) its target; the batch keeps the full examples for scoring.
    """
    method = getattr(model, batch.kind.model_method)
    inputs = [example.model_input(batch.task) for example in batch.examples]
    if batch.kind is RANKING:
        return method(inputs, k=batch.k)
    return method(inputs, batch.task)


class Executor:
    """Runs batches of a fitted model; see the module docstring for the contract."""

    name: ClassVar[str] = ""

    def start(self, cache_path: Path, run_key: str) -> None:
        """Called once before `run`, with the main cache file and the run's cache key."""

    def run(self, model: Model, batches: Iterable[Batch]) -> Iterator[FinishedBatch]:
        raise NotImplementedError

    def info(self) -> dict[str, Any]:
        """results.json's `executor`: name, nodes, cpus, gpus, workers (see results/schema.ExecutorInfo)."""
        return {"name": self.name, "nodes": 1, "cpus": float(os.cpu_count() or 1), "gpus": 0.0, "workers": 1}

    def metric_scorer(self) -> Callable | None:
        """A scorer for results/scoring.use_scorer, or None: every metric scores in this process."""
        return None

    def close(self) -> None:
        """Release what `start` or `run` took (a cluster connection, worker processes)."""


class LocalExecutor(Executor):
    """In this process, one batch at a time, in the order given."""

    name = "local"

    def run(self, model: Model, batches: Iterable[Batch]) -> Iterator[FinishedBatch]:
        for batch in batches:
            yield FinishedBatch(batch, produce(model, batch))


# -- rate limits shared by the workers of one run -------------------------------------

_SHARED_LIMITS: list = [None]  # this process's limit service; set in a worker by its executor


def share_limits(service) -> None:
    """Make every rate limiter built in this process from now on book its slots with `service`
    (an object with `reserve(key, tokens) -> seconds`, `areserve` (async, same), and
    `settle(key, estimated, actual)`), so N workers together keep one rpm/tpm. None: stop."""
    _SHARED_LIMITS[0] = service


def shared_limits():
    """The limit service `share_limits` set in this process, or None (each limiter keeps its own)."""
    return _SHARED_LIMITS[0]
