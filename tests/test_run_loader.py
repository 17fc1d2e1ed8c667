"""The one run loader (results/loader.py) and the file readers it is built on (results/schema.py)."""

import json
import shutil
from pathlib import Path

import pytest

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.results.loader import (
    SamplesChangedError,
    SamplesLocationError,
    load_run,
    results_file,
    samples_file,
)
from regen_bench.results.schema import (
    ResultsFileError,
    ResultsFormatError,
    SamplesFileError,
    load_results,
    read_sample_lines,
)
from regen_bench.util.hashing import sha256_file

ROOT = Path(__file__).resolve().parents[1]
(COMMITTED,) = sorted((ROOT / "leaderboards" / "results" / "synthetic" / "llm-local").iterdir())


@pytest.fixture
def run(tmp_path):
    target = tmp_path / COMMITTED.name
    shutil.copytree(COMMITTED, target)
    return target


def edit_results(run: Path, change) -> None:
    data = json.loads((run / "results.json").read_text())
    change(data)
    (run / "results.json").write_text(json.dumps(data))


def test_a_run_directory_loads_with_its_checked_samples(run):
    loaded = load_run(run)
    assert results_file(run) == run / "results.json" == loaded.path
    assert len(loaded.rows) == loaded.results.samples.rows
    task = loaded.results.tasks[0]
    assert loaded.rows_for(task) and all(row.task == task for row in loaded.rows_for(task))
    assert loaded.label == f"{loaded.results.model.name} ({loaded.results.run_id})"
    assert sha256_file(run / "samples.jsonl") == loaded.results.samples.sha256


def test_changed_samples_are_refused_naming_both_hashes(run):
    with open(run / "samples.jsonl", "a") as handle:
        handle.write("\n")
    with pytest.raises(SamplesChangedError) as caught:
        load_run(run)
    assert caught.value.actual == sha256_file(run / "samples.jsonl")
    assert caught.value.recorded[:12] in str(caught.value) and "does not match" in str(caught.value)


def test_missing_samples_are_no_rows_not_an_error(run):
    (run / "samples.jsonl").unlink()
    loaded = load_run(run)
    assert loaded.rows is None and loaded.rows_for(loaded.results.tasks[0]) == []


@pytest.mark.parametrize("name", ["../samples.jsonl", "/tmp/samples.jsonl", " "])
def test_samples_must_be_a_file_beside_results_json(run, name):
    edit_results(run, lambda data: data["samples"].update(file=name))
    with pytest.raises(SamplesLocationError, match="must be a file name beside results.json"):
        samples_file(run / "results.json", load_results(run / "results.json"))


def test_reader_errors_say_where_the_file_is_wrong(run, tmp_path):
    with pytest.raises(ResultsFileError, match="no such file"):
        load_results(tmp_path / "nothing.json")
    (run / "results.json").write_text("{\n  oops")
    with pytest.raises(ResultsFormatError) as caught:
        load_results(run / "results.json")
    assert caught.value.problems[0][0] == "results.json:2:3" and "not valid JSON" in caught.value.problems[0][1]

    shutil.copy(COMMITTED / "results.json", run / "results.json")
    edit_results(run, lambda data: data["scores"][3].pop("signature"))
    with pytest.raises(ResultsFormatError) as caught:
        load_results(run / "results.json")
    assert ("scores[3].signature", "Field required") in caught.value.problems
    assert isinstance(caught.value, RegenBenchError)


def test_a_bad_samples_row_is_named_by_its_line(run):
    lines = (run / "samples.jsonl").read_text().splitlines(keepends=True)
    lines.insert(1, "\n")  # blank lines are skipped, and still counted
    lines[2] = json.dumps({"task": "user_summary"}) + "\n"
    (run / "samples.jsonl").write_text("".join(lines))
    with pytest.raises(SamplesFileError) as caught:
        read_sample_lines(run / "samples.jsonl")
    assert caught.value.where == "samples.jsonl:3" and "not a samples.jsonl row" in caught.value.what

    del lines[2]
    (run / "samples.jsonl").write_text("".join(lines))
    rows, numbers = read_sample_lines(run / "samples.jsonl")
    assert numbers[:3] == [1, 3, 4] and len(rows) == len(numbers)
