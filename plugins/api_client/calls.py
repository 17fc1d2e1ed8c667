"""Prompt in, text out: a batch of chat calls with a pool, limits, retries, a cache and usage.

Reusable for any API-backed component (the LLM rater, LLM prompting baselines)::

    from regen_bench_plugins.api_client import CallRequest, CallRunner
    runner = CallRunner(provider, concurrency=8, rpm=500, retries=3, timeout=60)
    results = runner.run([CallRequest.from_prompt(p, temperature=0.7, template_sha=sha) for p in prompts])
    texts = [r.text if r.ok else None for r in results]
    runner.usage.as_dict()   # {"input_tokens", "output_tokens", "requests", "cost_usd"}
    runner.stats             # {"calls", "cache_hits", "failed", "retries"}

A *provider* (see `ChatProvider`) is a thin adapter with an async `session()` context
that yields `async call(request) -> Completion`; it translates its SDK's exceptions into
`ApiCallError`. `run_calls` also accepts a bare async function instead of a provider.
A failed call never raises out of a run: it is a `CallResult` with `error` set, recorded
in the cache as failed, and retried by the next run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from regen_bench.util.hashing import hash_config, sha256_text
from regen_bench_plugins.api_client.call_cache import CallCache
from regen_bench_plugins.api_client.errors import ApiCallError
from regen_bench_plugins.api_client.keys import redact
from regen_bench_plugins.api_client.options import CallSettings
from regen_bench_plugins.api_client.pool import run_pool
from regen_bench_plugins.api_client.rate_limit import RateLimiter, estimate_tokens
from regen_bench_plugins.api_client.retry import Attempted, RetryPolicy, call_with_retries
from regen_bench_plugins.api_client.usage import PriceTable, UsageMeter

T = TypeVar("T")
ROLES = ("user", "assistant")


@dataclass(frozen=True)
class CallRequest:
    """One chat call. `messages` alternate user/assistant turns and end with a user turn.

    template_sha: hash of the prompt template or rubric that produced the prompt; part
                  of the cache key, so editing a rubric never reuses old answers.
    label:        the caller's tag (an example id) for logs; not part of the cache key.
    """

    messages: tuple[tuple[str, str], ...]
    system: str | None = None
    temperature: float = 0.0
    max_tokens: int | None = None
    json_mode: bool = False
    seed: int | None = None
    template_sha: str | None = None
    label: str | None = None

    def __post_init__(self):
        if not self.messages:
            raise ValueError("a CallRequest needs at least one message")
        for role, text in self.messages:
            if role not in ROLES or not isinstance(text, str):
                raise ValueError(f"messages are (role, text) with role in {ROLES}; got {role!r}")
        if self.messages[-1][0] != "user":
            raise ValueError("the last message of a CallRequest must be the user's")

    @classmethod
    def from_prompt(cls, prompt: str, **kwargs) -> "CallRequest":
        return cls(messages=(("user", prompt),), **kwargs)

    @property
    def prompt(self) -> str:
        return self.messages[-1][1]

    def estimated_tokens(self) -> int:
        text = (self.system or "") + "".join(t for _, t in self.messages)
        return estimate_tokens(text) + (self.max_tokens or 0)

    def key_fields(self) -> dict[str, Any]:
        """Everything about the request that can change the answer."""
        return {
            "prompt_sha": sha256_text(hash_config({"system": self.system, "messages": self.messages}, length=64)),
            "temperature": float(self.temperature),
            "max_tokens": self.max_tokens,
            "json_mode": self.json_mode,
            "seed": self.seed,
            "template_sha": self.template_sha,
        }


@dataclass(frozen=True)
class Completion:
    """What a provider returns for one successful call."""

    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass
class CallResult:
    request: CallRequest
    key: str
    text: str | None = None
    error: str | None = None  # people-readable; keys redacted
    error_kind: str | None = None  # "http", "timeout", "connection", "response", "error"
    status: int | None = None  # HTTP status of the last failed attempt
    input_tokens: int | None = None
    output_tokens: int | None = None
    attempts: int = 0  # HTTP requests made for this call in this run (0 when from cache)
    from_cache: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


CallFn = Callable[[CallRequest], Awaitable[Completion]]


@runtime_checkable
class ChatProvider(Protocol):
    """An adapter to one chat API and model.

    provider: "openai", "gemini", ...; model: the model id; endpoint: the base URL when
    not the provider's default (it selects which server answers, so it is part of the
    cache key), else None.
    """

    provider: str
    model: str
    endpoint: str | None

    def session(self) -> contextlib.AbstractAsyncContextManager[CallFn]: ...


def call_key(provider: str, model: str, endpoint: str | None, request: CallRequest) -> str:
    """The cache key of a call: a sha256 over everything that determines its answer."""
    return hash_config(
        {"kind": "chat", "provider": provider, "model": model, "endpoint": endpoint, **request.key_fields()},
        length=64,
    )


class _FunctionProvider:
    """Wraps a bare async function as a provider (for tests and one-off callers)."""

    def __init__(self, fn: CallFn, provider: str, model: str, endpoint: str | None):
        self._fn = fn
        self.provider = provider
        self.model = model
        self.endpoint = endpoint

    @contextlib.asynccontextmanager
    async def session(self):
        yield self._fn


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running loop
    (a notebook): then it runs on a fresh loop in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(lambda: asyncio.run(factory())).result()


def open_cache(cache: CallCache | str | Path | bool | None) -> CallCache | None:
    """The call cache a `cache` argument names: True the default file, a path that file,
    a `CallCache` itself, None or False none."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return CallCache()
    if isinstance(cache, CallCache):
        return cache
    return CallCache(cache)


