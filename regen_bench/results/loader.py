"""Read a saved run: its results.json, the samples.jsonl beside it, and the sha256 that ties them.

The one run loader: `compare`, `leaderboard build` (collect) and `leaderboard validate`
all find and check a run's samples here. Each says what a failure means for it: compare
refuses the run, the leaderboard shows a run without samples untested, the validator
lists every problem it finds. So the steps are separate functions, and `load_run` is
the usual way through them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.results.schema import RunResults, SampleRow, load_results, read_samples
from regen_bench.util.hashing import sha256_file

RESULTS_FILE = "results.json"


class SamplesLocationError(RegenBenchError):
    """results.json names a samples file that is not a plain file name beside it."""


class SamplesChangedError(RegenBenchError):
    """samples.jsonl is not the file the run wrote: its sha256 differs from the recorded one."""

    def __init__(self, samples_path: Path, results_path: Path, actual: str, recorded: str):
        self.actual = actual
        self.recorded = recorded
        super().__init__(
            f"{samples_path}: sha256 {actual[:12]} does not match the {recorded[:12]} recorded in {results_path}: "
            "the samples were changed after the run, or belong to another run. Put the run's own "
            "samples.jsonl next to it."
        )


@dataclass
class LoadedRun:
    path: Path  # results.json
    results: RunResults
    rows: list[SampleRow] | None  # None: samples.jsonl is missing

    @property
    def label(self) -> str:
        return f"{self.results.model.name} ({self.results.run_id})"

    def rows_for(self, task: str) -> list[SampleRow]:
        return [row for row in (self.rows or []) if row.task == task]


def results_file(path: str | Path) -> Path:
    """A run directory stands for the results.json inside it."""
    path = Path(path)
    return path / RESULTS_FILE if path.is_dir() else path


def samples_file(results_path: Path, results: RunResults) -> Path:
    """Where the run's samples are: `results.samples.file`, which must be a file name beside results.json."""
    name = results.samples.file
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not name.strip():
        raise SamplesLocationError(f"{name!r} must be a file name beside {results_path.name}")
    return results_path.parent / relative


def check_samples_sha256(samples_path: Path, results_path: Path, results: RunResults) -> str:
    """The samples file's sha256, which must be the one the run recorded (else SamplesChangedError)."""
    actual = sha256_file(samples_path)
    if actual != results.samples.sha256:
        raise SamplesChangedError(samples_path, results_path, actual, results.samples.sha256)
    return actual


def run_with_samples(results_path: Path, results: RunResults) -> LoadedRun:
    """The run of an already-read results file, with its checked samples (rows None when missing)."""
    path = samples_file(results_path, results)
    if not path.is_file():
        return LoadedRun(results_path, results, None)
    check_samples_sha256(path, results_path, results)
    return LoadedRun(results_path, results, read_samples(path))


def load_run(path: str | Path) -> LoadedRun:
    """A run directory (or its results.json) with its samples, whose sha256 must match.

    Raises the readers' errors (`ResultsFileError`, `ResultsFormatError`,
    `SamplesFileError`) and `SamplesChangedError`; a missing samples file is rows None.
    """
    results_path = results_file(path)
    return run_with_samples(results_path, load_results(results_path))
