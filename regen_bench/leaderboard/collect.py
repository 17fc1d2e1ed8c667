"""Find results files under a folder and read each one with its per-example log.

A results file is any `*.json` under the folder that parses as a `RunResults` (the
runner writes `<run_id>/results.json`; a flat `<run_id>.json` works too). Its
samples.jsonl is `results.samples.file` next to it, checked against the sha256 the run
recorded: a samples file that doesn't match would put numbers in the leaderboard that
the run did not produce, so that is an error. A missing samples file is only a warning:
the run's scores still show, but nothing can be tested for significance against it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.results.schema import RunResults, SampleRow, read_samples


@dataclass
class CollectedRun:
    results: RunResults
    path: Path  # the results file
    relpath: str  # posix path relative to the results folder: stable across machines
    samples: list[SampleRow] | None  # None: samples file missing
    warnings: list[str] = field(default_factory=list)

    def rows_for(self, task: str) -> list[SampleRow]:
        return [row for row in (self.samples or []) if row.task == task]


@dataclass
class Collection:
    runs: list[CollectedRun]
    warnings: list[str]


def _looks_like_results(data) -> bool:
    return isinstance(data, dict) and "run_id" in data and "scores" in data and "dataset" in data


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_run(path: Path, root: Path) -> CollectedRun | None:
    """The run in `path`, or None when the file is JSON of another kind."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegenBenchError(f"{path}: not valid JSON ({exc}); fix or remove the file") from None
    if not _looks_like_results(data):
        return None
    try:
        results = RunResults.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "-"
        raise RegenBenchError(
            f"{path}: {where}: {first['msg']} (not a regen-bench results file of schema "
            f"version {data.get('schema_version', '?')}; re-run or re-score it with this harness)"
        ) from None
    relpath = path.relative_to(root).as_posix()
    samples_path = path.parent / results.samples.file
    run = CollectedRun(results=results, path=path, relpath=relpath, samples=None)
    if not samples_path.is_file():
        run.warnings.append(
            f"{relpath}: samples file {results.samples.file} not found next to it; "
            "its scores are shown but not tested for significance"
        )
        return run
    actual = _sha256(samples_path)
    if actual != results.samples.sha256:
        raise RegenBenchError(
            f"{samples_path}: sha256 {actual[:12]} does not match the {results.samples.sha256[:12]} recorded in "
            f"{path}; the samples belong to another run. Put the run's own samples.jsonl next to it."
        )
    run.samples = read_samples(samples_path)
    return run


def collect_runs(root: Path) -> Collection:
    """Every results file under `root`, in path order (so builds are deterministic)."""
    root = Path(root)
    if not root.is_dir():
        raise RegenBenchError(f"results folder {root} not found; pass --results DIR with the runs' results.json files")
    runs: list[CollectedRun] = []
    warnings: list[str] = []
    for path in sorted(root.rglob("*.json"), key=lambda p: p.relative_to(root).as_posix()):
        if not path.is_file():
            continue
        run = load_run(path, root)
        if run is None:
            continue
        runs.append(run)
        warnings.extend(run.warnings)
    if not runs:
        raise RegenBenchError(f"no results files under {root}; run `regen-bench run --output {root}` first")
    warnings.extend(duplicate_warnings(runs))
    return Collection(runs=runs, warnings=warnings)


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
