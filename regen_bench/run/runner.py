"""`regen-bench run`: load -> plan -> split -> fit -> generate -> score -> write.

`run_benchmark` only chains the stages (run/plan.py, run/stages.py, run/record.py).
Generation is the expensive, resumable stage: an executor (run/executor.py) runs the
batches still missing from the SQLite generation cache, each finished batch is cached
as it arrives, and fit is skipped when nothing is left to generate. `--executor ray`
(run/ray_executor.py) runs the batches on a Ray cluster whose workers also write cache
shards; they are merged into the main cache before it is read (a killed run resumes from
them) and again before scoring, and the executor scores the heavy metrics there too.
"""

from __future__ import annotations

import sys
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from regen_bench.contracts.errors import RegenBenchError, UnknownNameError
from regen_bench.contracts.tasks import DEFAULT_K
from regen_bench.data.reader import BadRecordReport
from regen_bench.data.splits import SplitConfig
from regen_bench.plugin.registry import get_registry
from regen_bench.plugin.specs import build_metrics, build_plugin
from regen_bench.results.schema import RunResults
from regen_bench.results.scoring import use_scorer
from regen_bench.run.checks import check_enough_data, fit_errors, print_warnings
from regen_bench.run.executor import Executor, LocalExecutor
from regen_bench.run.generation_cache import GenerationCache
from regen_bench.run.plan import cache_keys, check_metric_kinds, plan_run
from regen_bench.run.ray_executor import RayExecutor
from regen_bench.run.record import check_output_dir, results_record, write_run
from regen_bench.run.stages import (
    Generated,
    drop_failed,
    fit_stage,
    generate_stage,
    load_stage,
    make_batches,
    merged_outputs,
    read_cache,
    score_stage,
    split_stage,
)
from regen_bench.stats.bootstrap import DEFAULT_RESAMPLES
from regen_bench.util.paths import cache_dir


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
    executor: str = "local"  # how generation batches are run (run/executor.py, EXECUTORS below)
    ray_address: str | None = None  # --executor ray: an existing cluster; None: a local one for the run
    progress: bool = True
    command: list[str] = field(default_factory=list)


EXECUTORS: dict[str, type[Executor]] = {LocalExecutor.name: LocalExecutor, RayExecutor.name: RayExecutor}


def build_executor(config: RunConfig) -> Executor:
    if config.executor == RayExecutor.name:
        return RayExecutor(address=config.ray_address)
    if config.ray_address:
        raise RegenBenchError(f"--ray-address is an option of --executor ray, not of --executor {config.executor}")
    try:
        return EXECUTORS[config.executor]()
    except KeyError:
        raise UnknownNameError("executor", config.executor, list(EXECUTORS)) from None


@dataclass
class RunOutcome:
    run_dir: Path
    results: RunResults
    generated: int
    cached: int


class StageClock:
    """Seconds per stage, in the order they first ran (results.json `timings`)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str):
        started = time.perf_counter()
        yield
        self.seconds[stage] = time.perf_counter() - started


def report_skipped(bad: BadRecordReport) -> None:
    """`--on-bad-record skip`: how many lines were left out, and the first reasons, on stderr."""
    if bad.count:
        print(f"warning: {bad.summary()}", file=sys.stderr)


def run_benchmark(config: RunConfig) -> RunOutcome:
    clock = StageClock()
    model_cls = get_registry().get("model", config.model).cls
    executor = build_executor(config)
    model = build_plugin("model", config.model, config.model_args)  # bad options fail before any work
    check_output_dir(config.output)  # `--output /dev/null` fails before any work too
    with clock("load"):
        source = load_stage(config.dataset, config.dataset_args, on_bad_record=config.on_bad_record,
                            task_map=config.task_map, tasks=config.tasks)
        plan = plan_run(config, source.data, model_cls, source.name)
        metrics = build_metrics(plan.metric_names, config.metric_args)
        check_metric_kinds(plan.tasks, metrics, tasks_given=bool(config.tasks))
        report_skipped(source.data.bad)
    with clock("split"):
        evaluation = split_stage(source.data.examples, plan.tasks, split_config=config.split_config,
                                 split=config.split, limit=config.limit, dataset_name=source.name)
        warnings = check_enough_data(evaluation, plan.tasks, source.data.layout, split=config.split,
                                     dataset=source.name)
    model_config = model.config()
    keys = cache_keys(plan, model_config, config.seed, evaluation.splits.split_hash, source.data.sha256)
    clock.seconds.update(fit=0.0, generate=0.0)  # they stay 0 when everything is cached
    generated = Generated()
    with closing(executor), closing(GenerationCache(cache_dir() / "generations.sqlite")) as cache:
        executor.start(cache.path, keys.run_key)
        cache.merge_shards(keys.run_key)  # what a killed run's workers finished
        cached = read_cache(cache, keys.run_key, evaluation.per_task)
        if cached.n_missing:
            with clock("fit"), fit_errors(model.name, evaluation.splits, source.name):
                fit_stage(model, evaluation.splits, plan.tasks, config.seed)
            with clock("generate"):
                batches = make_batches(cached.missing, model.batch_size, config.k)
                generated = generate_stage(model, executor, batches, cache, keys.run_key, progress=config.progress)
                cache.merge_shards(keys.run_key)  # the driver has them all; the shards are spent
        scored_on = drop_failed(evaluation, generated.failed)
        with clock("score"), use_scorer(executor.metric_scorer()):
            scored = score_stage(scored_on, merged_outputs(cached.outputs, generated.outputs), metrics,
                                 seed=config.seed, resamples=config.resamples, progress=config.progress)
        executor_info = executor.info()
    n_generated = cached.n_missing - generated.n_failed
    write_started = time.perf_counter()

    def make_results(written):  # inside write_run: results.json lands in the same folder rename
        clock.seconds["write"] = time.perf_counter() - write_started  # samples.jsonl written so far
        return results_record(
            config, source=source, evaluation=scored_on, plan=plan, model=model, model_config=model_config,
            keys=keys, metrics=metrics, scored=scored, written=written, timings=clock.seconds,
            cache={"cached": cached.n_cached, "generated": n_generated, "failed": generated.n_failed},
            executor=executor_info,
        )

    written, results = write_run(config.output, model.name, source.name, keys.config_hash, scored.rows, make_results)
    print_warnings(warnings)  # about the result (few examples), so after it is written
    return RunOutcome(run_dir=written.run_dir, results=results, generated=n_generated, cached=cached.n_cached)
