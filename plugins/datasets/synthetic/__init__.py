"""The built-in `synthetic` dataset: REGEN-format data generated on first use and cached.

Imports nothing heavy (numpy and pydantic only), so listing plugins stays fast.
"""

from __future__ import annotations

from pathlib import Path

import click
from pydantic import Field, model_serializer

from regen_bench import hookimpl
from regen_bench.contracts.dataset import DatasetOptions, DatasetProvider
from regen_bench.contracts.layout import DatasetLayout
from regen_bench.util.paths import cache_dir
from regen_bench_plugins.datasets.synthetic.generator import (
    DEFAULT_USERS,
    GENERATOR_VERSION,
    SYNTHETIC_LAYOUT,
    write_dataset,
)
from regen_bench_plugins.datasets.synthetic.params import DEFAULT_CATALOGUE_ITEMS, catalogue_items


class SyntheticOptions(DatasetOptions):
    users: int = Field(default=DEFAULT_USERS, ge=1, description="number of users (one JSON line each)")
    seed: int = Field(default=0, ge=0, description="generator seed; same (users, seed, items), same bytes")
    items: int | None = Field(
        default=None, ge=DEFAULT_CATALOGUE_ITEMS,
        description="catalogue size; default grows with users as REGEN's does (3,000 up to ~13,500 users)",
    )

    @model_serializer(mode="wrap")
    def _leave_out_default_items(self, handler):
        # A results file records these options: leave `items` out when it is the default
        # (grow with users), so runs recorded before the option existed read the same.
        data = handler(self)
        if isinstance(data, dict) and data.get("items") is None:
            data.pop("items", None)
        return data


class SyntheticDataset(DatasetProvider):
    """Seeded synthetic REGEN data (office products) whose narratives depend on both
    co-purchase communities and item content: a known-answer check for fusion."""

    name = "synthetic"
    description = "embedded synthetic REGEN-format office-products data (default; numbers labelled synthetic)"
    synthetic = True
    Options = SyntheticOptions

    def path(self) -> Path:
        users, seed = self.options.users, self.options.seed
        items = catalogue_items(users, self.options.items)
        # The default catalogue keeps generator version 1's file name (and bytes).
        sized = "" if items == DEFAULT_CATALOGUE_ITEMS else f"-i{items}"
        target = cache_dir("synthetic") / f"synthetic-v{GENERATOR_VERSION}-u{users}-s{seed}{sized}.jsonl"
        if not target.is_file():
            write_dataset(target, users=users, seed=seed, items=items)  # atomic: a partial file never appears
        return target

    def layout(self) -> DatasetLayout:
        return SYNTHETIC_LAYOUT.model_copy(deep=True)


def synthetic_marker(seed: int) -> dict:
    """The `regen_bench_synthetic` value `data generate` writes in every record."""
    return {"generator": "regen-bench synthetic", "version": GENERATOR_VERSION, "seed": int(seed)}


@hookimpl
def register_datasets(register):
    register(SyntheticDataset)


@click.command("generate")
@click.option("--users", type=click.IntRange(min=1), default=None, help="Number of users [default: the generator's].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--items", type=click.IntRange(min=DEFAULT_CATALOGUE_ITEMS), default=None,
    help="Catalogue size [default: grows with --users as REGEN's does: 3,000 up to ~13,500 users, "
    "~27k at Office's 100k, ~376k at Clothing's 1.1M].",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="File to write (.jsonl or .jsonl.gz).",
)
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
    help="Processes generating users in parallel; the file's bytes are the same for any number.",
)
def generate_command(users, seed, items, output, jobs):
    """Write a seeded synthetic dataset in REGEN's format, every record carrying the
    synthetic marker, so runs on the file are labelled synthetic."""
    if users is None:
        users = DEFAULT_USERS
    items = catalogue_items(users, items)
    written = write_dataset(output, users, seed, marker=synthetic_marker(seed), items=items, jobs=jobs)
    click.echo(f"wrote {users:,} synthetic users ({items:,} items, seed {seed}) to {written}")


@hookimpl
def register_commands(cli):
    cli.commands["data"].add_command(generate_command)
