"""`llm-gemini`: the prompting baseline through google-genai against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from api_servers import FakeGeminiServer, gemini_server  # noqa: F401  (fixture)
from test_llm_prompting_openai import TASKS, make_example, narrator

from regen_bench.contracts.errors import RegenBenchError
from regen_bench_plugins.models.llm_prompting import GeminiPromptingModel
from regen_bench_plugins.prompting.prompts import SYSTEM, TEMPLATE_SHA

# google-genai's own aiohttp session subclass warns on import; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning")

KEY = "gm-llm-prompting-secret-88"


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", KEY)


@pytest.fixture
def server(gemini_server):
    gemini_server.responder = narrator
    return gemini_server


def fitted(server: FakeGeminiServer, train=(), seed=0, **options) -> GeminiPromptingModel:
    options.setdefault("model", "gem-test")
    options.setdefault("backoff", 0.01)
    options.setdefault("timeout", 5.0)
    m = GeminiPromptingModel(base_url=server.base_url, **options)
    m.fit(list(train), [], tasks=list(TASKS), seed=seed)
    return m


def test_generate_content_request_with_few_shot(server):
    train = [make_example(i, prefix="T") for i in range(5)]
    m = fitted(server, train, seed=3, shots=1, max_tokens=64)
    out = m.generate([make_example(0)], "endorsement")
    assert out == ["A shopper who started with Inkwell Gel Pens U0."]
    [request] = server.requests
    assert request.path.endswith("/models/gem-test:generateContent")
    assert request.headers["x-goog-api-key"] == KEY
    body = request.body
    assert body["systemInstruction"]["parts"][0]["text"] == SYSTEM
    config = body["generationConfig"]
    assert config["temperature"] == 0 and config["maxOutputTokens"] == 64 and config["seed"] == 3
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    [shot_id] = m.info()["shots"]["endorsement"]
    i = int(shot_id[1:])
    assert f'"Inkwell Gel Pens T{i}"' in body["contents"][0]["parts"][0]["text"]
    assert body["contents"][1]["parts"][0]["text"] == f"Reference endorsement of T{i}."
    prompt = body["contents"][2]["parts"][0]["text"]
    for needle in ('"Inkwell Gel Pens U0"', '"Meridian Binder U0"', "Do you have these in green?",
                   '"Fairhaven Desk Lamp U0"', 'addressing them as "you"'):
        assert needle in prompt, needle
    assert m.config()["provider"] == "gemini" and m.config()["template_sha"] == TEMPLATE_SHA


def test_cache_retries_and_usage(server):
    examples = [make_example(i) for i in range(2)]
    server.add_fault("status", 429, {"retry_delay": "0.2s"})
    server.add_fault("status", 500)
    m = fitted(server, concurrency=1, model="gemini-2.0-flash")
    out = m.generate(examples, "user_summary")
    assert [r.status for r in server.requests] == [429, 500, 200, 200]
    assert server.requests[1].started - server.requests[0].finished >= 0.19  # RetryInfo honoured
    usage = m.usage()
    ok = [r for r in server.requests if r.status == 200]
    words_in = sum(len(c["parts"][0]["text"].split()) for r in ok for c in r.body["contents"])
    words_in += len(SYSTEM.split()) * len(ok)
    words_out = sum(len(t.split()) for t in out)
    assert usage["input_tokens"] == words_in and usage["output_tokens"] == words_out
    assert usage["requests"] == 4 and usage["retries"] == 2 and usage["provider"] == "gemini"
    assert usage["cost_usd"] == pytest.approx((words_in * 0.10 + words_out * 0.40) / 1e6)

    again = fitted(server, model="gemini-2.0-flash")
    assert again.generate(examples, "user_summary") == out
    assert len(server.requests) == 4 and again.usage()["cache_hits"] == 2 and again.usage()["requests"] == 0


def test_missing_key_names_both_variables(server, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(RegenBenchError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        fitted(server).generate([make_example(0)], "user_summary")
    monkeypatch.setenv("GOOGLE_API_KEY", "google-key-5")
    fitted(server).generate([make_example(0)], "user_summary")
    assert server.requests[-1].headers["x-goog-api-key"] == "google-key-5"


def test_cli_run(server, tmp_path, isolated_cache):
    from click.testing import CliRunner

    from regen_bench.cli.app import main

    args = [
        "run", "--model", "llm-gemini", "--model-arg", f"base_url={server.base_url}",
        "--model-arg", "model=gem-test", "--model-arg", "shots=2", "--dataset-arg", "users=300",
        "--task", "purchase_reason", "--metric", "bleu", "--bootstrap", "50", "--quiet", "--output", str(tmp_path),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    sent = len(server.requests)
    assert sent > 0 and all(len(r.body["contents"]) == 5 for r in server.requests)  # 2 shots + the example
    [results_file] = tmp_path.glob("*/results.json")
    results = json.loads(results_file.read_text())
    assert results["usage"]["provider"] == "gemini" and results["usage"]["requests"] == sent
    assert len(results["model"]["info"]["shots"]["purchase_reason"]) == 2
    files = [p for root in (tmp_path, isolated_cache) for p in root.rglob("*") if p.is_file()]
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
