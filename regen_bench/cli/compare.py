"""`regen-bench compare`: paired comparison of two runs on the examples both scored."""

from __future__ import annotations

import json
from pathlib import Path

import click

from regen_bench.results.compare import ADJUSTMENT, compare_runs
from regen_bench.results.report import format_table

HEADERS = ["task", "metric", "A", "B", "B - A", "95% CI of B - A", "p", f"p ({ADJUSTMENT})", "n", "verdict"]


def _format_number(value: float) -> str:
    if value != value:  # NaN
        return "nan"
    return f"{value:.2f}" if abs(value) >= 1.5 else f"{value:.4f}"


def _format_p(value: float, resamples: int) -> str:
    """p as 3 significant digits; 0 (no resample on the other side of 0) as the bound it is."""
    if value != value:
        return "nan"
    return f"<{2 / resamples:.2g}" if value == 0 else f"{value:.3g}"


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

    RUN_A and RUN_B are run directories (or their results.json). The CI and p come from
    one percentile bootstrap distribution; p (Holm) is adjusted over all rows.
    """
    comparison = compare_runs(run_a, run_b, seed=seed, resamples=resamples, force=force)  # errors: cli/group.py
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
            _format_number(row.diff), f"[{row.ci_low:.4g}, {row.ci_high:.4g}]", _format_p(row.p_value, resamples),
            _format_p(row.p_holm, resamples), str(row.n), row.verdict,
        ])
    click.echo(format_table(HEADERS, rows))
