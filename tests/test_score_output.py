"""`regen-bench score --output DIR` saves a re-scored run (issue 9, defect 12).

Before, `score` only printed: a metric added after a run could never reach a results file
or the leaderboard. Now it writes a new run folder whose provenance points at the run it
re-scored, that `leaderboard validate` accepts and `leaderboard build` shows.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from api_servers import openai_server  # noqa: F401  (fixture)
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.results.schema import load_results, read_samples

RUN = ["run", "--model", "popular", "--dataset-arg", "users=300", "--task", "user_summary", "--limit", "12",
       "--bootstrap", "50", "--quiet"]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def only_run(folder):
    (path,) = folder.glob("*/results.json")
    return path.parent


@pytest.fixture
def source(tmp_path):
    result = invoke(*RUN, "--output", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    return only_run(tmp_path / "runs")


def test_score_output_writes_a_new_run_that_validates_and_enters_the_leaderboard(source, tmp_path):
    result = invoke("score", source / "samples.jsonl", "--metric", "distinct", "--output", tmp_path / "rescored")
    assert result.exit_code == 0, result.output
    new = only_run(tmp_path / "rescored")
    assert new != source and (new / "samples.jsonl").is_file()
    old, rescored = load_results(source / "results.json"), load_results(new / "results.json")
    assert rescored.run_id != old.run_id and "-rescored-" in rescored.run_id and rescored.run_id in result.output
    assert rescored.rescored_from.run_id == old.run_id
    assert rescored.rescored_from.results_sha256 == hashlib.sha256((source / "results.json").read_bytes()).hexdigest()
    assert rescored.rescored_from.samples_sha256 == hashlib.sha256((source / "samples.jsonl").read_bytes()).hexdigest()
    assert old.rescored_from is None
    # the source's scores are kept, the new metric added
    keys = {(e.metric, e.component) for e in rescored.scores}
    assert {(e.metric, e.component) for e in old.scores} < keys
    assert {("distinct", "distinct-1"), ("distinct", "distinct-2"), ("distinct", "length")} <= keys
    assert [e for e in rescored.scores if e.metric != "distinct"] == old.scores
    assert {m.name for m in rescored.metrics} == {"bleu", "rouge", "distinct"}
    assert rescored.model == old.model and rescored.dataset == old.dataset and rescored.bootstrap == old.bootstrap
    rows = read_samples(new / "samples.jsonl")
    assert len(rows) == rescored.samples.rows == old.samples.rows
    assert {"bleu", "rouge1", "distinct-1", "length"} <= set(rows[0].scores)

    validated = invoke("leaderboard", "validate", new / "results.json")
    assert validated.exit_code == 0, validated.output
    assert "all 8 scores recomputed" in validated.output

    board = tmp_path / "board"
    built = invoke("leaderboard", "build", "--results", tmp_path / "rescored", "--out", board, "--no-plots",
                   "--bootstrap", "50", "--force")  # 12 examples: below the unforced minimum
    assert built.exit_code == 0, built.output
    table = json.loads((board / "leaderboard.json").read_text())["tables"][0]
    assert "distinct/distinct-1" in {c["key"] for c in table["columns"]}
    assert table["rows"][0]["run_id"] == rescored.run_id


def test_a_fixed_judge_turns_a_failed_metric_into_scores(openai_server, tmp_path, monkeypatch):  # noqa: F811
    """The workflow the run's error line suggests: fix the judge, then `score --output`."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    judge = ["--metric", "llm-rater", "--metric-arg", f"llm-rater.base_url={openai_server.base_url}",
             "--metric-arg", "llm-rater.model=judge-1", "--metric-arg", "llm-rater.backoff=0.01",
             "--metric-arg", "llm-rater.cache=false"]
    prose = openai_server.responder
    openai_server.responder = lambda conversation: "A fine summary, I would say."
    failed = invoke(*RUN, "--metric", "bleu", *judge, "--output", tmp_path / "runs")
    assert failed.exit_code == 1, failed.output
    source = only_run(tmp_path / "runs")
    openai_server.responder = prose  # the judge answers JSON again
    result = invoke("score", source / "samples.jsonl", *judge, "--output", tmp_path / "rescored")
    assert result.exit_code == 0, result.output
    rescored = load_results(only_run(tmp_path / "rescored") / "results.json")
    judged = [e for e in rescored.scores if e.metric == "llm-rater"]
    assert judged and all(e.status == "ok" and e.n == 12 and e.score is not None for e in judged)
    assert [e.status for e in rescored.scores if e.metric == "bleu"] == ["ok"]


def test_score_output_refuses_another_bootstrap_for_the_scores_it_keeps(source, tmp_path):
    result = invoke("score", source / "samples.jsonl", "--metric", "distinct", "--bootstrap", "20",
                    "--output", tmp_path / "rescored")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: --output keeps 5 score(s)") and "Traceback" not in result.output
    assert not (tmp_path / "rescored").exists()
    # re-scoring every metric of the run may change the bootstrap
    result = invoke("score", source / "samples.jsonl", "--metric", "bleu", "--metric", "rouge", "--bootstrap", "20",
                    "--output", tmp_path / "rescored")
    assert result.exit_code == 0, result.output
    assert load_results(only_run(tmp_path / "rescored") / "results.json").bootstrap.resamples == 20


def test_score_output_needs_the_runs_results_file(source, tmp_path):
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "samples.jsonl").write_bytes((source / "samples.jsonl").read_bytes())
    result = invoke("score", lone / "samples.jsonl", "--output", tmp_path / "rescored")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "results.json: not found" in result.output


def test_score_output_into_a_file_is_one_line_before_any_scoring(source, tmp_path):
    result = invoke("score", source / "samples.jsonl", "--metric", "distinct", "--output", "/dev/null")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: --output /dev/null: is not a folder") and "Traceback" not in result.output


def test_score_output_of_bleu_1_keeps_the_recorded_bleu_4(source, tmp_path):
    """A second instance of a recorded metric (`bleu:1` beside `bleu`) adds its scores and
    replaces nothing: once, re-scoring `bleu:1` dropped every BLEU-4 score of the run."""
    result = invoke("score", source / "samples.jsonl", "--metric", "bleu:1", "--output", tmp_path / "rescored")
    assert result.exit_code == 0, result.output
    old, rescored = load_results(source / "results.json"), load_results(only_run(tmp_path / "rescored") / "results.json")
    assert [e for e in rescored.scores if e.component != "bleu-1"] == old.scores
    assert {m.spec for m in rescored.metrics} == {"bleu", "rouge", "bleu:1"}
    assert "order:1" in next(m.signature for m in rescored.metrics if m.spec == "bleu:1")
    assert "order:" not in next(m.signature for m in rescored.metrics if m.spec == "bleu")
    again = invoke("score", only_run(tmp_path / "rescored") / "samples.jsonl", "--metric", "bleu",
                   "--output", tmp_path / "again")
    assert again.exit_code == 0, again.output
    third = load_results(only_run(tmp_path / "again") / "results.json")
    assert sorted((e.component, e.score) for e in third.scores) == sorted((e.component, e.score) for e in rescored.scores)
