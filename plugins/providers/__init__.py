"""API providers for built-in plugins: OpenAI(-compatible) and Gemini, chat and embeddings.

Importing this package imports neither `openai` nor `google-genai`; each adapter
imports its SDK when it opens a session. The machinery (pool, limits, retries, cache,
usage) is `regen_bench_plugins.api_client`; these modules only translate requests and errors.
"""

from __future__ import annotations

from regen_bench.contracts.errors import RegenBenchError
from regen_bench_plugins.providers.gemini_api import GeminiChat, GeminiEmbedder
from regen_bench_plugins.providers.openai_api import OpenAIChat, OpenAIEmbedder

PROVIDERS = ("openai", "gemini")


def chat_provider(provider: str, model: str, *, base_url: str | None = None, api_key_env: str | None = None,
                  timeout: float | None = 60.0):
    """An `OpenAIChat` or `GeminiChat` (both satisfy `regen_bench_plugins.api_client.ChatProvider`)."""
    if provider == "openai":
        return OpenAIChat(model, base_url=base_url, api_key_env=api_key_env or "OPENAI_API_KEY", timeout=timeout)
    if provider == "gemini":
        return GeminiChat(model, base_url=base_url, api_key_env=api_key_env, timeout=timeout)
    raise RegenBenchError(f"unknown API provider {provider!r}; one of: {', '.join(PROVIDERS)}")


def embedder(provider: str, model: str, **options):
    """An `OpenAIEmbedder` or `GeminiEmbedder`."""
    if provider == "openai":
        return OpenAIEmbedder(model, **options)
    if provider == "gemini":
        return GeminiEmbedder(model, **options)
    raise RegenBenchError(f"unknown embedding provider {provider!r}; one of: {', '.join(PROVIDERS)}")


__all__ = ["PROVIDERS", "GeminiChat", "GeminiEmbedder", "OpenAIChat", "OpenAIEmbedder", "chat_provider", "embedder"]
