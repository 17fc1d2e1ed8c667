"""`regen-bench run`: load -> plan -> split -> fit -> generate -> score -> write.

`run_benchmark` only chains the stages (pipeline/plan.py, pipeline/stages.py, pipeline/record.py).
Generation is the expensive, resumable stage: an executor (pipeline/executor.py) runs the
batches still missing from the SQLite generation cache, each finished batch is cached
as it arrives, and fit is skipped when nothing is left to generate. `--executor ray`
(pipeline/ray_executor.py) runs the batches on a Ray cluster whose workers also write cache
shards; they are merged into the main cache before it is read (a killed run resumes from
them) and again before scoring, and the executor scores the heavy metrics there too.
"""

from __future__ import annotations

import inspect
import sys
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from regen_bench.contracts.errors import RegenBenchError, UnknownNameError
from regen_bench.contracts.metric import Metric
from regen_bench.contracts.model import Model
from regen_bench.contracts.tasks import DEFAULT_K
from regen_bench.data.reader import BadRecordReport
from regen_bench.data.splits import SplitConfig
from regen_bench.pipeline.checks import check_enough_data, fit_errors, print_warnings
from regen_bench.pipeline.executor import Executor, LocalExecutor
from regen_bench.pipeline.generation_cache import GenerationCache
from regen_bench.pipeline.plan import cache_keys, check_metric_kinds, plan_run
from regen_bench.pipeline.ray_executor import RayExecutor
from regen_bench.pipeline.record import check_output_dir, results_record, write_run
from regen_bench.pipeline.stages import (
    Generated,
    Source,
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
from regen_bench.pipeline.trackers import Logged, log_to_trackers
from regen_bench.plugin.registry import get_registry
from regen_bench.plugin.specs import build_loggers, build_metrics, build_plugin
from regen_bench.results.schema import RunResults
from regen_bench.results.scoring import use_scorer
from regen_bench.stats.bootstrap import DEFAULT_RESAMPLES
from regen_bench.util.hashing import sha256_text
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
    executor: str = "local"  # how generation batches are run (pipeline/executor.py, EXECUTORS below)
    ray_address: str | None = None  # --executor ray: an existing cluster; None: a local one for the run
    progress: bool = True
    samples_format: str = "jsonl"  # parquet: samples.parquet beside samples.jsonl (pipeline/record.py)
    command: list[str] = field(default_factory=list)
    # Experiment trackers to send the written run to (`NAME[:ARG]`, pipeline/trackers.py), and their options.
    log_to: list[str] = field(default_factory=list)
    logger_args: dict[str, dict[str, str]] = field(default_factory=dict)


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
    logged: list[Logged] = field(default_factory=list)  # what each --log-to logger did with the written run


class StageClock:
    """Seconds per stage, in the order they first ran (results.json `timings`)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str):
        started = time.perf_counter()
        yield
        self.seconds[stage] = time.perf_counter() - started


def _unregistered(model: Model) -> bool:
    entry = get_registry().entries["model"].get(model.name)
    return entry is None or entry.cls is not type(model)


def recorded_config(model: Model, *, unregistered: bool) -> dict:
    """`model.config()`; for an instance of a class no plugin registers (one defined in a
    notebook), plus the sha256 of its class's source, so that editing the class in a
    notebook never reads the old code's outputs from the generation cache (code outside
    the class body, such as a helper function it calls, is not in the hash)."""
    model_config = model.config()
    if unregistered:
        try:
            source = inspect.getsource(type(model))
        except (OSError, TypeError):  # no source (defined in a plain REPL): no cache either
            source = f"unseen-{time.time_ns()}"
        model_config["source_sha256"] = sha256_text(source)
    return model_config


def report_skipped(bad: BadRecordReport) -> None:
    """`--on-bad-record skip`: how many lines were left out, and the first reasons, on stderr."""
    if bad.count:
        print(f"warning: {bad.summary()}", file=sys.stderr)


def run_benchmark(config: RunConfig, *, model: Model | None = None, source: Source | None = None,
                  metrics: list[Metric] | None = None) -> RunOutcome:
    """The run `config` names. From Python (`regen_bench.run`), `model` may be an instance
    (registered or not; `config.model` is then its name), `source` an already loaded
    dataset and `metrics` instances (`config.metrics` then holds their names), so a
    notebook neither registers a class nor reloads the data."""
    clock = StageClock()
    given_model = model is not None
    if given_model and config.model_args:
        raise RegenBenchError("model options go to the model's constructor when a Model instance is given")
    model_cls = type(model) if model is not None else get_registry().get("model", config.model).cls
    executor = build_executor(config)
    if model is None:
        model = build_plugin("model", config.model, config.model_args)  # bad options fail before any work
    loggers = build_loggers(config.log_to, config.logger_args)  # so do unknown trackers and missing libraries
    check_output_dir(config.output)  # `--output /dev/null` fails before any work too
    with clock("load"):
        if source is None:
            source = load_stage(config.dataset, config.dataset_args, on_bad_record=config.on_bad_record,
                                task_map=config.task_map, tasks=config.tasks)
        plan = plan_run(config, source.data, model_cls, source.name)
        if metrics is None:
            metrics = build_metrics(plan.metric_names, config.metric_args)
        check_metric_kinds(plan.tasks, metrics, tasks_given=bool(config.tasks))
        report_skipped(source.data.bad)
    with clock("split"):
        evaluation = split_stage(source.data.examples, plan.tasks, split_config=config.split_config,
                                 split=config.split, limit=config.limit, dataset_name=source.name)
        warnings = check_enough_data(evaluation, plan.tasks, source.data.layout, split=config.split,
                                     dataset=source.name)
    model_config = recorded_config(model, unregistered=given_model and _unregistered(model))
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

    written, results = write_run(config.output, model.name, source.name, keys.config_hash, scored.rows, make_results,
                                 samples_format=config.samples_format)
    print_warnings(warnings)  # about the result (few examples), so after it is written
    logged = log_to_trackers(loggers, written.run_dir, results)  # a tracker that fails only warns: the run is written
    return RunOutcome(run_dir=written.run_dir, results=results, generated=n_generated, cached=cached.n_cached,
                      logged=logged)
