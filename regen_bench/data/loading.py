"""Load a REGEN file into validated records kept as memory-mapped Arrow columns.

The first load of a file validates every line (`regen_bench.data.reader`), streamed,
and writes each validated record as a row of `contracts/example_set.RECORD_SCHEMA`
(user id, line, the history as a list of structs, the last purchase's asin, every
non-empty string path, and the record as JSON for building an exact `Example`) to an
Arrow IPC file; only when the whole file validated is it published under
`cache_dir("arrow", <sha256[:16]>-<on_bad_record>)`, with the facts learnt while
staging (row count, records with text at each string path, synthetic-marker count,
the bad-record report) in its meta file. A later load of the same file bytes
memory-maps that file: no record is parsed, and nothing walks all records. With
`arrow_cache=False` the rows go to a temporary Arrow file, removed once mapped.

A load returns an `ExampleSet` over the table; Examples are built only for the rows a
stage asks for. `load_records` (every record as a pydantic object) is for small files.
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
from typing import Iterable, Mapping

import pyarrow as pa
from pydantic_core import to_json

from regen_bench.contracts.dataset import DatasetProvider
from regen_bench.contracts.errors import MissingFieldPathError, RegenBenchError, UnknownNameError
from regen_bench.contracts.example_set import RECORD_SCHEMA, ExampleSet, open_arrow_file, record_row
from regen_bench.contracts.layout import DatasetLayout
from regen_bench.contracts.records import RegenRecord, resolve_path
from regen_bench.contracts.tasks import ranking_tasks
from regen_bench.data.reader import ON_BAD_RECORD_CHOICES, BadRecordReport, OnBadRecord, iter_raw
from regen_bench.util.hashing import sha256_file
from regen_bench.util.paths import cache_dir

log = logging.getLogger(__name__)

CACHE_FORMAT = 2  # 2: record rows as columns (contracts/example_set.RECORD_SCHEMA) in one Arrow IPC file
META_FILE = "regen_bench_cache.json"
TABLE_FILE = "records.arrow"
_BATCH = 4096
# Declared record fields that `check_task_paths` and `string_field_paths` do not look in.
_NOT_NARRATIVE_HEADS = ("reviewer_id", "regen_bench_synthetic")


@dataclass
class LoadedData:
    path: Path
    sha256: str
    records: list[RegenRecord]
    bad: BadRecordReport = field(default_factory=BadRecordReport)
    from_arrow_cache: bool = False


@dataclass
class FileFacts:
    """What staging learnt of a file, once: kept in the cache's meta, so no load walks the records again."""

    records: int = 0
    synthetic_records: int = 0  # records carrying the synthetic marker
    string_paths: dict[str, int] = field(default_factory=dict)  # path -> records with a non-empty string there

    def has_text(self, path: str) -> bool:
        return self.string_paths.get(path, 0) > 0


@dataclass
class LoadedTable:
    """A file's validated records as columns (RECORD_SCHEMA), memory-mapped."""

    path: Path
    sha256: str
    table: pa.Table
    facts: FileFacts
    bad: BadRecordReport
    from_arrow_cache: bool = False
    arrow_path: str | None = None  # the cache file (None: staged to a temporary file, gone now)


@dataclass
class LoadedExamples:
    path: Path
    sha256: str
    layout: DatasetLayout
    examples: ExampleSet
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


def _read_cache(target: Path, sha256: str, on_bad_record: str) -> tuple[pa.Table, FileFacts, BadRecordReport]:
    """The memory-mapped table of a cache folder; raises on anything missing, stale or damaged."""
    meta = json.loads((target / META_FILE).read_text(encoding="utf-8"))
    if meta.get("format") != CACHE_FORMAT or meta.get("sha256") != sha256 or meta.get("on_bad_record") != on_bad_record:
        raise ValueError("cache written for other bytes, policy or format")
    table = open_arrow_file(target / TABLE_FILE)
    if table.num_rows != meta["records"] or table.schema != RECORD_SCHEMA:
        raise ValueError("cache holds other rows or columns than recorded")
    facts = FileFacts(records=meta["records"], synthetic_records=meta["synthetic_records"],
                      string_paths=dict(meta["string_paths"]))
    return table, facts, BadRecordReport.model_validate(meta.get("bad") or {})


