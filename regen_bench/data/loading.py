"""Load a REGEN file into validated records, with a Hugging Face `datasets` Arrow cache.

The first load of a file validates every line (`regen_bench.data.reader`) and, only when
that succeeded, writes the validated records to an Arrow dataset under
`cache_dir("arrow", <sha256[:16]>-<on_bad_record>)`. A later load of the same file
bytes memory-maps that dataset (`datasets.load_from_disk`) instead of parsing and
checking the raw file again. Each row holds the user id, the line number and the
validated record as JSON (keys not set in the file left out, every extra key kept),
so a record read back from the cache equals the one read from the file.

`datasets` is imported inside the functions that need it, never at module import.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from pydantic_core import to_json

from regen_bench.contracts.dataset import DatasetProvider
from regen_bench.contracts.errors import MissingFieldPathError, RegenBenchError, UnknownNameError
from regen_bench.contracts.examples import Example, build_example
from regen_bench.contracts.layout import DatasetLayout
from regen_bench.contracts.records import RegenRecord, resolve_path
from regen_bench.contracts.tasks import ranking_tasks
from regen_bench.data.reader import ON_BAD_RECORD_CHOICES, BadRecordReport, OnBadRecord, iter_records
from regen_bench.util.hashing import sha256_file
from regen_bench.util.paths import cache_dir

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
META_FILE = "regen_bench_cache.json"
_BATCH = 10_000


@dataclass
class LoadedData:
    path: Path
    sha256: str
    records: list[RegenRecord]
    bad: BadRecordReport = field(default_factory=BadRecordReport)
    from_arrow_cache: bool = False


@dataclass
class LoadedExamples:
    path: Path
    sha256: str
    layout: DatasetLayout
    examples: list[Example]
    bad: BadRecordReport
    available_tasks: list[str]
    from_arrow_cache: bool = False
    dataset: str = ""
    synthetic: bool = False  # the provider says so, or a record carries the generator's marker
    synthetic_records: int = 0  # records carrying `regen_bench_synthetic` (the marker)


# -- the Arrow cache ----------------------------------------------------------------


def arrow_cache_path(sha256: str, on_bad_record: str) -> Path:
    """Where the Arrow copy of a file with these bytes (and this bad-record policy) lives."""
    return cache_dir("arrow") / f"{sha256[:16]}-{on_bad_record}"


def _record_json(record: RegenRecord) -> str:
    """The validated record as JSON: only the keys the file had (defaults come back on
    reading), extra keys as they were (the reader lets no NaN or Infinity in)."""
    return to_json(record.model_dump(exclude_unset=True), inf_nan_mode="constants").decode("utf-8")


@contextlib.contextmanager
def _quiet_datasets():
    """No `datasets` progress bars while we save or load (restored afterwards)."""
    import datasets  # deferred: heavy, and only a load needs it

    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()


@contextlib.contextmanager
def _no_gc():
    """Pause the cyclic garbage collector while building many small objects.

    Records hold no reference cycles; with the collector running, its passes over
    a growing heap make a 100k-user load about three times slower.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_cache(target: Path, sha256: str, on_bad_record: str) -> tuple[list[RegenRecord], BadRecordReport]:
    """Records from a cache folder; raises on anything missing, stale or damaged."""
    import datasets  # deferred: heavy, and only a load needs it

    meta = json.loads((target / META_FILE).read_text(encoding="utf-8"))
    if meta.get("format") != CACHE_FORMAT or meta.get("sha256") != sha256 or meta.get("on_bad_record") != on_bad_record:
        raise ValueError("cache written for other bytes, policy or format")
    with _quiet_datasets():
        ds = datasets.load_from_disk(str(target))
    if not isinstance(ds, datasets.Dataset) or ds.num_rows != meta["records"] or "record" not in ds.column_names:
        raise ValueError("cache holds a different number of rows than recorded")
    records: list[RegenRecord] = []
    with _no_gc():
        for batch in ds.select_columns(["record"]).with_format("arrow").iter(batch_size=_BATCH):
            for text in batch.column("record").to_pylist():
                records.append(RegenRecord.model_validate_json(text))
    if len(records) != meta["records"]:
        raise ValueError("cache rows could not all be read")
    return records, BadRecordReport.model_validate(meta.get("bad") or {})


