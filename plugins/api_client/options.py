"""The settings of an API client, declared once: names, defaults and bounds.

`CallSettings` is how calls are made (the pool, the rate limits, retries and timeouts);
`CallRunner`, `run_calls` and `ApiEmbedder` take these as keyword arguments and check
them here. `ApiClientOptions` adds what an API-backed *plugin* lets its users choose
(where the API is, which variable holds the key, a price table, the call cache), and is
the base of every such plugin's options::

    class LlmRaterOptions(ApiClientOptions, MetricOptions): ...
    regen-bench run ... --metric-arg llm-rater.rpm=500 --model-arg concurrency=8

None of these settings changes what an answer is, so none enters a metric signature, a
model config or a call-cache key; the endpoint does, which is why `endpoint_digest`
lives here for the plugins that record it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from regen_bench.util.hashing import sha256_text
from regen_bench_plugins.api_client.rate_limit import RateLimiter
from regen_bench_plugins.api_client.retry import RetryPolicy
from regen_bench_plugins.api_client.usage import PriceTable


class CallSettings(BaseModel):
    """How an API client makes its calls (see `retry.py` and `rate_limit.py`)."""

    model_config = ConfigDict(extra="forbid")

    concurrency: int = Field(4, ge=1)  # calls in flight at once
    rpm: float | None = Field(None, gt=0)  # requests per minute; None: no limit
    tpm: float | None = Field(None, gt=0)  # tokens per minute (estimated, then settled); None: no limit
    retries: int = Field(3, ge=0)  # attempts = 1 + retries (429, 5xx, timeouts and connection errors only)
    timeout: float | None = Field(60.0, gt=0)  # seconds per attempt; None: no limit
    backoff: float = Field(1.0, ge=0)  # first retry wait in seconds (doubles), unless Retry-After says
    max_backoff: float = Field(60.0, ge=0)  # the longest backoff wait in seconds

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(retries=self.retries, timeout=self.timeout, backoff=self.backoff,
                           max_backoff=self.max_backoff)

    def rate_limiter(self) -> RateLimiter:
        return RateLimiter(self.rpm, self.tpm)


CALL_SETTINGS = tuple(CallSettings.model_fields)


class ApiClientOptions(CallSettings):
    """The options every API-backed plugin accepts, beside its own."""

    base_url: str | None = None  # an OpenAI-compatible server's /v1 (vLLM, Ollama), or a Gemini endpoint root
    api_key_env: str | None = None  # the variable holding the key (default OPENAI_API_KEY; GEMINI/GOOGLE_API_KEY)
    prices: str | None = None  # JSON price table (USD per 1M tokens) merged over the defaults
    cache: bool = True  # the SQLite call cache: a second run makes no request

    def client_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of `CallRunner` (and `ApiEmbedder`) these options ask for."""
        return {**{name: getattr(self, name) for name in CALL_SETTINGS}, "cache": self.cache, "prices": self.prices}

    def price_table(self) -> PriceTable:
        """The default prices with `prices` merged over them; raises on a bad price file, so a
        plugin calls it when it is built rather than after its first paid call."""
        return PriceTable.load(self.prices)

    def endpoint_digest(self, length: int) -> str | None:
        """A short hash of `base_url`, or None for the provider's default endpoint.

        The base URL decides which server answers (the same model name on Ollama, vLLM or a
        proxy may be other weights or quantisation), so results from two endpoints must not
        look comparable; a hash, not the URL itself, keeps internal host names and ports
        out of published results.
        """
        return sha256_text(self.base_url.rstrip("/"))[:length] if self.base_url else None
