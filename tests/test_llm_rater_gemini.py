"""The llm-rater metric with a Gemini judge through google-genai, against a real HTTP server."""

from __future__ import annotations

import math

import pytest
from api_servers import CRITERIA, FakeGeminiServer, expected_scores, gemini_server  # noqa: F401  (fixture)

from regen_bench.contracts.errors import RegenBenchError
from regen_bench_plugins.api_client import CallCache
from regen_bench_plugins.metrics.llm_rater import LlmRaterMetric
from regen_bench_plugins.providers import GeminiChat

# google-genai's own aiohttp session subclass warns on import; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning")

KEY = "gm-gemini-secret-key-77"


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", KEY)


def metric(server: FakeGeminiServer, **options) -> LlmRaterMetric:
    options.setdefault("model", "judge-g")
    options.setdefault("backoff", 0.01)
    options.setdefault("timeout", 5.0)
    return LlmRaterMetric(provider="gemini", base_url=server.base_url, **options)


def data(narratives):
    from test_llm_rater_openai import make_example

    references = [f"Reference summary {i}." for i in range(len(narratives))]
    return list(narratives), references, [make_example(i, r) for i, r in enumerate(references)]


def test_generate_content_request_and_scores(gemini_server):
    predictions, references, examples = data(["a pen lover", "a lamp lover"])
    out = metric(gemini_server).score(predictions, references, examples)
    for i, prediction in enumerate(predictions):
        want = expected_scores(prediction)
        assert [c.per_example[i] for c in out.components[:-1]] == [want[c] for c in CRITERIA]
    # the two calls run concurrently: take the one about example 0, whichever came first
    (request,) = [r for r in gemini_server.requests if "Fairhaven Desk Lamp 0" in r.raw]
    assert len(gemini_server.requests) == 2
    assert request.path.startswith("/v1") and request.path.endswith("/models/judge-g:generateContent")
    assert request.headers["x-goog-api-key"] == KEY
    body = request.body
    assert body["generationConfig"]["temperature"] == 0
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert body["generationConfig"]["maxOutputTokens"] == 256
    assert "JSON" in body["systemInstruction"]["parts"][0]["text"]
    assert [c["role"] for c in body["contents"]] == ["user"]
    assert '"Fairhaven Desk Lamp 0"' in body["contents"][0]["parts"][0]["text"]
    assert out.signature.startswith("metric:llm-rater|provider:gemini|model:judge-g|endpoint:")
    assert out.counts["rated"] == 2


def test_usage_comes_from_usage_metadata(gemini_server):
    predictions, references, examples = data(["x one", "x two"])
    out = metric(gemini_server, model="gemini-2.0-flash").score(predictions, references, examples)
    words_in = sum(
        len(c["parts"][0]["text"].split()) + len(r.body["systemInstruction"]["parts"][0]["text"].split())
        for r in gemini_server.requests for c in r.body["contents"]
    )
    assert out.usage["input_tokens"] == words_in and out.usage["requests"] == 2
    assert out.usage["cost_usd"] == pytest.approx((words_in * 0.10 + out.usage["output_tokens"] * 0.40) / 1e6)


def test_429_retry_after_and_retry_info_are_honoured(gemini_server):
    gemini_server.add_fault("status", 429, {"retry_after": 0.2})
    gemini_server.add_fault("status", 429, {"retry_delay": "0.3s"})
    gemini_server.add_fault("status", 500)
    out = metric(gemini_server, concurrency=1, backoff=0.001).score(*data(["only one"]))
    requests = gemini_server.requests
    assert [r.status for r in requests] == [429, 429, 500, 200]
    assert requests[1].started - requests[0].finished >= 0.19
    assert requests[2].started - requests[1].finished >= 0.29
    assert out.counts["rated"] == 1 and out.usage["requests"] == 4


def test_timeouts_then_failed_and_retried_next_run(gemini_server):
    # the timeout leaves the SDK room to build and send each attempt on a loaded machine
    # (at 0.2 s a CI run once cancelled the second attempt before it reached the server)
    gemini_server.add_fault("sleep", 3.0, times=None, match="slow one")
    out = metric(gemini_server, retries=1, timeout=0.6).score(*data(["quick one", "slow one"]))
    assert gemini_server.count("slow one") == 2
    assert out.counts == {**out.counts, "rated": 1, "unrated": 1, "failed_calls": 1}
    assert math.isnan(out.components[-1].per_example[1])
    gemini_server.reset()
    out = metric(gemini_server).score(*data(["quick one", "slow one"]))
    assert len(gemini_server.requests) == 1 and out.counts["rated"] == 2 and out.counts["cache_hits"] == 1


def test_malformed_answer_repair_uses_model_turn(gemini_server):
    out = metric(gemini_server).score(*data(["GARBAGE g", "FIXABLE g"]))
    assert gemini_server.count("GARBAGE g") == 2 and gemini_server.count("FIXABLE g") == 2
    repair = [r for r in gemini_server.requests if "GARBAGE g" in r.raw][-1].body
    assert [c["role"] for c in repair["contents"]] == ["user", "model", "user"]
    assert out.counts["rated"] == 1 and out.counts["invalid_answers"] == 1 and out.counts["repairs"] == 2


def test_cached_second_run_and_no_key_in_cache(gemini_server, isolated_cache):
    args = data(["alpha", "beta", "gamma"])
    metric(gemini_server).score(*args)
    again = metric(gemini_server).score(*args)
    assert len(gemini_server.requests) == 3 and again.counts["cache_hits"] == 3
    assert CallCache().status_counts() == {"ok": 3}
    for path in isolated_cache.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_key_variables(gemini_server, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(RegenBenchError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        metric(gemini_server).score(*data(["k"]))
    assert not gemini_server.requests
    monkeypatch.setenv("GOOGLE_API_KEY", "google-fallback-key")
    metric(gemini_server).score(*data(["k"]))
    assert gemini_server.requests[-1].headers["x-goog-api-key"] == "google-fallback-key"


def test_api_version_can_be_pinned(gemini_server):
    from regen_bench_plugins.api_client import CallRequest, CallRunner

    provider = GeminiChat("judge-g", base_url=gemini_server.base_url, api_version="v1beta")
    [result] = CallRunner(provider, cache=False).run([CallRequest.from_prompt("hello <narrative>z</narrative>")])
    assert result.ok and gemini_server.requests[0].path == "/v1beta/models/judge-g:generateContent"
