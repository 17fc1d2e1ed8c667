"""`--llm SPEC` and `--llm-arg KEY=VALUE`: which model writes the narratives, and how it is called.

SPEC is `openai:MODEL` (any OpenAI-compatible server with `--llm-arg base_url=...`),
`gemini:MODEL`, or `local[:MODEL]` (SmolLM2-135M-Instruct by default, offline; MODEL as
`llm-local`'s `model=`). The KEY=VALUE options are the API client's (`concurrency`,
`rpm`, `tpm`, `retries`, `timeout`, `backoff`, `max_backoff`, `base_url`, `api_key_env`,
`prices`, `cache`) plus `temperature`, `max_tokens` (a cap on every artefact's own
budget), `json_mode` and, for `local`, `device` and `dtype`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from regen_bench.contracts.errors import RegenBenchError
from regen_bench_plugins.api_client import ApiClientOptions, CallRunner, Price, PriceTable
from regen_bench_plugins.encoders import devices

PROVIDERS = ("openai", "gemini", "local")


class LlmOptions(ApiClientOptions):
    temperature: float = Field(0.0, ge=0.0)
    max_tokens: int | None = Field(None, ge=1)
    json_mode: bool = True
    seed: int | None = None
    device: str = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        return devices.check_device(value)


@dataclass
class Backend:
    spec: str
    provider: str
    model: str
    options: LlmOptions
    chat: Any  # a ChatProvider

    def describe(self) -> dict:
        """What the manifest records: the model and everything that changes its answers."""
        o = self.options
        info: dict[str, Any] = {"spec": self.spec, "provider": self.provider, "model": self.model,
                                "temperature": o.temperature, "json_mode": o.json_mode, "seed": o.seed}
        if o.max_tokens is not None:
            info["max_tokens_cap"] = o.max_tokens
        if o.base_url:
            info["endpoint"] = o.endpoint_digest(12)  # a hash: internal host names stay out of the manifest
        if self.provider == "local":
            info.update(self.chat.describe())
        return info

    def prices(self) -> PriceTable:
        table = self.options.price_table()
        if self.provider == "local":
            table.prices[f"local:{self.model}"] = table.prices.get(f"local:{self.model}") or Price(0.0, 0.0)
        return table

    def runner(self, cache, on_result=None) -> CallRunner:
        kwargs = self.options.client_kwargs()
        kwargs.update(cache=cache if self.options.cache else None, prices=self.prices())
        if self.provider == "local":
            kwargs.update(concurrency=1, timeout=None, rpm=None, tpm=None)
        return CallRunner(self.chat, on_result=on_result, **kwargs)


def parse_options(pairs: dict[str, str]) -> LlmOptions:
    known = sorted(LlmOptions.model_fields)
    unknown = sorted(set(pairs) - set(known))
    if unknown:
        raise RegenBenchError(f"--llm-arg: unknown option(s) {', '.join(unknown)}; known: {', '.join(known)}")
    values = {k: None if v.strip().lower() in ("", "none", "null") else v for k, v in pairs.items()}
    try:
        return LlmOptions(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RegenBenchError(f"--llm-arg: {problems}") from None


def open_backend(spec: str, pairs: dict[str, str]) -> Backend:
    provider, _, model = spec.strip().partition(":")
    provider = provider.lower()
    if provider not in PROVIDERS:
        raise RegenBenchError(f"--llm {spec!r}: expected openai:MODEL, gemini:MODEL or local[:MODEL]")
    options = parse_options(pairs)
    if provider == "local":
        from regen_bench_plugins.datasets.amazon_build.local_backend import LocalChat

        model = model or "smollm2-135m"
        return Backend(spec, provider, model, options, LocalChat(model, device=options.device, dtype=options.dtype))
    if not model:
        raise RegenBenchError(f"--llm {spec!r}: name the model, e.g. openai:gpt-4o-mini or gemini:gemini-2.0-flash")
    options.price_table()  # a bad price file fails now, before any call
    from regen_bench_plugins.providers import chat_provider

    chat = chat_provider(provider, model, base_url=options.base_url, api_key_env=options.api_key_env,
                         timeout=options.timeout)
    return Backend(spec, provider, model, options, chat)
