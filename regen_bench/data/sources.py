"""Where a run's data comes from: a registered dataset name, or a REGEN file path."""

from __future__ import annotations

from pathlib import Path

from regen_bench.contracts.dataset import DatasetProvider, LocalFileDataset
from regen_bench.contracts.errors import RegenBenchError, UnknownNameError
from regen_bench.contracts.layout import DatasetLayout
from regen_bench.plugin.registry import get_registry
from regen_bench.plugin.specs import build_plugin


def resolve_dataset(name_or_path: str, dataset_args: dict[str, str]) -> tuple[str, DatasetProvider]:
    """(the name results record, the provider): a registered dataset, else an existing file."""
    registry = get_registry()
    if name_or_path in registry.entries["dataset"]:
        return name_or_path, build_plugin("dataset", name_or_path, dataset_args)
    path = Path(name_or_path)
    if path.exists():
        if dataset_args:
            raise RegenBenchError("--dataset-arg applies to named datasets, not to a file path")
        return path.name, LocalFileDataset(path, DatasetLayout())
    looks_like_path = any(sep in name_or_path for sep in "/\\") or name_or_path.endswith((".jsonl", ".gz"))
    if looks_like_path:
        raise RegenBenchError(f"dataset file not found: {name_or_path}")
    raise UnknownNameError("dataset", name_or_path, registry.names("dataset"))
