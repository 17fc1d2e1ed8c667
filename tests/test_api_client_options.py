"""One options model for API clients: every API plugin takes its client options from
`ApiClientOptions`, with the names users pass and the defaults they had, and none of
them reaches a signature, a model config or a call-cache key."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from regen_bench_plugins.api_client import ApiClientOptions, CallRunner, CallSettings, RetryPolicy
from regen_bench_plugins.metrics.llm_rater import LlmRaterMetric, LlmRaterOptions
from regen_bench_plugins.models.llm_prompting import ApiPromptingOptions, GeminiPromptingModel, OpenAIPromptingModel
from regen_bench_plugins.providers import OpenAIChat, OpenAIEmbedder

CLIENT = {"concurrency": "2", "rpm": "120", "tpm": "9000", "retries": "5", "timeout": "7.5", "backoff": "0.5",
          "max_backoff": "4", "prices": None, "cache": "false"}  # strings, as --metric-arg / --model-arg give them


@pytest.mark.parametrize("options", [LlmRaterOptions, ApiPromptingOptions])
def test_every_api_plugin_takes_the_shared_client_options(options):
    assert issubclass(options, ApiClientOptions)
    assert set(ApiClientOptions.model_fields) <= set(options.model_fields)
    for name, field in ApiClientOptions.model_fields.items():
        assert options.model_fields[name].default == field.default, name


def test_the_defaults_are_the_ones_the_plugins_had():
    assert ApiClientOptions().model_dump() == {
        "concurrency": 4, "rpm": None, "tpm": None, "retries": 3, "timeout": 60.0, "backoff": 1.0,
        "max_backoff": 60.0, "base_url": None, "api_key_env": None, "prices": None, "cache": True,
    }
    # ... and the toolkit's, so a runner built from plugin options equals one built bare.
    bare = CallRunner(OpenAIChat("m"), cache=False)
    from_options = CallRunner(OpenAIChat("m"), **{**ApiClientOptions().client_kwargs(), "cache": False})
    assert bare.policy == from_options.policy == RetryPolicy()
    assert bare.concurrency == from_options.concurrency
    assert (bare.limiter.rpm, bare.limiter.tpm) == (from_options.limiter.rpm, from_options.limiter.tpm)


def test_option_strings_reach_the_runner():
    options = LlmRaterOptions(**CLIENT)
    runner = CallRunner(OpenAIChat("m"), **options.client_kwargs())
    assert runner.policy == RetryPolicy(retries=5, timeout=7.5, backoff=0.5, max_backoff=4.0)
    assert (runner.concurrency, runner.limiter.rpm, runner.limiter.tpm, runner.cache) == (2, 120.0, 9000.0, None)


def test_the_embedder_takes_the_same_settings():
    embedder = OpenAIEmbedder("m", max_backoff=2, retries=0, concurrency=3)
    assert embedder.policy == RetryPolicy(retries=0, max_backoff=2.0)
    assert embedder.concurrency == 3


@pytest.mark.parametrize("bad", [{"concurrency": 0}, {"rpm": 0}, {"retries": -1}, {"timeout": 0}, {"nope": 1}])
def test_bad_settings_are_refused_by_every_user(bad):
    with pytest.raises(ValidationError):
        CallSettings(**bad)
    with pytest.raises(ValidationError):
        CallRunner(OpenAIChat("m"), cache=False, **bad)
    with pytest.raises(ValidationError):
        LlmRaterOptions(**bad)


def test_client_options_stay_out_of_signatures_and_configs():
    client = {k: v for k, v in CLIENT.items() if k != "prices"}
    assert LlmRaterMetric(**client).signature() == LlmRaterMetric().signature()
    for model in (OpenAIPromptingModel, GeminiPromptingModel):
        assert model(**client).config() == model().config()
    # The endpoint does count: a different server may answer differently.
    assert LlmRaterMetric(base_url="http://h:1/v1").signature() != LlmRaterMetric().signature()
    assert OpenAIPromptingModel(base_url="http://h:1/v1").config_hash() != OpenAIPromptingModel().config_hash()
    assert ApiClientOptions(base_url="http://h:1/v1/").endpoint_digest(8) == ApiClientOptions(
        base_url="http://h:1/v1").endpoint_digest(8)
