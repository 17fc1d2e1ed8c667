"""Results files in, leaderboard files out: README.md, leaderboard.csv, leaderboard.json,
index.html and plots/*.png. Same results files, byte-identical outputs: everything is
sorted, nothing records when or where it was built, floats print one way."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.data.splits import MIN_SCORED_EXAMPLES
from regen_bench.leaderboard.collect import Collection, collect_runs
from regen_bench.leaderboard.plots import check_plotting_available, plot_table
from regen_bench.leaderboard.render_csv import render_csv
from regen_bench.leaderboard.render_html import render_html
from regen_bench.leaderboard.render_json import render_json
from regen_bench.leaderboard.render_markdown import render_markdown
from regen_bench.leaderboard.table import Leaderboard, build_leaderboard
from regen_bench.util.atomic import atomic_write_text, atomic_writer

PLOTS_DIR = "plots"


@dataclass
class BuildReport:
    board: Leaderboard
    files: list[Path]
    runs: int
    removed: list[Path]
    skipped: list[Path] = field(default_factory=list)  # `.incomplete-*` folders a killed run left
    refused: list[str] = field(default_factory=list)  # runs on too few examples, one line each


def _refuse_small_runs(collection: Collection, force: bool) -> list[str]:
    """Leave out runs that scored a task on fewer than MIN_SCORED_EXAMPLES examples (their
    intervals say little, and a row of n=1 would be ranked beside rows of n=300), unless forced."""
    refused, kept = [], []
    for run in collection.runs:
        small = {task: n for task, n in sorted(run.results.dataset.n_examples_by_task.items())
                 if n < MIN_SCORED_EXAMPLES}
        if small and not force:
            shown = ", ".join(f"{task} n={n}" for task, n in small.items())
            refused.append(f"{run.relpath}: {shown} (fewer than {MIN_SCORED_EXAMPLES} examples; "
                           "--force includes it)")
        else:
            kept.append(run)
    collection.runs = kept
    if not kept:
        raise RegenBenchError("every results file was refused for too few examples: " + "; ".join(refused))
    return refused


def _relative_link(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()


def build(results_dir: Path, out_dir: Path, *, seed: int = 0, resamples: int = 1000, plots: bool = True,
          force: bool = False) -> BuildReport:
    results_dir, out_dir = Path(results_dir), Path(out_dir)
    if plots:
        check_plotting_available()  # fail before any work, with the fix in the message
    collection = collect_runs(results_dir)
    refused = _refuse_small_runs(collection, force)
    board = build_leaderboard(collection, seed=seed, resamples=resamples)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    plot_paths: dict[str, str] = {}
    removed: list[Path] = []
    if plots:
        plots_dir = out_dir / PLOTS_DIR
        for table in board.tables:
            name = f"{table.slug}.png"
            path = plots_dir / name
            with atomic_writer(path, "wb") as handle:
                handle.write(plot_table(table))
            written.append(path)
            plot_paths[table.id] = f"{PLOTS_DIR}/{name}"
        # Plots of tables that no longer exist would be stale numbers: remove them.
        for stale in sorted(plots_dir.glob("*.png")):
            if stale not in written:
                stale.unlink()
                removed.append(stale)
    run_links = {run.relpath: _relative_link(run.path, out_dir) for run in collection.runs}
    outputs = {
        "README.md": render_markdown(board, plot_paths, run_links, _relative_link(results_dir, out_dir) + "/"),
        "leaderboard.csv": render_csv(board),
        "leaderboard.json": render_json(board),
        "index.html": render_html(board),
    }
    for name, text in outputs.items():
        atomic_write_text(out_dir / name, text)
        written.append(out_dir / name)
    return BuildReport(board=board, files=written, runs=len(collection.runs), removed=removed, skipped=collection.incomplete,
                       refused=refused)
