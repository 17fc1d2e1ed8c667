"""Requests-per-minute and tokens-per-minute limits for one provider.

RPM is enforced by spacing: request starts are at least 60/rpm seconds apart (no
bursts, so a server's per-second smoothing never sees a spike). TPM is a token bucket
of `tpm` tokens refilled continuously at tpm/60 per second; a request reserves its
estimated tokens and may drive the bucket negative, which delays later requests
(reservations, not polling). `settle` corrects an estimate with the real count.

Reservations are computed without awaiting, so the limiter needs no lock inside one
event loop and can be shared by successive `asyncio.run` calls (it keeps no loop
objects, only monotonic times).

Global limits across workers: when an executor runs the model in several processes
(`--executor ray`), each worker calls `regen_bench.pipeline.executor.share_limits(service)`
first, and a limiter built there delegates every reservation and settlement to that
one service (a Ray actor holding one `RateLimiter` per (rpm, tpm)), so N workers
together send at most rpm requests a minute, not N times rpm.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from regen_bench.pipeline.executor import shared_limits


class RateLimiter:
    def __init__(self, rpm: float | None = None, tpm: float | None = None, *, clock: Callable[[], float] = time.monotonic,
                 shared: bool = True):
        """`shared=False`: never delegate to the process's limit service (the service's own limiters)."""
        if rpm is not None and rpm <= 0:
            raise ValueError("rpm must be positive (or None for no limit)")
        if tpm is not None and tpm <= 0:
            raise ValueError("tpm must be positive (or None for no limit)")
        self.rpm = rpm
        self.tpm = tpm
        self._clock = clock
        self._interval = 60.0 / rpm if rpm else 0.0
        self._next_slot = float("-inf")
        self._level = float(tpm) if tpm else 0.0
        self._updated = clock()
        # A worker of a multi-process executor books with the run's one limit service.
        self._service = shared_limits() if shared and self.active else None
        # What the service is sent: an unshared twin, the key and the prototype of the one limiter.
        self._key = RateLimiter(rpm, tpm, clock=clock, shared=False) if self._service is not None else None

    @property
    def active(self) -> bool:
        return bool(self.rpm or self.tpm)

    def reserve(self, tokens: int = 0) -> float:
        """Book a slot for a request of `tokens` tokens; returns how long to wait before sending."""
        if self._service is not None:
            return self._service.reserve(self._key, tokens)
        now = self._clock()
        start = now
        if self.tpm:
            rate = self.tpm / 60.0
            self._level = min(float(self.tpm), self._level + (now - self._updated) * rate)
            self._updated = now
            self._level -= min(max(int(tokens), 0), self.tpm)
            if self._level < 0:
                start = now + (-self._level) / rate
        if self._interval:
            start = max(start, self._next_slot)
            self._next_slot = start + self._interval
        return max(0.0, start - now)

    async def acquire(self, tokens: int = 0) -> None:
        if self._service is not None:
            wait = await self._service.areserve(self._key, tokens)
        else:
            wait = self.reserve(tokens)
        if wait > 0:
            await asyncio.sleep(wait)

    def settle(self, estimated: int, actual: int | None) -> None:
        """Give back (or take) the difference between a reservation and the real token count."""
        if self._service is not None:
            self._service.settle(self._key, estimated, actual)
            return
        if self.tpm and actual is not None:
            self._level = min(float(self.tpm), self._level + (int(estimated) - int(actual)))


def estimate_tokens(text: str) -> int:
    """A rough token count (about 4 characters a token) for TPM reservations only."""
    return max(1, (len(text) + 3) // 4)
