"""Shared machinery for API-backed plugins (LLM judges, LLM baselines, embedders).

Core only: no SDK is imported here (providers live in `regen_bench_plugins.providers`
and import `openai` / `google-genai` lazily), and no concrete plugin is imported.

- `ApiClientOptions`: the options block every API-backed plugin's options inherit
  (concurrency, rpm, tpm, retries, timeout, backoff, max_backoff, base_url,
  api_key_env, prices, cache); `CallSettings`: the call settings among them, which
  `CallRunner`, `run_calls` and `ApiEmbedder` take as keyword arguments.
- `CallRequest` / `Completion` / `CallResult`: one chat call, its answer, its outcome.
- `CallRunner(provider, ...)`: batches with a concurrency-limited pool, RPM/TPM
  limits, retries (backoff + jitter, Retry-After, per-attempt timeout), a SQLite call
  cache and a usage/cost meter. `run_calls(...)`: one batch, one function call.
- `ApiEmbedder`: the same for embedding APIs, returning float32 arrays.
- `ApiCallError` (one failed attempt; adapters raise it), `MissingApiKeyError`,
  `EmbeddingError`; `api_key_from_env`, `redact`, `public_endpoint`.
- `PriceTable`, `UsageMeter`, `DEFAULT_PRICES`; `CallCache`; `RateLimiter`; `RetryPolicy`;
  `run_pool`, `run_jobs`, `run_sync`.
"""

from regen_bench_plugins.api_client.call_cache import CachedCall, CallCache, default_cache_path, select_by_keys
from regen_bench_plugins.api_client.calls import (
    CallRequest,
    CallResult,
    CallRunner,
    ChatProvider,
    Completion,
    JobOutcome,
    call_key,
    run_calls,
    run_jobs,
    run_sync,
)
from regen_bench_plugins.api_client.embeddings import ApiEmbedder
from regen_bench_plugins.api_client.errors import (
    ApiCallError,
    EmbeddingError,
    MissingApiKeyError,
    classify,
    parse_duration,
    parse_retry_after,
)
from regen_bench_plugins.api_client.keys import api_key_from_env, public_endpoint, redact
from regen_bench_plugins.api_client.options import ApiClientOptions, CallSettings
from regen_bench_plugins.api_client.pool import run_pool
from regen_bench_plugins.api_client.rate_limit import RateLimiter, estimate_tokens
from regen_bench_plugins.api_client.retry import Attempted, RetryPolicy, call_with_retries
from regen_bench_plugins.api_client.usage import DEFAULT_PRICES, Price, PriceTable, UsageMeter

__all__ = [
    "DEFAULT_PRICES",
    "ApiCallError",
    "ApiClientOptions",
    "ApiEmbedder",
    "Attempted",
    "CachedCall",
    "CallCache",
    "CallRequest",
    "CallResult",
    "CallRunner",
    "CallSettings",
    "ChatProvider",
    "Completion",
    "EmbeddingError",
    "JobOutcome",
    "MissingApiKeyError",
    "Price",
    "PriceTable",
    "RateLimiter",
    "RetryPolicy",
    "UsageMeter",
    "api_key_from_env",
    "call_key",
    "call_with_retries",
    "classify",
    "default_cache_path",
    "estimate_tokens",
    "parse_duration",
    "parse_retry_after",
    "public_endpoint",
    "redact",
    "run_calls",
    "run_jobs",
    "run_pool",
    "run_sync",
    "select_by_keys",
]
