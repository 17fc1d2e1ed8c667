"""A progress line on stderr: calls done of the total, rate, ETA and the cost spent so far.

On a terminal it redraws one line; otherwise (a log file, CI) it prints a line every
`every` seconds, so logs stay short. Cached answers count as done at once (and cost
nothing), so the ETA is from the fresh calls' rate.
"""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(self, total: int, *, enabled: bool = True, stream=None, every: float = 10.0):
        self.total, self.done, self.fresh = total, 0, 0
        self.cost: float | None = 0.0
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every = every
        self.started = time.monotonic()
        self._last = 0.0

    def advance(self, n: int, *, cost: float | None, fresh: bool = True) -> None:
        """`n` more calls done; `cost` is the dollars spent so far (None: the price is unknown)."""
        self.done += n
        if fresh:
            self.fresh += n
        self.cost = cost
        self.show()

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        left = max(0, self.total - self.done)
        rate = self.fresh / elapsed if elapsed > 0 and self.fresh else 0.0
        eta = _clock(left / rate) if rate else "?"
        width = 24
        filled = int(width * min(self.done, self.total) / self.total) if self.total else width
        cost = "cost unknown" if self.cost is None else f"${self.cost:,.4f} spent"
        return (f"building [{'#' * filled}{'.' * (width - filled)}] {self.done:,}/{self.total:,} calls "
                f"| {rate:.1f}/s | ETA {eta} | {cost}")

    def show(self, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if final or now - self._last >= 0.1:
                self.stream.write("\r" + self.line() + ("\n" if final else ""))
                self.stream.flush()
                self._last = now
        elif final or now - self._last >= self.every:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
            self._last = now

    def grow(self, n: int) -> None:
        """Repair calls were added to the work."""
        self.total += n
