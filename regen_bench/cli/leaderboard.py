"""`regen-bench leaderboard ...`: the click group other modules add commands to."""

from __future__ import annotations

from pathlib import Path

import click

from regen_bench.leaderboard.build import build as build_leaderboard


@click.group()
def leaderboard():
    """Build the published leaderboards from results files."""


@leaderboard.command()
@click.option("--results", "results_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("leaderboards/results"), show_default=True,
              help="Folder searched (recursively) for results files and their samples.jsonl.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("leaderboards"),
              show_default=True, help="Where README.md, leaderboard.csv/.json, index.html and plots/ are written.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the paired bootstrap tests.")
@click.option("--bootstrap", "resamples", type=click.IntRange(min=10), default=1000, show_default=True,
              help="Resamples of the paired bootstrap tests against the best row.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots (no matplotlib needed).")
@click.option("--force", is_flag=True, help="Include runs that scored a task on fewer than 30 examples.")
def build(results_dir, out_dir, seed, resamples, no_plots, force):
    """Write Markdown, CSV, JSON, an HTML page and plots for every dataset x task."""
    report = build_leaderboard(results_dir, out_dir, seed=seed, resamples=resamples, plots=not no_plots, force=force)
    for line in report.refused:
        click.echo(f"refused {line}", err=True)
    for path in report.skipped:
        click.echo(f"skipped incomplete run folder {path} (a run still writing, or killed before it finished; "
                   "delete it if no run is writing it)", err=True)
    for warning in report.board.warnings:
        click.echo(f"warning: {warning}", err=True)
    for path in report.removed:
        click.echo(f"removed stale plot {path}", err=True)
    board = report.board
    click.echo(
        f"{len(board.tables)} tables ({len(board.datasets)} datasets) from {report.runs} results files -> {out_dir}/: "
        + ", ".join(sorted(p.relative_to(out_dir).as_posix() for p in report.files if p.parent == out_dir))
        + (f", {sum(1 for p in report.files if p.parent != out_dir)} plots" if not no_plots else "")
    )