class _ArrowStaging:
    """Writes validated records as record rows to an Arrow IPC file in a temp folder, in batches,
    and learns the file's facts on the way."""

    def __init__(self, root: Path | None, key: str):
        self.dir = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".tmp", dir=root))
        self.table_path = self.dir / TABLE_FILE
        self.sink = pa.OSFile(str(self.table_path), "wb")
        self.writer = pa.ipc.new_file(self.sink, RECORD_SCHEMA)
        self.rows: list[dict] = []
        self.facts = FileFacts()

    def add(self, line: int, obj: dict, record: RegenRecord) -> None:
        row = record_row(line, record, _record_json(record), raw=obj)
        self.rows.append(row)
        facts = self.facts
        facts.records += 1
        facts.synthetic_records += int(record.synthetic)
        for path, _text in row["strings"]:
            if not path.startswith(_NOT_NARRATIVE_HEADS):
                facts.string_paths[path] = facts.string_paths.get(path, 0) + 1
        if len(self.rows) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_batch(pa.RecordBatch.from_pylist(self.rows, schema=RECORD_SCHEMA))
            self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()
        self.sink.close()

    def publish(self, target: Path, meta: dict) -> bool:
        """Write the meta beside the table and rename the folder into place."""
        meta = dict(meta, records=self.facts.records, synthetic_records=self.facts.synthetic_records,
                    string_paths=dict(sorted(self.facts.string_paths.items())))
        (self.dir / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if target.exists() and not any(target.iterdir()):
            target.rmdir()
        try:
            os.replace(self.dir, target)
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


def _from_cache(path: Path, sha256: str, on_bad_record: str, target: Path) -> LoadedTable | None:
    """The table of a cache folder, or None when there is none; a damaged one is removed."""
    if not (target.is_dir() and any(target.iterdir())):
        return None
    try:
        table, facts, cached_bad = _read_cache(target, sha256, on_bad_record)
        return LoadedTable(path=path, sha256=sha256, table=table, facts=facts, bad=cached_bad,
                           from_arrow_cache=True, arrow_path=str(target / TABLE_FILE))
    except Exception as exc:  # damaged, partial or stale: rebuild from the file
        log.warning("rebuilding the Arrow cache of %s (%s: %s)", path, type(exc).__name__, exc)
        shutil.rmtree(target, ignore_errors=True)
        return None


def _stage(records_iter: Iterable[tuple[int, dict, RegenRecord]], staging: _ArrowStaging) -> None:
    """Every record of the file into `staging`; a bad record raises here, before anything is published."""
    with _no_gc():
        for line, obj, record in records_iter:
            staging.add(line, obj, record)
    staging.close()


def _meta(path: Path, sha256: str, on_bad_record: str, report: BadRecordReport) -> dict:
    return {"format": CACHE_FORMAT, "sha256": sha256, "on_bad_record": on_bad_record,
            "source": str(path.resolve()), "bad": report.model_dump()}


def _staged_table(path: Path, sha256: str, on_bad_record: str, records_iter, report: BadRecordReport,
                  target: Path | None) -> LoadedTable:
    """Validate and stage the file; publish it at `target` (None: a temporary file, removed once mapped)."""
    try:
        staging = _ArrowStaging(cache_dir("arrow") if target is not None else None,
                                target.name if target is not None else "regen-bench-stage")
    except OSError as exc:  # a cache folder that cannot be written costs only speed
        _warn_not_caching(path, exc)
        staging, target = _ArrowStaging(None, "regen-bench-stage"), None
    try:
        _stage(records_iter, staging)
        facts = staging.facts
        if target is not None:
            try:
                if staging.publish(target, _meta(path, sha256, on_bad_record, report)):
                    table = open_arrow_file(target / TABLE_FILE)
                    return LoadedTable(path, sha256, table, facts, report, False, str(target / TABLE_FILE))
            except Exception as exc:
                _warn_not_caching(path, exc)
        table = open_arrow_file(staging.table_path)  # mapped: the pages stay readable once the file is removed
        return LoadedTable(path, sha256, table, facts, report, False, None)
    finally:
        staging.discard()


def load_table(path: str | Path, *, on_bad_record: OnBadRecord = "error", arrow_cache: bool = True) -> LoadedTable:
    """A REGEN file's validated records as memory-mapped columns, in file order.

    With `arrow_cache`, a file whose bytes were loaded before is read from its Arrow
    copy (`from_arrow_cache=True`); a damaged copy is rebuilt from the file. Bad
    records raise `BadRecordError` (or are skipped and counted, with "skip") on the
    first load, streamed (one batch of rows in memory); the cache is only published
    after the whole file validated. Without `arrow_cache` the rows go to a temporary
    Arrow file, removed once it is mapped.
    """
    if on_bad_record not in ON_BAD_RECORD_CHOICES:
        raise RegenBenchError(f"on_bad_record must be 'error' or 'skip', got {on_bad_record!r}")
    path = Path(path)
    report = BadRecordReport()
    records_iter = iter_raw(path, on_bad_record=on_bad_record, report=report)  # checks the path
    sha256 = _file_sha256(path)
    target = arrow_cache_path(sha256, on_bad_record) if arrow_cache else None
    if target is not None:
        cached = _from_cache(path, sha256, on_bad_record, target)
        if cached is not None:
            return cached
    return _staged_table(path, sha256, on_bad_record, records_iter, report, target)


def load_records(
    path: str | Path,
    *,
    on_bad_record: OnBadRecord = "error",
    arrow_cache: bool = True,
) -> LoadedData:
    """Every valid record of a REGEN file, in file order, as pydantic objects (`load_table`
    keeps them as columns; this builds them all, for small files and tests)."""
    loaded = load_table(path, on_bad_record=on_bad_record, arrow_cache=arrow_cache)
    with _no_gc():
        records = [RegenRecord.model_validate_json(text) for text in loaded.table.column("record").to_pylist()]
    return LoadedData(path=loaded.path, sha256=loaded.sha256, records=records, bad=loaded.bad,
                      from_arrow_cache=loaded.from_arrow_cache)


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
    records: Iterable[RegenRecord] | Mapping[str, int],
    source: str,
) -> None:
    """Raise `MissingFieldPathError` for a requested text task whose field path holds a
    non-empty string in no record; `UnknownNameError` for a task the layout lacks.

    `records`: the records, or a file's `FileFacts.string_paths` (path -> records with
    text there). Ranking tasks (`next_item`) have no field path and are not checked here.
    """
    if isinstance(records, Mapping):
        counts = records
    else:
        records = list(records) if not isinstance(records, list) else records
        counts = None
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
        if counts is not None:
            if counts.get(path, 0) <= 0:
                raise MissingFieldPathError(task, path, source, sorted(p for p, n in counts.items() if n > 0))
        elif not any(_has_string(record, path) for record in records):
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
    loaded = load_table(path, on_bad_record=on_bad_record, arrow_cache=arrow_cache)
    source = f"dataset {provider.name!r} ({path})" if provider.name else str(path)
    facts = loaded.facts
    layout = layout.with_discovered(facts.has_text)
    # A --task-map to a field no record has is an error even when the task is not asked
    # for by name: otherwise the default plan would leave the task out without a word.
    check_task_paths(layout, [*(tasks or []), *changed], facts.string_paths, source)
    examples = ExampleSet.from_records_table(loaded.table, layout, loaded.arrow_path)
    available = [task for task in layout.tasks if examples.has_reference(task).any()]
    marked = facts.synthetic_records
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
    "FileFacts",
    "LoadedExamples",
    "LoadedTable",
    "arrow_cache_path",
    "check_task_paths",
    "load_dataset_examples",
    "load_records",
    "load_table",
    "string_field_paths",
]
