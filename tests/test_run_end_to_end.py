"""`regen-bench run` and `regen-bench score` end to end on the embedded synthetic dataset."""

import json
import os

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.plugin import registry
from regen_bench.results.schema import RunResults

SMALL = ["--dataset-arg", "users=400", "--bootstrap", "200", "--quiet"]


def run_cli(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def only_results(out_dir):
    paths = sorted(out_dir.glob("*/results.json"))
    assert len(paths) == 1, paths
    return RunResults.model_validate_json(paths[0].read_text()), paths[0].parent


def test_run_writes_results_and_samples_with_traceable_fields(tmp_path):
    result = run_cli("run", "--model", "retrieval-tfidf", *SMALL, "--output", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.output
    assert "[SYNTHETIC DATA]" in result.output
    results, run_dir = only_results(tmp_path / "runs")
    assert results.dataset.synthetic is True
    assert results.dataset.name == "synthetic" and len(results.dataset.sha256) == 64
    assert results.dataset.split == "test" and results.dataset.split_hash
    assert set(results.tasks) >= {"user_summary", "purchase_reason", "endorsement"}
    assert results.model.name == "retrieval-tfidf" and results.model.config_hash
    assert results.harness.version and results.environment["python"].startswith("3.")
    assert results.environment["cpu_count"] == os.cpu_count() and "cpu" in results.environment
    assert set(results.timings) >= {"load", "split", "fit", "generate", "score", "write"}
    metrics = {(s.task, s.metric, s.component) for s in results.scores}
    for task in results.tasks:
        assert (task, "bleu", "bleu") in metrics
        assert (task, "rouge", "rougeL") in metrics and (task, "rouge", "rougeLsum") in metrics
    for score in results.scores:
        assert score.ci_low <= score.score <= score.ci_high
        assert score.signature and score.n == results.dataset.n_examples_by_task[score.task]
    rows = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == results.samples.rows == sum(results.dataset.n_examples_by_task.values())
    for row in rows[:20]:
        assert {"task", "example_id", "user_id", "prediction", "reference", "scores"} <= set(row)
        assert {"bleu", "rouge1", "rouge2", "rougeL", "rougeLsum"} <= set(row["scores"])


def test_same_run_twice_gives_the_same_numbers(tmp_path, monkeypatch):
    args = ["run", "--model", "retrieval-tfidf", "--task", "user_summary", *SMALL]
    assert run_cli(*args, "--output", str(tmp_path / "a")).exit_code == 0
    monkeypatch.setenv("REGEN_BENCH_CACHE_DIR", str(tmp_path / "fresh-cache"))  # regenerate from scratch
    registry.reset()
    assert run_cli(*args, "--output", str(tmp_path / "b")).exit_code == 0
    first, _ = only_results(tmp_path / "a")
    second, _ = only_results(tmp_path / "b")
    assert second.cache["generated"] == first.cache["generated"] > 0
    assert [s.model_dump() for s in first.scores] == [s.model_dump() for s in second.scores]
    assert first.samples.sha256 == second.samples.sha256


def test_score_command_reproduces_the_run_scores(tmp_path):
    assert run_cli("run", "--model", "popular", "--task", "user_summary", *SMALL, "--output", str(tmp_path)).exit_code == 0
    results, run_dir = only_results(tmp_path)
    rescored = run_cli("score", str(run_dir / "samples.jsonl"), "--bootstrap", "200", "--json")
    assert rescored.exit_code == 0, rescored.output
    again = json.loads(rescored.output)
    assert [(e["component"], e["score"], e["ci_low"], e["ci_high"]) for e in again] == [
        (s.component, s.score, s.ci_low, s.ci_high) for s in results.scores
    ]


def test_score_command_rejects_a_malformed_samples_file(tmp_path):
    bad = tmp_path / "samples.jsonl"
    bad.write_text('{"task": "user_summary", "example_id": "u1"}\n')
    result = CliRunner().invoke(main, ["score", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:1: not a samples.jsonl row" in result.output


def test_popular_is_one_narrative_and_retrieval_copies_training_narratives(tmp_path):
    from regen_bench.data.loading import load_dataset_examples
    from regen_bench.data.splits import split_users_by_hash
    from regen_bench.plugin.registry import get_registry

    for model in ("popular", "retrieval-tfidf"):
        out = tmp_path / model
        assert run_cli("run", "--model", model, "--task", "user_summary", *SMALL, "--output", str(out)).exit_code == 0
    provider = get_registry().get("dataset", "synthetic").cls(users=400)
    splits = split_users_by_hash(load_dataset_examples(provider).examples)
    train_summaries = {e.references["user_summary"] for e in splits.train}
    test_summaries = {e.example_id: e.references["user_summary"] for e in splits.test}
    for model in ("popular", "retrieval-tfidf"):
        _, run_dir = only_results(tmp_path / model)
        rows = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
        predictions = [r["prediction"] for r in rows]
        assert set(predictions) <= train_summaries, "both models copy training narratives"
        assert all(r["reference"] == test_summaries[r["example_id"]] for r in rows)
        if model == "popular":
            assert len(set(predictions)) == 1
        else:
            assert len(set(predictions)) > len(predictions) // 2, "retrieval is personalised"


def test_unknown_task_path_lists_the_paths_that_exist(tmp_path):
    result = CliRunner().invoke(
        main, ["run", "--model", "popular", *SMALL, "--task", "user_summary", "--task-map", "user_summary=user.nope",
               "--output", str(tmp_path)],
    )
    assert result.exit_code == 2, result.output
    assert "user.nope" in result.output and "user.long_summary" in result.output


def test_task_map_option_points_a_task_at_another_field(tmp_path):
    result = run_cli("run", "--model", "popular", *SMALL, "--task", "user_summary",
                     "--task-map", "user_summary=user.profile", "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    results, run_dir = only_results(tmp_path)
    assert results.dataset.layout["tasks"]["user_summary"] == "user.profile"


def test_bad_model_option_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["run", "--model", "popular", *SMALL, "--model-arg", "similarity=bogus",
                                       "--output", str(tmp_path)])
    assert result.exit_code == 2
    assert "similarity" in result.output and "Traceback" not in result.output


def test_run_on_a_local_file_with_a_bad_record_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"reviewer_id": "A1", "purchase_history": []}\n')
    result = CliRunner().invoke(main, ["run", "--model", "popular", "--dataset", str(path), "--output", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{path}:1: purchase_history" in result.output


@pytest.mark.parametrize("model", ["popular", "retrieval-tfidf"])
def test_list_models_describes_builtins(model):
    result = run_cli("list", "models", "--json")
    assert any(m["name"] == model and m["description"] for m in json.loads(result.output))


def test_usage_from_metrics_is_summed_and_unknown_cost_stays_unknown():
    from regen_bench.contracts.metric import Component, Metric, MetricOutput
    from regen_bench.results.schema import SampleRow
    from regen_bench.results.scoring import score_rows

    class Priced(Metric):
        name = "priced"

        def score(self, predictions, references, examples):
            cost = None if predictions[0] == "unknown" else 0.5
            return MetricOutput([Component.mean("priced", [1.0] * len(predictions))],
                                usage={"requests": len(predictions), "cost_usd": cost})

    rows = [SampleRow(task=t, example_id="e", user_id="u", prediction=p, reference="r")
            for t, p in (("a", "known"), ("b", "known"), ("c", "unknown"))]
    usage = {}
    score_rows(rows[:2], [Priced()], seed=0, resamples=10, usage=usage)
    assert usage == {"priced": {"requests": 2, "cost_usd": 1.0}}
    score_rows(rows, [Priced()], seed=0, resamples=10, usage=usage)
    assert usage["priced"] == {"requests": 5, "cost_usd": None}


def test_default_tasks_include_next_item_for_models_that_recommend(tmp_path):
    result = run_cli("run", "--model", "popular", *SMALL, "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    results, _ = only_results(tmp_path)
    assert "next_item" in results.tasks
    ranking = {s.component for s in results.scores if s.task == "next_item"}
    assert {"recall@10", "ndcg@10", "mrr"} <= ranking
    text = {s.metric for s in results.scores if s.task != "next_item"}
    assert text == {"bleu", "rouge"}


def test_text_only_model_cannot_run_next_item(tmp_path):
    result = CliRunner().invoke(main, ["run", "--model", "retrieval-tfidf", *SMALL, "--task", "next_item",
                                       "--output", str(tmp_path)])
    assert result.exit_code == 2
    assert "does not recommend items" in result.output


def test_results_record_each_metric_with_options_to_rebuild_it(tmp_path):
    result = run_cli("run", "--model", "popular", *SMALL, "--task", "user_summary", "--metric", "bleu",
                     "--metric", "rouge", "--metric-arg", "rouge.use_stemmer=false", "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    results, _ = only_results(tmp_path)
    by_name = {m.name: m for m in results.metrics}
    assert set(by_name) == {"bleu", "rouge"}
    assert by_name["rouge"].options["use_stemmer"] is False
    assert "stem:no" in by_name["rouge"].signature
    assert by_name["bleu"].signature == next(s.signature for s in results.scores if s.metric == "bleu")
    assert by_name["bleu"].description and by_name["bleu"].kind == "text"
