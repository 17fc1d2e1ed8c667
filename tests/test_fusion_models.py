"""fusion / cf-only / text-only: one soft-token model class with switchable parts.

Small, fast configurations (a few optimiser steps of a tiny decoder): these tests check
the wiring — features, adapter, training, caching, generation, analysis — not quality;
the known answer (fusion beats the single-embedding models) has its own test.
"""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.results.schema import RunResults

pytestmark = pytest.mark.usefixtures("use_shared_cache")  # conftest: embed items once

USERS = 600
FAST = {
    "hidden": "32", "layers": "1", "heads": "2", "vocab_size": "256", "epochs": "2", "max_steps": "4",
    "max_train_users": "40", "max_validation_rows": "16", "max_new_tokens": "12", "batch_size": "8",
}




@pytest.fixture(scope="module")
def splits():
    from regen_bench.data.loading import load_dataset_examples
    from regen_bench.data.splits import split_users_by_hash
    from regen_bench_plugins.datasets.synthetic import SyntheticDataset

    return split_users_by_hash(load_dataset_examples(SyntheticDataset(users=USERS, seed=0)).examples)


def run(tmp_path, model, *extra, args=None):
    argv = ["run", "--model", model, "--dataset-arg", f"users={USERS}", "--bootstrap", "50", "--quiet",
            "--output", str(tmp_path)]
    for key, value in {**FAST, **(args or {})}.items():
        argv += ["--model-arg", f"{key}={value}"]
    result = CliRunner().invoke(main, argv + list(extra), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (path,) = sorted(tmp_path.glob("*/results.json"))
    return RunResults.model_validate_json(path.read_text()), path.parent


def fitted(model_cls, splits, **options):
    model = model_cls(**{**FAST, **options})
    model.fit(splits.train, splits.validation, tasks=["user_summary", "endorsement"], seed=0)
    return model


def test_the_three_models_share_a_class_and_differ_in_parts():
    from regen_bench.plugin.registry import get_registry
    from regen_bench_plugins.models.fusion import SoftTokenModel

    registry = get_registry()
    parts = {name: registry.get("model", name).cls.parts for name in ("fusion", "cf-only", "text-only")}
    assert parts == {"fusion": ("cf", "text"), "cf-only": ("cf",), "text-only": ("text",)}
    assert all(issubclass(registry.get("model", n).cls, SoftTokenModel) for n in parts)
    configs = {n: registry.get("model", n).cls().config() for n in parts}
    assert len({json.dumps(c, sort_keys=True) for c in configs.values()}) == 3
    assert configs["fusion"]["backbone"] == {"lm": "tiny"}
    assert set(configs["cf-only"]["encoders"]) == {"cf"} and set(configs["text-only"]["encoders"]) == {"text"}


def test_run_trains_generates_and_records_the_model(tmp_path):
    results, run_dir = run(tmp_path / "a", "fusion", "--task", "user_summary", "--task", "endorsement",
                           "--limit", "6")
    info = results.model.info
    assert info["parts"] == ["cf", "text"] and info["backbone"]["lm"] == "tiny"
    assert info["parameters"]["trainable"] == info["parameters"]["total"] > info["parameters"]["adapter"] > 0
    assert info["training"]["steps"] == 4 and info["training"]["train_examples_per_s"] > 0
    assert info["reused_weights"] is False and len(info["weights_key"]) == 24
    assert info["generated_tokens"] > 0
    rows = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    assert {r["task"] for r in rows} == {"user_summary", "endorsement"} and len(rows) == 12
    assert all(isinstance(r["prediction"], str) for r in rows)
    assert {(s.task, s.metric) for s in results.scores} >= {("user_summary", "bleu"), ("endorsement", "rouge")}


def test_trained_weights_are_reused_by_a_later_run(tmp_path):
    first, _ = run(tmp_path / "a", "cf-only", "--task", "user_summary", "--limit", "3")
    # More examples: the generation cache misses, so the model is fitted again and finds its weights.
    second, _ = run(tmp_path / "b", "cf-only", "--task", "user_summary", "--limit", "5")
    assert first.model.info["reused_weights"] is False and second.model.info["reused_weights"] is True
    assert second.model.info["weights_key"] == first.model.info["weights_key"]
    assert second.model.info["training"] == first.model.info["training"]
    third, _ = run(tmp_path / "c", "cf-only", "--task", "user_summary", "--limit", "5", args={"lr": "0.01"})
    assert third.model.info["reused_weights"] is False, "a changed option must not reuse the weights"


def test_same_seed_same_generations_without_the_caches(splits):
    examples = [e for e in splits.test if "user_summary" in e.references][:4]
    from regen_bench_plugins.models.fusion import TextOnlyModel

    a = fitted(TextOnlyModel, splits, reuse_weights=False)
    b = fitted(TextOnlyModel, splits, reuse_weights=False)
    assert a.generate(examples, "user_summary") == b.generate(examples, "user_summary")
    assert a.train_report["train_loss"] == b.train_report["train_loss"]


def test_features_whitening_pooled_token_and_target(splits):
    from regen_bench_plugins.models.fusion import SoftTokenModel
    from regen_bench_plugins.models.fusion.soft_tokens.adapter import HISTORY, POOLED, TARGET

    model = fitted(SoftTokenModel, splits)
    example = next(e for e in splits.test if e.target is not None and len(e.history) >= 3)
    (features, kinds), = model._row_features([example], "endorsement")
    (plain, plain_kinds), = model._row_features([example], "user_summary")
    n = min(len(example.history), model.options.history)
    assert list(kinds) == [HISTORY] * n + [POOLED, TARGET]  # endorsement sees the next purchase
    assert list(plain_kinds) == [HISTORY] * n + [POOLED]  # the user summary does not
    assert features.shape[1] == sum(model.features.part_dims().values()) == 64 + 64  # whitened parts
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-5)
    # The pooled token is the normalised mean of the history tokens.
    mean = features[:n].mean(axis=0)
    np.testing.assert_allclose(features[n], mean / np.linalg.norm(mean), rtol=1e-4, atol=1e-6)


