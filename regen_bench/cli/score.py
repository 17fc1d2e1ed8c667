"""`regen-bench score`: re-score a run's saved samples without the model.

With `--output DIR` the re-scored run is written as a new run folder (samples.jsonl and
results.json, written by the run's own write stage, `regen_bench.pipeline.record`), whose
`rescored_from` names the run it re-scored (its run_id and the sha256 of its results.json
and samples.jsonl). The new results file keeps the source run's scores of every metric
not re-scored, so it can replace the source run in a leaderboard.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from regen_bench.cli.options import metric_args_by_metric
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.tasks import default_metrics
from regen_bench.pipeline.record import check_output_dir, metric_records, write_run, written_now
from regen_bench.plugin.specs import build_metrics
from regen_bench.results.report import failed_lines, format_table, score_cells
from regen_bench.results.rescoring import examples_for_results
from regen_bench.results.schema import (
    RescoredFrom,
    RunResults,
    SampleRow,
    ScoreEntry,
    load_results,
    read_samples,
)
from regen_bench.results.scoring import score_rows
from regen_bench.util.hashing import sha256_file


def _kept_scores(source: RunResults, rescored: set[str], rows: list[SampleRow]) -> list[ScoreEntry]:
    """The source's entries of the metrics not re-scored (`rescored`: specs, so `bleu:1` beside a
    recorded `bleu` keeps it); the rows lose the per-example values of those re-scored."""
    specs = {m.name: {r.spec for r in source.metrics if r.name == m.name} for m in source.metrics}
    replaced = {name for name, named in specs.items() if named and named <= rescored}
    dropped = {e.component for e in source.scores if e.metric in replaced}
    kept = [e for e in source.scores if e.metric not in replaced]
    still_used = {e.component for e in kept}
    for row in rows:
        for name in dropped - still_used:
            row.scores.pop(name, None)
    return kept


def _without_rescored(kept: list[ScoreEntry], entries: list[ScoreEntry]) -> list[ScoreEntry]:
    """The kept entries less any that a new entry (same task, metric and component) replaces."""
    new = {(e.task, e.metric, e.component) for e in entries}
    return [e for e in kept if (e.task, e.metric, e.component) not in new]


def _check_same_bootstrap(source: RunResults, seed: int, resamples: int, kept: list[ScoreEntry]) -> None:
    if kept and (seed, resamples) != (source.bootstrap.seed, source.bootstrap.resamples):
        raise RegenBenchError(
            f"--output keeps {len(kept)} score(s) of the run made with bootstrap seed {source.bootstrap.seed} and "
            f"{source.bootstrap.resamples} resamples; re-score with those (drop --seed/--bootstrap) or give every "
            "metric of the run with --metric")


def _rescored_results(source: RunResults, source_path: Path, samples: Path, scores: list[ScoreEntry], metrics,
                      rows: list[SampleRow], output: Path, *, seed: int, resamples: int, metric_usage: dict,
                      seconds: float) -> tuple[RunResults, Path]:
    """Write the new run folder (whole, as a run does): the source run with the new scores, pointing at the source."""
    rescored = {m.spec for m in metrics}
    records = [m for m in source.metrics if m.spec not in rescored] + metric_records(metrics, scores)
    usage = dict(source.usage)
    if metric_usage:
        usage["metrics"] = {**(usage.get("metrics") or {}), **metric_usage}
    provenance = RescoredFrom(run_id=source.run_id, results_sha256=sha256_file(source_path),
                              samples_sha256=sha256_file(samples))

    def make_results(written) -> RunResults:
        results = source.model_copy(update={
            "run_id": written.run_id,
            **written_now(seed=seed, resamples=resamples),
            "metrics": records, "scores": scores, "samples": written.samples, "usage": usage,
            "timings": {**source.timings, "rescore": round(seconds, 4)},
            "command": ["regen-bench", *sys.argv[1:]],
            "rescored_from": provenance,
        })
        return RunResults.model_validate(results.model_dump())

    # "-rescored" in the run id: never the source's id, even when written in the same second
    written, results = write_run(output, source.model.name, f"{source.dataset.name}-rescored",
                                 source.model.config_hash, rows, make_results)
    return results, written.run_dir


@click.command()
@click.argument("samples", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--metric", "metrics", multiple=True, help="Metric (repeatable); default: as for run.")
@click.option("--metric-arg", "metric_args", multiple=True, metavar="METRIC.KEY=VALUE")
@click.option("--seed", type=int, default=None, help="Bootstrap seed; default: the run's seed, else 0.")
@click.option("--bootstrap", "resamples", type=click.IntRange(min=10), default=None,
              help="Bootstrap resamples; default: the run's, else 1000.")
@click.option("--json", "as_json", is_flag=True, help="Print scores as JSON.")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the re-scored run as a new run folder under DIR (needs the run's results.json).")
def score(samples, metrics, metric_args, seed, resamples, as_json, output):
    """Re-score a run's saved samples.jsonl without the model."""
    rows = read_samples(samples)
    if not rows:
        raise RegenBenchError(f"{samples}: no samples to score")
    results_path = samples.parent / "results.json"
    run_results = load_results(results_path) if results_path.exists() else None
    if output is not None and run_results is None:
        raise RegenBenchError(f"{results_path}: not found; --output needs the run's results.json beside "
                              f"{samples.name} to record where the new run comes from")
    if seed is None:
        seed = run_results.bootstrap.seed if run_results is not None else 0
    if resamples is None:
        resamples = run_results.bootstrap.resamples if run_results is not None else 1000
    if output is not None:
        check_output_dir(output)  # a bad --output fails before any scoring
    metric_objs = build_metrics(list(metrics) or default_metrics({row.task for row in rows}),
                                metric_args_by_metric(metric_args))
    examples_by_id = None
    if run_results is not None:
        examples_by_id, note = examples_for_results(run_results)
        if note:
            click.echo(f"note: {note}", err=True)
    kept: list[ScoreEntry] = []
    if output is not None:
        kept = _kept_scores(run_results, {m.spec for m in metric_objs}, rows)
        _check_same_bootstrap(run_results, seed, resamples, kept)
    else:
        for row in rows:
            row.scores.clear()
    started, usage = time.perf_counter(), {}
    entries = score_rows(rows, metric_objs, seed=seed, resamples=resamples, examples_by_id=examples_by_id,
                         usage=usage)
    if output is not None:
        kept = _without_rescored(kept, entries)
        written, run_dir = _rescored_results(run_results, results_path, samples, kept + entries, metric_objs, rows,
                                             output, seed=seed, resamples=resamples, metric_usage=usage,
                                             seconds=time.perf_counter() - started)
        click.echo(f"Re-scored run {written.run_id} (from {run_results.run_id}): {run_dir / 'results.json'}",
                   err=as_json)
    if as_json:
        click.echo(json.dumps([e.model_dump() for e in entries], indent=2))
    else:
        table = [[e.task, e.component, *score_cells(e)] for e in entries]
        click.echo(format_table(["task", "metric", "score", "95% CI", "n"], table))
        for signature in sorted({e.signature for e in entries}):
            click.echo(f"signature: {signature}")
    for line in failed_lines(entries):
        click.echo(line, err=True)
