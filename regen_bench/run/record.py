"""The write stage: a new run directory, its samples.jsonl, and the results.json record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from regen_bench import __version__
from regen_bench.contracts.metric import Metric
from regen_bench.contracts.model import Model
from regen_bench.results.schema import (
    BootstrapInfo,
    DatasetInfo,
    HarnessInfo,
    MetricRecord,
    ModelInfo,
    RunResults,
    SampleRow,
    SamplesInfo,
    ScoreEntry,
    write_samples,
)
from regen_bench.run.plan import CacheKeys, RunPlan
from regen_bench.run.stages import Evaluation, Scored, Source
from regen_bench.util.environment import environment_info, harness_git_sha


def metric_record(metric: Metric, signatures: dict[str, str]) -> MetricRecord:
    description = (metric.description or "").strip().splitlines()
    return MetricRecord(
        name=metric.name, spec=metric.spec,
        options=metric.options.model_dump(mode="json"), version=str(metric.version), kind=metric.kind,
        higher_is_better=bool(metric.higher_is_better), description=description[0] if description else "",
        signature=signatures.get(metric.name) or metric.signature(),
        context_components=list(metric.context_components),
    )


def metric_records(metrics: list[Metric], scores: list[ScoreEntry]) -> list[MetricRecord]:
    """One record per metric that scored something, with the signature it scored under."""
    signatures = {e.metric: e.signature for e in scores}
    return [metric_record(m, signatures) for m in metrics if any(e.metric == m.name for e in scores)]


def new_run_dir(output: Path, model: str, dataset: str, config_hash: str) -> tuple[str, Path]:
    """A run id and directory name not taken yet under `output` (the directory is not made)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = f"{stamp}-{model}-{dataset}-{config_hash[:8]}"
    run_id, suffix = base, 1
    while (output / run_id).exists():
        suffix += 1
        run_id = f"{base}-{suffix}"
    return run_id, output / run_id


@dataclass(frozen=True)
class WrittenSamples:
    run_id: str
    run_dir: Path
    samples: SamplesInfo


def write_samples_stage(output: Path, model: str, dataset: str, config_hash: str,
                        rows: list[SampleRow]) -> WrittenSamples:
    run_id, run_dir = new_run_dir(Path(output), model, dataset, config_hash)
    run_dir.mkdir(parents=True, exist_ok=False)
    ordered = sorted(rows, key=lambda r: (r.task, r.example_id))
    sha = write_samples(run_dir / "samples.jsonl", ordered)
    return WrittenSamples(run_id=run_id, run_dir=run_dir, samples=SamplesInfo(sha256=sha, rows=len(ordered)))


def run_usage(model: Model, metric_usage: dict) -> dict:
    """The model's API usage, with the metrics' under "metrics" when they used any."""
    usage = dict(model.usage())
    if metric_usage:
        usage["metrics"] = metric_usage
    return usage


def dataset_info(source: Source, evaluation: Evaluation, config) -> DatasetInfo:
    """What was evaluated: the data's identity, options and split, and how many examples per task."""
    return DatasetInfo(
        name=source.name, source=str(source.data.path), sha256=source.data.sha256,
        synthetic=bool(source.provider.synthetic), split=config.split,
        split_hash=evaluation.splits.split_hash, split_config=config.split_config.model_dump(),
        n_examples=len(evaluation.examples), n_examples_by_task={t: len(v) for t, v in evaluation.per_task.items()},
        layout=source.data.layout.model_dump(), options=source.provider.options.model_dump(mode="json"),
        bad_records_skipped=source.data.bad.count,
    )


def results_record(config, *, source: Source, evaluation: Evaluation, plan: RunPlan, model: Model,
                   model_config: dict, keys: CacheKeys, metrics: list[Metric], scored: Scored,
                   written: WrittenSamples, cache: dict[str, int], timings: dict[str, float]) -> RunResults:
    """The results.json record of a run; `config` is its RunConfig, `evaluation` what was scored."""
    return RunResults(
        run_id=written.run_id,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        harness=HarnessInfo(version=__version__, git_sha=harness_git_sha()),
        dataset=dataset_info(source, evaluation, config),
        model=ModelInfo(name=model.name, config=model_config, config_hash=keys.config_hash, info=model.info()),
        seed=config.seed,
        tasks=plan.tasks,
        k=plan.k,
        bootstrap=BootstrapInfo(resamples=config.resamples, confidence=0.95, seed=config.seed),
        metrics=metric_records(metrics, scored.scores),
        scores=scored.scores,
        samples=written.samples,
        cache=cache,
        usage=run_usage(model, scored.metric_usage),
        timings={name: round(seconds, 4) for name, seconds in timings.items()},
        environment=environment_info(),
        command=config.command,
    )
