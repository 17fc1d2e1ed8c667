"""`leaderboard validate` checks provenance instead of trusting it, and reads failed-metric records.

- a forged dataset.sha256 (64 zeros) is rejected by default: the run's dataset is found
  here (synthetic regenerated from its recorded options, or the file the run read) and hashed;
- when the data is not here, the hash is NOT VERIFIED, which fails too, and says so;
- the split config is checked against every sample's user; with --with-dataset the split
  hash is recomputed from the dataset's users;
- the verdict line says what was confirmed and what was not; --strict's header says REJECTED;
- a score recorded as a failed metric (status failed, a reason, no numbers) is one clear line:
  confirmed by re-running the metric, or unverified when it can't be re-run, never a pydantic error;
- a missing samples.jsonl exits 2 (a missing file), as the docs say.
"""

import hashlib
import json
import runpy
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.results.validate import validate_results
from regen_bench.util.hashing import run_config_hash

RUN_ARGS = ["--bootstrap", "200", "--quiet", "--task", "user_summary", "--task", "endorsement",
            "--metric", "bleu", "--metric", "rouge"]


def run_into(out: Path, cache: Path, *args) -> Path:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REGEN_BENCH_CACHE_DIR", str(cache))
        result = CliRunner().invoke(main, ["run", "--model", "popular", *RUN_ARGS, "--output", str(out), *args])
    assert result.exit_code == 0, result.output
    (run_dir,) = out.iterdir()
    return run_dir


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    return run_into(tmp_path_factory.mktemp("runs"), tmp_path_factory.mktemp("cache"), "--dataset-arg", "users=400")


@pytest.fixture
def copy(synthetic_run, tmp_path):
    target = tmp_path / synthetic_run.name
    shutil.copytree(synthetic_run, target)
    return target


def load(run: Path) -> dict:
    return json.loads((run / "results.json").read_text())


def save(run: Path, data: dict) -> None:
    (run / "results.json").write_text(json.dumps(data, indent=2))


def save_samples(run: Path, rows: list[dict]) -> None:
    """Rewrite samples.jsonl and record its new sha256 (a careful forger)."""
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    (run / "samples.jsonl").write_text(text)
    data = load(run)
    data["samples"]["sha256"] = hashlib.sha256(text.encode()).hexdigest()
    save(run, data)


def samples(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]


def validate(*args):
    return CliRunner().invoke(main, ["leaderboard", "validate", *map(str, args)])


def first_line(output: str) -> str:
    """The verdict: the report's first line (`<path>/results.json: ...`)."""
    return next(line for line in output.splitlines() if "results.json: " in line)


def test_untouched_run_confirms_the_dataset_hash_and_says_what_was_not_recomputed(synthetic_run):
    result = validate(synthetic_run)
    assert result.exit_code == 0, result.output
    verdict = first_line(result.output)
    assert "OK: all" in verdict
    assert "dataset.sha256 confirmed" in verdict and "config_hash confirmed" in verdict
    assert "split_hash not recomputed (--with-dataset recomputes it)" in verdict
    assert "dataset.sha256 confirmed: " in result.output and "from dataset 'synthetic' (seed=0, users=400)" in result.output

    result = validate(synthetic_run, "--with-dataset")
    assert result.exit_code == 0, result.output
    assert "split_hash confirmed" in first_line(result.output)
    assert "dataset.split_hash recomputed from the dataset's 400 users: matches" in result.output


def test_forged_dataset_hash_is_rejected_by_default(copy):
    data = load(copy)
    data["dataset"]["sha256"] = "0" * 64
    save(copy, data)
    for args in ([], ["--with-dataset"]):
        result = validate(copy, *args)
        assert result.exit_code == 1, result.output
        verdict = first_line(result.output)
        assert "REJECTED: 1 problem" in verdict and "dataset.sha256 contradicted" in verdict
        assert "ACCEPTED" not in result.output and "OK:" not in result.output
        assert "dataset.sha256: recorded 0000000000000000..., but the run's dataset here" in result.output
    assert validate_results(copy / "results.json").ok is False


