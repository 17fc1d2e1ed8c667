"""The built-in `synthetic` dataset: REGEN-format data generated on first use and cached.

Imports nothing heavy (numpy and pydantic only), so listing plugins stays fast.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from regen_bench import hookimpl
from regen_bench.dataset import DatasetOptions, DatasetProvider
from regen_bench.layout import DatasetLayout
from regen_bench.paths import cache_dir
from regen_bench.synthetic import DEFAULT_USERS, GENERATOR_VERSION, SYNTHETIC_LAYOUT, write_dataset


class SyntheticOptions(DatasetOptions):
    users: int = Field(default=DEFAULT_USERS, ge=1, description="number of users (one JSON line each)")
    seed: int = Field(default=0, ge=0, description="generator seed; same (users, seed), same bytes")


class SyntheticDataset(DatasetProvider):
    """Seeded synthetic REGEN data (office products) whose narratives depend on both
    co-purchase communities and item content: a known-answer check for fusion."""

    name = "synthetic"
    description = "embedded synthetic REGEN-format office-products data (default; numbers labelled synthetic)"
    synthetic = True
    Options = SyntheticOptions

    def path(self) -> Path:
        users, seed = self.options.users, self.options.seed
        target = cache_dir("synthetic") / f"synthetic-v{GENERATOR_VERSION}-u{users}-s{seed}.jsonl"
        if not target.is_file():
            write_dataset(target, users=users, seed=seed)  # atomic: a partial file never appears
        return target

    def layout(self) -> DatasetLayout:
        return SYNTHETIC_LAYOUT.model_copy(deep=True)


@hookimpl
def register_datasets(register):
    register(SyntheticDataset)
