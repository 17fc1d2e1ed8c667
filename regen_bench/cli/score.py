"""`regen-bench score`: re-score a run's saved samples without the model."""

from __future__ import annotations

import json
from pathlib import Path

import click

from regen_bench.cli.options import metric_args_by_metric
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.tasks import default_metrics
from regen_bench.plugin.specs import build_metrics
from regen_bench.results.report import format_table
from regen_bench.results.rescoring import examples_for_results
from regen_bench.results.schema import load_results, read_samples
from regen_bench.results.scoring import score_rows


@click.command()
@click.argument("samples", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--metric", "metrics", multiple=True, help="Metric (repeatable); default: as for run.")
@click.option("--metric-arg", "metric_args", multiple=True, metavar="METRIC.KEY=VALUE")
@click.option("--seed", type=int, default=None, help="Bootstrap seed; default: the run's seed, else 0.")
@click.option("--bootstrap", "resamples", type=click.IntRange(min=10), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print scores as JSON.")
def score(samples, metrics, metric_args, seed, resamples, as_json):
    """Re-score a run's saved samples.jsonl without the model."""
    rows = read_samples(samples)
    if not rows:
        raise RegenBenchError(f"{samples}: no samples to score")
    results_path = samples.parent / "results.json"
    run_results = load_results(results_path) if results_path.exists() else None
    if seed is None:
        seed = run_results.seed if run_results is not None else 0
    metric_objs = build_metrics(list(metrics) or default_metrics({row.task for row in rows}), metric_args_by_metric(metric_args))
    examples_by_id = None
    if run_results is not None:
        examples_by_id, note = examples_for_results(run_results)
        if note:
            click.echo(f"note: {note}", err=True)
    for row in rows:
        row.scores.clear()
    entries = score_rows(rows, metric_objs, seed=seed, resamples=resamples, examples_by_id=examples_by_id)
    if as_json:
        click.echo(json.dumps([e.model_dump() for e in entries], indent=2))
        return
    table = [[e.task, e.component, f"{e.score:.4f}", f"[{e.ci_low:.4g}, {e.ci_high:.4g}]", str(e.n)] for e in entries]
    click.echo(format_table(["task", "metric", "score", "95% CI", "n"], table))
    for signature in sorted({e.signature for e in entries}):
        click.echo(f"signature: {signature}")