def usage_meter(provider: str, model: str, prices: PriceTable | str | Path | None) -> UsageMeter:
    """A usage meter priced by `prices` (a table, a JSON file merged over the defaults, or None)."""
    return UsageMeter(provider, model, prices if isinstance(prices, PriceTable) else PriceTable.load(prices))


class CallRunner:
    """Runs batches of calls to one provider; keeps the rate limiter, the cache and the
    usage meter across batches (e.g. first answers, then repair calls)."""

    def __init__(
        self,
        provider: ChatProvider,
        *,
        cache: CallCache | str | Path | bool | None = True,
        prices: PriceTable | str | Path | None = None,
        limiter: RateLimiter | None = None,
        rng: random.Random | None = None,
        on_result: Callable[[CallResult], Any] | None = None,
        **settings: Any,
    ):
        """`settings`: the `CallSettings` (concurrency, rpm, tpm, retries, timeout, backoff,
        max_backoff); `limiter` replaces the one rpm/tpm would make (shared by runners)."""
        call = CallSettings(**settings)
        self.provider = provider
        self.concurrency = call.concurrency
        self.limiter = limiter or call.rate_limiter()
        self.policy = call.retry_policy()
        self.cache = open_cache(cache)
        self._owns_cache = self.cache is not None and not isinstance(cache, CallCache)
        self.usage = usage_meter(provider.provider, provider.model, prices)
        self.stats = {"calls": 0, "cache_hits": 0, "failed": 0, "retries": 0}
        self.rng = rng or random.Random()
        self.on_result = on_result

    def close(self) -> None:
        """Close the cache connection if this runner opened it."""
        if self._owns_cache and self.cache is not None:
            self.cache.close()
            self.cache = None

    def __enter__(self) -> "CallRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def key(self, request: CallRequest) -> str:
        return call_key(self.provider.provider, self.provider.model, self.provider.endpoint, request)

    def run(self, requests: Sequence[CallRequest]) -> list[CallResult]:
        """Run a batch from synchronous code; one result per request, in order."""
        requests = list(requests)
        return run_sync(lambda: self.arun(requests))

    def complete(self, prompts: Sequence[str], **request_fields) -> list[CallResult]:
        """Convenience for generation: one single-turn call per prompt."""
        return self.run([CallRequest.from_prompt(p, **request_fields) for p in prompts])

    async def arun(self, requests: Sequence[CallRequest]) -> list[CallResult]:
        requests = list(requests)
        keys = [self.key(r) for r in requests]
        cached = self.cache.get_many(keys) if self.cache is not None else {}
        results: list[CallResult | None] = [None] * len(requests)
        todo: list[int] = []
        first_of_key: dict[str, int] = {}
        duplicates: list[tuple[int, int]] = []
        for i, (request, key) in enumerate(zip(requests, keys)):
            hit = cached.get(key)
            if hit is not None:
                results[i] = CallResult(
                    request, key, text=hit.text, input_tokens=hit.input_tokens,
                    output_tokens=hit.output_tokens, attempts=0, from_cache=True,
                )
            elif key in first_of_key:  # the same call twice in one batch: ask once
                duplicates.append((i, first_of_key[key]))
            else:
                first_of_key[key] = i
                todo.append(i)
        self.stats["calls"] += len(requests)
        self.stats["cache_hits"] += sum(1 for r in results if r is not None)

        if todo:
            # Opening the session reads the API key: a missing key raises here, once,
            # as a configuration error (it is not a per-call failure).
            async with self.provider.session() as call:

                async def job(index: int) -> CallResult:
                    request = requests[index]
                    estimate = request.estimated_tokens()
                    outcome: Attempted[Completion] = await call_with_retries(
                        lambda: call(request), policy=self.policy, limiter=self.limiter,
                        tokens=estimate, rng=self.rng,
                    )
                    result = self._record(request, keys[index], outcome)
                    if self.limiter.tpm and result.ok:
                        actual = (result.input_tokens or 0) + (result.output_tokens or 0)
                        self.limiter.settle(estimate, actual if result.input_tokens is not None else None)
                    if self.on_result is not None:
                        self.on_result(result)
                    return result

                done = await run_pool(todo, job, concurrency=self.concurrency)
            for index, result in zip(todo, done):
                if isinstance(result, BaseException):  # a bug in _record or on_result
                    error = redact(f"{type(result).__name__}: {result}")
                    result = CallResult(requests[index], keys[index], error=error, error_kind="error")
                results[index] = result
        for index, source in duplicates:
            original = results[source]
            results[index] = CallResult(
                requests[index], keys[index], text=original.text, error=original.error,
                error_kind=original.error_kind, status=original.status, attempts=0,
                from_cache=original.from_cache,
            )
        return results  # type: ignore[return-value]

    def _record(self, request: CallRequest, key: str, outcome: Attempted[Completion]) -> CallResult:
        provider, model = self.provider.provider, self.provider.model
        self.stats["retries"] += max(0, outcome.attempts - 1)
        if outcome.ok:
            completion = outcome.value
            if not isinstance(completion, Completion):
                outcome = Attempted(
                    error=ApiCallError(f"provider returned {type(completion).__name__}, not Completion", kind="error"),
                    attempts=outcome.attempts,
                )
            else:
                self.usage.add(completion.input_tokens, completion.output_tokens, requests=outcome.attempts)
                if self.cache is not None:
                    self.cache.put_ok(
                        key, provider=provider, model=model, text=completion.text,
                        input_tokens=completion.input_tokens, output_tokens=completion.output_tokens,
                        attempts=outcome.attempts,
                    )
                return CallResult(
                    request, key, text=completion.text, input_tokens=completion.input_tokens,
                    output_tokens=completion.output_tokens, attempts=outcome.attempts,
                )
        self.usage.add(0, 0, requests=outcome.attempts)
        self.stats["failed"] += 1
        error = outcome.error
        message = redact(f"{error.describe()} (after {outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''})")
        if self.cache is not None:
            self.cache.put_failed(key, provider=provider, model=model, error=message, attempts=outcome.attempts)
        return CallResult(
            request, key, error=message, error_kind=error.kind, status=error.status, attempts=outcome.attempts,
        )


