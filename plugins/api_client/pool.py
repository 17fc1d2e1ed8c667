"""An asyncio worker pool: at most `concurrency` jobs in flight, results in input order.

Workers pull from one shared iterator, so a million jobs cost `concurrency` tasks,
not a million. A job that raises is returned as its exception (the pool never stops
early); callers that want no exceptions pass a job function that does not raise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def run_pool(
    items: Sequence[T],
    job: Callable[[T], Awaitable[R]],
    *,
    concurrency: int,
) -> list[R | BaseException]:
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    results: list = [None] * len(items)
    queue = iter(enumerate(items))

    async def worker() -> None:
        # next() on a shared iterator is safe: workers interleave only at awaits.
        for index, item in queue:
            try:
                results[index] = await job(item)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                results[index] = exc

    workers = min(concurrency, len(items))
    if workers:
        await asyncio.gather(*(worker() for _ in range(workers)))
    return results
