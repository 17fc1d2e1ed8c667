"""The DatasetProvider contract: a name, a layout, and a file of REGEN records."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from regen_bench.contracts.layout import DatasetLayout


class DatasetOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetProvider:
    """Supplies one REGEN-format JSONL file (`.jsonl` or `.jsonl.gz`).

    Class attributes: `name`, `description`, `synthetic` (True labels every number
    made on it "synthetic"; a file whose records carry the synthetic marker is
    labelled so whatever this says), `Options`. Override `path()` to say where the file
    is (generating or locating it), and `layout()` where its tasks live.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    synthetic: ClassVar[bool] = False
    Options: ClassVar[type[DatasetOptions]] = DatasetOptions

    def __init__(self, **options):
        self.options = self.Options(**options)

    def path(self) -> Path:
        raise NotImplementedError

    def layout(self) -> DatasetLayout:
        return DatasetLayout()

    def label_synthetic(self) -> None:
        """Label this provider's numbers synthetic: the loader calls it when the file's
        records carry the generator's marker (`regen_bench_synthetic`), whatever the
        provider's class says."""
        self.synthetic = True  # type: ignore[misc]  # an instance's value over the class default


class LocalFileDataset(DatasetProvider):
    """A REGEN file given by path on the command line."""

    name = "local"
    description = "a REGEN JSONL file on disk"

    def __init__(self, file: str | Path, layout: DatasetLayout | None = None):
        super().__init__()
        self._file = Path(file)
        self._layout = layout or DatasetLayout()

    def path(self) -> Path:
        return self._file

    def layout(self) -> DatasetLayout:
        return self._layout