def run_calls(
    requests: Sequence[CallRequest],
    call_fn: ChatProvider | CallFn,
    *,
    cache: CallCache | str | Path | bool | None = None,  # unlike CallRunner: a one-off batch caches only when asked
    prices: PriceTable | str | Path | None = None,
    provider: str = "custom",
    model: str = "custom",
    endpoint: str | None = None,
    **settings: Any,
) -> list[CallResult]:
    """Run one batch from synchronous code (see `CallRunner` to keep usage across batches).

    `call_fn` is a provider or a bare `async (CallRequest) -> Completion`; for the latter,
    `provider`/`model`/`endpoint` name it in cache keys and usage. `settings` are the
    `CallSettings`, as for `CallRunner`.
    """
    if not isinstance(call_fn, ChatProvider):
        call_fn = _FunctionProvider(call_fn, provider, model, endpoint)
    with CallRunner(call_fn, cache=cache, prices=prices, **settings) as runner:
        return runner.run(requests)


@dataclass
class JobOutcome:
    """Result of one generic job run with `run_jobs` (used by the embedders)."""

    value: Any = None
    error: ApiCallError | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


async def run_jobs(
    items: Sequence[T],
    attempt: Callable[[T], Awaitable[Any]],
    *,
    concurrency: int = 4,
    limiter: RateLimiter | None = None,
    policy: RetryPolicy | None = None,
    tokens: Callable[[T], int] | None = None,
    rng: random.Random | None = None,
) -> list[JobOutcome]:
    """The pool + limiter + retries for any kind of call (e.g. an embedding batch)."""
    policy = policy or RetryPolicy()

    async def job(item: T) -> JobOutcome:
        outcome = await call_with_retries(
            lambda: attempt(item), policy=policy, limiter=limiter,
            tokens=tokens(item) if tokens else 0, rng=rng,
        )
        return JobOutcome(outcome.value, outcome.error, outcome.attempts)

    done = await run_pool(list(items), job, concurrency=concurrency)
    return [
        d if isinstance(d, JobOutcome) else JobOutcome(error=ApiCallError(f"{type(d).__name__}: {d}", kind="error"))
        for d in done
    ]