def test_a_hash_that_is_not_a_sha256_is_rejected(copy):
    data = load(copy)
    data["dataset"]["sha256"] = "not-a-hash"
    save(copy, data)
    result = validate(copy)
    assert result.exit_code == 1
    assert "dataset.sha256: 'not-a-hash' is not a sha256" in result.output


def test_relabelled_synthetic_run_is_rejected(copy):
    data = load(copy)
    data["dataset"]["synthetic"] = False  # a synthetic run passed off as real data
    save(copy, data)
    result = validate(copy)
    assert result.exit_code == 1
    assert "dataset.synthetic: recorded False, but dataset 'synthetic' is synthetic" in result.output


def test_forged_split_hash_is_caught_with_the_dataset(copy):
    data = load(copy)
    data["dataset"]["split_hash"] = "0123456789abcdef"
    # a careful forger also recomputes the config hash that binds the split hash
    data["model"]["config_hash"] = run_config_hash(data["model"]["config"], data["seed"], "0123456789abcdef",
                                                   data["tasks"])
    save(copy, data)
    result = validate(copy)
    assert result.exit_code == 0, result.output  # the split hash needs the dataset's users ...
    assert "split_hash not recomputed" in first_line(result.output)  # ... and the verdict says it was not checked
    result = validate(copy, "--with-dataset")
    assert result.exit_code == 1
    assert "dataset.split_hash: recorded 0123456789abcdef, but the dataset's users" in result.output
    assert "split_hash contradicted" in first_line(result.output)


def test_edited_config_hash_or_split_config_is_rejected(copy):
    data = load(copy)
    data["dataset"]["split_config"]["salt"] = "another-salt"  # not in the config hash: checked via the users
    save(copy, data)
    result = validate(copy)
    assert result.exit_code == 1
    assert "under dataset.split_config, not in 'test'" in result.output

    data["dataset"]["split_config"]["salt"] = "regen-bench-v1"
    data["model"]["config_hash"] = "0" * 16
    save(copy, data)
    result = validate(copy)
    assert result.exit_code == 1
    assert "config_hash contradicted" in first_line(result.output)


@pytest.fixture(scope="module")
def file_run(tmp_path_factory):
    """A run on a REGEN file given by path."""
    data_dir = tmp_path_factory.mktemp("data")
    data_file = data_dir / "gen300.jsonl"
    result = CliRunner().invoke(main, ["data", "generate", "--users", "300", "--output", str(data_file)])
    assert result.exit_code == 0, result.output
    run_dir = run_into(tmp_path_factory.mktemp("runs"), tmp_path_factory.mktemp("cache"), "--dataset", str(data_file))
    return run_dir, data_file


def test_run_on_a_file_confirms_its_hash_and_fails_not_verified_without_the_file(file_run, tmp_path):
    run_dir, data_file = file_run
    result = validate(run_dir)
    assert result.exit_code == 0, result.output
    assert f"dataset.sha256 confirmed: {data_file}, the file the run read" in result.output

    moved = tmp_path / "elsewhere.jsonl"
    shutil.copy(data_file, moved)
    data_file.unlink()
    try:
        result = validate(run_dir)
        assert result.exit_code == 1, result.output
        verdict = first_line(result.output)
        assert "NOT VERIFIED: dataset.sha256 could not be confirmed here" in verdict
        assert "dataset.sha256 not verified" in verdict
        assert "OK:" not in result.output and "ACCEPTED" not in result.output
        assert "dataset.sha256: NOT VERIFIED: dataset 'gen300.jsonl' is not a dataset installed here" in result.output
        assert validate_results(run_dir / "results.json").as_dict()["not_verified"]
    finally:
        shutil.copy(moved, data_file)


def test_strict_header_says_rejected(copy):
    data = load(copy)
    data.pop("metrics")  # written before metric options were recorded ...
    for entry in data["scores"]:  # ... with options whose signature the defaults do not give
        entry["signature"] = entry["signature"].replace("stem:yes", "stem:no")
    save(copy, data)
    plain = validate(copy)
    assert plain.exit_code == 0 and "ACCEPTED, but" in first_line(plain.output)
    strict = validate(copy, "--strict")
    assert strict.exit_code == 1
    assert first_line(strict.output).startswith(f"{copy / 'results.json'}: REJECTED (--strict): ")
    assert "ACCEPTED" not in strict.output


