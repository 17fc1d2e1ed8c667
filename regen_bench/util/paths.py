"""Where regen-bench keeps caches: $REGEN_BENCH_CACHE_DIR, else ~/.cache/regen-bench."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "REGEN_BENCH_CACHE_DIR"


def cache_dir(*parts: str) -> Path:
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "regen-bench")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
