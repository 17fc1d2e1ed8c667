"""The write stage: a new run directory, its samples.jsonl, and the results.json record.

A run folder appears whole or not at all: both files are written into a temporary
folder beside it (`.incomplete-<run id>`, which `leaderboard build` skips) and the
folder is renamed into place once results.json is on disk (`write_run`). A run killed
before that leaves only the temporary folder, never a run folder without its results.
`check_output_dir` says, before any work, when the output folder can't be one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from regen_bench import __version__
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.metric import Metric
from regen_bench.contracts.model import Model
from regen_bench.results.samples_parquet import PARQUET_FILE, write_samples_parquet
from regen_bench.results.schema import (
    BootstrapInfo,
    DatasetInfo,
    ExecutorInfo,
    HarnessInfo,
    MetricRecord,
    ModelInfo,
    RunResults,
    SampleRow,
    SamplesInfo,
    ScoreEntry,
    write_results,
    write_samples,
)
from regen_bench.results.scoring import SCORE_CONFIDENCE
from regen_bench.util.environment import environment_info, harness_git_sha

if TYPE_CHECKING:  # annotations only: importing the stages here would load them into every
    # reader of run folders (leaderboard build, `regen-bench --help`)
    from regen_bench.pipeline.plan import CacheKeys, RunPlan
    from regen_bench.pipeline.stages import Evaluation, Scored, Source


def metric_record(metric: Metric, signatures: dict[str, str]) -> MetricRecord:
    """The record of one metric instance; its signature is the one it last scored under
    (`scored_signature`), else the entries' of its name, else its options'."""
    description = (metric.description or "").strip().splitlines()
    return MetricRecord(
        name=metric.name, spec=metric.spec,
        options=metric.options.model_dump(mode="json"), version=str(metric.version), kind=metric.kind,
        higher_is_better=bool(metric.higher_is_better), description=description[0] if description else "",
        signature=getattr(metric, "scored_signature", None) or signatures.get(metric.name) or metric.signature(),
        context_components=list(metric.context_components),
    )


def metric_records(metrics: list[Metric], scores: list[ScoreEntry]) -> list[MetricRecord]:
    """One record per metric that scored something, with the signature it scored under."""
    signatures = {e.metric: e.signature for e in scores}
    return [metric_record(m, signatures) for m in metrics if any(e.metric == m.name for e in scores)]


INCOMPLETE_PREFIX = ".incomplete-"  # a run folder being written; what is left of one when a run was killed
SAMPLES_FILE = "samples.jsonl"
SAMPLES_FORMATS = ("jsonl", "parquet")  # parquet: samples.parquet beside samples.jsonl (the record)
RESULTS_FILE = "results.json"


def is_incomplete(path: Path) -> bool:
    """Is `path` inside (or) a run folder still being written, or left by a killed run?"""
    return any(part.startswith(INCOMPLETE_PREFIX) for part in Path(path).parts)


def check_output_dir(output: Path) -> Path:
    """`output` as a folder runs can be written under (made when missing), or a RegenBenchError
    saying why not: something on the way is a file (`--output /dev/null`), or it is not writable."""
    output = Path(output)
    for existing in (output, *output.parents):
        if not existing.exists():
            continue
        if not existing.is_dir():
            what = "is" if existing == output else f"is inside {existing}, which is"
            raise RegenBenchError(f"--output {output}: {what} not a folder; give a folder for the run folders "
                                  "(default: runs)")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise RegenBenchError(f"--output {output}: {existing} is not writable; give a folder you can write to")
        break
    return output


def new_run_dir(output: Path, model: str, dataset: str, config_hash: str) -> tuple[str, Path]:
    """A run id and directory name not taken yet under `output` (the directory is not made)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = f"{stamp}-{model}-{dataset}-{config_hash[:8]}"
    run_id, suffix = base, 1
    while (output / run_id).exists() or (output / f"{INCOMPLETE_PREFIX}{run_id}").exists():
        suffix += 1
        run_id = f"{base}-{suffix}"
    return run_id, output / run_id


