"""The stages of a run, each a function from typed inputs to a typed output.

load -> (plan, pipeline/plan.py) -> split -> read cache -> fit -> generate -> drop failed -> score
-> write (pipeline/record.py). `run_benchmark` (pipeline/runner.py) chains them; fit and generate
run only when the generation cache lacks some outputs.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from tqdm.auto import tqdm  # a widget in Jupyter (with ipywidgets), text in a terminal

from regen_bench.contracts.dataset import DatasetProvider
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.example_set import as_example_set
from regen_bench.contracts.examples import Example
from regen_bench.contracts.metric import Metric
from regen_bench.contracts.model import ContractError, Model
from regen_bench.contracts.tasks import RANKING, kind_of, task_kind
from regen_bench.data.loading import LoadedExamples, load_dataset_examples
from regen_bench.data.sources import resolve_dataset
from regen_bench.data.splits import SplitConfig, Splits, split_users_by_hash
from regen_bench.pipeline.executor import Batch, Executor
from regen_bench.pipeline.generation_cache import GenerationCache
from regen_bench.plugin.failures import describe_instance
from regen_bench.plugin.registry import loaded_registry
from regen_bench.results.schema import SampleRow, ScoreEntry
from regen_bench.results.scoring import score_rows

Outputs = dict[str, dict[str, object]]  # task -> example id -> output (a narrative or a ranked list)


def progress_bar(total: int, desc: str, enabled: bool) -> tqdm:
    """A progress bar, silent when not `enabled` (`--quiet`, `regen_bench.run(progress=False)`).
    In a terminal it writes to stderr; in a notebook tqdm's auto front end draws a widget."""
    return tqdm(total=total, desc=desc, unit="ex", disable=not enabled, file=sys.stderr, leave=False)


# -- load ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    name: str  # the dataset's name (a registered name, or the file's name)
    provider: DatasetProvider
    data: LoadedExamples


def load_stage(dataset: str, dataset_args: dict[str, str], *, on_bad_record: str,
               task_map: dict[str, str], tasks: list[str]) -> Source:
    name, provider = resolve_dataset(dataset, dataset_args)
    data = load_dataset_examples(provider, on_bad_record=on_bad_record, task_overrides=task_map, tasks=tasks or None)
    return Source(name=name, provider=provider, data=data)


# -- split -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    splits: Splits
    examples: list[Example]  # the evaluated split, by example id, cut to --limit
    per_task: dict[str, list[Example]]  # the examples each task is scored on


def split_stage(examples: Sequence[Example], tasks: list[str], *, split_config: SplitConfig, split: str,
                limit: int | None, dataset_name: str) -> Evaluation:
    """Split by user from the id column; sort the evaluated split by id, cut it to `limit`, and
    build the Examples of only those rows."""
    splits = split_users_by_hash(as_example_set(examples), split_config)
    evaluated = splits.get(split).sorted_by_id()
    if limit is not None:
        evaluated = evaluated[:limit]
    if not len(evaluated):
        raise RegenBenchError(f"the {split} split of {dataset_name!r} is empty; use a larger dataset")
    scored = {task: evaluated.has_reference(task) for task in tasks}
    built = list(evaluated)
    per_task = {task: [e for e, keep in zip(built, scored[task]) if keep] for task in tasks}
    return Evaluation(splits=splits, examples=built, per_task=per_task)


# -- read the generation cache ---------------------------------------------------------


@dataclass(frozen=True)
class CacheLookup:
    outputs: Outputs  # what the cache already holds
    missing: dict[str, list[Example]]  # per task, the examples still to generate

    @property
    def n_cached(self) -> int:
        return sum(len(v) for v in self.outputs.values())

    @property
    def n_missing(self) -> int:
        return sum(len(v) for v in self.missing.values())


def read_cache(cache: GenerationCache, run_key: str, per_task: dict[str, list[Example]]) -> CacheLookup:
    outputs: Outputs = {}
    missing: dict[str, list[Example]] = {}
    for task, examples in per_task.items():
        outputs[task] = cache.get_many(run_key, task, [e.example_id for e in examples])
        missing[task] = [e for e in examples if e.example_id not in outputs[task]]
    return CacheLookup(outputs=outputs, missing=missing)


# -- fit -------------------------------------------------------------------------------