def test_whitening_keeps_unseen_items_zero_and_gives_unit_variance():
    from regen_bench_plugins.models.fusion.soft_tokens.sequences import Whitening

    rng = np.random.default_rng(0)
    data = rng.normal(size=(500, 12)) * np.linspace(5, 0.1, 12)
    white = Whitening(data, k=6)
    out = white(data)
    assert out.shape == (500, 6)
    np.testing.assert_allclose(out.std(axis=0, ddof=1), 1.0, rtol=1e-4)
    assert not white(np.zeros((2, 12))).any()


def test_dropping_history_items_keeps_pooled_and_target_tokens():
    from regen_bench_plugins.models.fusion.soft_tokens.adapter import HISTORY, POOLED, TARGET
    from regen_bench_plugins.models.fusion.soft_tokens.sequences import Row, drop_history_items, normalise_rows

    rng = np.random.default_rng(1)
    features = normalise_rows(rng.normal(size=(8, 5)).astype(np.float32))
    kinds = np.array([HISTORY] * 6 + [POOLED, TARGET])
    row = Row(features, kinds, [1, 2], [3, 4])
    for _ in range(20):
        dropped = drop_history_items(row, rng, 0.5)
        history = dropped.kinds == HISTORY
        assert 1 <= history.sum() <= 6 and list(dropped.kinds[~history]) == [POOLED, TARGET]
        mean = dropped.features[history].mean(axis=0)
        np.testing.assert_allclose(dropped.features[dropped.kinds == POOLED][0], mean / np.linalg.norm(mean), rtol=1e-5)
        np.testing.assert_array_equal(dropped.features[-1], features[-1])
    assert drop_history_items(row, rng, 0.0) is row


def test_projection_parts_add_up_to_the_soft_token():
    import torch

    from regen_bench_plugins.models.fusion.soft_tokens.adapter import SoftTokenAdapter

    torch.manual_seed(0)
    adapter = SoftTokenAdapter({"cf": 4, "text": 6}, hidden=8, kind="projection")
    x = torch.randn(5, 10)
    weight = adapter.net[0].weight
    after, first = adapter.part_outputs(x), adapter.part_contributions(x)
    for part, sl in adapter.part_slices().items():
        expected = (x[:, sl] @ weight[:, sl].T).norm(dim=-1)
        torch.testing.assert_close(after[part], expected)
        torch.testing.assert_close(first[part], expected)
    with pytest.raises(ValueError, match="mlp.*projection"):
        SoftTokenAdapter({"cf": 4}, hidden=8, kind="transformer")


