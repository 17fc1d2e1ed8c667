"""Embedding API machinery shared by the OpenAI and Gemini embedders.

`ApiEmbedder.embed(texts)` returns a float32 array (n, d). Texts are de-duplicated,
looked up in the cache (one row per embedder and text), and the missing ones sent in
batches through the same pool, rate limiter and retries as chat calls. Batches that
succeed are cached at once, so a failure loses nothing; a batch that still fails
after retries raises `EmbeddingError` (a metric cannot score without embeddings).

A subclass supplies `provider`, `model`, `endpoint` and an async `session()` context
yielding `async embed_batch(texts) -> (vectors, input_tokens or None)`.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from regen_bench.util.hashing import hash_config
from regen_bench_plugins.api_client.call_cache import CallCache
from regen_bench_plugins.api_client.calls import open_cache, run_jobs, run_sync, usage_meter
from regen_bench_plugins.api_client.errors import ApiCallError, EmbeddingError
from regen_bench_plugins.api_client.keys import redact
from regen_bench_plugins.api_client.options import CallSettings
from regen_bench_plugins.api_client.rate_limit import estimate_tokens
from regen_bench_plugins.api_client.usage import PriceTable

EmbedBatchFn = Callable[[list[str]], Awaitable[tuple[list[list[float]], int | None]]]


class ApiEmbedder:
    provider: str = ""
    max_batch_size: int = 2048

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        dimensions: int | None = None,
        batch_size: int = 100,
        cache: CallCache | str | Path | bool | None = True,
        prices: PriceTable | str | Path | None = None,
        **settings: Any,
    ):
        """`settings`: the `CallSettings` (concurrency, rpm, tpm, retries, timeout, backoff, max_backoff)."""
        if not model:
            raise ValueError("an embedder needs a model id")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        call = CallSettings(**settings)
        self.model = model
        self.base_url = base_url.rstrip("/") if base_url else None
        self.dimensions = dimensions
        self.batch_size = min(int(batch_size), self.max_batch_size)
        self.concurrency = call.concurrency
        self.limiter = call.rate_limiter()
        self.policy = call.retry_policy()
        self._cache_option = cache
        self._cache: CallCache | None = None
        self.meter = usage_meter(self.provider, model, prices)
        self.cache_hits = 0
        self.rng = random.Random()

    @property
    def id(self) -> str:
        """e.g. "openai:text-embedding-3-small" (with "/d256" when dimensions are reduced)."""
        suffix = f"/d{self.dimensions}" if self.dimensions else ""
        return f"{self.provider}:{self.model}{suffix}"

    @property
    def endpoint(self) -> str | None:
        return self.base_url

    @property
    def usage(self) -> dict:
        return self.meter.as_dict()

    def session(self) -> contextlib.AbstractAsyncContextManager[EmbedBatchFn]:
        raise NotImplementedError

    def _key(self, text: str) -> str:
        return hash_config({"kind": "embed", "id": self.id, "endpoint": self.endpoint, "text": text}, length=64)

    def _cache_handle(self) -> CallCache | None:
        # Opened on first use: building an embedder (e.g. for a signature) touches no file.
        if self._cache is None:
            self._cache = open_cache(self._cache_option)
        return self._cache

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        # Embedding APIs reject empty input; an empty text is embedded as one space.
        texts = [t if t.strip() else " " for t in texts]
        unique = list(dict.fromkeys(texts))
        keys = {t: self._key(t) for t in unique}
        cache = self._cache_handle()
        found = cache.get_vectors(list(keys.values())) if cache is not None else {}
        vectors: dict[str, np.ndarray] = {t: found[keys[t]] for t in unique if keys[t] in found}
        self.cache_hits += len(vectors)
        missing = [t for t in unique if t not in vectors]
        if missing:
            batches = [missing[i : i + self.batch_size] for i in range(0, len(missing), self.batch_size)]
            vectors.update(run_sync(lambda: self._embed_batches(batches)))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        dims = {vectors[t].shape[0] for t in unique}
        if len(dims) != 1:
            raise EmbeddingError(f"{self.id}: embeddings of different sizes {sorted(dims)} (mixed cache entries?)")
        return np.stack([vectors[t] for t in texts]).astype(np.float32, copy=False)

    async def _embed_batches(self, batches: list[list[str]]) -> dict[str, np.ndarray]:
        cache = self._cache_handle()
        got: dict[str, np.ndarray] = {}
        async with self.session() as embed_batch:

            async def attempt(batch: list[str]):
                vectors, tokens = await embed_batch(batch)
                if len(vectors) != len(batch):
                    raise ApiCallError(f"asked for {len(batch)} embeddings, got {len(vectors)}", kind="response")
                return vectors, tokens

            outcomes = await run_jobs(
                batches, attempt, concurrency=self.concurrency, limiter=self.limiter, policy=self.policy,
                tokens=lambda batch: sum(estimate_tokens(t) for t in batch), rng=self.rng,
            )
        failures = []
        for batch, outcome in zip(batches, outcomes):
            if not outcome.ok:
                self.meter.add(0, 0, requests=outcome.attempts)
                failures.append((batch, outcome))
                continue
            raw, tokens = outcome.value
            self.meter.add(tokens, 0 if tokens is not None else None, requests=outcome.attempts)
            arrays = [np.asarray(v, dtype=np.float32).reshape(-1) for v in raw]
            got.update(zip(batch, arrays))
            if cache is not None:
                cache.put_vectors(self.id, [(self._key(t), a) for t, a in zip(batch, arrays)])
        if failures:
            batch, outcome = failures[0]
            raise EmbeddingError(
                redact(
                    f"{self.id}: {len(failures)} of {len(batches)} embedding request(s) failed; the first "
                    f"({len(batch)} texts) after {outcome.attempts} attempt(s): {outcome.error.describe()}. "
                    "Embeddings that succeeded are cached; run again to retry the rest."
                )
            )
        return got
