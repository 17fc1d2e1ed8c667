"""`regen-bench compare`: paired comparison of two runs on the examples both scored."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.results.compare import compare_runs
from regen_bench.results.report import format_table


def _format_number(value: float) -> str:
    if value != value:  # NaN
        return "nan"
    return f"{value:.2f}" if abs(value) >= 1.5 else f"{value:.4f}"


@click.command("compare")
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--bootstrap", "resamples", type=click.IntRange(min=10), default=1000, show_default=True,
              help="Bootstrap resamples for the paired test.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
@click.option("--force", is_flag=True, help="Compare even when the runs used different data or splits.")
def compare(run_a, run_b, seed, resamples, as_json, force):
    """Paired comparison of two runs on the examples both scored: B - A with a bootstrap CI and p-value.

    RUN_A and RUN_B are run directories (or their results.json).
    """
    try:
        comparison = compare_runs(run_a, run_b, seed=seed, resamples=resamples, force=force)
    except RegenBenchError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(comparison.as_dict(), indent=2))
        return
    for note in comparison.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(comparison.title())
    rows = []
    for row in comparison.rows:
        arrow = "↑" if row.higher_is_better else "↓"
        rows.append([
            row.task, f"{row.component} {arrow}", _format_number(row.mean_a), _format_number(row.mean_b),
            _format_number(row.diff), f"[{row.ci_low:.4g}, {row.ci_high:.4g}]", f"{row.p_value:.3g}",
            str(row.n), row.verdict,
        ])
    click.echo(format_table(["task", "metric", "A", "B", "B - A", "95% CI", "p", "n", ""], rows))
