"""Gemini through `google-genai` (the maintained SDK; `google-generativeai` is retired).

`genai.Client(api_key=..., vertexai=False, http_options=types.HttpOptions(base_url=...,
retry_options=HttpRetryOptions(attempts=1)))`: the SDK's retries are off (one attempt);
ours apply. `base_url` is the server root (e.g. `http://127.0.0.1:8080`): the SDK adds
the API version and `models/{model}:generateContent` itself. The key comes from
GEMINI_API_KEY, else GOOGLE_API_KEY. `google-genai` is imported when a session opens.
"""

from __future__ import annotations

import contextlib

import numpy as np

from regen_bench.plugin.extras import require
from regen_bench_plugins.api_client import (
    ApiCallError,
    ApiEmbedder,
    CallRequest,
    Completion,
    api_key_from_env,
    parse_duration,
    parse_retry_after,
)

DEFAULT_KEY_ENVS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")


def _import_genai():
    # Imported when a session opens, not with the plugin: google-genai is an optional extra
    # and slow to import, and listing or scoring without Gemini must not need it.
    who = "the Gemini provider (llm-gemini, llm-rater, gemini: embeddings)"
    genai = require("google.genai", "api", who, library="google-genai")
    return (genai, require("google.genai.types", "api", who, library="google-genai"),
            require("google.genai.errors", "api", who, library="google-genai"))


def _key_envs(api_key_env: str | None) -> tuple[str, ...]:
    return (api_key_env,) if api_key_env else DEFAULT_KEY_ENVS


def _client(base_url, api_version, key_envs, timeout, purpose):
    genai, types, errors = _import_genai()
    api_key = api_key_from_env(key_envs, purpose=purpose)
    options = {"retry_options": types.HttpRetryOptions(attempts=1)}
    if base_url:
        options["base_url"] = base_url
    if api_version:
        options["api_version"] = api_version
    if timeout is not None:
        options["timeout"] = int((timeout + 5.0) * 1000)  # ms; a backstop behind our own timeout
    client = genai.Client(api_key=api_key, vertexai=False, http_options=types.HttpOptions(**options))
    return client, types, errors


def _retry_delay(details) -> float | None:
    """Gemini's google.rpc.RetryInfo (`"retryDelay": "20s"`) from an error body."""
    error = details.get("error", details) if isinstance(details, dict) else None
    for detail in (error or {}).get("details", []) if isinstance(error, dict) else []:
        if isinstance(detail, dict) and "retryDelay" in detail:
            return parse_duration(detail["retryDelay"])
    return None


def translate_error(errors, exc: Exception) -> Exception:
    if isinstance(exc, errors.APIError):
        headers = getattr(getattr(exc, "response", None), "headers", None)
        retry_after = parse_retry_after(headers)
        if retry_after is None:
            retry_after = _retry_delay(getattr(exc, "details", None))
        status = exc.code if isinstance(exc.code, int) else None
        message = getattr(exc, "message", None) or str(exc)
        return ApiCallError(str(message), kind="http" if status else "response", status=status, retry_after=retry_after)
    try:
        import aiohttp  # deferred: google-genai's optional transport, present only with that SDK
    except ImportError:  # pragma: no cover
        aiohttp = None
    if aiohttp is not None and isinstance(exc, aiohttp.ClientError):
        return ApiCallError(f"{type(exc).__name__}: {exc}", kind="connection")
    name = type(exc).__name__
    if name in ("ConnectError", "ReadError", "RemoteProtocolError", "WriteError"):
        return ApiCallError(f"{name}: {exc}", kind="connection")
    if "Timeout" in name:
        return ApiCallError(f"{name}: {exc}", kind="timeout")
    return exc


class GeminiChat:
    """generateContent on a Gemini model."""

    provider = "gemini"

    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str | None = None,
                 api_version: str | None = None, timeout: float | None = 60.0):
        self.model = model
        self.base_url = base_url.rstrip("/") if base_url else None
        self.api_key_env = api_key_env
        self.api_version = api_version
        self.timeout = timeout

    @property
    def endpoint(self) -> str | None:
        if not self.base_url and not self.api_version:
            return None
        return f"{self.base_url or 'default'}|{self.api_version or 'default'}"

    @property
    def id(self) -> str:
        return f"{self.provider}:{self.model}"

    @contextlib.asynccontextmanager
    async def session(self):
        client, types, errors = _client(
            self.base_url, self.api_version, _key_envs(self.api_key_env), self.timeout, f"the Gemini model {self.model!r}"
        )

        async def call(request: CallRequest) -> Completion:
            contents = [
                types.Content(role="model" if role == "assistant" else "user", parts=[types.Part(text=text)])
                for role, text in request.messages
            ]
            config = {"temperature": request.temperature}
            if request.system:
                config["system_instruction"] = request.system
            if request.max_tokens is not None:
                config["max_output_tokens"] = request.max_tokens
            if request.json_mode:
                config["response_mime_type"] = "application/json"
            if request.seed is not None:
                config["seed"] = request.seed
            try:
                response = await client.aio.models.generate_content(
                    model=self.model, contents=contents, config=types.GenerateContentConfig(**config)
                )
            except Exception as exc:  # noqa: BLE001
                raise translate_error(errors, exc) from None
            text = _response_text(response)
            meta = response.usage_metadata
            input_tokens = output_tokens = None
            if meta is not None and meta.prompt_token_count is not None:
                input_tokens = meta.prompt_token_count
                output_tokens = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
            return Completion(text=text, input_tokens=input_tokens, output_tokens=output_tokens)

        try:
            yield call
        finally:
            await client.aio.aclose()


def _response_text(response) -> str:
    """Concatenated text parts of the first candidate ("" when blocked or empty)."""
    candidates = response.candidates or []
    if not candidates or candidates[0].content is None:
        return ""
    return "".join(part.text for part in (candidates[0].content.parts or []) if getattr(part, "text", None))


class GeminiEmbedder(ApiEmbedder):
    """Embeddings from Gemini (`gemini-embedding-001`, `text-embedding-004`...) via
    batchEmbedContents. The Gemini API reports no token counts for embeddings, so
    usage has requests only and cost is None."""

    provider = "gemini"
    max_batch_size = 100  # batchEmbedContents accepts at most 100 requests

    def __init__(self, model: str, base_url: str | None = None, api_key_env: str | None = None,
                 *, task_type: str | None = None, api_version: str | None = None, **options):
        options.setdefault("batch_size", 100)
        super().__init__(model, base_url=base_url, **options)
        self.api_key_env = api_key_env
        self.task_type = task_type
        self.api_version = api_version

    @property
    def id(self) -> str:
        base = super().id
        return f"{base}/{self.task_type}" if self.task_type else base

    @contextlib.asynccontextmanager
    async def session(self):
        client, types, errors = _client(
            self.base_url, self.api_version, _key_envs(self.api_key_env), self.policy.timeout,
            f"the Gemini embedder {self.model!r}",
        )

        async def embed_batch(texts: list[str]):
            config = {}
            if self.dimensions:
                config["output_dimensionality"] = self.dimensions
            if self.task_type:
                config["task_type"] = self.task_type
            try:
                response = await client.aio.models.embed_content(
                    model=self.model, contents=list(texts),
                    config=types.EmbedContentConfig(**config) if config else None,
                )
            except Exception as exc:  # noqa: BLE001
                raise translate_error(errors, exc) from None
            embeddings = response.embeddings or []
            return [np.asarray(e.values or [], dtype=np.float32) for e in embeddings], None

        try:
            yield embed_batch
        finally:
            await client.aio.aclose()
