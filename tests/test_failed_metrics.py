"""A metric that scored nothing is a failed metric, not a number (issue 9, defect 1).

A real run against a local OpenAI-compatible judge (tests/api_servers.py) that answers
every rating request with prose: before, the run exited 0 with `nan ... n=0`, wrote null
scores, and `leaderboard build`, `compare` and `score` then failed on the file with a
pydantic error. Now the entries are `status: "failed"` with a reason, the run exits 1 after
writing (0 with --allow-failed-metrics), and every reader shows the failure in one line.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from api_servers import openai_server  # noqa: F401  (fixture)
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.results.schema import ScoreEntry, load_results

REASON = "unrated: 10 of 10, judge answers unparsable"
COMMON = ["--model", "popular", "--dataset-arg", "users=300", "--task", "user_summary", "--limit", "10",
          "--bootstrap", "50", "--quiet"]


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")


def judge_args(server) -> list[str]:
    return ["--metric", "bleu", "--metric", "llm-rater", "--metric-arg", f"llm-rater.base_url={server.base_url}",
            "--metric-arg", "llm-rater.model=judge-1", "--metric-arg", "llm-rater.backoff=0.01"]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def only_run(folder):
    (path,) = folder.glob("*/results.json")
    return path.parent


@pytest.fixture
def runs(openai_server, tmp_path):  # noqa: F811
    """A good run (bleu only) and a run whose judge answered only prose, under one results folder."""
    openai_server.responder = lambda conversation: "I found this summary rather good, honestly."
    good = invoke("run", *COMMON, "--metric", "bleu", "--output", tmp_path / "results" / "good")
    assert good.exit_code == 0, good.output
    bad = invoke("run", *COMMON, *judge_args(openai_server), "--output", tmp_path / "results" / "bad")
    return {"good": only_run(tmp_path / "results" / "good"), "bad_dir": tmp_path / "results" / "bad",
            "bad_result": bad, "root": tmp_path / "results", "server": openai_server}


def test_the_run_records_failed_entries_and_exits_1_after_writing(runs):
    result = runs["bad_result"]
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "nan" not in result.output
    assert f"FAILED  {REASON}" in result.output  # the console table's row
    assert f"error: metric llm-rater failed on task user_summary (faithfulness, relevance, personalisation, " \
           f"fluency, overall): {REASON}" in result.output
    assert "--allow-failed-metrics" in result.output
    results = load_results(only_run(runs["bad_dir"]) / "results.json")
    judged = [e for e in results.scores if e.metric == "llm-rater"]
    assert len(judged) == 5
    for entry in judged:
        assert entry.status == "failed" and entry.reason == REASON and entry.n == 0
        assert entry.score is None and entry.ci_low is None and entry.ci_high is None
    (bleu,) = [e for e in results.scores if e.metric == "bleu"]
    assert bleu.status == "ok" and bleu.score > 0 and bleu.reason is None
    raw = json.loads((only_run(runs["bad_dir"]) / "results.json").read_text())
    assert {s["status"] for s in raw["scores"] if s["metric"] == "llm-rater"} == {"failed"}


def test_allow_failed_metrics_exits_0_and_still_records_the_failure(runs, tmp_path):
    result = invoke("run", *COMMON, *judge_args(runs["server"]), "--allow-failed-metrics", "--output", tmp_path / "ok")
    assert result.exit_code == 0, result.output
    assert "error: metric llm-rater failed" in result.output
    results = load_results(only_run(tmp_path / "ok") / "results.json")
    assert {e.status for e in results.scores if e.metric == "llm-rater"} == {"failed"}


def test_leaderboard_build_shows_failed_cells_and_never_ranks_them(runs, tmp_path):
    out = tmp_path / "board"
    result = invoke("leaderboard", "build", "--results", runs["root"], "--out", out, "--bootstrap", "50", "--no-plots",
                    "--force")  # runs of 10 examples: below the minimum a leaderboard takes unforced
    assert result.exit_code == 0, result.output
    assert "failed metric(s), shown as failed and not ranked: user_summary llm-rater" in result.output
    readme = (out / "README.md").read_text()
    bad_row = next(line for line in readme.splitlines() if line.startswith("| popular") and "failed" in line)
    assert bad_row.count("| failed ") == 5
    assert (f"llm-rater failed (faithfulness, fluency, overall, personalisation, relevance): {REASON}; "
            "no score, not ranked or tested.") in readme
    board = json.loads((out / "leaderboard.json").read_text())
    (table,) = board["tables"]
    columns = {c["key"]: c for c in table["columns"]}
    for row in table["rows"]:
        for key, cell in row["cells"].items():
            if key.startswith("llm-rater/"):
                assert cell["status"] == "failed" and cell["reason"] == REASON and cell["score"] is None
                assert not cell["best"] and cell["significance"] is None
                assert columns[key]["best"] == []
            else:
                assert "status" not in cell and "reason" not in cell  # an ok cell adds nothing
    assert page_cell_texts(out / "index.html") == ["failed", "0.50 [0.40, 0.60]"]
    csv_rows = [line for line in (out / "leaderboard.csv").read_text().splitlines() if ",llm-rater," in line]
    assert len(csv_rows) == 5 and all(",failed,," in line for line in csv_rows)


def page_cell_texts(page):
    """The page's own cell-text functions, run by node on a failed and an ok cell."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not found: the page's script is checked in a browser by test_leaderboard_html_in_browser")
    wanted = ("function isNum(", "function fixed(", "function cellText(")
    functions = [line for line in page.read_text().splitlines() if line.strip().startswith(wanted)]
    assert len(functions) == 3, functions
    script = "\n".join(functions) + ('\nconsole.log(JSON.stringify([cellText({status: "failed", score: null, '
                                       'ci_low: null, ci_high: null}, {decimals: 4}), cellText({score: 0.5, '
                                       'ci_low: 0.4, ci_high: 0.6}, {decimals: 2})]));')
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_compare_notes_a_failed_score_instead_of_failing(runs, tmp_path):
    bad = only_run(runs["bad_dir"])
    result = invoke("compare", runs["good"], bad)
    assert result.exit_code == 0, result.output
    assert "bleu" in result.output and "Traceback" not in result.output
    twin = tmp_path / "twin"
    shutil.copytree(bad, twin)
    result = invoke("compare", bad, twin)
    assert result.exit_code == 0, result.output
    assert f"note: user_summary llm-rater/overall: not compared, failed in A ({REASON}); failed in B ({REASON})" \
        in result.output


