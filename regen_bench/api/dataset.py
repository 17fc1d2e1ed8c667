"""A REGEN dataset loaded in a notebook: its splits, a Hugging Face `datasets.Dataset` view, and
what `regen_bench.run(dataset=...)` takes so the data is not loaded twice.

    ds = regen_bench.load_dataset("synthetic")
    ds.split("test")                  # an ExampleSet (Examples built on demand)
    hf = ds.to_hf("test")             # datasets.Dataset over the Arrow cache
    hf.to_pandas()

`to_hf` is an index over the memory-mapped Arrow cache table (`Dataset.select` keeps an
indices mapping), so the history and record columns are not copied; the task texts are
one new column each (they live in a map column, which `datasets` has no type for).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from regen_bench.contracts.example_set import ExampleSet, as_example_set
from regen_bench.data.splits import SplitConfig, Splits, split_users_by_hash
from regen_bench.pipeline.stages import Source, load_stage
from regen_bench.util.hashing import sha256_text


@dataclass
class LoadedDataset:
    """A dataset read once (validated, Arrow-cached); `split_config` says how it is split by user."""

    source: Source
    split_config: SplitConfig = field(default_factory=SplitConfig)
    _splits: Splits | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def path(self) -> Path:
        return self.source.data.path

    @property
    def sha256(self) -> str:
        return self.source.data.sha256

    @property
    def synthetic(self) -> bool:
        return bool(self.source.provider.synthetic)

    @property
    def tasks(self) -> list[str]:
        """The tasks at least one record has a reference for."""
        return list(self.source.data.available_tasks)

    @property
    def examples(self) -> ExampleSet:
        return as_example_set(self.source.data.examples)

    def __len__(self) -> int:
        return len(self.source.data.examples)

    def __repr__(self) -> str:
        label = "SYNTHETIC" if self.synthetic else "real"
        return (f"LoadedDataset({self.name!r} [{label}], {len(self)} users, tasks={self.tasks}, "
                f"sha256={self.sha256[:12]})")

    @property
    def splits(self) -> Splits:
        if self._splits is None:
            self._splits = split_users_by_hash(self.examples, self.split_config)
        return self._splits

    def split(self, name: str = "test") -> ExampleSet:
        """The users of one split ("train", "validation" or "test"), as a run splits them."""
        return self.splits.get(name)

    def to_hf(self, split: str | None = "test", tasks: list[str] | None = None):
        """The split (None: every user) as a `datasets.Dataset`: the Arrow cache's columns
        (reviewer_id, line, history, last_asin, record) and one column per task."""
        import datasets  # deferred: a heavy import, only for the users who ask for it
        from datasets.table import InMemoryTable

        chosen = self.examples if split is None else self.split(split)
        tasks = self.tasks if tasks is None else list(tasks)
        table, rows = chosen.arrow_view(tasks)
        # An explicit fingerprint: without one, `datasets` hashes the whole table to make one
        # (measured at 100k users: 5 s and 3.1 GB more peak memory, against 1 ms).
        split_hash = self.splits.split_hash if split is not None else "every-user"
        fingerprint = sha256_text(f"{self.sha256}|{split}|{split_hash}|{','.join(tasks)}")[:16]
        whole = datasets.Dataset(InMemoryTable(table), split=split, fingerprint=fingerprint)  # wraps: no copy
        return whole if split is None else whole.select(rows)

    def to_pandas(self, split: str | None = "test", tasks: list[str] | None = None):
        """The split as a pandas DataFrame (a copy: through `to_hf`)."""
        return self.to_hf(split, tasks).to_pandas()


def load_dataset(dataset: str | Path = "synthetic", *, dataset_args: dict | None = None,
                 on_bad_record: str = "error", task_map: dict[str, str] | None = None,
                 split_config: SplitConfig | None = None) -> LoadedDataset:
    """A registered dataset name or a REGEN file path, loaded as `regen-bench run` loads it."""
    source = load_stage(str(dataset), {k: str(v) for k, v in (dataset_args or {}).items()},
                        on_bad_record=on_bad_record, task_map=dict(task_map or {}), tasks=[])
    return LoadedDataset(source, split_config or SplitConfig())
