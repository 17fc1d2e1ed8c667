"""`llm-openai`: the prompting baseline against a real OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import re

import pytest
from api_servers import Conversation, FakeOpenAIServer, openai_server  # noqa: F401  (fixture)

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.examples import Example
from regen_bench.contracts.records import Item, Purchase, Review
from regen_bench_plugins.api_client import CallCache
from regen_bench_plugins.models.llm_prompting import OpenAIPromptingModel
from regen_bench_plugins.prompting.prompts import SYSTEM, TEMPLATE_SHA, TEMPLATES

KEY = "sk-llm-prompting-secret-key-31"
TASKS = ("user_summary", "user_profile", "purchase_reason", "endorsement")
_FIRST_TITLE = re.compile(r'1\. "([^"]+)"')


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def narrator(conv: Conversation) -> str:
    """The fake model's answer: names the first history item of the last user turn."""
    match = _FIRST_TITLE.search(conv.last_user)
    return f"A shopper who started with {match.group(1) if match else 'nothing'}."


@pytest.fixture
def server(openai_server):
    openai_server.responder = narrator
    return openai_server


def make_example(i: int, *, critique: str | None = "Do you have these in green?", prefix: str = "U") -> Example:
    history = [
        Purchase(
            item=Item(asin=f"{prefix}{i}A", title=f"Inkwell Gel Pens {prefix}{i}",
                      category="Office Products - Office & School Supplies - Writing - Pens", price=7.49),
            review=Review(summary="Smooth writing", rating=5, text="These pens glide across the page. " * 20),
        ),
        Purchase(item=Item(asin=f"{prefix}{i}B", title=f"Meridian Binder {prefix}{i}", category="Binders"),
                 review=None),
    ]
    target = Purchase(
        item=Item(asin=f"{prefix}{i}Z", title=f"Fairhaven Desk Lamp {prefix}{i}", category="Desk Lamps", price=36.99),
        review=Review(summary="SECRET-TARGET-REVIEW", rating=4, text="written after the purchase"),
    )
    references = {task: f"Reference {task} of {prefix}{i}." for task in TASKS}
    return Example(example_id=f"{prefix}{i:03d}", user_id=f"{prefix}{i:03d}", history=history, target=target,
                   critique=critique, references=references)


def model(server: FakeOpenAIServer, **options) -> OpenAIPromptingModel:
    options.setdefault("model", "test-model")
    options.setdefault("backoff", 0.01)
    options.setdefault("timeout", 5.0)
    return OpenAIPromptingModel(base_url=server.base_url, **options)


def fitted(server, train=(), seed=0, **options) -> OpenAIPromptingModel:
    m = model(server, **options)
    m.fit(list(train), [], tasks=list(TASKS), seed=seed)
    return m


def user_turns(request) -> list[str]:
    return [m["content"] for m in request.body["messages"] if m["role"] == "user"]


def test_prompt_has_history_critique_target_and_task(server):
    examples = [make_example(0), make_example(1, critique=None)]
    out = fitted(server, seed=7).generate(examples, "purchase_reason")
    assert out == ["A shopper who started with Inkwell Gel Pens U0.", "A shopper who started with Inkwell Gel Pens U1."]
    first, second = sorted(server.requests, key=lambda r: r.raw.find("U1") >= 0)
    assert first.path == "/v1/chat/completions"
    assert first.headers["authorization"] == f"Bearer {KEY}"
    body = first.body
    assert body["model"] == "test-model" and body["temperature"] == 0 and body["max_tokens"] == 256
    assert body["seed"] == 7
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][0]["content"] == SYSTEM
    prompt = body["messages"][1]["content"]
    for needle in ('"Inkwell Gel Pens U0"', "Writing - Pens", "$7.49", "rated 5/5", '"Smooth writing"',
                   '"Meridian Binder U0"', 'asked the recommender: "Do you have these in green?"',
                   'next purchase: "Fairhaven Desk Lamp U0" | Desk Lamps | $36.99',
                   TEMPLATES["tasks"]["purchase_reason"]["instruction"]):
        assert needle in prompt, needle
    assert prompt.index("Inkwell") < prompt.index("Meridian") < prompt.index("green?") < prompt.index("Task:")
    assert "These pens glide" in prompt and prompt.count("glide") < 10  # review text is clipped
    assert "SECRET-TARGET-REVIEW" not in prompt  # the target's review is written after the purchase
    assert "asked the recommender" not in user_turns(second)[0]


def test_each_task_has_its_instruction_and_unknown_tasks_a_generic_one(server):
    example = make_example(0)
    m = fitted(server)
    for task in (*TASKS, "weekly_digest"):
        m.generate([example], task)
        prompt = user_turns(server.requests[-1])[-1]
        assert '"Inkwell Gel Pens U0"' in prompt and "Do you have these in green?" in prompt
        if task in TASKS:
            assert TEMPLATES["tasks"][task]["instruction"] in prompt
        else:
            assert 'task "weekly_digest" (weekly digest)' in prompt
        # The target item is shown only for tasks about it.
        assert ("Fairhaven Desk Lamp" in prompt) == (task in ("purchase_reason", "endorsement")), task
    assert len(server.requests) == 5


