"""Retries with exponential backoff and jitter, Retry-After, and a per-attempt timeout.

Retried: HTTP 429, 5xx, timeouts and connection errors (see `ApiCallError.retryable`).
Not retried: other 4xx (a bad request or a wrong key will not get better) and errors
an adapter did not recognise. A server's Retry-After replaces the backoff for that
wait (plus a little upward jitter, so workers told the same thing do not return in
lockstep); it is capped at `max_retry_after`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from regen_bench_plugins.api_client.errors import ApiCallError, classify
from regen_bench_plugins.api_client.rate_limit import RateLimiter

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3  # attempts = 1 + retries
    timeout: float | None = 60.0  # seconds per attempt; None = no limit
    backoff: float = 1.0  # first backoff in seconds; doubles each retry
    max_backoff: float = 60.0
    jitter: float = 0.25  # the wait is stretched by up to this fraction, at random
    max_retry_after: float = 300.0

    def __post_init__(self):
        if self.retries < 0:
            raise ValueError("retries must be >= 0")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError("timeout must be positive (or None)")

    def delay(self, attempt: int, error: ApiCallError, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        rng = rng or random
        if error.retry_after is not None:
            base = min(error.retry_after, self.max_retry_after)
        else:
            base = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return base * (1.0 + self.jitter * rng.random())


@dataclass
class Attempted(Generic[T]):
    """The outcome of a call with retries: a value, or the last error."""

    value: T | None = None
    error: ApiCallError | None = None
    attempts: int = 0
    waited: float = 0.0  # seconds spent in backoff sleeps

    @property
    def ok(self) -> bool:
        return self.error is None


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    limiter: RateLimiter | None = None,
    tokens: int = 0,
    rng: random.Random | None = None,
    on_retry: Callable[[int, ApiCallError, float], Any] | None = None,
) -> Attempted[T]:
    """Run `attempt()` until it succeeds, fails for good, or retries run out. Never raises
    (except cancellation)."""
    attempts = 0
    waited = 0.0
    while True:
        if limiter is not None and limiter.active:
            await limiter.acquire(tokens)
        attempts += 1
        try:
            if policy.timeout is not None:
                value = await asyncio.wait_for(attempt(), policy.timeout)
            else:
                value = await attempt()
            return Attempted(value=value, attempts=attempts, waited=waited)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a result
            error = classify(exc)
        if not error.retryable or attempts > policy.retries:
            return Attempted(error=error, attempts=attempts, waited=waited)
        delay = policy.delay(attempts, error, rng)
        if on_retry is not None:
            on_retry(attempts, error, delay)
        started = time.monotonic()
        await asyncio.sleep(delay)
        waited += time.monotonic() - started
