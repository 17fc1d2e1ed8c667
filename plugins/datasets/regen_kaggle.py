"""`regen-office`, `regen-clothing`: the real REGEN files from Kaggle.

Run `regen-bench data download regen-office` once (needs kagglehub and Kaggle
access); the file's path is then remembered in the regen-bench cache. Field layout:
the published defaults (`user_summary` -> `user.long_summary`, `user_profile` ->
`user.profile`); map other tasks with `--task-map` after `regen-bench data info`.
"""

from __future__ import annotations

from pathlib import Path

from regen_bench import hookimpl
from regen_bench.dataset import DatasetProvider
from regen_bench.kaggle_source import registered_path
from regen_bench.layout import DatasetLayout


class _RegenKaggle(DatasetProvider):
    def path(self) -> Path:
        return registered_path(self.name)

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