def test_few_shot_examples_are_training_narratives_chosen_by_seed(server):
    train = [make_example(i, prefix="T") for i in range(12)]
    train[3].references.pop("user_summary")  # not a candidate for user_summary
    example = make_example(0)
    m = fitted(server, train, seed=0, shots=2)
    m.generate([example], "user_summary")
    messages = server.requests[-1].body["messages"]
    assert [x["role"] for x in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    chosen = m.info()["shots"]["user_summary"]
    assert len(chosen) == 2 and "T003" not in chosen
    for (user, assistant), shot_id in zip([(messages[1], messages[2]), (messages[3], messages[4])], chosen):
        i = int(shot_id[1:])
        assert f'"Inkwell Gel Pens T{i}"' in user["content"]
        assert assistant["content"] == f"Reference user_summary of T{i}."
    assert '"Inkwell Gel Pens U0"' in messages[-1]["content"]
    # The same seed picks the same users (whatever the order of the training list); seeds differ.
    assert fitted(server, list(reversed(train)), seed=0, shots=2).shots_for("user_summary") == m.shots_for("user_summary")
    picks = {tuple(e.example_id for e in fitted(server, train, seed=s, shots=2).shots_for("user_summary"))
             for s in range(6)}
    assert len(picks) > 1
    # Shots are per task; the shots' target items appear for the tasks about the target.
    m.generate([example], "endorsement")
    first_shot = server.requests[-1].body["messages"][1]["content"]
    assert "next purchase:" in first_shot
    with pytest.raises(RegenBenchError, match="needs fit"):
        model(server, shots=1).generate([example], "user_summary")


def test_second_run_is_served_by_the_call_cache(server):
    examples = [make_example(i) for i in range(3)]
    first = fitted(server).generate(examples, "user_summary")
    assert len(server.requests) == 3
    again_model = fitted(server)
    again = again_model.generate(examples, "user_summary")
    assert again == first and len(server.requests) == 3  # zero new HTTP requests
    usage = again_model.usage()
    assert usage["requests"] == 0 and usage["cache_hits"] == 3 and usage["calls"] == 3
    # Anything that changes the answer is a new call: the seed, the temperature, the task.
    fitted(server, seed=1).generate(examples[:1], "user_summary")
    fitted(server, temperature=0.5).generate(examples[:1], "user_summary")
    assert len(server.requests) == 5


def test_429_and_500_are_retried(server):
    server.add_fault("status", 429, {"retry_after": 0.2})
    server.add_fault("status", 500)
    m = fitted(server, concurrency=1)
    out = m.generate([make_example(0), make_example(1)], "user_profile")
    assert [r.status for r in server.requests] == [429, 500, 200, 200]
    assert server.requests[1].started - server.requests[0].finished >= 0.19  # Retry-After honoured
    assert all(text.startswith("A shopper who started with") for text in out)
    usage = m.usage()
    assert usage["requests"] == 4 and usage["retries"] == 2 and usage["failed_calls"] == 0


def test_a_failed_call_does_not_stop_the_batch_and_is_retried_later(server, caplog):
    examples = [make_example(i) for i in range(3)]
    server.add_fault("status", 503, times=None, match="Gel Pens U1")
    m = fitted(server, retries=1)
    with caplog.at_level(logging.WARNING, logger="regen_bench.llm_prompting"):
        out = m.generate(examples, "user_summary")
    assert out[0].endswith("U0.") and out[2].endswith("U2.")
    assert out[1] is None  # failed: the runner neither caches nor scores it
    assert server.count("Gel Pens U1") == 2  # one retry
    assert m.usage()["failed_examples"] == 1 and m.usage()["failed_calls"] == 1
    assert m.info()["failed_examples"] == 1
    assert "1 of 3 calls failed" in caplog.text and "retried by the next run" in caplog.text
    assert CallCache().status_counts() == {"ok": 2, "failed": 1}

    # The failure is not in the call cache: the next run asks again, and only for it.
    server.reset()
    again = fitted(server).generate(examples, "user_summary")
    assert len(server.requests) == 1 and "Gel Pens U1" in server.requests[0].raw
    assert again[1].endswith("U1.")

    # on_error=raise stops after the batch (the successes are cached for the rerun).
    server.add_fault("status", 500, times=None, match="Gel Pens U2")
    with pytest.raises(RegenBenchError, match="1 of 2 calls failed.*HTTP 500"):
        fitted(server, retries=0, on_error="raise").generate([make_example(2), make_example(5)], "endorsement")


def test_a_batch_where_every_call_fails_is_an_error(server):
    server.add_fault("status", 404, {"message": "no such model"}, times=None)
    with pytest.raises(RegenBenchError, match="all 2 calls of a batch failed.*HTTP 404"):
        fitted(server).generate([make_example(0), make_example(1)], "user_summary")
    assert len(server.requests) == 2  # 404 is not retried


def test_usage_and_cost(server, tmp_path):
    examples = [make_example(i) for i in range(3)]
    m = fitted(server, model="gpt-4o-mini")
    out = m.generate(examples[:2], "user_summary") + m.generate(examples[2:], "endorsement")
    words_in = sum(len(x["content"].split()) for r in server.requests for x in r.body["messages"])
    words_out = sum(len(text.split()) for text in out)
    assert m.usage() == {
        "provider": "openai", "model": "gpt-4o-mini",
        "input_tokens": words_in, "output_tokens": words_out, "requests": 3,
        "cost_usd": pytest.approx((words_in * 0.15 + words_out * 0.60) / 1e6),
        "calls": 3, "cache_hits": 0, "failed_calls": 0, "retries": 0, "failed_examples": 0,
    }
    idle = fitted(server, model="gpt-4o-mini").usage()  # no call yet: zeros, priced
    assert idle["requests"] == 0 and idle["input_tokens"] == 0 and idle["cost_usd"] == 0.0
    unknown = fitted(server, cache=False)
    unknown.generate(examples[:1], "user_summary")
    assert unknown.usage()["cost_usd"] is None  # test-model is not in the price table
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"openai:test-model": {"input": 1.0, "output": 2.0}}))
    priced = fitted(server, cache=False, prices=str(prices))
    priced.generate(examples[:1], "user_summary")
    u = priced.usage()
    assert u["cost_usd"] == pytest.approx((u["input_tokens"] + 2 * u["output_tokens"]) / 1e6)
    with pytest.raises(RegenBenchError, match="price table not found"):
        model(server, prices=str(tmp_path / "missing.json"))


