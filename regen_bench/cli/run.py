"""`regen-bench run`: one benchmark run, from the command line into `run_benchmark`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from regen_bench.cli.options import key_values, logger_args_by_logger, metric_args_by_metric
from regen_bench.contracts.tasks import DEFAULT_K
from regen_bench.pipeline.runner import EXECUTORS, RunConfig, run_benchmark
from regen_bench.results.report import failed_lines, format_scores


@click.command()
@click.option("--model", required=True, help="Model name (see `regen-bench list models`).")
@click.option("--dataset", default="synthetic", show_default=True, help="Dataset name or path to a REGEN .jsonl[.gz].")
@click.option("--task", "tasks", multiple=True, help="Task to run (repeatable); default: every task the dataset has.")
@click.option("--metric", "metrics", multiple=True,
              help="Metric (repeatable); default: bleu, rouge (and recall@k, ndcg@k, mrr for next_item).")
@click.option("--limit", type=click.IntRange(min=1), help="Evaluate only the first N examples of the split.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"), show_default=True)
@click.option("--model-arg", "model_args", multiple=True, metavar="KEY=VALUE", help="Model option (repeatable).")
@click.option("--metric-arg", "metric_args", multiple=True, metavar="METRIC.KEY=VALUE", help="Metric option.")
@click.option("--dataset-arg", "dataset_args", multiple=True, metavar="KEY=VALUE", help="Dataset option, e.g. users=500.")
@click.option("--task-map", "task_map", multiple=True, metavar="TASK=FIELD.PATH", help="Map a task to a field path.")
@click.option("--split", type=click.Choice(["test", "validation"]), default="test", show_default=True)
@click.option("--on-bad-record", type=click.Choice(["error", "skip"]), default="error", show_default=True)
@click.option("--bootstrap", "resamples", type=click.IntRange(min=10), default=1000, show_default=True,
              help="Bootstrap resamples for confidence intervals.")
@click.option("--k", "k", type=click.IntRange(min=1), default=DEFAULT_K, show_default=True,
              help="Items asked of recommend() for ranking tasks.")
@click.option("--executor", type=click.Choice(sorted(EXECUTORS)), default="local", show_default=True,
              help="How generation batches run: here (local) or on a Ray cluster (ray; pip install 'regen-bench[ray]').")
@click.option("--ray-address", metavar="ADDRESS",
              help="--executor ray: join this cluster (ray://HOST:10001, or auto); default: a local one for the run.")
@click.option("--samples-format", type=click.Choice(["jsonl", "parquet"]), default="jsonl", show_default=True,
              help="parquet: also write samples.parquet beside samples.jsonl (for pandas, DuckDB, datasets).")
@click.option("--log-to", "log_to", multiple=True, metavar="LOGGER[:ARG]",
              help="Also log the written run to an experiment tracker (repeatable): mlflow, wandb "
                   "(see `regen-bench list loggers`).")
@click.option("--logger-arg", "logger_args", multiple=True, metavar="LOGGER:KEY=VALUE",
              help="Logger option, e.g. mlflow:tracking_uri=file:///tmp/mlruns (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--allow-failed-metrics", is_flag=True,
              help="Exit 0 even when a metric scored no example (it is recorded as failed either way).")
def run(model, dataset, tasks, metrics, limit, seed, output, model_args, metric_args, dataset_args, task_map,
        split, on_bad_record, resamples, k, executor, ray_address, samples_format, log_to, logger_args, quiet,
        allow_failed_metrics):
    """Load a dataset, fit a model, generate, score, and write results.

    Exits 1, after writing the results, when a metric scored no example (a judge whose
    every answer was unparsable), unless --allow-failed-metrics.
    """
    config = RunConfig(
        model=model, dataset=dataset, tasks=list(tasks), metrics=list(metrics),
        limit=limit, seed=seed, output=output, model_args=key_values(model_args, "--model-arg"),
        metric_args=metric_args_by_metric(metric_args), dataset_args=key_values(dataset_args, "--dataset-arg"),
        task_map=key_values(task_map, "--task-map"), split=split, on_bad_record=on_bad_record,
        resamples=resamples, k=k, executor=executor, ray_address=ray_address, samples_format=samples_format,
        progress=not quiet, command=["regen-bench", *sys.argv[1:]],
        log_to=list(log_to), logger_args=logger_args_by_logger(logger_args),
    )
    outcome = run_benchmark(config)
    click.echo(format_scores(outcome.results))
    click.echo(
        f"\n{outcome.generated} generated, {outcome.cached} from cache. "
        f"Results: {outcome.run_dir / 'results.json'}"
    )
    for logged in outcome.logged:  # a failed one was a warning already
        if logged.ok:
            click.echo(f"Logged to {logged.logger}" + (f": {logged.where}" if logged.where else ""))
    failed = failed_lines(outcome.results.scores)
    for line in failed:
        click.echo(line, err=True)
    if failed and not allow_failed_metrics:
        click.echo("error: a metric scored no example; the results are written with its scores marked failed. "
                   "Fix the metric (or its API) and re-score with `regen-bench score SAMPLES --output DIR`, or pass "
                   "--allow-failed-metrics to accept the run", err=True)
        sys.exit(1)
