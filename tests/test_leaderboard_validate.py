"""`leaderboard validate`: a real run passes; every kind of hand edit is rejected, naming what."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.cli.validate import validate
from regen_bench.results.validate import validate_results

RUN_ARGS = ["--dataset-arg", "users=400", "--bootstrap", "200", "--quiet"]


def real_run(tmp_path_factory, *extra, cache: Path | None = None) -> Path:
    """A real `popular` run in a new output folder; a new cache folder unless `cache` is given."""
    out = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REGEN_BENCH_CACHE_DIR", str(cache or tmp_path_factory.mktemp("cache")))
        result = CliRunner().invoke(main, ["run", "--model", "popular", *RUN_ARGS, "--output", str(out), *extra])
    assert result.exit_code == 0, result.output
    (run_dir,) = out.iterdir()
    return run_dir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return real_run(tmp_path_factory)


@pytest.fixture
def copy(run_dir, tmp_path):
    """A private copy of the run to tamper with."""
    target = tmp_path / run_dir.name
    shutil.copytree(run_dir, target)
    return target


def load(run: Path) -> dict:
    return json.loads((run / "results.json").read_text())


def save(run: Path, data: dict) -> None:
    (run / "results.json").write_text(json.dumps(data, indent=2))


def samples(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]


def save_samples(run: Path, rows: list[dict], *, fix_sha: bool) -> None:
    """Rewrite samples.jsonl; with fix_sha, also record the new sha256 (a careful forger)."""
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    (run / "samples.jsonl").write_text(text)
    if fix_sha:
        data = load(run)
        data["samples"]["sha256"] = hashlib.sha256(text.encode()).hexdigest()
        save(run, data)


def check(path, *args):
    return CliRunner().invoke(validate, [str(path), *args])


def index_of(data, task, component):
    return next(i for i, s in enumerate(data["scores"]) if s["task"] == task and s["component"] == component)


def test_untouched_run_passes(run_dir):
    result = check(run_dir / "results.json")
    assert result.exit_code == 0, result.output
    n = len(load(run_dir)["scores"])
    assert f"OK: all {n} scores recomputed" in result.output
    assert "sha256 matches" in result.output
    report = validate_results(run_dir / "results.json")
    assert report.fully_verified and report.scores_recomputed == n


def test_a_run_directory_stands_for_its_results_file(run_dir):
    assert check(run_dir).exit_code == 0


def test_edited_score_is_rejected(copy):
    data = load(copy)
    i = index_of(data, "user_summary", "bleu")
    data["scores"][i]["score"] += 0.01
    save(copy, data)
    result = check(copy / "results.json")
    assert result.exit_code == 1
    assert "REJECTED" in result.output
    assert f"scores[{i}].score: user_summary bleu/bleu: recorded" in result.output


def test_a_run_scored_from_a_warm_cache_validates(tmp_path_factory):
    # leaderboards/reproduce.py shares one embedding cache across models, so later runs
    # record cache hits where validation (with its own cache) embeds: the same scores
    cache = tmp_path_factory.mktemp("cache")
    args = ["--task", "user_summary", "--metric", "semsim"]
    real_run(tmp_path_factory, *args, cache=cache)
    warm = real_run(tmp_path_factory, *args, cache=cache)
    (entry,) = [s for s in load(warm)["scores"] if s["metric"] == "semsim"]
    assert entry["counts"]["embedded"] == 0 and entry["counts"]["cache_hits"] > 0
    report = validate_results(warm / "results.json")
    assert report.fully_verified, report.format()


def test_edited_result_count_is_rejected(copy):
    data = load(copy)
    i = index_of(data, "next_item", "recall@10")
    data["scores"][i]["counts"]["target_found"] += 1
    save(copy, data)
    result = check(copy / "results.json")
    assert result.exit_code == 1
    assert f"scores[{i}].counts: next_item recall@k/recall@10: recorded" in result.output


def test_edited_ci_is_rejected(copy):
    data = load(copy)
    i = index_of(data, "purchase_reason", "rougeL")
    data["scores"][i]["ci_high"] = data["scores"][i]["ci_high"] * (1 + 1e-6)
    save(copy, data)
    result = check(copy / "results.json")
    assert result.exit_code == 1
    assert f"scores[{i}].ci_high: purchase_reason rouge/rougeL" in result.output


def test_removed_signature_is_rejected(copy):
    data = load(copy)
    del data["scores"][3]["signature"]
    data["scores"][5]["signature"] = " "
    save(copy, data)
    result = check(copy / "results.json")
    assert result.exit_code == 1
    assert "scores[3].signature: Field required" in result.output

    data["scores"][3]["signature"] = ""
    save(copy, data)
    result = check(copy / "results.json")
    assert result.exit_code == 1
    assert "scores[3].signature: empty" in result.output
    assert "scores[5].signature: empty" in result.output


def test_edited_signature_is_rejected(copy):
    data = load(copy)
    i = index_of(data, "user_summary", "rouge1")
    data["scores"][i]["signature"] = data["scores"][i]["signature"].replace("stem:yes", "stem:no")
    save(copy, data)
    result = check(copy / "results.json")
    assert result.exit_code == 1
    assert f"scores[{i}].signature: user_summary rouge/rouge1" in result.output


def test_edited_sample_prediction_is_rejected(copy):
    rows = samples(copy)
    rows[0]["prediction"] = "An entirely different narrative."
    save_samples(copy, rows, fix_sha=False)
    result = check(copy / "results.json")
    assert result.exit_code == 1
    assert "samples.sha256" in result.output and "changed after the run" in result.output


def test_forged_sample_with_matching_sha_fails_recomputation(copy):
    rows = samples(copy)
    line = next(n for n, r in enumerate(rows, start=1) if r["task"] == "user_summary")
    rows[line - 1]["prediction"] = rows[line - 1]["reference"]  # a perfect narrative, sha256 updated
    save_samples(copy, rows, fix_sha=True)
    result = check(copy / "results.json")
    assert result.exit_code == 1
    assert "samples.sha256" not in result.output
    assert f"samples.jsonl:{line}: scores.bleu recorded" in result.output
    assert "user_summary bleu/bleu: recorded" in result.output


def test_forged_per_example_score_is_rejected(copy):
    rows = samples(copy)
    rows[1]["scores"]["rouge1"] = 0.99
    save_samples(copy, rows, fix_sha=True)
    result = check(copy / "results.json")
    assert result.exit_code == 1
    assert "samples.jsonl:2: scores.rouge1 recorded 0.99" in result.output


def test_missing_samples_file_is_rejected(copy):
    (copy / "samples.jsonl").unlink()
    result = check(copy / "results.json")
    assert result.exit_code == 2  # a missing file, as the docs say (issue 9: it was 1)
    assert "samples.file: samples.jsonl not found beside results.json" in result.output
    assert "no score recomputed" in result.output


def test_broken_schema_is_rejected_with_the_field_path(copy):
    data = load(copy)
    del data["dataset"]["split_hash"]
    data["seed"] = "zero"
    data["scores"][2]["n"] = "many"
    data["unexpected"] = 1
    save(copy, data)
    result = check(copy / "results.json")
    assert result.exit_code == 1
    for where in ("dataset.split_hash: Field required", "seed: Input should be a valid integer",
                  "scores[2].n: Input should be a valid integer", "unexpected: Extra inputs are not permitted"):
        assert where in result.output


def test_not_json_is_rejected_with_line_and_column(copy):
    (copy / "results.json").write_text('{"run_id": "x",\n "scores": [}\n')
    result = check(copy / "results.json")
    assert result.exit_code == 1
    assert "results.json:2:" in result.output and "not valid JSON" in result.output


def test_missing_file_exits_2(tmp_path):
    result = check(tmp_path / "nowhere" / "results.json")
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_removed_score_entry_is_rejected(copy):
    data = load(copy)
    i = index_of(data, "endorsement", "rouge2")
    del data["scores"][i]
    save(copy, data)
    result = check(copy / "results.json")
    assert result.exit_code == 1
    assert "missing endorsement rouge/rouge2" in result.output


def test_flipped_direction_and_config_hash_are_rejected(copy):
    data = load(copy)
    data["scores"][0]["higher_is_better"] = False
    data["model"]["config"]["options"]["similarity"] = "rougeL"
    save(copy, data)
    result = check(copy / "results.json")
    assert result.exit_code == 1
    assert "scores[0].higher_is_better" in result.output
    assert "model.config_hash" in result.output


def test_json_report(copy):
    result = check(copy / "results.json", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["ok"] and report["fully_verified"] and report["problems"] == []


def test_with_dataset_checks_references(copy):
    assert check(copy, "--with-dataset").exit_code == 0
    rows = samples(copy)
    rows[4]["reference"] = "A reference that the dataset never had."
    save_samples(copy, rows, fix_sha=True)
    result = check(copy, "--with-dataset")
    assert result.exit_code == 1
    assert "samples.jsonl:5: reference for" in result.output


@pytest.fixture(scope="module")
def options_run(tmp_path_factory):
    return real_run(tmp_path_factory, "--task", "user_summary", "--metric", "bleu", "--metric", "rouge",
                    "--metric-arg", "bleu.lowercase=true", "--metric-arg", "rouge.use_stemmer=false")


def test_non_default_metric_options_are_rebuilt_from_the_results_file(options_run):
    result = check(options_run)
    assert result.exit_code == 0, result.output
    assert "OK: all 5 scores recomputed" in result.output


def test_without_recorded_options_scores_are_reported_not_recomputed(options_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(options_run, copy)
    data = load(copy)
    data.pop("metrics", None)  # a file written before the runner recorded metric options
    save(copy, data)
    result = check(copy)
    assert result.exit_code == 0, result.output
    assert "NOT RECOMPUTED" in result.output
    assert "cannot recompute: metric options not recorded" in result.output
    # ROUGE is a mean: its scores are still checked against the per-example scores.
    assert "score and CI agree with its per-example scores" in result.output
    assert check(copy, "--strict").exit_code == 1

    i = index_of(data, "user_summary", "rouge1")
    data["scores"][i]["ci_low"] -= 0.001
    save(copy, data)
    result = check(copy)
    assert result.exit_code == 1
    assert f"scores[{i}]: user_summary rouge/rouge1: ci_low" in result.output


NETWORK_METRIC = '''
from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOutput


class PretendJudge(Metric):
    """Stands in for an LLM judge: a metric a validator must not re-run."""

    name = "pretend-judge"
    paid_api = True

    def score(self, predictions, references, examples):
        return MetricOutput([Component.mean("judge", [len(p) % 5 + 1 for p in predictions])])


@hookimpl
def register_metrics(register):
    register(PretendJudge)
'''


def test_network_metric_is_not_rerun_and_says_so(tmp_path, tmp_path_factory):
    plugin = tmp_path / "pretend_judge.py"
    plugin.write_text(NETWORK_METRIC)
    out = tmp_path / "runs"
    result = CliRunner().invoke(main, ["--plugins", str(plugin), "run", "--model", "popular", *RUN_ARGS,
                                       "--task", "user_summary", "--metric", "pretend-judge", "--metric", "rouge",
                                       "--output", str(out)])
    assert result.exit_code == 0, result.output
    (run,) = out.iterdir()
    result = check(run)
    assert result.exit_code == 0, result.output
    assert "user_summary pretend-judge/judge: the metric calls a network API" in result.output
    assert "score and CI agree with its per-example scores" in result.output
    assert "(4/5 recomputed)" in result.output
    assert check(run, "--strict").exit_code == 1


def test_reachable_as_leaderboard_validate(run_dir):
    result = CliRunner().invoke(main, ["leaderboard", "validate", str(run_dir / "results.json")])
    assert result.exit_code == 0, result.output
