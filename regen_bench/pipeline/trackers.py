"""Sending a written run to experiment trackers: `run --log-to NAME` and `regen-bench log RUN_DIR`.

The loggers (`RunLogger` plugins, `register_loggers`) are built with `build_loggers`
before a run does any work, so an unknown name, a bad option or a missing library stops
it at once. They are called after the run folder is written: a logger that raises loses
nothing. Its failure is one `warning:` line on stderr naming the logger, its error and
the command that logs the run again, and it is recorded nowhere in the run (results.json
is already on disk and says nothing about trackers).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.logger import FinishedRun, RunLogger
from regen_bench.plugin.failures import describe_instance
from regen_bench.plugin.host import short_error
from regen_bench.plugin.registry import loaded_registry
from regen_bench.results.schema import RunResults


@dataclass(frozen=True)
class Logged:
    """What one logger did with a run: where it went (`where`, when it says), or its `error`."""

    logger: str  # the spec it was named by: `mlflow`, `mlflow:http://host:5000`
    where: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def finished_run(run_dir: Path, results: RunResults) -> FinishedRun:
    """The run as a logger is given it: the folder and results.json as JSON data."""
    return FinishedRun(run_dir=Path(run_dir), results=results.model_dump(mode="json"))


def failure_text(exc: Exception) -> str:
    """An error for people as its message; anything else as `Type: message (at file.py:line)`; one line."""
    text = str(exc) if isinstance(exc, RegenBenchError) else short_error(exc)
    return " ".join(text.split())


def again_command(logger: RunLogger, run_dir: Path) -> str:
    """`regen-bench log RUN_DIR --to SPEC`, saying so when the logger was given options besides its spec's."""
    given = set(logger.options.model_dump(exclude_defaults=True)) - {logger.spec_option}
    same = " (with the same --logger-arg options)" if given else ""
    return f"regen-bench log {run_dir} --to {logger.spec}{same}"


def log_to_trackers(loggers: list[RunLogger], run_dir: Path, results: RunResults) -> list[Logged]:
    """Log the written run with each logger, in order; one that raises is a warning, and the next still runs."""
    run = finished_run(run_dir, results)
    outcomes = []
    for logger in loggers:
        try:
            where = logger.log_run(run)
        except Exception as exc:  # the run is written: a tracker's failure must not lose it
            error = failure_text(exc)
            who = describe_instance(logger, "logger", loaded_registry())
            print(f"warning: {who} failed to log run {run.run_id}: {error}. The run is written in {run.run_dir}; "
                  f"log it again with: {again_command(logger, run.run_dir)}", file=sys.stderr)
            outcomes.append(Logged(logger.spec, error=error))
            continue
        outcomes.append(Logged(logger.spec, where=str(where) if where is not None else None))
    return outcomes
