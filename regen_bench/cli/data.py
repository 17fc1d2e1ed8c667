"""`regen-bench data ...`: inspect, generate and download REGEN-format data.

Exit codes: 0 success; 2 for a data error (bad record, missing file, failed
download: one `error: ...` line on stderr, no traceback, as the main group prints
every RegenBenchError) and for a usage error (click's own). `data generate` and
`data download` are added by the synthetic and regen-kaggle dataset plugins.
"""

from __future__ import annotations

import click

from regen_bench.contracts.layout import DatasetLayout
from regen_bench.data.discovery import discover, format_info


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
def info(path, as_json, on_bad_record, task_map):
    """Describe a REGEN file: users, purchases, fields and fill rates, narrative
    fields, and which tasks it can serve."""
    layout = DatasetLayout().with_overrides(_task_map(task_map))
    report = discover(path, on_bad_record=on_bad_record, layout=layout)
    click.echo(report.model_dump_json(indent=2) if as_json else format_info(report))


__all__ = ["data"]
