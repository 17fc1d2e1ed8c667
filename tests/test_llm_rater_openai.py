"""The llm-rater metric with an OpenAI-compatible judge: a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import math

import pytest
from api_servers import CRITERIA, FakeOpenAIServer, expected_scores, openai_server  # noqa: F401  (fixture)

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.examples import Example
from regen_bench.contracts.records import Item, Purchase, Review
from regen_bench_plugins.api_client import CallCache
from regen_bench_plugins.metrics.llm_rater import LlmRaterMetric, load_rubric, parse_scores

KEY = "sk-llm-rater-secret-key-42"


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def make_example(i: int, reference: str) -> Example:
    history = [
        Purchase(
            item=Item(asin=f"B{i}0", title=f"Inkwell Gel Pens {i}", category="Office Products - Pens", price=7.49),
            review=Review(summary="Smooth writing", rating=5, text="These pens glide across the page. " * 20),
        ),
        Purchase(item=Item(asin=f"B{i}1", title=f"Meridian Binder {i}", category="Binders"), review=None),
    ]
    target = Purchase(item=Item(asin=f"B{i}9", title=f"Fairhaven Desk Lamp {i}", category="Desk Lamps", price=36.99))
    return Example(example_id=f"U{i}", user_id=f"U{i}", history=history, target=target,
                   references={"user_summary": reference, "purchase_reason": f"other text {i}"})


def metric(server: FakeOpenAIServer, **options) -> LlmRaterMetric:
    options.setdefault("model", "judge-1")
    options.setdefault("backoff", 0.01)
    options.setdefault("timeout", 5.0)
    return LlmRaterMetric(base_url=server.base_url, **options)


def data(n: int, narratives: list[str] | None = None):
    predictions = narratives or [f"A loyal pen buyer number {i}." for i in range(n)]
    references = [f"Reference summary {i}." for i in range(len(predictions))]
    examples = [make_example(i, ref) for i, ref in enumerate(references)]
    return predictions, references, examples


def test_scores_come_from_the_judges_json(openai_server):
    predictions, references, examples = data(3)
    out = metric(openai_server).score(predictions, references, examples)
    names = [c.name for c in out.components]
    assert names == [*CRITERIA, "overall"]
    for i, prediction in enumerate(predictions):
        want = expected_scores(prediction)
        for component in out.components[:-1]:
            assert component.per_example[i] == want[component.name]
        assert out.components[-1].per_example[i] == pytest.approx(sum(want.values()) / 4)
    overall = out.components[-1]
    assert overall.corpus_score() == pytest.approx(sum(overall.per_example) / 3)
    assert out.counts == {"rated": 3, "unrated": 0, "failed_calls": 0, "cache_hits": 0, "repairs": 0,
                          "invalid_answers": 0, "reference_only": 0}
    assert out.details[0] == {"llm_rater_status": "rated", "llm_rater_context": "full"}


def test_the_prompt_carries_history_target_reference_and_settings(openai_server):
    predictions, references, examples = data(1)
    metric(openai_server).score(predictions, references, examples)
    [request] = openai_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.body
    assert body["model"] == "judge-1" and body["temperature"] == 0
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert system["role"] == "system" and "JSON" in system["content"]
    prompt = user["content"]
    for needle in ('"Inkwell Gel Pens 0"', "Office Products - Pens", "$7.49", "rated 5/5", '"Smooth writing"',
                   '"Meridian Binder 0"', '"Fairhaven Desk Lamp 0"', "Reference summary 0.",
                   "<narrative>\nA loyal pen buyer number 0.\n</narrative>", "a summary of the user's tastes"):
        assert needle in prompt, needle
    assert "These pens glide" in prompt and prompt.count("glide") < 10  # review text is clipped


def test_malformed_answers_get_one_repair_then_count_as_unrated(openai_server):
    narratives = ["fine narrative", "GARBAGE narrative", "FIXABLE narrative", "OUTOFRANGE narrative"]
    predictions, references, examples = data(0, narratives)
    out = metric(openai_server).score(predictions, references, examples)
    assert openai_server.count("fine narrative") == 1
    assert openai_server.count("GARBAGE narrative") == 2  # the answer and exactly one repair
    assert openai_server.count("FIXABLE narrative") == 2
    assert openai_server.count("OUTOFRANGE narrative") == 2
    repair = [r for r in openai_server.requests if "GARBAGE" in r.raw][-1].body["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert "not valid JSON" in repair[-1]["content"]
    fluency = out.components[CRITERIA.index("fluency")].per_example
    assert math.isnan(fluency[1]) and math.isnan(fluency[3])
    assert fluency[2] == expected_scores("FIXABLE narrative")["fluency"]
    assert out.counts["rated"] == 2 and out.counts["unrated"] == 2
    assert out.counts["repairs"] == 3 and out.counts["invalid_answers"] == 2 and out.counts["failed_calls"] == 0
    assert out.components[0].stats.shape == (2, 1)  # NaN left out of n
    assert out.details[3]["llm_rater_status"] == "invalid"
    assert "outside 1-5" in out.details[3]["llm_rater_error"]


def test_second_run_makes_no_requests(openai_server):
    narratives = ["one", "two", "GARBAGE three"]
    predictions, references, examples = data(0, narratives)
    first = metric(openai_server).score(predictions, references, examples)
    sent = len(openai_server.requests)
    assert sent == 4
    again = metric(openai_server).score(predictions, references, examples)
    assert len(openai_server.requests) == sent
    assert again.counts["cache_hits"] == 4 and again.counts["unrated"] == 1
    assert again.usage["requests"] == 0
    for a, b in zip(first.components, again.components):
        assert a.per_example == pytest.approx(b.per_example, nan_ok=True)


def test_a_failed_example_is_retried_on_the_next_run_and_only_it(openai_server):
    predictions, references, examples = data(4)
    openai_server.add_fault("sleep", 3.0, times=None, match="number 2.")  # timeout: room to send each attempt
    out = metric(openai_server, retries=1, timeout=0.6).score(predictions, references, examples)
    assert openai_server.count("number 2.") == 2  # timed out twice (1 retry)
    assert out.counts["failed_calls"] == 1 and out.counts["unrated"] == 1 and out.counts["rated"] == 3
    assert out.details[2]["llm_rater_status"] == "failed" and "timeout" in out.details[2]["llm_rater_error"]
    assert math.isnan(out.components[-1].per_example[2])
    assert CallCache().status_counts() == {"ok": 3, "failed": 1}

    openai_server.reset()
    out = metric(openai_server).score(predictions, references, examples)
    assert len(openai_server.requests) == 1 and "number 2." in openai_server.requests[0].raw
    assert out.counts["rated"] == 4 and out.counts["cache_hits"] == 3


def test_every_call_failing_is_an_error_not_a_nan_score(openai_server):
    openai_server.add_fault("status", 404, times=None)
    with pytest.raises(RegenBenchError, match="all 2 judge calls.*HTTP 404"):
        metric(openai_server).score(*data(2))


def test_429_and_500_are_retried_inside_the_metric(openai_server):
    openai_server.add_fault("status", 429, {"retry_after": 0.2})
    openai_server.add_fault("status", 500)
    out = metric(openai_server, concurrency=1).score(*data(2))
    assert [r.status for r in openai_server.requests] == [429, 500, 200, 200]
    assert openai_server.requests[1].started - openai_server.requests[0].finished >= 0.19
    assert out.counts["rated"] == 2 and out.usage["requests"] == 4


def test_usage_and_cost(openai_server, tmp_path):
    predictions, references, examples = data(3)
    out = metric(openai_server, model="gpt-4o-mini").score(predictions, references, examples)
    words_in = sum(len(m["content"].split()) for r in openai_server.requests for m in r.body["messages"])
    words_out = sum(len(json.dumps(expected_scores(p)).split()) for p in predictions)
    assert out.usage == {
        "input_tokens": words_in, "output_tokens": words_out, "requests": 3,
        "cost_usd": pytest.approx((words_in * 0.15 + words_out * 0.60) / 1e6),
    }
    unknown = metric(openai_server, cache=False).score(*data(1))
    assert unknown.usage["cost_usd"] is None
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"openai:judge-1": {"input": 1.0, "output": 1.0}}))
    priced = metric(openai_server, cache=False, prices=str(prices)).score(*data(1))
    assert priced.usage["cost_usd"] == pytest.approx((priced.usage["input_tokens"] + priced.usage["output_tokens"]) / 1e6)


def test_without_examples_rates_against_the_reference_only(openai_server):
    predictions, references, _ = data(2)
    out = metric(openai_server).score(predictions, references, None)
    prompt = openai_server.requests[0].body["messages"][1]["content"]
    assert "not available" in prompt and "Inkwell" not in prompt and "Reference summary" in prompt
    assert out.details[0]["llm_rater_context"] == "reference-only"
    assert out.counts["reference_only"] == 2 and out.counts["rated"] == 2
    assert "|context:reference-only|" in out.signature
    # a mix of known and unknown examples
    _, _, examples = data(2)
    mixed = metric(openai_server).score(predictions, references, [examples[0], None])
    assert "|context:mixed|" in mixed.signature


def test_signature(openai_server, tmp_path):
    m = metric(openai_server)
    sig = m.signature()
    rubric_sha = load_rubric().sha[:12]
    assert sig.startswith("metric:llm-rater|provider:openai|model:judge-1|endpoint:")
    assert sig.endswith(f"|rubric:{rubric_sha}|temp:0|scale:1-5|json:yes|context:full|version:1")
    assert KEY not in sig and "127.0.0.1" not in sig
    assert LlmRaterMetric().signature() == (
        f"metric:llm-rater|provider:openai|model:gpt-4o-mini|rubric:{rubric_sha}|temp:0|scale:1-5|json:yes"
        "|context:full|version:1"
    )
    assert "|temp:0.7|" in metric(openai_server, temperature=0.7).signature()
    custom = json.loads(load_rubric_path().read_text())
    custom["criteria"] = custom["criteria"][:2]
    custom["scale"] = {"min": 0, "max": 10}
    path = tmp_path / "two.json"
    path.write_text(json.dumps(custom))
    m2 = metric(openai_server, rubric=str(path))
    assert "|scale:0-10|" in m2.signature() and rubric_sha not in m2.signature()
    out = m2.score(*data(1))
    assert [c.name for c in out.components] == ["faithfulness", "relevance", "overall"]
    prompt = openai_server.requests[-1].body["messages"][1]["content"]
    assert '{"faithfulness": 10, "relevance": 9}' in prompt and "personalisation:" not in prompt
    assert "integer from 0 (worst) to 10 (best)" in prompt


def load_rubric_path():
    from regen_bench_plugins.metrics.llm_rater import resolve_rubric_path

    return resolve_rubric_path("default")


def test_bad_rubrics_are_rejected(tmp_path):
    rubric = json.loads(load_rubric_path().read_text())
    rubric["prompt"] = "rate {narrative} for {user_name}"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(rubric))
    with pytest.raises(RegenBenchError, match="unknown placeholder"):
        LlmRaterMetric(rubric=str(path))
    with pytest.raises(RegenBenchError, match="neither a file nor a shipped rubric"):
        LlmRaterMetric(rubric="no-such-rubric")


def test_parse_scores_is_strict():
    rubric = load_rubric()
    good = {"faithfulness": 4, "relevance": 5, "personalisation": 3, "fluency": 5}
    assert parse_scores(json.dumps(good), rubric) == (good, None)
    assert parse_scores("```json\n" + json.dumps(good) + "\n```", rubric)[0] == good
    assert parse_scores(json.dumps({**good, "rationale": "ok"}), rubric)[0] == good
    for answer, problem in [
        ("", "empty"),
        ("four", "not valid JSON"),
        ("[4, 5]", "not an object"),
        (json.dumps({"faithfulness": 4}), "missing field(s): relevance, personalisation, fluency"),
        (json.dumps({**good, "fluency": 4.5}), "not an integer"),
        (json.dumps({**good, "fluency": "4"}), "not an integer"),
        (json.dumps({**good, "fluency": True}), "not an integer"),
        (json.dumps({**good, "fluency": 0}), "outside 1-5"),
    ]:
        scores, error = parse_scores(answer, rubric)
        assert scores is None and problem in error, (answer, error)


def test_missing_key_names_the_variable(openai_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(RegenBenchError, match="OPENAI_API_KEY"):
        metric(openai_server).score(*data(1))
    monkeypatch.setenv("MY_JUDGE_KEY", "local")
    out = metric(openai_server, api_key_env="MY_JUDGE_KEY").score(*data(1))
    assert out.counts["rated"] == 1
    assert openai_server.requests[-1].headers["authorization"] == "Bearer local"


def test_cli_run_writes_no_key_anywhere(openai_server, tmp_path, isolated_cache):
    from click.testing import CliRunner

    from regen_bench.cli.app import main

    args = [
        "run", "--model", "popular", "--dataset-arg", "users=300", "--task", "user_summary",
        "--metric", "llm-rater", "--metric-arg", f"llm-rater.base_url={openai_server.base_url}",
        "--metric-arg", "llm-rater.model=judge-1", "--bootstrap", "50", "--quiet", "--output", str(tmp_path),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    sent = len(openai_server.requests)
    assert sent > 0
    [results_file] = tmp_path.glob("*/results.json")
    results = json.loads(results_file.read_text())
    rows = [s for s in results["scores"] if s["metric"] == "llm-rater"]
    assert {r["component"] for r in rows} == {*CRITERIA, "overall"}
    assert rows[0]["counts"]["rated"] == sent and rows[0]["signature"].startswith("metric:llm-rater|provider:openai")
    assert results["usage"]["metrics"]["llm-rater"]["requests"] == sent

    # a second run: the judge's answers come from the cache
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert len(openai_server.requests) == sent

    files = [p for root in (tmp_path, isolated_cache) for p in root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
