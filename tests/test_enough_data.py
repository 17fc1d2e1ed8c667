"""Too little data is one clear line before any model is fitted (issue 9, defect 10), and the
run's plan refuses what would score nothing or drop a task silently (defect 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.data.splits import MIN_SCORED_EXAMPLES, SplitConfig, split_of_user

OFFLINE_MODELS = ["popular", "popularity", "retrieval-tfidf", "retrieval-cf", "retrieval-text", "retrieval-fusion",
                  "wals", "fusion-knn", "fusion", "cf-only", "text-only", "llm-local"]


def run(*args):
    return CliRunner().invoke(main, ["run", *args, "--quiet", "--bootstrap", "20"])


def user(uid: str, summary: str | None = "a person who buys pens", n: int = 3) -> dict:
    history = [{"item": {"asin": f"{uid}-{i}", "title": f"blue pen {i}", "category": "Office Products - Pens"},
                "review": {"rating": 4, "text": "writes well"}} for i in range(n)]
    rec = {"reviewer_id": uid, "purchase_history": history}
    if summary is not None:
        rec["user"] = {"long_summary": summary}
    return rec


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def users_in(split: str, count: int, prefix: str = "U") -> list[str]:
    config, found, i = SplitConfig(), [], 0
    while len(found) < count:
        uid = f"{prefix}{i}"
        if split_of_user(uid, config) == split:
            found.append(uid)
        i += 1
    return found


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("model", OFFLINE_MODELS)
def test_the_one_user_real_regen_file_is_one_clear_line_for_every_offline_model(shared_data, tmp_path, model):
    real = shared_data / "regen_real" / "office_reconstructed.jsonl"
    line = one_error_line(run("--model", model, "--dataset", str(real), "--output", str(tmp_path)))
    assert line == ("error: the train split of 'office_reconstructed.jsonl' is empty (1 user(s): train 0, "
                    "validation 0, test 1): a model needs at least 1 training user to fit. Use a file with more "
                    "users (with the default 80/10/10 split, 300 or more give 30 test examples)")
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_text_task_without_training_narratives_is_an_error_before_fit(tmp_path):
    train, test = users_in("train", 5), users_in("test", 2)
    rows = [user(u, summary=None) for u in train] + [user(u) for u in test]
    line = one_error_line(run("--model", "popular", "--task", "user_summary",
                              "--dataset", str(write(tmp_path / "a.jsonl", rows))))
    assert line.startswith("error: task 'user_summary' has no training narratives: none of the 5 train user(s) of "
                           "'a.jsonl' has text at user.long_summary (7 user(s): train 5, validation 0, test 2).")
    assert "--task-map user_summary=FIELD.PATH" in line


def test_a_task_with_nothing_to_score_is_an_error(tmp_path):
    train, test = users_in("train", 5), users_in("test", 2)
    rows = [user(u) for u in train] + [user(u, summary=None) for u in test]
    line = one_error_line(run("--model", "popular", "--task", "user_summary",
                              "--dataset", str(write(tmp_path / "a.jsonl", rows))))
    assert line.startswith("error: task 'user_summary' has nothing to score: none of the 2 test user(s) of 'a.jsonl' "
                           "has text at user.long_summary")


def test_an_empty_test_split_is_an_error(tmp_path):
    rows = [user(u) for u in users_in("train", 4)]
    line = one_error_line(run("--model", "popular", "--dataset", str(write(tmp_path / "a.jsonl", rows))))
    assert "the test split of 'a.jsonl' is empty" in line


def test_a_small_test_split_runs_with_a_warning_naming_the_minimum(tmp_path):
    rows = [user(u) for u in users_in("train", 6) + users_in("validation", 1) + users_in("test", 2)]
    result = run("--model", "popular", "--task", "user_summary", "--metric", "bleu",
                 "--dataset", str(write(tmp_path / "a.jsonl", rows)), "--output", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.output
    assert (f"warning: task 'user_summary' is scored on 2 test example(s), fewer than {MIN_SCORED_EXAMPLES}"
            in result.stderr)


def test_a_task_with_only_metrics_of_another_kind_names_the_metrics_that_fit(tmp_path):
    result = run("--model", "popular", "--task", "next_item", "--metric", "bleu", "--dataset-arg", "users=60",
                 "--output", str(tmp_path))
    line = one_error_line(result)
    assert line.startswith("error: task 'next_item' is a ranking task, and no selected metric (bleu) scores "
                           "ranking tasks; add --metric with one of: ")
    for name in ("mrr", "ndcg@k", "recall@k"):
        assert name in line
    assert not list(tmp_path.iterdir())


def test_default_tasks_with_no_metric_of_any_of_their_kinds_is_an_error(tmp_path):
    line = one_error_line(run("--model", "popularity", "--metric", "bleu", "--dataset-arg", "users=60"))
    assert "task 'next_item' is a ranking task" in line


def test_a_task_map_to_a_missing_field_is_an_error_not_a_dropped_task(tmp_path):
    line = one_error_line(run("--model", "popular", "--dataset-arg", "users=60",
                              "--task-map", "user_summary=user.nothere"))
    assert line.startswith("error: task 'user_summary' maps to field 'user.nothere', which dataset 'synthetic'")
    assert "--task-map user_summary=FIELD.PATH" in line


def test_skipped_bad_records_are_counted_on_the_console(tmp_path):
    rows = [json.dumps(user(u)) for u in users_in("train", 6) + users_in("test", 2)]
    rows.insert(2, "{not json")
    rows.insert(4, '{"reviewer_id": "X", "x": ' + "[" * 1500 + "]" * 1500 + "}")
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = run("--model", "popular", "--task", "user_summary", "--metric", "bleu", "--dataset", str(path),
                 "--on-bad-record", "skip", "--output", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.output
    assert "warning: 2 bad record(s) skipped:" in result.stderr
    assert f"{path}:3: -: expected valid JSON" in result.stderr
    assert f"{path}:5: -: expected a REGEN record, got JSON nested more than 64 levels deep" in result.stderr
    (results,) = (tmp_path / "runs").glob("*/results.json")
    assert json.loads(results.read_text())["dataset"]["bad_records_skipped"] == 2


def test_a_model_that_cannot_fit_its_training_data_is_one_line_with_the_counts(tmp_path):
    # No history has any text: TF-IDF has an empty vocabulary (a raw sklearn traceback before issue 9).
    rows = [{"reviewer_id": f"U{i}", "purchase_history": [{"item": {"asin": f"A{i % 5}"}}, {"item": {"asin": f"A{i % 3}"}}],
             "user": {"long_summary": "likes things a lot"}} for i in range(40)]
    line = one_error_line(run("--model", "retrieval-tfidf", "--dataset", str(write(tmp_path / "notext.jsonl", rows)),
                              "--output", str(tmp_path / "runs")))
    assert line.startswith("error: model 'retrieval-tfidf' cannot fit the train split of 'notext.jsonl' (40 user(s): "
                           "train 34, validation 4, test 2): ValueError: empty vocabulary")
    assert "regen-bench data info" in line
    assert not (tmp_path / "runs").exists()