def test_analyze_soft_tokens_reports_cf_and_text_shares(tmp_path):
    _, run_dir = run(tmp_path / "a", "fusion", "--task", "user_summary", "--limit", "5",
                     args={"adapter": "projection"})
    result = CliRunner().invoke(main, ["analyze", "soft-tokens", str(run_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "text part exceeds the CF part" in result.output and "[SYNTHETIC DATA]" in result.output
    report = json.loads((run_dir / "soft_tokens.json").read_text())
    assert report["weights_match_run"] is True and report["weights_reused"] is True
    assert report["users"] == 5 and report["parts"] == ["cf", "text"]
    for view in ("after_adapter", "first_layer"):
        shares = report["views"][view]["share"]
        assert shares["cf"]["n"] == shares["text"]["n"] > 0
        assert shares["cf"]["mean"] + shares["text"]["mean"] == pytest.approx(1.0)
    # A projection adapter splits exactly: both views agree.
    assert report["views"]["after_adapter"]["norm"]["cf"]["mean"] == pytest.approx(
        report["views"]["first_layer"]["norm"]["cf"]["mean"], rel=1e-5)
    assert (run_dir / "soft_tokens.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_analyze_soft_tokens_rejects_other_models(tmp_path):
    results_dir = tmp_path / "runs"
    result = CliRunner().invoke(main, ["run", "--model", "popular", "--dataset-arg", "users=200", "--task",
                                       "user_summary", "--quiet", "--bootstrap", "20", "--output", str(results_dir)])
    assert result.exit_code == 0, result.output
    (run_dir,) = sorted(p.parent for p in results_dir.glob("*/results.json"))
    result = CliRunner().invoke(main, ["analyze", "soft-tokens", str(run_dir)])
    assert result.exit_code == 2 and "has no soft tokens" in result.output


def test_streamed_training_rows_are_the_rows_built_up_front_and_train_the_same_model(splits, monkeypatch):
    """Above STREAM_ROWS_ABOVE rows, training builds each batch's rows when it needs them:
    the same Rows bit for bit (the target tokens still come from one call), so the same
    losses and narratives; only `train_rows_built` says which way they were built."""
    import regen_bench_plugins.models.fusion as fusion
    from regen_bench_plugins.models.fusion import SoftTokenModel
    from regen_bench_plugins.models.fusion.soft_tokens.sequences import StreamedRows

    up_front = fitted(SoftTokenModel, splits, reuse_weights=False)
    users = sorted(splits.train, key=lambda e: e.example_id)[:40]
    eager = up_front._rows(users, with_targets=True)
    monkeypatch.setattr(fusion, "STREAM_ROWS_ABOVE", 0)
    streamed_rows = up_front._rows(users, with_targets=True)
    assert isinstance(eager, list) and isinstance(streamed_rows, StreamedRows)
    assert list(streamed_rows.lengths) == [len(r) for r in eager]
    for a, b in zip(eager, streamed_rows.take(range(len(eager)))):
        assert np.array_equal(a.features, b.features) and np.array_equal(a.kinds, b.kinds)
        assert (a.prompt_ids, a.target_ids) == (b.prompt_ids, b.target_ids)

    streamed = fitted(SoftTokenModel, splits, reuse_weights=False)
    assert streamed.train_report["train_loss"] == up_front.train_report["train_loss"]
    assert streamed.train_report["validation_loss"] == up_front.train_report["validation_loss"]
    assert (up_front.train_report["train_rows_built"], streamed.train_report["train_rows_built"]) == (
        "up front", "per batch")
    examples = [e for e in splits.test if "endorsement" in e.references][:3]
    assert streamed.generate(examples, "endorsement") == up_front.generate(examples, "endorsement")
