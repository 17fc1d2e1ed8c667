"""Results as pandas DataFrames: scores (tidy), samples (one row per example and task), many
runs at once (`load_runs`), and the leaderboard's tables (`leaderboard_frame`).

pandas is imported inside each function: `regen-bench --help` and `import regen_bench` never
load it. It is a dependency of the core already (through `datasets`), so nothing more is
installed for it.

The tidy scores frame has one row per (run, task, metric component), with the columns
`SCORE_COLUMNS`; every number is copied from a results file, never recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.leaderboard.table import Leaderboard
from regen_bench.results.loader import RESULTS_FILE, load_run, results_file
from regen_bench.results.samples_parquet import PARQUET_FILE, SCORE_PREFIX, read_samples_table, rows_from_table
from regen_bench.results.schema import RunResults, SampleRow, ScoreEntry, load_results

SCORE_COLUMNS = ["run", "model", "dataset", "split", "task", "metric", "component", "score", "ci_low",
                 "ci_high", "n", "higher_is_better", "status", "signature"]
SAMPLE_COLUMNS = ["run", "model", "dataset", "task", "example_id", "user_id", "prediction", "reference"]


def _score_record(results: RunResults | None, entry: ScoreEntry) -> dict:
    return {
        "run": results.run_id if results else None, "model": results.model.name if results else None,
        "dataset": results.dataset.name if results else None, "split": results.dataset.split if results else None,
        "task": entry.task, "metric": entry.metric, "component": entry.component, "score": entry.score,
        "ci_low": entry.ci_low, "ci_high": entry.ci_high, "n": entry.n, "higher_is_better": entry.higher_is_better,
        "status": entry.status, "signature": entry.signature,
    }


def scores_frame(entries: Iterable[ScoreEntry], results: RunResults | None = None):
    """A tidy DataFrame of score entries (`SCORE_COLUMNS`); run, model and dataset from `results`."""
    import pandas as pd  # deferred: pandas only where a frame is asked for

    return pd.DataFrame([_score_record(results, e) for e in entries], columns=SCORE_COLUMNS)


def samples_frame(rows: Iterable[SampleRow], results: RunResults | None = None):
    """One row per example and task: the prediction, the reference and one column per
    per-example score component (NaN where the component did not score the row)."""
    import pandas as pd  # deferred, as above

    rows = list(rows)
    components = sorted({name for row in rows for name in row.scores})
    records = []
    for row in rows:
        record = {"run": results.run_id if results else None, "model": results.model.name if results else None,
                  "dataset": results.dataset.name if results else None, "task": row.task,
                  "example_id": row.example_id, "user_id": row.user_id, "prediction": row.prediction,
                  "reference": row.reference}
        record.update({name: row.scores.get(name) for name in components})
        records.append(record)
    frame = pd.DataFrame(records, columns=SAMPLE_COLUMNS + components)
    return frame.astype({name: "float64" for name in components})


def run_dirs(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """Run folders: each path a run folder, a results.json, or a folder searched for results.json files."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.exists():
            raise RegenBenchError(f"{path}: no such file or folder")
        if path.is_file() or (path / RESULTS_FILE).is_file():
            found.append(results_file(path).parent)
            continue
        found.extend(sorted(p.parent for p in path.rglob(RESULTS_FILE)
                            if not any(part.startswith(".") for part in p.relative_to(path).parts)))
    if not found:
        raise RegenBenchError(f"no results.json under {', '.join(map(str, paths))}")
    return found


def run_samples(run_dir: Path) -> tuple[RunResults, list[SampleRow]]:
    """A run's results and its samples: samples.parquet when the run wrote one (it must carry
    the sha256 of the samples.jsonl the run recorded; faster to read), else samples.jsonl
    (its sha256 checked)."""
    parquet = run_dir / PARQUET_FILE
    if parquet.is_file():
        results = load_results(run_dir / RESULTS_FILE)
        return results, rows_from_table(read_samples_table(parquet, expected_sha256=results.samples.sha256))
    loaded = load_run(run_dir)
    return loaded.results, loaded.rows or []


def load_runs(paths, *, samples: bool = False):
    """The tidy scores of many runs as one DataFrame (and, `samples=True`, their samples too:
    returns (scores, samples)). `paths`: run folders, results.json files, or folders holding runs."""
    import pandas as pd  # deferred, as above

    score_frames, sample_frames = [], []
    for run_dir in run_dirs(paths):
        if samples:
            results, rows = run_samples(run_dir)
            sample_frames.append(samples_frame(rows, results))
        else:
            results = load_run(run_dir).results
        score_frames.append(scores_frame(results.scores, results))
    scores = pd.concat(score_frames, ignore_index=True)
    if not samples:
        return scores
    return scores, pd.concat(sample_frames, ignore_index=True)


def leaderboard_frame(board: Leaderboard):
    """The leaderboard's tables as one tidy DataFrame: a row per (table row, column) with the
    score, its CI and n, whether it is the column's best, and the significance mark against it."""
    import pandas as pd  # deferred, as above

    records = []
    for table in board.tables:
        for row in table.rows:
            for column in table.columns:
                cell = row.cells.get(column.key)
                if cell is None:
                    continue
                e = cell.entry
                mark = cell.comparison.to_json() if cell.comparison else {}
                records.append({
                    "dataset": table.dataset.name, "synthetic": table.dataset.synthetic, "split": table.dataset.split,
                    "task": table.task, "row": row.label, "model": row.results.model.name,
                    "run": row.results.run_id, "metric": column.metric, "component": column.component,
                    "score": e.score, "ci_low": e.ci_low, "ci_high": e.ci_high, "n": e.n,
                    "higher_is_better": column.higher_is_better, "best": cell.best,
                    "significantly_worse": bool(mark.get("worse")) if mark else None,
                    "p_value": mark.get("p_value") if mark else None, "signature": e.signature,
                })
    return pd.DataFrame(records)


__all__ = ["SCORE_COLUMNS", "SCORE_PREFIX", "leaderboard_frame", "load_runs", "run_dirs", "run_samples",
           "samples_frame", "scores_frame"]