def fit_stage(model: Model, splits: Splits, tasks: list[str], seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    model.fit(splits.train, splits.validation, tasks=tasks, seed=seed)


# -- generate --------------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    outputs: Outputs = field(default_factory=dict)  # the outputs made now (cached as they came)
    failed: dict[str, list[str]] = field(default_factory=dict)  # task -> ids that came back None

    @property
    def n_failed(self) -> int:
        return sum(len(v) for v in self.failed.values())


def make_batches(missing: dict[str, list[Example]], batch_size: int, k: int) -> list[Batch]:
    """The missing examples cut into batches of `batch_size`, task by task, in order."""
    size = max(1, int(batch_size))
    batches = []
    for task, examples in missing.items():
        kind = kind_of(task)
        for start in range(0, len(examples), size):
            batches.append(Batch(task, kind, examples[start : start + size], k if kind is RANKING else None))
    return batches


def _batch_key(batch: Batch) -> tuple[str, str]:
    # Batches partition each task's examples, so (task, first example) names one.
    return batch.task, batch.examples[0].example_id


def _output_problem(batch: Batch, output) -> str | None:
    """What is wrong with one output for `batch`'s kind (None: nothing, or a failed example)."""
    if output is None:  # a failed example: retried by the next run
        return None
    if batch.kind is RANKING:
        if not isinstance(output, (list, tuple)):
            return f"is {type(output).__name__}"
        bad = next((item for item in output if not isinstance(item, str)), None)
        if bad is not None:
            return f"holds a {type(bad).__name__} ({bad!r:.40})"
        return None
    return None if isinstance(output, str) else f"is {type(output).__name__} ({output!r:.40})"


def check_outputs(model: Model, batch: Batch, produced) -> list:
    """`produced` as a list when it keeps `model`'s contract for `batch`; else a ContractError naming the model.

    Checked before anything is cached, so a broken model leaves no bad output behind.
    """
    method = f"{batch.kind.model_method}()"
    expected = f"one output per example ({batch.kind.output}, or None for one that failed)"
    who = describe_instance(model, "model", loaded_registry())
    if not isinstance(produced, (list, tuple)):
        raise ContractError(f"{who}: {method} returned {type(produced).__name__} for task "
                            f"{batch.task!r}; expected a list with {expected}")
    if len(produced) != len(batch.examples):
        raise ContractError(f"{who} returned {len(produced)} outputs for a batch of "
                            f"{len(batch.examples)} ({batch.task}) from {method}; expected {expected}")
    for i, (example, output) in enumerate(zip(batch.examples, produced)):
        problem = _output_problem(batch, output)
        if problem is not None:
            what = "the item ids of a ranking (a list of str)" if batch.kind is RANKING else batch.kind.output
            raise ContractError(f"{who}: {method} output {i} (example {example.example_id}, task "
                                f"{batch.task!r}) {problem}; expected {what}. Nothing of this batch was cached")
    return list(produced)


def generate_stage(model: Model, executor: Executor, batches: list[Batch], cache: GenerationCache,
                   run_key: str, *, progress: bool = False) -> Generated:
    """Run `batches` through `executor`; write each finished batch to the cache as it arrives."""
    generated = Generated()
    pending = {_batch_key(b) for b in batches}
    with progress_bar(sum(len(b.examples) for b in batches), f"generate ({model.name})", progress) as bar:
        for finished in executor.run(model, batches):
            batch, produced = finished.batch, finished.outputs
            if _batch_key(batch) not in pending:
                raise RegenBenchError(f"executor {executor.name!r} returned a batch it was not given, or one twice")
            pending.discard(_batch_key(batch))
            produced = check_outputs(model, batch, produced)
            # None means "this one failed" (e.g. an API call that ran out of retries):
            # not cached, so the next run retries exactly these.
            fresh = {e.example_id: out for e, out in zip(batch.examples, produced) if out is not None}
            generated.failed.setdefault(batch.task, []).extend(
                e.example_id for e, out in zip(batch.examples, produced) if out is None)
            cache.put_many(run_key, batch.task, fresh)
            generated.outputs.setdefault(batch.task, {}).update(fresh)
            bar.update(len(batch.examples))
    if pending:
        raise RegenBenchError(f"executor {executor.name!r} did not return {len(pending)} of {len(batches)} batches")
    return generated


def drop_failed(evaluation: Evaluation, failed: dict[str, list[str]]) -> Evaluation:
    """The evaluation less the examples whose generation failed (with a warning): what is scored."""
    n_failed = sum(len(v) for v in failed.values())
    if not n_failed:
        return evaluation
    print(f"warning: {n_failed} generations failed and are left out of the scores; "
          "run the same command again to retry only those", file=sys.stderr)
    lost = {task: set(ids) for task, ids in failed.items()}
    per_task = {task: [e for e in examples if e.example_id not in lost.get(task, ())]
                for task, examples in evaluation.per_task.items()}
    return replace(evaluation, per_task=per_task)


def merged_outputs(cached: Outputs, fresh: Outputs) -> Outputs:
    return {task: {**outputs, **fresh.get(task, {})} for task, outputs in cached.items()}


# -- score -----------------------------------------------------------------------------


@dataclass
class Scored:
    rows: list[SampleRow]  # with per-example scores filled in, in task then example order
    scores: list[ScoreEntry]
    metric_usage: dict  # API usage of the metrics, by metric name


def sample_rows(per_task: dict[str, list[Example]], outputs: Outputs) -> list[SampleRow]:
    return [
        SampleRow(task=task, example_id=e.example_id, user_id=e.user_id, prediction=outputs[task][e.example_id],
                  reference=e.reference(task))
        for task, examples in per_task.items() for e in examples
    ]


def score_stage(evaluation: Evaluation, outputs: Outputs, metrics: list[Metric], *, seed: int, resamples: int,
                progress: bool = False) -> Scored:
    """Score every example of `evaluation.per_task` (its examples are the metrics' context)."""
    rows = sample_rows(evaluation.per_task, outputs)
    n_jobs = sum(1 for task in evaluation.per_task for m in metrics if m.kind == task_kind(task))
    metric_usage: dict = {}
    with progress_bar(n_jobs, "score", progress) as bar:
        scores = score_rows(rows, metrics, seed=seed, resamples=resamples,
                            examples_by_id={e.example_id: e for e in evaluation.examples}, progress=bar,
                            usage=metric_usage)
    return Scored(rows=rows, scores=scores, metric_usage=metric_usage)
