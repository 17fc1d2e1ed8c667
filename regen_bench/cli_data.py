"""`regen-bench data ...`: inspect, generate and download REGEN-format data.

Exit codes: 0 success; 2 for a data error (bad record, missing file, failed
download: one `error: ...` line on stderr, no traceback) and for a usage error
(click's own).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from regen_bench.errors import RegenBenchError

DATA_ERROR_EXIT = 2


def _data_errors(func):
    """Print a RegenBenchError as one `error: ...` line on stderr and exit 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RegenBenchError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(DATA_ERROR_EXIT)

    return wrapper


def _task_map(pairs: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        task, sep, path = pair.partition("=")
        if not sep or not task.strip() or not path.strip():
            raise click.BadParameter(f"expected TASK=FIELD.PATH, got {pair!r}", param_hint="--task-map")
        parsed[task.strip()] = path.strip()
    return parsed


@click.group()
def data():
    """Inspect, generate and download REGEN-format data."""


@data.command()
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--on-bad-record", type=click.Choice(["error", "skip"]), default="error", show_default=True,
    help="Stop at the first malformed line, or skip malformed lines and count them.",
)
@click.option(
    "--task-map", "task_map", multiple=True, metavar="TASK=FIELD.PATH",
    help="Map a task to a field path (repeatable), e.g. user_summary=user.long_summary.",
)
@_data_errors
def info(path, as_json, on_bad_record, task_map):
    """Describe a REGEN file: users, purchases, fields and fill rates, narrative
    fields, and which tasks it can serve."""
    from regen_bench.discovery import discover, format_info
    from regen_bench.layout import DatasetLayout

    layout = DatasetLayout().with_overrides(_task_map(task_map))
    report = discover(path, on_bad_record=on_bad_record, layout=layout)
    click.echo(report.model_dump_json(indent=2) if as_json else format_info(report))


@data.command()
@click.option("--users", type=click.IntRange(min=1), default=None, help="Number of users [default: the generator's].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="File to write (.jsonl or .jsonl.gz).",
)
@_data_errors
def generate(users, seed, output):
    """Write a seeded synthetic dataset in REGEN's format (labelled synthetic)."""
    from regen_bench import synthetic

    if users is None:
        users = synthetic.DEFAULT_USERS
    written = synthetic.write_dataset(output, users, seed)
    click.echo(f"wrote {users:,} synthetic users (seed {seed}) to {written}")


@data.command()
@click.argument("name", type=click.Choice(["regen-office", "regen-clothing"]))
@click.option(
    "--dest", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Download into this folder instead of kagglehub's cache.",
)
@click.option("--force", is_flag=True, help="Download again even if kagglehub has it cached.")
@_data_errors
def download(name, dest, force):
    """Download REGEN from Kaggle (kagglehub) and remember where its files are."""
    from regen_bench import kaggle_source

    path = kaggle_source.download(name, dest, force=force)
    click.echo(f"{name}: {path}")
    click.echo(f"registered in {kaggle_source.registry_path()}; use it with --dataset {name}")


__all__ = ["data"]
