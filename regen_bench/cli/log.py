"""`regen-bench log RUN_DIR --to NAME`: send a run already written to experiment trackers."""

from __future__ import annotations

import sys

import click

from regen_bench.cli.options import logger_args_by_logger
from regen_bench.pipeline.trackers import log_to_trackers
from regen_bench.plugin.specs import build_loggers
from regen_bench.results.loader import load_run


@click.command("log")
@click.argument("run_dir", type=click.Path(exists=True))
@click.option("--to", "log_to", multiple=True, required=True, metavar="LOGGER[:ARG]",
              help="Experiment tracker to log the run to (repeatable): mlflow, wandb (see `regen-bench list loggers`).")
@click.option("--logger-arg", "logger_args", multiple=True, metavar="LOGGER:KEY=VALUE",
              help="Logger option, e.g. mlflow:tracking_uri=file:///tmp/mlruns (repeatable).")
def log(run_dir, log_to, logger_args):
    """Log a written run (RUN_DIR, or its results.json) to experiment trackers, as `run --log-to` does.

    The run is read with its checks (its samples.jsonl must be the one it wrote). Exits 1
    when a logger failed; the others still log.
    """
    loggers = build_loggers(list(log_to), logger_args_by_logger(logger_args))
    loaded = load_run(run_dir)
    logged = log_to_trackers(loggers, loaded.path.parent, loaded.results)
    for outcome in logged:
        if outcome.ok:
            click.echo(f"Logged {loaded.results.run_id} to {outcome.logger}"
                       + (f": {outcome.where}" if outcome.where else ""))
    if not all(outcome.ok for outcome in logged):
        sys.exit(1)