def test_missing_samples_exits_2(copy):
    (copy / "samples.jsonl").unlink()
    result = validate(copy)
    assert result.exit_code == 2
    assert f"error: {copy / 'samples.jsonl'}: no such file" in result.output


NEVER_RATES = '''
from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOutput


class NeverRates(Metric):
    """A judge whose every answer is unparsable: it rates no example."""

    name = "never-rates"
    paid_api = PAID

    def score(self, predictions, references, examples):
        n = len(predictions)
        return MetricOutput([Component.mean("rating", [None] * n)], counts={"rated": 0, "unrated": n})


@hookimpl
def register_metrics(register):
    register(NeverRates)
'''


def add_failed_metric(run: Path, plugin: Path) -> int:
    """Record never-rates on both tasks as the runner records a failed metric; the index of user_summary's."""
    metric = runpy.run_path(str(plugin))["NeverRates"]()
    data = load(run)
    rows = samples(run)
    data["metrics"].append({
        "name": metric.name, "spec": metric.name, "options": {}, "version": str(metric.version),
        "kind": "text", "higher_is_better": True, "description": "", "signature": metric.signature(),
        "context_components": []})
    for task in ("endorsement", "user_summary"):
        n = sum(1 for r in rows if r["task"] == task)
        for row in rows:
            if row["task"] == task:
                row["scores"]["rating"] = None
        data["scores"].append({
            "task": task, "metric": "never-rates", "component": "rating", "status": "failed",
            "reason": f"unrated: {n} of {n}, judge answers unparsable", "score": None, "ci_low": None,
            "ci_high": None, "n": 0, "signature": metric.signature(), "higher_is_better": True,
            "counts": {"rated": 0, "unrated": n}})
    save(run, data)
    save_samples(run, rows)
    return len(data["scores"]) - 1


@pytest.mark.parametrize("paid", [False, True])
def test_a_failed_metric_record_is_one_clear_line(copy, tmp_path, paid):
    plugin = tmp_path / "never_rates.py"
    plugin.write_text(NEVER_RATES.replace("PAID", str(paid)))
    i = add_failed_metric(copy, plugin)
    result = CliRunner().invoke(main, ["--plugins", str(plugin), "leaderboard", "validate", str(copy)])
    assert "Input should be a valid number" not in result.output
    recorded = f"scores[{i}]: user_summary never-rates/rating: recorded as failed (unrated: "
    assert recorded in result.output
    assert "2 recorded as failed metrics" in first_line(result.output)
    if paid:  # can't be re-run here: accepted, the failure unverified
        assert result.exit_code == 0, result.output
        assert "the failure is unverified: the metric calls a network API" in result.output
    else:  # re-run: it fails the same way
        assert result.exit_code == 0, result.output
        assert "re-running 'never-rates' fails the same way (n=0)" in result.output
        assert "OK: all" in first_line(result.output)


def test_a_score_passed_off_as_failed_is_rejected(copy):
    data = load(copy)
    i = next(j for j, s in enumerate(data["scores"]) if s["component"] == "rouge1" and s["task"] == "user_summary")
    data["scores"][i].update(status="failed", reason="unrated: all", score=None, ci_low=None, ci_high=None, n=0)
    save(copy, data)
    result = validate(copy)
    assert result.exit_code == 1
    assert f"scores[{i}]: user_summary rouge/rouge1: recorded as failed (unrated: all), but samples.jsonl has" \
        in result.output


def test_a_null_score_not_marked_failed_is_rejected(copy):
    data = load(copy)
    data["scores"][0].update(score=None)
    save(copy, data)
    result = validate(copy)
    assert result.exit_code == 1
    assert "scores[0]" in result.output and "must be numbers when status is 'ok'" in result.output
    assert "Traceback" not in result.output
