"""`regen-bench run`: load -> split -> fit -> generate -> score -> write.

Generation is the expensive, resumable stage: each finished batch goes to the
SQLite generation cache before the next starts, and fit is skipped when nothing
is left to generate.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from regen_bench import __version__
from regen_bench.stats.bootstrap import DEFAULT_RESAMPLES
from regen_bench.contracts.dataset import DatasetProvider, LocalFileDataset
from regen_bench.util.environment import environment_info, harness_git_sha
from regen_bench.contracts.errors import RegenBenchError, UnknownNameError
from regen_bench.run.generation_cache import GenerationCache
from regen_bench.util.hashing import run_config_hash
from regen_bench.contracts.layout import DatasetLayout
from regen_bench.contracts.model import Model
from regen_bench.util.paths import cache_dir
from regen_bench.plugin.registry import get_registry
from regen_bench.results.schema import (
    BootstrapInfo, DatasetInfo, HarnessInfo, MetricRecord, ModelInfo, RunResults, SampleRow, SamplesInfo,
    write_results, write_samples,
)
from regen_bench.contracts.tasks import DEFAULT_K, default_metrics, task_kind
from regen_bench.data.sources import resolve_dataset
from regen_bench.plugin.specs import build_metrics
from regen_bench.results.scoring import score_rows
from regen_bench.data.splits import SplitConfig, split_users_by_hash



@dataclass
class RunConfig:
    model: str
    dataset: str = "synthetic"
    tasks: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)  # empty: defaults for the tasks run
    limit: int | None = None
    seed: int = 0
    output: Path = Path("runs")
    model_args: dict[str, str] = field(default_factory=dict)
    metric_args: dict[str, dict[str, str]] = field(default_factory=dict)
    dataset_args: dict[str, str] = field(default_factory=dict)
    task_map: dict[str, str] = field(default_factory=dict)
    split: str = "test"
    split_config: SplitConfig = field(default_factory=SplitConfig)
    on_bad_record: str = "error"
    resamples: int = DEFAULT_RESAMPLES
    k: int = DEFAULT_K  # items asked of recommend() for ranking tasks
    executor: str = "local"  # how generation batches are run (run/executor.py)
    progress: bool = True
    command: list[str] = field(default_factory=list)


@dataclass
class RunOutcome:
    run_dir: Path
    results: RunResults
    generated: int
    cached: int


def metric_record(metric, signatures: dict[str, str]) -> MetricRecord:
    description = (metric.description or "").strip().splitlines()
    return MetricRecord(
        name=metric.name, spec=metric.spec,
        options=metric.options.model_dump(mode="json"), version=str(metric.version), kind=metric.kind,
        higher_is_better=bool(metric.higher_is_better), description=description[0] if description else "",
        signature=signatures.get(metric.name) or metric.signature(),
        context_components=list(metric.context_components),
    )


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)


def _progress(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="ex", disable=not enabled, file=sys.stderr, leave=False)


def _new_run_dir(output: Path, model: str, dataset: str, config_hash: str) -> tuple[str, Path]:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = f"{stamp}-{model}-{dataset}-{config_hash[:8]}"
    run_id, suffix = base, 1
    while (output / run_id).exists():
        suffix += 1
        run_id = f"{base}-{suffix}"
    return run_id, output / run_id


def run_benchmark(config: RunConfig) -> RunOutcome:
    from regen_bench.data.loading import load_dataset_examples

    timings: dict[str, float] = {}
    registry = get_registry()
    model_entry = registry.get("model", config.model)
    can_generate = model_entry.cls.generate is not Model.generate
    can_recommend = model_entry.cls.recommend is not Model.recommend

    started = time.perf_counter()
    dataset_name, provider = resolve_dataset(config.dataset, config.dataset_args)
    loaded = load_dataset_examples(
        provider, on_bad_record=config.on_bad_record, task_overrides=config.task_map, tasks=config.tasks or None
    )
    if config.tasks:
        tasks = list(config.tasks)
    else:  # every task the dataset has that this model can do
        tasks = [t for t in loaded.available_tasks if task_kind(t) == "text"] if can_generate else []
        if can_recommend and any(e.target is not None for e in loaded.examples):
            tasks.append("next_item")
    if not tasks:
        raise RegenBenchError(f"dataset {dataset_name!r} has no task that model {config.model!r} can do")
    for task in tasks:
        if task_kind(task) == "ranking" and not can_recommend:
            raise RegenBenchError(f"model {config.model!r} does not recommend items, so it cannot run task {task!r}")
        if task_kind(task) == "text" and not can_generate:
            raise RegenBenchError(f"model {config.model!r} only recommends items; it cannot run task {task!r}")
    metric_names = list(config.metrics) or default_metrics(tasks)
    metrics = build_metrics(metric_names, config.metric_args)
    timings["load"] = time.perf_counter() - started

    started = time.perf_counter()
    splits = split_users_by_hash(loaded.examples, config.split_config)
    eval_examples = sorted(splits.get(config.split), key=lambda e: e.example_id)
    if config.limit is not None:
        eval_examples = eval_examples[: config.limit]
    if not eval_examples:
        raise RegenBenchError(f"the {config.split} split of {dataset_name!r} is empty; use a larger dataset")
    timings["split"] = time.perf_counter() - started

    model = model_entry.cls(**config.model_args)
    model_config = model.config()
    config_hash = run_config_hash(model_config, config.seed, splits.split_hash, tasks)
    cache = GenerationCache(cache_dir() / "generations.sqlite")
    run_key = cache.run_key(config_hash, loaded.sha256)

    per_task: dict[str, list] = {}
    for task in tasks:
        if task_kind(task) == "text":
            per_task[task] = [e for e in eval_examples if task in e.references]
        else:
            per_task[task] = [e for e in eval_examples if e.target is not None]

    outputs: dict[str, dict[str, object]] = {}
    missing: dict[str, list] = {}
    for task, examples in per_task.items():
        outputs[task] = cache.get_many(run_key, task, [e.example_id for e in examples])
        missing[task] = [e for e in examples if e.example_id not in outputs[task]]
    n_cached = sum(len(v) for v in outputs.values())
    n_missing = sum(len(v) for v in missing.values())

    timings["fit"] = 0.0
    timings["generate"] = 0.0
    failed: dict[str, list[str]] = {task: [] for task in per_task}
    if n_missing:
        _seed_everything(config.seed)
        started = time.perf_counter()
        model.fit(splits.train, splits.validation, tasks=tasks, seed=config.seed)
        timings["fit"] = time.perf_counter() - started
        started = time.perf_counter()
        batch_size = max(1, int(model.batch_size))
        with _progress(n_missing, f"generate ({model.name})", config.progress) as bar:
            for task, examples in missing.items():
                for start in range(0, len(examples), batch_size):
                    batch = examples[start : start + batch_size]
                    if task_kind(task) == "ranking":
                        produced = model.recommend(batch, k=100)
                    else:
                        produced = model.generate(batch, task)
                    if len(produced) != len(batch):
                        raise RegenBenchError(
                            f"model {model.name!r} returned {len(produced)} outputs for a batch of {len(batch)} ({task})"
                        )
                    # None means "this one failed" (e.g. an API call that ran out of retries):
                    # not cached, so the next run retries exactly these.
                    fresh = {e.example_id: out for e, out in zip(batch, produced) if out is not None}
                    failed[task].extend(e.example_id for e, out in zip(batch, produced) if out is None)
                    cache.put_many(run_key, task, fresh)
                    outputs[task].update(fresh)
                    bar.update(len(batch))
        timings["generate"] = time.perf_counter() - started
    cache.close()
    n_failed = sum(len(v) for v in failed.values())
    if n_failed:
        for task in per_task:
            lost = set(failed[task])
            per_task[task] = [e for e in per_task[task] if e.example_id not in lost]
        print(f"warning: {n_failed} generations failed and are left out of the scores; "
              "run the same command again to retry only those", file=sys.stderr)

    started = time.perf_counter()
    rows: list[SampleRow] = []
    for task, examples in per_task.items():
        for example in examples:
            reference = example.references.get(task) if task_kind(task) == "text" else example.target_item_id
            rows.append(
                SampleRow(
                    task=task, example_id=example.example_id, user_id=example.user_id,
                    prediction=outputs[task][example.example_id], reference=reference,
                )
            )
    examples_by_id = {e.example_id: e for e in eval_examples}
    n_score_jobs = sum(1 for t in per_task for m in metrics if m.kind == task_kind(t))
    with _progress(n_score_jobs, "score", config.progress) as bar:
        metric_usage: dict = {}
        scores = score_rows(
            rows, metrics, seed=config.seed, resamples=config.resamples, examples_by_id=examples_by_id,
            progress=bar, usage=metric_usage,
        )
    usage = dict(model.usage())
    if metric_usage:
        usage["metrics"] = metric_usage
    timings["score"] = time.perf_counter() - started

    started = time.perf_counter()
    run_id, run_dir = _new_run_dir(Path(config.output), model.name, dataset_name, config_hash)
    run_dir.mkdir(parents=True, exist_ok=False)
    rows.sort(key=lambda r: (r.task, r.example_id))
    samples_sha = write_samples(run_dir / "samples.jsonl", rows)
    timings["write"] = time.perf_counter() - started
    results = RunResults(
        run_id=run_id,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        harness=HarnessInfo(version=__version__, git_sha=harness_git_sha()),
        dataset=DatasetInfo(
            name=dataset_name, source=str(loaded.path), sha256=loaded.sha256,
            synthetic=bool(provider.synthetic), split=config.split,
            split_hash=splits.split_hash, split_config=config.split_config.model_dump(),
            n_examples=len(eval_examples), n_examples_by_task={t: len(v) for t, v in per_task.items()},
            layout=loaded.layout.model_dump(), options=provider.options.model_dump(mode="json"),
            bad_records_skipped=loaded.bad.count,
        ),
        model=ModelInfo(name=model.name, config=model_config, config_hash=config_hash, info=model.info()),
        seed=config.seed,
        tasks=tasks,
        bootstrap=BootstrapInfo(resamples=config.resamples, confidence=0.95, seed=config.seed),
        metrics=[metric_record(m, {e.metric: e.signature for e in scores}) for m in metrics
                 if any(e.metric == m.name for e in scores)],
        scores=scores,
        samples=SamplesInfo(sha256=samples_sha, rows=len(rows)),
        cache={"cached": n_cached, "generated": n_missing - n_failed, "failed": n_failed},
        usage=usage,
        timings={k: round(v, 4) for k, v in timings.items()},
        environment=environment_info(),
        command=config.command,
    )
    write_results(run_dir / "results.json", results)
    return RunOutcome(run_dir=run_dir, results=results, generated=n_missing - n_failed, cached=n_cached)
