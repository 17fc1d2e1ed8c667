"""`regen-bench leaderboard validate` and `regen-bench compare`.

`validate` is a standalone click command; the CLI attaches it with
`leaderboard.add_command(validate)`. `compare` is a top-level command.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.results.compare import compare_runs
from regen_bench.results.loader import results_file
from regen_bench.results.report import format_table
from regen_bench.results.schema import ResultsFileError
from regen_bench.results.validate import validate_results


@click.command("validate")
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--with-dataset", is_flag=True,
              help="Also load the run's dataset: check references, re-run metrics that read histories.")
@click.option("--strict", is_flag=True, help="Also reject a file with scores that could not be recomputed.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
def validate(results, with_dataset, strict, as_json):
    """Check results files: schema, signatures, samples sha256, every score recomputed.

    RESULTS are results.json files or run directories. Exit status: 0 accepted,
    1 rejected (with --strict: also when a score could not be recomputed), 2 a file
    missing or unreadable.
    """
    status = 0
    reports = []
    for given in results:
        path = results_file(given)
        try:
            report = validate_results(path, with_dataset=with_dataset)
        except ResultsFileError as exc:
            click.echo(f"error: {exc}", err=True)
            reports.append({"path": str(path), "ok": False, "error": str(exc)})
            status = 2
            continue
        reports.append(report.as_dict())
        if not as_json:
            click.echo(report.format())
        rejected = not report.ok or (strict and not report.fully_verified)
        if rejected and status == 0:
            status = 1
        if strict and report.ok and not report.fully_verified and not as_json:
            click.echo("REJECTED (--strict): some scores were not recomputed")
    if as_json:
        click.echo(json.dumps(reports if len(reports) > 1 else reports[0], indent=2))
    sys.exit(status)


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
