"""`regen-office`, `regen-clothing`: the real REGEN files from Kaggle.

Run `regen-bench data download regen-office` once (needs kagglehub and Kaggle
access); the file's path is then remembered in the regen-bench cache. Field layout:
the published defaults (`user_summary` -> `user.long_summary`, `user_profile` ->
`user.profile`); map other tasks with `--task-map` after `regen-bench data info`.
"""

from __future__ import annotations

from pathlib import Path

import click

from regen_bench import hookimpl
from regen_bench.contracts.dataset import DatasetProvider
from regen_bench.contracts.layout import DatasetLayout
from regen_bench_plugins.datasets.regen_kaggle import source


class _RegenKaggle(DatasetProvider):
    def path(self) -> Path:
        return source.registered_path(self.name)

    def layout(self) -> DatasetLayout:
        return DatasetLayout()


class RegenOffice(_RegenKaggle):
    name = "regen-office"
    description = "REGEN Office Products, 100,613 users (Kaggle; `regen-bench data download regen-office` first)"


class RegenClothing(_RegenKaggle):
    name = "regen-clothing"
    description = "REGEN Clothing, 1,117,912 users (Kaggle; `regen-bench data download regen-clothing` first)"


@hookimpl
def register_datasets(register):
    register(RegenOffice)
    register(RegenClothing)


@click.command("download")
@click.argument("name", type=click.Choice(["regen-office", "regen-clothing"]))
@click.option(
    "--dest", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Download into this folder instead of kagglehub's cache.",
)
@click.option("--force", is_flag=True, help="Download again even if kagglehub has it cached.")
def download_command(name, dest, force):
    """Download REGEN from Kaggle (kagglehub) and remember where its files are."""
    path = source.download(name, dest, force=force)
    click.echo(f"{name}: {path}")
    click.echo(f"registered in {source.registry_path()}; use it with --dataset {name}")


@hookimpl
def register_commands(cli):
    cli.commands["data"].add_command(download_command)
