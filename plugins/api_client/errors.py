"""Errors of API calls: one failed attempt (`ApiCallError`) and the people-facing ones.

Provider adapters translate their SDK's exceptions into `ApiCallError`, so the retry
logic never needs to know which SDK raised. `classify` does the same for exceptions an
adapter did not translate (timeouts, connection resets, bugs).
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

from regen_bench.contracts.errors import RegenBenchError


class MissingApiKeyError(RegenBenchError):
    """No API key in the environment variable(s) a provider reads."""


class EmbeddingError(RegenBenchError):
    """Embeddings could not be computed (after retries); a metric cannot score without them."""


class ApiCallError(Exception):
    """One failed attempt of an API call.

    kind: "http" (the server answered with an error status), "timeout" (no answer within
          the per-request timeout), "connection" (refused, reset, DNS), "response" (an
          answer the adapter could not read), "error" (anything else, e.g. a bug).
    status: the HTTP status for kind "http".
    retry_after: seconds the server asked us to wait (Retry-After), if it said.
    """

    def __init__(self, message: str, *, kind: str = "http", status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """429, 5xx, timeouts and connection errors are retried; other 4xx and the rest are not."""
        if self.kind in ("timeout", "connection"):
            return True
        if self.kind == "http" and self.status is not None:
            return self.status == 429 or 500 <= self.status <= 599
        return False

    def describe(self) -> str:
        if self.kind == "http" and self.status is not None:
            return f"HTTP {self.status}: {self.message}"
        return f"{self.kind}: {self.message}"

    def __str__(self) -> str:
        return self.describe()


def classify(exc: BaseException) -> ApiCallError:
    """Turn any exception raised by an attempt into an `ApiCallError`."""
    if isinstance(exc, ApiCallError):
        return exc
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return ApiCallError("no answer within the request timeout", kind="timeout")
    if isinstance(exc, (ConnectionError, OSError)):
        return ApiCallError(f"{type(exc).__name__}: {exc}", kind="connection")
    return ApiCallError(f"{type(exc).__name__}: {exc}", kind="error")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*s\s*$")


def parse_retry_after(headers: Mapping[str, Any] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` (OpenAI) or `Retry-After` (seconds or HTTP date)."""
    if not headers:
        return None
    lowered = {str(k).lower(): v for k, v in dict(headers).items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except (TypeError, ValueError):
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def parse_duration(value: Any) -> float | None:
    """A protobuf Duration string like "0.2s" (Gemini's RetryInfo.retryDelay) in seconds."""
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value)
    return float(match.group(1)) if match else None