class _ArrowStaging:
    """Collects validated records into an Arrow IPC stream in a temp folder, in batches."""

    def __init__(self, root: Path, key: str):
        import pyarrow as pa  # deferred: heavy, and only a first load writes the cache

        self.pa = pa
        self.dir = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".tmp", dir=root))
        self.schema = pa.schema([("reviewer_id", pa.string()), ("line", pa.int64()), ("record", pa.large_string())])
        self.stream_path = self.dir / "records.arrow"
        self.sink = pa.OSFile(str(self.stream_path), "wb")
        self.writer = pa.ipc.new_stream(self.sink, self.schema)
        self.rows: tuple[list, list, list] = ([], [], [])
        self.count = 0

    def add(self, line: int, record: RegenRecord) -> None:
        ids, lines, texts = self.rows
        ids.append(record.reviewer_id)
        lines.append(line)
        texts.append(_record_json(record))
        if len(ids) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        ids, lines, texts = self.rows
        if ids:
            self.writer.write_batch(self.pa.record_batch([ids, lines, texts], schema=self.schema))
            self.count += len(ids)
            self.rows = ([], [], [])

    def publish(self, target: Path, meta: dict) -> bool:
        """Turn the stream into a saved `datasets` folder and rename it into place."""
        import datasets  # deferred: heavy, and only a first load writes the cache

        self.flush()
        self.writer.close()
        self.sink.close()
        saved = self.dir / "dataset"
        with _quiet_datasets():
            ds = datasets.Dataset.from_file(str(self.stream_path))
            ds.save_to_disk(str(saved))
            del ds
        meta = dict(meta, records=self.count)
        (saved / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if target.exists() and not any(target.iterdir()):
            target.rmdir()
        try:
            os.replace(saved, target)
        except OSError:  # another process published the same file first: keep theirs
            return False
        return True

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
        with contextlib.suppress(Exception):
            self.sink.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _warn_not_caching(path: Path, exc: Exception) -> None:
    log.warning("not caching %s as Arrow (%s: %s)", path, type(exc).__name__, exc)


def _file_sha256(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError as exc:
        raise RegenBenchError(f"{path}: cannot read the file ({exc.strerror or exc})") from None


def _from_cache(path: Path, sha256: str, on_bad_record: str, target: Path) -> LoadedData | None:
    """The records of a cache folder, or None when there is none; a damaged one is removed."""
    if not (target.is_dir() and any(target.iterdir())):
        return None
    try:
        records, cached_bad = _read_cache(target, sha256, on_bad_record)
        return LoadedData(path=path, sha256=sha256, records=records, bad=cached_bad, from_arrow_cache=True)
    except Exception as exc:  # damaged, partial or stale: rebuild from the file
        log.warning("rebuilding the Arrow cache of %s (%s: %s)", path, type(exc).__name__, exc)
        shutil.rmtree(target, ignore_errors=True)
        return None


def _open_staging(path: Path, target: Path) -> _ArrowStaging | None:
    # A cache that cannot be written (disk full, read-only cache folder) costs only speed.
    try:
        return _ArrowStaging(cache_dir("arrow"), target.name)
    except Exception as exc:
        _warn_not_caching(path, exc)
        return None


def _read_and_stage(
    path: Path, records_iter: Iterable[tuple[int, RegenRecord]], staging: _ArrowStaging | None
) -> tuple[list[RegenRecord], _ArrowStaging | None]:
    """Every record of the file, each also staged for the cache while staging works.

    A bad record raises here, before anything is published. Returns the staging still
    in use (None once a write to it failed: it is discarded, the load goes on)."""
    records = []
    with _no_gc():
        for line, record in records_iter:
            records.append(record)
            if staging is not None:
                try:
                    staging.add(line, record)
                except Exception as exc:
                    _warn_not_caching(path, exc)
                    staging.discard()
                    staging = None
    return records, staging


def _publish(path: Path, staging: _ArrowStaging, target: Path, sha256: str, on_bad_record: str,
             report: BadRecordReport) -> None:
    meta = {
        "format": CACHE_FORMAT,
        "sha256": sha256,
        "on_bad_record": on_bad_record,
        "source": str(path.resolve()),
        "bad": report.model_dump(),
    }
    try:
        staging.publish(target, meta)
    except Exception as exc:
        _warn_not_caching(path, exc)


def load_records(
    path: str | Path,
    *,
    on_bad_record: OnBadRecord = "error",
    arrow_cache: bool = True,
) -> LoadedData:
    """Every valid record of a REGEN file, in file order.

    With `arrow_cache`, a file whose bytes were loaded before is read from its Arrow
    copy (`from_arrow_cache=True`); a damaged copy is rebuilt from the file. Bad
    records raise `BadRecordError` (or are skipped and counted, with "skip") on the
    first load; the cache is only written after the whole file validated.
    """
    if on_bad_record not in ON_BAD_RECORD_CHOICES:
        raise RegenBenchError(f"on_bad_record must be 'error' or 'skip', got {on_bad_record!r}")
    path = Path(path)
    report = BadRecordReport()
    records_iter = iter_records(path, on_bad_record=on_bad_record, report=report)  # checks the path
    sha256 = _file_sha256(path)
    if not arrow_cache:
        with _no_gc():
            records = [record for _line, record in records_iter]
        return LoadedData(path=path, sha256=sha256, records=records, bad=report)

    target = arrow_cache_path(sha256, on_bad_record)
    cached = _from_cache(path, sha256, on_bad_record, target)
    if cached is not None:
        return cached
    staging = _open_staging(path, target)
    try:
        records, staging = _read_and_stage(path, records_iter, staging)
        if staging is not None:
            _publish(path, staging, target, sha256, on_bad_record, report)
    finally:
        if staging is not None:
            staging.discard()
    return LoadedData(path=path, sha256=sha256, records=records, bad=report)


# -- tasks and examples -------------------------------------------------------------


def _string_paths(node, prefix: str, out: set[str]) -> None:
    """Dotted paths (through objects only, as `resolve_path` follows) to non-empty strings."""
    if isinstance(node, dict):
        for key, value in node.items():
            _string_paths(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(node, str) and node.strip() and prefix:
        out.add(prefix)


def string_field_paths(records: Iterable[RegenRecord], limit: int = 10_000) -> list[str]:
    """Narrative-like fields of the records: string paths under `user`, `last_purchase`
    and any extra top-level key (not `reviewer_id`, not inside `purchase_history`)."""
    found: set[str] = set()
    for count, record in enumerate(records):
        if count >= limit:
            break
        _string_paths(record.user, "user", found)
        if record.last_purchase:
            _string_paths(record.last_purchase, "last_purchase", found)
        for key, value in (record.model_extra or {}).items():
            _string_paths(value, key, found)
    return sorted(found)


def check_task_paths(
    layout: DatasetLayout,
    tasks: Iterable[str],
    records: Iterable[RegenRecord],
    source: str,
) -> None:
    """Raise `MissingFieldPathError` for a requested text task whose field path holds a
    non-empty string in no record; `UnknownNameError` for a task the layout lacks.

    Ranking tasks (`next_item`) have no field path and are not checked here.
    """
    records = list(records) if not isinstance(records, list) else records
    ranking = ranking_tasks()
    wanted = []
    for task in tasks:
        if task in ranking:
            continue
        if task not in layout.tasks:
            raise UnknownNameError("task", task, sorted(set(layout.tasks) | ranking))
        wanted.append(task)
    for task in wanted:
        path = layout.tasks[task]
        if not any(_has_string(record, path) for record in records):
            existing = string_field_paths(records, limit=len(records))
            raise MissingFieldPathError(task, path, source, existing)


def _has_string(record: RegenRecord, path: str) -> bool:
    head = path.split(".", 1)[0]
    if head == "user":
        node = {"user": record.user}
    elif head == "last_purchase":
        node = {"last_purchase": record.last_purchase}
    else:
        node = record.model_extra or {}
    value = resolve_path(node, path)
    return isinstance(value, str) and bool(value.strip())


def load_dataset_examples(
    provider: DatasetProvider,
    *,
    on_bad_record: OnBadRecord = "error",
    task_overrides: dict[str, str] | None = None,
    tasks: Iterable[str] | None = None,
    arrow_cache: bool = True,
) -> LoadedExamples:
    """Load a provider's file and build one Example per user with its layout.

    `task_overrides` (task -> field path) replaces or adds entries of the provider's
    layout, and `DISCOVERABLE_TASKS` the file has are added. Each override that changes
    the provider's layout, and each text task in `tasks`, must map to a path that some
    record has
    (`check_task_paths`). `available_tasks`: the layout's tasks that have a reference
    in at least one example. A file whose records carry the synthetic marker labels
    the provider (and so the run) synthetic.
    """
    overrides = dict(task_overrides or {})
    base = provider.layout()
    layout = base.with_overrides(overrides)
    # Overrides that change the provider's layout (a --task-map) must name a field the
    # file has; a recorded layout handed back as overrides (rescoring) changes nothing.
    changed = [task for task, field_path in overrides.items() if base.tasks.get(task) != field_path]
    path = Path(provider.path())
    loaded = load_records(path, on_bad_record=on_bad_record, arrow_cache=arrow_cache)
    source = f"dataset {provider.name!r} ({path})" if provider.name else str(path)
    layout = layout.with_discovered(lambda field_path: any(_has_string(r, field_path) for r in loaded.records))
    # A --task-map to a field no record has is an error even when the task is not asked
    # for by name: otherwise the default plan would leave the task out without a word.
    check_task_paths(layout, [*(tasks or []), *changed], loaded.records, source)
    examples = [build_example(record, layout) for record in loaded.records]
    have = set()
    for example in examples:
        have.update(example.references)
    available = [task for task in layout.tasks if task in have]
    marked = sum(1 for record in loaded.records if record.synthetic)
    if marked and not provider.synthetic:
        provider.label_synthetic()  # the file says it was generated: its numbers are synthetic
    return LoadedExamples(
        path=path,
        sha256=loaded.sha256,
        layout=layout,
        examples=examples,
        bad=loaded.bad,
        available_tasks=available,
        from_arrow_cache=loaded.from_arrow_cache,
        dataset=provider.name,
        synthetic=bool(provider.synthetic),
        synthetic_records=marked,
    )


__all__ = [
    "LoadedData",
    "LoadedExamples",
    "arrow_cache_path",
    "check_task_paths",
    "load_dataset_examples",
    "load_records",
    "string_field_paths",
]
