"""OpenAI and OpenAI-compatible servers (vLLM, Ollama, LM Studio...) through `openai`.

Thin adapters around `openai.AsyncOpenAI`: the SDK's own retries are off
(`max_retries=0`): retries, backoff, rate limits and timeouts are regen-bench's
(`regen_bench_plugins.api_client`), so they behave the same for every provider and are counted.
`openai` is imported when a session opens, never at import time.
"""

from __future__ import annotations

import base64
import contextlib

import numpy as np

from regen_bench.plugin.extras import require
from regen_bench_plugins.api_client import (
    ApiCallError,
    ApiEmbedder,
    CallRequest,
    Completion,
    api_key_from_env,
    parse_retry_after,
)

DEFAULT_KEY_ENV = "OPENAI_API_KEY"


def _import_openai():
    # Imported when a session opens, not with the plugin: `openai` is an optional extra and
    # slow to import, and listing or scoring without an OpenAI call must not need it.
    return require("openai", "api", "the OpenAI provider (llm-openai, llm-rater, openai: embeddings)")


def _client(base_url: str | None, key_env: str, timeout: float | None, purpose: str):
    openai = _import_openai()
    api_key = api_key_from_env(key_env, purpose=purpose)
    # Our per-attempt timeout (asyncio.wait_for) is the one that counts; the SDK's is a
    # backstop a little later, so a slow answer surfaces as our timeout, not the SDK's.
    sdk_timeout = None if timeout is None else timeout + 5.0
    return openai, openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=sdk_timeout)


def translate_error(openai, exc: Exception) -> Exception:
    """SDK exception -> ApiCallError (or the exception itself when it is not the SDK's)."""
    if isinstance(exc, openai.APITimeoutError):
        return ApiCallError("request timed out", kind="timeout")
    if isinstance(exc, openai.APIConnectionError):
        return ApiCallError(f"connection error: {exc}", kind="connection")
    if isinstance(exc, openai.APIStatusError):
        headers = getattr(exc.response, "headers", None)
        return ApiCallError(
            str(getattr(exc, "message", exc)), kind="http", status=exc.status_code, retry_after=parse_retry_after(headers)
        )
    if isinstance(exc, openai.APIError):
        return ApiCallError(f"{type(exc).__name__}: {exc}", kind="response")
    return exc


class OpenAIChat:
    """Chat completions from OpenAI or any OpenAI-compatible server (`base_url`)."""

    provider = "openai"

    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str = DEFAULT_KEY_ENV,
                 timeout: float | None = 60.0):
        self.model = model
        self.base_url = base_url.rstrip("/") if base_url else None
        self.api_key_env = api_key_env or DEFAULT_KEY_ENV
        self.timeout = timeout

    @property
    def endpoint(self) -> str | None:
        return self.base_url

    @property
    def id(self) -> str:
        return f"{self.provider}:{self.model}"

    @contextlib.asynccontextmanager
    async def session(self):
        openai, client = _client(self.base_url, self.api_key_env, self.timeout, f"the OpenAI model {self.model!r}")

        async def call(request: CallRequest) -> Completion:
            messages = []
            if request.system:
                messages.append({"role": "system", "content": request.system})
            messages += [{"role": role, "content": text} for role, text in request.messages]
            kwargs = {"model": self.model, "messages": messages, "temperature": request.temperature}
            if request.max_tokens is not None:
                kwargs["max_tokens"] = request.max_tokens
            if request.json_mode:
                kwargs["response_format"] = {"type": "json_object"}
            if request.seed is not None:
                kwargs["seed"] = request.seed
            try:
                response = await client.chat.completions.create(**kwargs)
            except Exception as exc:  # noqa: BLE001
                raise translate_error(openai, exc) from None
            if not response.choices:
                raise ApiCallError("the answer has no choices", kind="response")
            text = response.choices[0].message.content or ""
            usage = response.usage
            return Completion(
                text=text,
                input_tokens=getattr(usage, "prompt_tokens", None) if usage else None,
                output_tokens=getattr(usage, "completion_tokens", None) if usage else None,
            )

        try:
            yield call
        finally:
            await client.close()


class OpenAIEmbedder(ApiEmbedder):
    """Embeddings from OpenAI (`text-embedding-3-small`...) or an OpenAI-compatible server.

    `embed(texts)` -> float32 array (n, d). `dimensions` asks the API for shorter vectors
    (text-embedding-3 models) and is part of `id`.
    """

    provider = "openai"
    max_batch_size = 2048  # OpenAI's limit of inputs per request

    def __init__(self, model: str, base_url: str | None = None, api_key_env: str = DEFAULT_KEY_ENV, **options):
        options.setdefault("batch_size", 256)
        super().__init__(model, base_url=base_url, **options)
        self.api_key_env = api_key_env or DEFAULT_KEY_ENV

    @contextlib.asynccontextmanager
    async def session(self):
        openai, client = _client(self.base_url, self.api_key_env, self.policy.timeout, f"the OpenAI embedder {self.model!r}")

        async def embed_batch(texts: list[str]):
            kwargs = {"model": self.model, "input": texts}
            if self.dimensions:
                kwargs["dimensions"] = self.dimensions
            try:
                response = await client.embeddings.create(**kwargs)
            except Exception as exc:  # noqa: BLE001
                raise translate_error(openai, exc) from None
            rows = sorted(response.data, key=lambda d: d.index)
            vectors = [_vector(row.embedding) for row in rows]
            usage = getattr(response, "usage", None)
            return vectors, getattr(usage, "prompt_tokens", None) if usage else None

        try:
            yield embed_batch
        finally:
            await client.close()


def _vector(embedding) -> np.ndarray:
    # The SDK asks for base64 and decodes it; a server that answers floats anyway is fine too.
    if isinstance(embedding, str):
        return np.frombuffer(base64.b64decode(embedding), dtype="<f4").astype(np.float32)
    return np.asarray(embedding, dtype=np.float32)
