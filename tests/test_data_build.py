"""`regen-bench data build` from each real sample in ../shared/data, against local HTTP servers
that answer like OpenAI and like Gemini (real JSON over real HTTP on 127.0.0.1): the files
pass `data info` with every task and run with `retrieval-fusion`; a dry run calls nothing
and counts what a build calls; malformed answers are repaired or counted, never fatal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from amazon_samples import TASKS, sample_inputs
from api_servers import FakeGeminiServer, FakeOpenAIServer
from build_responders import build_answer
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.contracts.layout import DatasetLayout
from regen_bench.data.discovery import discover


@pytest.fixture(params=["openai", "gemini"])
def server(request, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-build")
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test-build")
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    srv = (FakeOpenAIServer() if request.param == "openai" else FakeGeminiServer()).start()
    srv.responder = build_answer
    try:
        yield srv
    finally:
        srv.stop()


def llm_args(server) -> list[str]:
    spec = "openai:gpt-4o-mini" if server.kind == "openai" else "gemini:gemini-2.0-flash"
    return ["--llm", spec, "--llm-arg", f"base_url={server.base_url}", "--llm-arg", "concurrency=8"]


def invoke(*args) -> object:
    result = CliRunner().invoke(main, ["data", "build", *map(str, args), "--quiet"])
    return result


def check_all_tasks(path: Path) -> dict:
    info = discover(path, layout=DatasetLayout())
    assert {t.task for t in info.tasks_available} == TASKS, info.tasks_unavailable
    assert all(t.fill_rate == 1.0 for t in info.tasks_available)
    assert info.critique_available
    assert info.build_manifest is not None and info.build_manifest_matches is True
    return info.build_manifest


@pytest.mark.parametrize("sample", ["amazon2023_office", "fashion_2018", "office_5core_2014"])
def test_build_from_real_sample_passes_data_info(sample, server, shared_data, tmp_path):
    out = tmp_path / "built.jsonl.gz"
    result = invoke(*sample_inputs(sample, shared_data, tmp_path), *llm_args(server), "--output", out)
    assert result.exit_code == 0, result.output
    assert "wrote " in result.output and "tokens" in result.output
    manifest = check_all_tasks(out)
    assert manifest["llm"]["provider"] == server.kind
    assert manifest["calls"]["malformed"] == {} and manifest["calls"]["failed"] == {}
    artefact_calls = sum(manifest["calls"]["artefacts"].values())
    assert len(server.requests) == artefact_calls  # one call per artefact, no repair needed
    assert set(manifest["prompts"]) == {f"{n}.v1.txt" for n in
                                        ("system", "repair", "critique", "purchase_reason", "endorsement",
                                         "profile", "long_summary")}
    info = CliRunner().invoke(main, ["data", "info", str(out)])
    assert info.exit_code == 0 and "built by:   regen-bench data build" in info.output


def test_a_built_file_runs(server, shared_data, tmp_path):
    # retrieval-tfidf here (seconds); test_data_build_local.py (slow) runs retrieval-fusion on every sample.
    if server.kind == "gemini":
        pytest.skip("one run is enough: the file's format does not depend on the API")
    out = tmp_path / "office2023.jsonl"
    assert invoke(*sample_inputs("amazon2023_office", shared_data, tmp_path), *llm_args(server),
                  "--output", out).exit_code == 0
    result = CliRunner().invoke(main, ["run", "--model", "retrieval-tfidf", "--dataset", str(out), "--quiet",
                                       "--bootstrap", "10", "--output", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    results = json.loads(next((tmp_path / "runs").glob("*/results.json")).read_text())
    assert set(results["tasks"]) >= TASKS


def test_dry_run_counts_the_calls_and_calls_nothing(server, shared_data, tmp_path):
    if server.kind == "gemini":
        pytest.skip("the estimate does not depend on the API")
    args = [*sample_inputs("amazon2023_office", shared_data, tmp_path), *llm_args(server)]
    dry = invoke(*args, "--output", tmp_path / "dry.jsonl", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert not server.requests and not (tmp_path / "dry.jsonl").exists()
    total = next(line for line in dry.output.splitlines() if line.startswith("total"))
    assert "cost at $0.15 / $0.6 per 1M" in dry.output
    assert invoke(*args, "--output", tmp_path / "real.jsonl").exit_code == 0
    assert int(total.split()[1].replace(",", "")) == len(server.requests)


def test_malformed_answers_are_repaired_or_counted_missing(server, tmp_path):
    reviews = tmp_path / "reviews.json"
    rows = []
    for user, word in (("U1", "FIXABLE"), ("U2", "GARBAGE"), ("U3", "plain")):
        for day, asin in enumerate(("A1", "A2", "A3")):
            rows.append({"reviewerID": user, "asin": asin, "overall": 4.0, "unixReviewTime": 1_400_000_000 + day,
                         "reviewText": f"{word} review of {asin}", "summary": "ok"})
    reviews.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    result = invoke("--reviews", reviews, "--min-interactions", "3", "--item-min-interactions", "1",
                    *llm_args(server), "--output", out)
    assert result.exit_code == 0, result.output
    assert "warning: missing artefacts" in result.output
    manifest = json.loads((tmp_path / "out.jsonl.manifest.json").read_text())
    calls = manifest["calls"]
    # No meta file: no titles or categories, so no similar pairs: 4 narratives per user.
    assert calls["artefacts"]["critique"] == 0
    # U1: every narrative repaired; U2: purchase_reason and endorsement see GARBAGE (the
    # target's review), and so do the summaries (the history's reviews): all four missing.
    assert calls["malformed"] == {"endorsement": 1, "long_summary": 1, "profile": 1, "purchase_reason": 1}
    assert calls["repair_calls"] == 8
    records = {json.loads(line)["reviewer_id"]: json.loads(line) for line in out.read_text().splitlines()}
    assert records["U2"]["user"]["long_summary"] is None and records["U1"]["user"]["long_summary"]
    assert records["U3"]["last_purchase"]["endorsement"]


def test_bad_llm_spec_and_options_are_one_line_errors(tmp_path):
    reviews = tmp_path / "r.json"
    reviews.write_text(json.dumps({"reviewerID": "U", "asin": "A", "unixReviewTime": 1}) + "\n")
    for args, message in (
        (["--llm", "claude:x"], "expected openai:MODEL, gemini:MODEL or local[:MODEL]"),
        (["--llm", "openai"], "name the model"),
        (["--llm", "openai:gpt-4o-mini", "--llm-arg", "colour=blue"], "unknown option(s) colour"),
        (["--llm", "openai:gpt-4o-mini", "--llm-arg", "rpm=fast"], "--llm-arg: rpm"),
    ):
        result = invoke("--reviews", reviews, *args, "--output", tmp_path / "o.jsonl")
        assert result.exit_code == 2 and message in result.output, result.output
        assert "Traceback" not in result.output


def test_429s_and_500s_are_retried_and_counted(server, tmp_path):
    reviews = tmp_path / "reviews.jsonl"
    rows = [{"user_id": f"U{u}", "parent_asin": f"B{i}", "rating": 5.0, "text": f"good {u}", "title": "ok",
             "timestamp": (1_600_000_000 + i) * 1000} for u in range(2) for i in range(3)]
    reviews.write_text("".join(json.dumps(r) + "\n" for r in rows))
    server.add_fault("status", 429, {"retry_after": 0.01}, times=2)
    server.add_fault("status", 500, times=1)
    out = tmp_path / "out.jsonl"
    result = invoke("--reviews", reviews, "--min-interactions", "3", "--item-min-interactions", "1",
                    *llm_args(server), "--llm-arg", "backoff=0.01", "--llm-arg", "rpm=6000", "--output", out)
    assert result.exit_code == 0, result.output
    assert "3 retries, 0 failed" in result.output
    assert len(server.requests) == 8 + 3  # 2 users x 4 narratives, and the 3 refused attempts
    assert "warning" not in result.output