def test_score_rescoring_the_failed_run_shows_the_failed_rows(runs):
    bad = only_run(runs["bad_dir"])
    result = invoke("score", bad / "samples.jsonl", *judge_args(runs["server"]))
    assert result.exit_code == 0, result.output
    assert f"FAILED  {REASON}" in result.output and "nan" not in result.output
    assert "error: metric llm-rater failed on task user_summary" in result.output


def test_a_results_file_from_before_status_reads_its_null_scores_as_failed(runs, tmp_path):
    """Files the old harness wrote (null score, n 0, no status) load as failed, and the board builds."""
    legacy = tmp_path / "legacy" / "run"
    shutil.copytree(only_run(runs["bad_dir"]), legacy)
    data = json.loads((legacy / "results.json").read_text())
    for entry in data["scores"]:
        entry.pop("status")
        entry.pop("reason")
    (legacy / "results.json").write_text(json.dumps(data, indent=2))
    entries = [e for e in load_results(legacy / "results.json").scores if e.metric == "llm-rater"]
    assert {(e.status, e.reason) for e in entries} == {("failed", "scored no example (n=0)")}
    result = invoke("leaderboard", "build", "--results", tmp_path / "legacy", "--out", tmp_path / "b2", "--no-plots",
                    "--force")
    assert result.exit_code == 0, result.output


def test_an_ok_entry_without_a_score_is_a_clear_schema_error():
    with pytest.raises(ValueError, match="must be numbers when status is 'ok'"):
        ScoreEntry(task="t", metric="m", component="c", status="ok", score=None, ci_low=None, ci_high=None, n=3,
                   signature="s", higher_is_better=True)
