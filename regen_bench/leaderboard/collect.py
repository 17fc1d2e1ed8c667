"""Find results files under a folder and read each one with its per-example log.

A results file is any `*.json` under the folder that parses as a `RunResults` (the
runner writes `<run_id>/results.json`; a flat `<run_id>.json` works too). Its
samples.jsonl is `results.samples.file` next to it, checked against the sha256 the run
recorded (`regen_bench.results.loader`): a samples file that doesn't match would put
numbers in the leaderboard that the run did not produce, so that is an error. A missing samples file is only a warning:
the run's scores still show, but nothing can be tested for significance against it.
A run with failed scores (a metric that scored no example) is collected with a warning:
those cells show as failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.pipeline.record import INCOMPLETE_PREFIX, is_incomplete
from regen_bench.results.loader import LoadedRun, run_with_samples
from regen_bench.results.schema import ResultsFormatError, parse_results, read_results_json


@dataclass
class CollectedRun(LoadedRun):
    """A run found under the results folder: `relpath` names it there (stable across machines)."""

    relpath: str = ""  # posix path relative to the results folder
    warnings: list[str] = field(default_factory=list)


@dataclass
class Collection:
    runs: list[CollectedRun]
    warnings: list[str]
    incomplete: list[Path] = field(default_factory=list)  # `.incomplete-*` folders left out, unread


def _looks_like_results(data) -> bool:
    return isinstance(data, dict) and "run_id" in data and "scores" in data and "dataset" in data


def load_run(path: Path, root: Path) -> CollectedRun | None:
    """The run in `path`, or None when the file is JSON of another kind."""
    try:
        data = read_results_json(path)
    except ResultsFormatError as exc:
        raise RegenBenchError(f"{exc}; fix or remove the file") from None
    if not _looks_like_results(data):
        return None
    try:
        results = parse_results(data, path)
    except ResultsFormatError as exc:
        where, what = exc.problems[0]
        raise RegenBenchError(
            f"{path}: {where}: {what} (not a regen-bench results file of schema "
            f"version {data.get('schema_version', '?')}; re-run or re-score it with this harness)"
        ) from None
    loaded = run_with_samples(path, results)
    run = CollectedRun(loaded.path, loaded.results, loaded.rows, relpath=path.relative_to(root).as_posix())
    if run.rows is None:
        run.warnings.append(
            f"{run.relpath}: samples file {results.samples.file} not found next to it; "
            "its scores are shown but not tested for significance"
        )
    failed = sorted({f"{e.task} {e.metric}" for e in results.scores if e.failed})
    if failed:
        run.warnings.append(f"{run.relpath}: failed metric(s), shown as failed and not ranked: {', '.join(failed)}")
    return run


def collect_runs(root: Path) -> Collection:
    """Every results file under `root`, in path order (so builds are deterministic)."""
    root = Path(root)
    if not root.is_dir():
        raise RegenBenchError(f"results folder {root} not found; pass --results DIR with the runs' results.json files")
    runs: list[CollectedRun] = []
    warnings: list[str] = []
    # A folder a run is still writing, or a killed run left (pipeline/record.py): never read, so a
    # half-written file in it cannot fail the build.
    incomplete = sorted(p for p in root.rglob(f"{INCOMPLETE_PREFIX}*") if p.is_dir())
    for path in sorted(root.rglob("*.json"), key=lambda p: p.relative_to(root).as_posix()):
        if not path.is_file() or is_incomplete(path.relative_to(root)):
            continue
        run = load_run(path, root)
        if run is None:
            continue
        runs.append(run)
        warnings.extend(run.warnings)
    if not runs and incomplete:
        raise RegenBenchError(f"no complete results files under {root} (only incomplete run folders: "
                              f"{', '.join(str(p) for p in incomplete)}); run `regen-bench run --output {root}`")
    if not runs:
        raise RegenBenchError(f"no results files under {root}; run `regen-bench run --output {root}` first")
    warnings.extend(duplicate_warnings(runs))
    return Collection(runs=runs, warnings=warnings, incomplete=incomplete)


def duplicate_key(run: CollectedRun) -> tuple[str, str, str, str]:
    r = run.results
    return (r.model.config_hash, r.dataset.sha256, r.dataset.split, r.dataset.split_hash)


def duplicate_warnings(runs: list[CollectedRun]) -> list[str]:
    """Each results file keeps its own row; two runs of one config on one split are flagged."""
    seen: dict[tuple, list[CollectedRun]] = {}
    for run in runs:
        seen.setdefault(duplicate_key(run), []).append(run)
    warnings = []
    for group in seen.values():
        if len(group) > 1:
            files = ", ".join(run.relpath for run in group)
            warnings.append(
                f"{len(group)} runs of model {group[0].results.model.name} with the same config hash "
                f"{group[0].results.model.config_hash} on the same dataset and split: {files} "
                "(each keeps its own row; remove the ones you don't mean to publish)"
            )
    return warnings