def test_config_carries_the_template_sha_and_no_url(server):
    m = model(server)
    config = m.config()
    assert config["template_sha"] == TEMPLATE_SHA and len(TEMPLATE_SHA) == 64
    assert config["provider"] == "openai" and config["model"] == "test-model"
    assert "127.0.0.1" not in json.dumps(config) and config["endpoint"]
    [request] = m.requests([make_example(0)], "user_summary")
    assert request.template_sha == TEMPLATE_SHA  # and so in the call cache key
    # How calls are made does not change the config hash; what is asked does.
    assert model(server, concurrency=9, rpm=100, retries=0, on_error="raise").config_hash() == m.config_hash()
    for change in ({"temperature": 0.3}, {"shots": 1}, {"max_tokens": 50}, {"model": "other"}):
        assert model(server, **change).config_hash() != m.config_hash(), change
    assert OpenAIPromptingModel().config()["endpoint"] is None
    assert OpenAIPromptingModel().config()["model"] == "gpt-4o-mini"


def test_missing_key_names_the_variable(server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(RegenBenchError, match="OPENAI_API_KEY"):
        fitted(server).generate([make_example(0)], "user_summary")
    monkeypatch.setenv("MY_LOCAL_KEY", "local")
    fitted(server, api_key_env="MY_LOCAL_KEY").generate([make_example(0)], "user_summary")
    assert server.requests[-1].headers["authorization"] == "Bearer local"


def test_cli_run_end_to_end_writes_usage_and_no_key(server, tmp_path, isolated_cache):
    from click.testing import CliRunner

    from regen_bench.cli.app import main

    args = [
        "run", "--model", "llm-openai", "--model-arg", f"base_url=http://127.0.0.1:{server.port}/v1",
        "--model-arg", "model=test-model", "--dataset-arg", "users=300", "--task", "user_summary",
        "--metric", "bleu", "--bootstrap", "50", "--quiet", "--output", str(tmp_path),
    ]
    server.add_fault("status", 400, {"message": "context too long"})  # one example fails for good (4xx: no retry)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    sent = len(server.requests)
    assert sent > 1
    [results_file] = tmp_path.glob("*/results.json")
    results = json.loads(results_file.read_text())
    usage = results["usage"]
    assert usage["provider"] == "openai" and usage["model"] == "test-model"
    assert usage["requests"] == sent and usage["calls"] == sent and usage["input_tokens"] > 0
    assert usage["failed_calls"] == 1 and usage["failed_examples"] == 1
    assert results["cache"] == {"cached": 0, "generated": sent - 1, "failed": 1}
    assert results["model"]["config"]["template_sha"] == TEMPLATE_SHA
    assert [s["metric"] for s in results["scores"]] == ["bleu"]
    samples = [json.loads(line) for line in results_file.with_name("samples.jsonl").read_text().splitlines()]
    assert len(samples) == sent - 1 and all(s["prediction"].startswith("A shopper who started with") for s in samples)

    # A second run: the failed example is asked again, and only it; the rest comes from the cache.
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert len(server.requests) == sent + 1
    [second] = [p for p in tmp_path.glob("*/results.json") if p != results_file]
    again = json.loads(second.read_text())
    assert again["cache"] == {"cached": sent - 1, "generated": 1, "failed": 0}
    assert again["usage"]["requests"] == 1 and again["usage"]["failed_examples"] == 0

    # A third run: nothing is sent.
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert len(server.requests) == sent + 1

    files = [p for root in (tmp_path, isolated_cache) for p in root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