def _reserve_run_dir(output: Path, model: str, dataset: str, config_hash: str) -> tuple[str, Path, Path]:
    """(run id, final folder, its temporary folder, now made): the temporary folder's exclusive mkdir
    reserves the id, so two runs finishing in the same second never share a folder."""
    output.mkdir(parents=True, exist_ok=True)
    while True:
        run_id, run_dir = new_run_dir(output, model, dataset, config_hash)
        temporary = output / f"{INCOMPLETE_PREFIX}{run_id}"
        try:
            temporary.mkdir()
        except FileExistsError:
            continue  # another run took this id a moment ago
        return run_id, run_dir, temporary


@dataclass(frozen=True)
class WrittenSamples:
    run_id: str
    run_dir: Path
    samples: SamplesInfo


def _write_sorted_samples(path: Path, rows: list[SampleRow]) -> SamplesInfo:
    ordered = sorted(rows, key=lambda r: (r.task, r.example_id))
    return SamplesInfo(sha256=write_samples(path, ordered), rows=len(ordered))


def _fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (where the platform lets a folder be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_run(output: Path, model: str, dataset: str, config_hash: str, rows: list[SampleRow],
              make_results: Callable[[WrittenSamples], RunResults],
              samples_format: str = "jsonl") -> tuple[WrittenSamples, RunResults]:
    """Write a whole run folder: samples.jsonl (and, `samples_format="parquet"`, samples.parquet
    beside it), then `make_results(written)` as results.json, all in a temporary folder that
    is then renamed to `written.run_dir`. Killed at any point, the run leaves no run folder,
    only a `.incomplete-*` one."""
    if samples_format not in SAMPLES_FORMATS:
        raise RegenBenchError(f"samples format {samples_format!r}: expected one of {', '.join(SAMPLES_FORMATS)}")
    output = check_output_dir(output)
    run_id, run_dir, temporary = _reserve_run_dir(output, model, dataset, config_hash)
    samples = _write_sorted_samples(temporary / SAMPLES_FILE, rows)
    if samples_format == "parquet":
        ordered = sorted(rows, key=lambda r: (r.task, r.example_id))
        write_samples_parquet(temporary / PARQUET_FILE, ordered, samples.sha256)
    written = WrittenSamples(run_id=run_id, run_dir=run_dir, samples=samples)
    results = make_results(written)
    write_results(temporary / RESULTS_FILE, results)
    try:
        os.rename(temporary, run_dir)
    except OSError as exc:
        raise RegenBenchError(f"could not move the finished run {temporary} to {run_dir}: {exc.strerror or exc}; "
                              f"its files are complete in {temporary}") from None
    _fsync_dir(output)
    return written, results


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


def written_now(*, seed: int, resamples: int) -> dict:
    """The fields of a results file that say when, by what and how it was written (a run's
    and a re-scored run's alike)."""
    return {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "harness": HarnessInfo(version=__version__, git_sha=harness_git_sha()),
        "bootstrap": BootstrapInfo(resamples=resamples, confidence=SCORE_CONFIDENCE, seed=seed),
        "environment": environment_info(),
    }


def results_record(config, *, source: Source, evaluation: Evaluation, plan: RunPlan, model: Model,
                   model_config: dict, keys: CacheKeys, metrics: list[Metric], scored: Scored,
                   written: WrittenSamples, cache: dict[str, int], timings: dict[str, float],
                   executor: dict | None = None) -> RunResults:
    """The results.json record of a run; `config` is its RunConfig, `evaluation` what was scored."""
    return RunResults(
        run_id=written.run_id,
        **written_now(seed=config.seed, resamples=config.resamples),
        dataset=dataset_info(source, evaluation, config),
        model=ModelInfo(name=model.name, config=model_config, config_hash=keys.config_hash, info=model.info()),
        seed=config.seed,
        tasks=plan.tasks,
        k=plan.k,
        metrics=metric_records(metrics, scored.scores),
        scores=scored.scores,
        samples=written.samples,
        cache=cache,
        usage=run_usage(model, scored.metric_usage),
        timings={name: round(seconds, 4) for name, seconds in timings.items()},
        executor=ExecutorInfo(**executor) if executor else None,
        command=config.command,
    )
