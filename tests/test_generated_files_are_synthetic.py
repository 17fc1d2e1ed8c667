"""What a file is comes from the file: `data generate` output carries the synthetic marker in
every record, so runs on it and leaderboards of them say synthetic; discovery finds every
narrative the generator writes (issue 9, defect 9)."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.contracts.dataset import LocalFileDataset
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.records import SYNTHETIC_MARKER
from regen_bench.data.discovery import discover
from regen_bench.data.loading import load_dataset_examples
from regen_bench.plugin import registry
from regen_bench_plugins.datasets.synthetic import SyntheticDataset

TASKS = ["user_summary", "user_profile", "purchase_reason", "endorsement"]
COMMITTED = Path(__file__).resolve().parent.parent / "leaderboards" / "results"


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def generated(tmp_path):
    path = tmp_path / "syn.jsonl"
    result = cli("data", "generate", "--users", 120, "--seed", 5, "--output", path)
    assert result.exit_code == 0, result.output
    return path


def test_every_generated_record_carries_the_marker(generated):
    records = [json.loads(line) for line in generated.read_text().splitlines()]
    assert len(records) == 120
    assert {json.dumps(r[SYNTHETIC_MARKER], sort_keys=True) for r in records} == {
        json.dumps({"generator": "regen-bench synthetic", "version": "1", "seed": 5}, sort_keys=True)}


def test_data_info_shows_the_marker_and_every_generated_task(generated):
    result = cli("data", "info", generated)
    assert result.exit_code == 0, result.output
    assert "synthetic:  yes (120 of 120 records carry the regen_bench_synthetic marker" in result.stdout
    info = json.loads(cli("data", "info", generated, "--json").stdout)
    assert info["synthetic"] is True and info["synthetic_records"] == 120
    assert [t["task"] for t in info["tasks_available"]] == TASKS
    assert info["tasks_unavailable"] == [] and info["unmapped_narrative_fields"] == []


def test_a_narrative_field_no_task_maps_is_reported(generated, tmp_path):
    rows = [json.loads(line) for line in generated.read_text().splitlines()]
    for row in rows:
        row["last_purchase"]["why_bought"] = row["last_purchase"].pop("purchase_reason")
    renamed = tmp_path / "renamed.jsonl"
    renamed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    info = discover(renamed)
    assert info.unmapped_narrative_fields == ["last_purchase.why_bought"]
    assert "purchase_reason" not in [t.task for t in info.tasks_available]
    text = cli("data", "info", renamed).stdout
    assert "narrative-like fields no task maps (run one with --task-map TASK=FIELD.PATH):\n  last_purchase.why_bought" in text


def test_the_loader_finds_the_generated_tasks_and_labels_the_provider(generated):
    provider = LocalFileDataset(generated)
    loaded = load_dataset_examples(provider)
    assert loaded.available_tasks == TASKS
    assert loaded.synthetic and loaded.synthetic_records == 120 and provider.synthetic
    again = load_dataset_examples(LocalFileDataset(generated))  # the marker survives the Arrow cache
    assert again.from_arrow_cache and again.synthetic and again.synthetic_records == 120


@pytest.mark.parametrize("cut", ["head", "gzip"])
def test_a_cut_or_compressed_copy_is_still_synthetic(generated, tmp_path, cut):
    lines = generated.read_bytes().splitlines(keepends=True)
    if cut == "head":
        copy = tmp_path / "head.jsonl"
        copy.write_bytes(b"".join(lines[:7]))
    else:
        copy = tmp_path / "syn.jsonl.gz"
        copy.write_bytes(gzip.compress(generated.read_bytes()))
    loaded = load_dataset_examples(LocalFileDataset(copy))
    assert loaded.synthetic and loaded.synthetic_records == (7 if cut == "head" else 120)


def test_a_file_without_the_marker_is_real(generated, tmp_path):
    rows = [json.loads(line) for line in generated.read_text().splitlines()]
    plain = tmp_path / "plain.jsonl"
    plain.write_text("".join(json.dumps({k: v for k, v in r.items() if k != SYNTHETIC_MARKER}) + "\n" for r in rows))
    provider = LocalFileDataset(plain)
    loaded = load_dataset_examples(provider)
    assert not loaded.synthetic and not provider.synthetic and loaded.synthetic_records == 0
    assert discover(plain).synthetic is False


def test_a_run_on_a_generated_file_is_synthetic_in_results_and_on_the_leaderboard(tmp_path):
    # 500 users: about 50 test examples, above the minimum a leaderboard ranks (MIN_SCORED_EXAMPLES)
    generated = tmp_path / "syn.jsonl"
    assert cli("data", "generate", "--users", 500, "--output", generated).exit_code == 0
    runs = tmp_path / "runs"
    result = cli("run", "--model", "popular", "--dataset", generated, "--bootstrap", 20, "--quiet", "--output", runs)
    assert result.exit_code == 0, result.output
    (results_file,) = runs.glob("*/results.json")
    results = json.loads(results_file.read_text())
    assert results["dataset"]["synthetic"] is True
    assert results["tasks"] == [*TASKS, "next_item"]
    registry.reset()
    out = tmp_path / "board"
    built = cli("leaderboard", "build", "--results", runs, "--out", out, "--bootstrap", 20, "--no-plots")
    assert built.exit_code == 0, built.output
    board = json.loads((out / "leaderboard.json").read_text())
    (dataset,) = board["datasets"]
    assert dataset["name"] == "syn.jsonl" and dataset["synthetic"] is True and dataset["label"] == "SYNTHETIC"


def test_the_default_synthetic_file_keeps_the_bytes_the_committed_leaderboard_hashed():
    recorded = {json.loads(p.read_text())["dataset"]["sha256"] for p in COMMITTED.glob("synthetic/*/*/results.json")}
    if not recorded:
        pytest.skip("no committed synthetic results")
    path = SyntheticDataset(users=3000, seed=0).path()
    assert SYNTHETIC_MARKER.encode() not in path.read_bytes()
    assert {hashlib.sha256(path.read_bytes()).hexdigest()} == recorded


def test_a_recorded_layout_handed_back_as_overrides_is_not_a_task_map_error(tmp_path):
    # rescoring passes a run's recorded layout back; the default user_profile path need not exist
    rows = [{"reviewer_id": f"U{i}", "purchase_history": [{"item": {"asin": "A"}}], "user": {"long_summary": "s"}}
            for i in range(3)]
    path = tmp_path / "plain.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    recorded = {"user_summary": "user.long_summary", "user_profile": "user.profile"}
    loaded = load_dataset_examples(LocalFileDataset(path), task_overrides=recorded)
    assert loaded.available_tasks == ["user_summary"]
    with pytest.raises(RegenBenchError, match=r"task 'user_profile' maps to field 'user.nothere'"):
        load_dataset_examples(LocalFileDataset(path), task_overrides={"user_profile": "user.nothere"})
