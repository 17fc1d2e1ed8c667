"""Executors: how the generate stage gets a fitted model's outputs for a list of batches.

The generate stage (run/stages.py) reads the generation cache, cuts what is still
missing into `Batch`es of `model.batch_size` examples, hands them to an executor and
writes each `FinishedBatch` to the cache as soon as the executor yields it, so a killed
run loses at most the batches in flight. It also checks that every batch came back with
one output per example. Today there is one executor, `local`; `RunConfig.executor`
(`EXECUTORS` below) picks one by name.

The interface, for whoever adds an executor (the next one runs batches on Ray):

- `run(model, batches)` receives the model already built and fitted (`fit` ran in this
  process; generation must not refit it) and the batches still missing from the cache.
  A batch is self-contained: its task, the task's kind (`contracts/tasks.py`: which
  model method to call), its examples, and `k` for ranking tasks. The model may be
  copied to other processes (pickled) and called there; an executor that does so
  must send the same fitted state to every worker.
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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterable, Iterator

from regen_bench.contracts.errors import UnknownNameError
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

    def run(self, model: Model, batches: Iterable[Batch]) -> Iterator[FinishedBatch]:
        raise NotImplementedError


class LocalExecutor(Executor):
    """In this process, one batch at a time, in the order given."""

    name = "local"

    def run(self, model: Model, batches: Iterable[Batch]) -> Iterator[FinishedBatch]:
        for batch in batches:
            yield FinishedBatch(batch, produce(model, batch))


EXECUTORS: dict[str, type[Executor]] = {LocalExecutor.name: LocalExecutor}


def build_executor(name: str) -> Executor:
    try:
        return EXECUTORS[name]()
    except KeyError:
        raise UnknownNameError("executor", name, list(EXECUTORS)) from None
