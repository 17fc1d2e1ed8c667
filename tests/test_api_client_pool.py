"""regen_bench_plugins.api_client against a real HTTP server on 127.0.0.1 (through the OpenAI adapter).

Faults are injected by the server (tests/api_servers.py), so these exercise the real
SDK, the real HTTP stack, and our pool / limiter / retries / cache / usage on top.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest
from api_servers import FakeOpenAIServer, openai_server  # noqa: F401  (fixture)

from regen_bench_plugins.api_client import (
    ApiCallError,
    CallCache,
    CallRequest,
    CallRunner,
    Completion,
    MissingApiKeyError,
    PriceTable,
    RateLimiter,
    RetryPolicy,
    parse_retry_after,
    redact,
    run_calls,
)
from regen_bench_plugins.api_client.call_cache import default_cache_path
from regen_bench_plugins.providers import OpenAIChat

KEY = "sk-test-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def _runner(server: FakeOpenAIServer, *, model="judge-1", **kwargs) -> CallRunner:
    kwargs.setdefault("backoff", 0.01)
    kwargs.setdefault("timeout", 5.0)
    return CallRunner(OpenAIChat(model, base_url=server.base_url), **kwargs)


def _prompts(n: int, tag: str = "p") -> list[CallRequest]:
    return [CallRequest.from_prompt(f"prompt {tag}{i} <narrative>n{tag}{i}</narrative>") for i in range(n)]


def test_429_waits_for_retry_after_then_succeeds(openai_server):
    openai_server.add_fault("status", 429, {"retry_after": 0.3})
    runner = _runner(openai_server, backoff=0.001)
    [result] = runner.run(_prompts(1))
    assert result.ok and result.attempts == 2 and not result.from_cache
    first, second = openai_server.requests
    assert first.status == 429 and second.status == 200
    # the retry waited at least Retry-After (0.3 s), not the 1 ms backoff
    assert second.started - first.finished >= 0.29
    assert runner.stats["retries"] == 1
    assert runner.usage.requests == 2


def test_500_is_retried_with_backoff(openai_server):
    openai_server.add_fault("status", 500, times=2)
    [result] = _runner(openai_server, retries=3).run(_prompts(1))
    assert result.ok and result.attempts == 3
    assert [r.status for r in openai_server.requests] == [500, 500, 200]


def test_other_4xx_is_not_retried(openai_server):
    openai_server.add_fault("status", 400)
    [result] = _runner(openai_server, retries=3).run(_prompts(1))
    assert not result.ok
    assert result.status == 400 and result.error_kind == "http" and result.attempts == 1
    assert len(openai_server.requests) == 1


def test_timeouts_are_retried_then_recorded_failed(openai_server):
    openai_server.add_fault("sleep", 5.0, times=None)
    started = time.monotonic()
    runner = _runner(openai_server, retries=1, timeout=0.6)
    [result] = runner.run(_prompts(1))
    assert time.monotonic() - started < 5.0  # the attempts were cut off, not waited out
    assert not result.ok and result.error_kind == "timeout" and result.attempts == 2
    assert len(openai_server.requests) == 2
    # recorded as failed, never served as an answer
    cache = CallCache()
    assert cache.status_counts() == {"failed": 1}
    assert cache.get(result.key) is None


def test_concurrency_limit_is_respected(openai_server):
    openai_server.delay = 0.1
    results = _runner(openai_server, concurrency=3).run(_prompts(9))
    assert all(r.ok for r in results)
    assert openai_server.max_in_flight == 3


def test_rpm_limiter_spaces_requests(openai_server):
    results = _runner(openai_server, concurrency=5, rpm=600).run(_prompts(5))  # one every 0.1 s
    assert all(r.ok for r in results)
    starts = sorted(r.started for r in openai_server.requests)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 0.05, gaps  # 0.1 s apart, less scheduling noise
    assert starts[-1] - starts[0] >= 0.35


def test_rate_limiter_arithmetic():
    now = [0.0]
    limiter = RateLimiter(rpm=60, tpm=600, clock=lambda: now[0])  # 1 request/s, 10 tokens/s
    assert limiter.reserve(100) == 0.0
    assert limiter.reserve(100) == pytest.approx(1.0)  # the next RPM slot
    # 600 - 100 - 100 - 500 = -100 tokens: 10 s at 10 tokens/s, later than the RPM slot (2 s)
    assert limiter.reserve(500) == pytest.approx(10.0)
    assert limiter.reserve(0) == pytest.approx(11.0)  # one RPM interval after that
    tokens_only = RateLimiter(tpm=60, clock=lambda: now[0])  # 1 token/s
    assert tokens_only.reserve(60) == 0.0
    assert tokens_only.reserve(30) == pytest.approx(30.0)
    now[0] = 30.0
    tokens_only.settle(30, 0)  # that request used no tokens after all: level 0 + 30 refilled
    assert tokens_only.reserve(45) == pytest.approx(15.0)


def test_second_run_is_served_from_cache(openai_server):
    requests = _prompts(5)
    first = _runner(openai_server).run(requests)
    assert len(openai_server.requests) == 5
    runner = _runner(openai_server)
    second = runner.run(requests)
    assert len(openai_server.requests) == 5  # zero new HTTP requests
    assert all(r.from_cache and r.attempts == 0 for r in second)
    assert [r.text for r in second] == [r.text for r in first]
    assert runner.stats["cache_hits"] == 5
    assert runner.usage.as_dict() == {"input_tokens": 0, "output_tokens": 0, "requests": 0, "cost_usd": None}


def test_only_failed_calls_are_retried_on_the_next_run(openai_server):
    requests = _prompts(4)
    openai_server.add_fault("status", 503, times=None, match="np2")
    first = _runner(openai_server, retries=1).run(requests)
    assert [r.ok for r in first] == [True, True, False, True]
    assert "HTTP 503" in first[2].error and "2 attempts" in first[2].error
    assert openai_server.count("np2") == 2
    openai_server.reset()
    second = _runner(openai_server).run(requests)
    assert all(r.ok for r in second)
    assert len(openai_server.requests) == 1 and "np2" in openai_server.requests[0].raw
    assert [r.from_cache for r in second] == [True, True, False, True]
    assert CallCache().status_counts() == {"ok": 4}


def test_duplicate_requests_in_a_batch_are_sent_once(openai_server):
    request = _prompts(1)[0]
    results = _runner(openai_server).run([request, request, request])
    assert len(openai_server.requests) == 1
    assert len({r.text for r in results}) == 1 and all(r.ok for r in results)


def test_usage_and_cost_are_summed(openai_server, tmp_path):
    runner = _runner(openai_server, model="gpt-4o-mini")
    results = runner.run(_prompts(3))
    bodies = [r.body for r in openai_server.requests]
    expected_in = sum(len(m["content"].split()) for b in bodies for m in b["messages"])
    expected_out = sum(len(r.text.split()) for r in results)
    usage = runner.usage.as_dict()
    assert usage["input_tokens"] == expected_in == sum(r.input_tokens for r in results)
    assert usage["output_tokens"] == expected_out
    assert usage["requests"] == 3
    assert usage["cost_usd"] == pytest.approx((expected_in * 0.15 + expected_out * 0.60) / 1e6)

    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"judge-1": {"input": 1000.0, "output": 2000.0}}))
    runner = _runner(openai_server, prices=prices, cache=False)
    results = runner.run(_prompts(2, tag="q"))
    i, o = runner.usage.input_tokens, runner.usage.output_tokens
    assert i > 0 and runner.usage.cost_usd() == pytest.approx((i * 1000 + o * 2000) / 1e6)

    unknown = _runner(openai_server, model="some-unpriced-model", cache=False)
    unknown.run(_prompts(1, tag="r"))
    assert unknown.usage.as_dict()["cost_usd"] is None  # unknown, not 0


def test_price_table_lookup():
    table = PriceTable({"openai:custom": {"input": 1, "output": 2}})
    assert table.cost("openai", "custom", 1_000_000, 1_000_000) == 3.0
    assert table.cost("gemini", "custom", 10, 10) is None
    assert table.cost("gemini", "models/gemini-2.0-flash", 1_000_000, 0) == pytest.approx(0.10)


def test_missing_key_is_a_clear_error_and_cached_runs_need_none(openai_server, monkeypatch):
    requests = _prompts(2)
    _runner(openai_server).run(requests)
    monkeypatch.delenv("OPENAI_API_KEY")
    # everything cached: no session is opened, no key needed
    assert all(r.from_cache for r in _runner(openai_server).run(requests))
    with pytest.raises(MissingApiKeyError, match="OPENAI_API_KEY"):
        _runner(openai_server).run(_prompts(1, tag="new"))
    assert len(openai_server.requests) == 2


def test_key_is_sent_but_never_stored(openai_server):
    openai_server.add_fault("status", 401, {"message": f"Incorrect API key provided: {KEY}"}, match="np1")
    results = _runner(openai_server).run(_prompts(3))
    assert openai_server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert not results[1].ok and KEY not in results[1].error and "[redacted]" in results[1].error
    cache_files = list(default_cache_path().parent.iterdir())
    assert cache_files
    for path in cache_files:
        assert KEY.encode() not in path.read_bytes(), path


def test_a_masked_echo_of_the_key_is_neither_stored_nor_printed(openai_server, capsys):
    # Servers echo the key masked (`sk-PLANT******3a9c`); its visible ends give part of it away.
    masked = f"{KEY[:8]}******{KEY[-4:]}"
    openai_server.add_fault("status", 401, {"message": f"Incorrect API key provided: {masked}. See the docs"},
                            match="np1")
    results = _runner(openai_server).run(_prompts(3))
    assert not results[1].ok and masked not in results[1].error and "[redacted]" in results[1].error
    assert "Incorrect API key provided: [redacted]. See the docs" in results[1].error
    cache_files = list(default_cache_path().parent.iterdir())
    assert cache_files
    for path in cache_files:
        data = path.read_bytes()
        assert masked.encode() not in data and KEY[:8].encode() + b"***" not in data, path
    captured = capsys.readouterr()
    assert masked not in captured.out + captured.err
    # a cached failure read back is just as clean
    again = _runner(openai_server).run(_prompts(3))
    assert masked not in (again[1].error or "")


def test_redact_masked_echoes_of_unknown_keys_but_not_ellipses():
    assert redact("provided: sk-abcd****wxyz.") == "provided: [redacted]."
    assert redact("key AIzaSy•••••Qk9w rejected") == "key [redacted] rejected"
    assert redact("Loading... rated 4/5 ... ok") == "Loading... rated 4/5 ... ok"


def test_run_calls_with_a_bare_function_never_raises():
    attempts: dict[str, int] = {}

    async def call(request: CallRequest) -> Completion:
        attempts[request.prompt] = attempts.get(request.prompt, 0) + 1
        if request.prompt == "conn" and attempts["conn"] < 3:
            raise ConnectionResetError("reset by peer")
        if request.prompt == "bug":
            raise ValueError("a bug")
        if request.prompt == "slow":
            await asyncio.sleep(1.0)
        if request.prompt == "http":
            raise ApiCallError("bad", status=404)
        return Completion(text=request.prompt.upper(), input_tokens=1, output_tokens=1)

    prompts = ["ok", "conn", "bug", "slow", "http"]
    results = run_calls(
        [CallRequest.from_prompt(p) for p in prompts], call, retries=3, timeout=0.1, backoff=0.001,
        concurrency=5, cache=True, provider="test", model="fn",
    )
    by = dict(zip(prompts, results))
    assert by["ok"].text == "OK"
    assert by["conn"].ok and by["conn"].attempts == 3
    assert by["bug"].error_kind == "error" and by["bug"].attempts == 1
    assert by["slow"].error_kind == "timeout" and by["slow"].attempts == 4
    assert by["http"].status == 404 and by["http"].attempts == 1


def test_retry_policy_and_retry_after_parsing():
    policy = RetryPolicy(backoff=1.0, max_backoff=5.0, jitter=0.0)
    assert [policy.delay(a, ApiCallError("x", status=500)) for a in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert policy.delay(1, ApiCallError("x", status=429, retry_after=7.0)) == 7.0
    jittered = RetryPolicy(backoff=1.0, jitter=0.5)
    assert all(1.0 <= jittered.delay(1, ApiCallError("x", status=500)) <= 1.5 for _ in range(50))
    assert parse_retry_after({"Retry-After": "0.25"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "150", "retry-after": "9"}) == 0.15
    assert parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0) == 10.0
    assert parse_retry_after({}) is None and parse_retry_after({"Retry-After": "soon"}) is None
    assert ApiCallError("x", status=429).retryable and ApiCallError("x", status=503).retryable
    assert not ApiCallError("x", status=404).retryable and ApiCallError("x", kind="timeout").retryable


def test_redact(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "gm-abcdef")
    assert redact(f"keys {KEY} and gm-abcdef") == "keys [redacted] and [redacted]"


def test_api_client_imports_no_sdk_and_no_plugin():
    # The toolkit is a helper package beside the plugins: importing it loads no plugin module.
    code = (
        "import sys, regen_bench_plugins.api_client\n"
        "assert not [m for m in sys.modules if m.startswith('regen_bench_plugins.')\n"
        "            and not m.startswith('regen_bench_plugins.api_client')]\n"
        "import regen_bench_plugins.providers, regen_bench_plugins.metrics.llm_rater\n"
        "bad = [m for m in sys.modules if m == 'openai' or m.startswith(('openai.', 'google.genai'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
