"""`data info`: what a REGEN file holds, found by reading it, not assumed.

One streaming pass (one record in memory at a time) counts users and purchases,
every field path with its fill rate and JSON type(s), the string fields under
`user` and `last_purchase` that could be narratives (with their mean length), and
which of a layout's tasks the file can serve (the layout's own, and each
`DISCOVERABLE_TASKS` task the file has text for), which narrative-like fields no
task maps, and how many records carry the synthetic marker (`regen_bench_synthetic`,
written by `data generate`). A build manifest beside the file (`PATH.manifest.json`,
written by `data build`) is shown too, with whether it still describes these bytes.

Paths: `reviewer_id`, `user.long_summary`, `purchase_history[].item.price`; a list
is written `[]`. Fill rate is the share of units where the field is present and
neither null nor empty: units are purchase rows for paths under
`purchase_history[]` and users for every other path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from regen_bench.contracts.layout import DatasetLayout
from regen_bench.data.reader import BadRecordReport, OnBadRecord, iter_raw
from regen_bench.util.hashing import sha256_file

ROW_PREFIX = "purchase_history[]"
NARRATIVE_ROOTS = ("user.", "last_purchase.")
# The target's item and review are inputs, not narratives a task could ask for.
INPUT_ROOTS = ("last_purchase.item.", "last_purchase.review.")
# A candidate field whose values average this many words or more looks like a narrative.
NARRATIVE_MIN_WORDS = 5
MAX_PATHS = 5000  # keys that are data (say, one per ASIN) would otherwise grow without end
# A build manifest beside a file (`data build` writes `out.jsonl.manifest.json`): what made it.
MANIFEST_SUFFIX = ".manifest.json"


class FieldInfo(BaseModel):
    path: str
    unit: str  # "user" or "purchase"
    filled: int  # units where it is present, not null, not empty
    present: int  # units where the key is there at all (null and empty included)
    fill_rate: float
    types: list[str]


class NarrativeField(BaseModel):
    path: str
    users: int  # users with a non-empty value
    fill_rate: float
    mean_words: float
    mean_chars: float


class TaskInfo(BaseModel):
    task: str
    path: str
    available: bool
    fill_rate: float = 0.0
    reason: str = ""


class DataInfo(BaseModel):
    path: str
    size_bytes: int
    users: int
    purchases: int
    mean_purchases_per_user: float
    min_purchases: int
    max_purchases: int
    fields: list[FieldInfo]
    narrative_fields: list[NarrativeField]
    tasks_available: list[TaskInfo]
    tasks_unavailable: list[TaskInfo]
    critique_path: str | None = None
    critique_available: bool = False
    bad_records: BadRecordReport | None = None
    paths_truncated: bool = False
    layout: dict = Field(default_factory=dict)
    # narrative-like fields (text under user / last_purchase, not the target's item or
    # review, NARRATIVE_MIN_WORDS or more on average) that no task and not the critique maps
    unmapped_narrative_fields: list[str] = Field(default_factory=list)
    synthetic_records: int = 0  # records carrying the synthetic marker
    synthetic: bool = False  # any record does: runs on this file are labelled synthetic
    # the build manifest beside the file (PATH + MANIFEST_SUFFIX), when there is one
    build_manifest: dict | None = None
    build_manifest_matches: bool | None = None  # its output sha256 is the file's


def read_manifest(path: Path) -> tuple[dict | None, bool | None]:
    """(the manifest beside `path`, whether it describes these bytes), or (None, None)."""
    manifest = path.with_name(path.name + MANIFEST_SUFFIX)
    if not manifest.is_file():
        return None, None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {"error": f"{manifest.name} is unreadable ({exc})"}, None
    if not isinstance(data, dict):
        return {"error": f"{manifest.name} is not a JSON object"}, None
    recorded = (data.get("output") or {}).get("sha256") if isinstance(data.get("output"), dict) else None
    return data, (recorded == sha256_file(path)) if recorded else None


_TYPE_NAMES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, dict)):
        return bool(value)
    return True


class _PathStats:
    __slots__ = ("unit", "filled", "present", "types", "strings", "words", "chars")

    def __init__(self, unit: str):
        self.unit = unit
        self.filled = 0
        self.present = 0
        self.types: set[str] = set()
        self.strings = 0  # non-empty string values seen (for the mean length)
        self.words = 0
        self.chars = 0


class _Collector:
    def __init__(self) -> None:
        self.stats: dict[str, _PathStats] = {}
        self.truncated = False

    def _walk(self, value: Any, path: str, seen: dict[str, bool]) -> None:
        kind = _json_type(value)
        stats = self.stats.get(path)
        if stats is None:
            if len(self.stats) >= MAX_PATHS:
                self.truncated = True
                return
            stats = self.stats[path] = _PathStats("purchase" if path.startswith(ROW_PREFIX) else "user")
        stats.types.add(kind)
        filled = _filled(value)
        seen[path] = seen.get(path, False) or filled
        if kind == "string" and filled:
            stats.strings += 1
            stats.words += len(value.split())
            stats.chars += len(value)
        elif kind == "object":
            for key, child in value.items():
                self._walk(child, f"{path}.{key}", seen)
        elif kind == "array":
            for child in value:
                self._walk(child, f"{path}[]", seen)

    def _count(self, seen: dict[str, bool]) -> None:
        for path, filled in seen.items():
            stats = self.stats[path]
            stats.present += 1
            if filled:
                stats.filled += 1

    def add_user(self, obj: dict) -> None:
        seen: dict[str, bool] = {}
        for key, value in obj.items():
            if key == "purchase_history" and isinstance(value, list):
                stats = self.stats.setdefault(key, _PathStats("user"))
                stats.types.add("array")
                seen[key] = bool(value)
                for row in value:
                    row_seen: dict[str, bool] = {}
                    if isinstance(row, dict):
                        for row_key, row_value in row.items():
                            self._walk(row_value, f"{ROW_PREFIX}.{row_key}", row_seen)
                    self._count(row_seen)
            else:
                self._walk(value, key, seen)
        self._count(seen)


@dataclass
class _Counts:
    """User and purchase counts of one pass over a file."""

    users: int = 0
    purchases: int = 0
    least: int | None = None
    most: int = 0
    synthetic: int = 0

    def add(self, purchases: int, synthetic: bool = False) -> None:
        self.users += 1
        self.synthetic += int(synthetic)
        self.purchases += purchases
        self.least = purchases if self.least is None else min(self.least, purchases)
        self.most = max(self.most, purchases)

    def rate(self, stats: _PathStats) -> float:
        """Fill rate of a path: per purchase row under `purchase_history[]`, else per user."""
        units = self.purchases if stats.unit == "purchase" else self.users
        return stats.filled / max(units, 1)


def _scan(path: Path, on_bad_record: OnBadRecord, report: BadRecordReport) -> tuple[_Counts, _Collector]:
    """The one streaming pass: counts, and statistics of every field path."""
    counts, collector = _Counts(), _Collector()
    for _line, obj, record in iter_raw(path, on_bad_record=on_bad_record, report=report):
        counts.add(len(record.purchase_history), record.synthetic)
        collector.add_user(obj)
    return counts, collector


def _field_infos(counts: _Counts, collector: _Collector) -> list[FieldInfo]:
    return [
        FieldInfo(
            path=p, unit=s.unit, filled=s.filled, present=s.present,
            fill_rate=round(counts.rate(s), 4), types=sorted(s.types),
        )
        for p, s in sorted(collector.stats.items())
    ]


def _narrative_fields(counts: _Counts, collector: _Collector) -> list[NarrativeField]:
    return [
        NarrativeField(
            path=p, users=s.filled, fill_rate=round(counts.rate(s), 4),
            mean_words=round(s.words / s.strings, 1), mean_chars=round(s.chars / s.strings, 1),
        )
        for p, s in sorted(collector.stats.items())
        if p.startswith(NARRATIVE_ROOTS) and s.strings > 0
    ]


def _task_info(task: str, task_path: str, counts: _Counts, collector: _Collector) -> TaskInfo:
    """Whether the file can serve `task`, and why not when it cannot."""
    stats = collector.stats.get(task_path)
    if "[]" in task_path:
        reason = "inside a list; a task needs one text per user (a path through objects only)"
    elif stats is not None and stats.strings > 0:
        return TaskInfo(task=task, path=task_path, available=True, fill_rate=round(counts.rate(stats), 4))
    elif stats is None:
        reason = "no record has this field"
    elif "string" not in stats.types:
        reason = f"present but not text ({', '.join(sorted(stats.types))})"
    else:
        reason = "present but always empty"
    return TaskInfo(task=task, path=task_path, available=False, reason=reason)


def _unmapped(narratives: list[NarrativeField], layout: DatasetLayout) -> list[str]:
    mapped = set(layout.tasks.values()) | {layout.critique_path}
    return [
        n.path for n in narratives
        if n.path not in mapped and "[]" not in n.path and not n.path.startswith(INPUT_ROOTS)
        and n.mean_words >= NARRATIVE_MIN_WORDS
    ]


def discover(
    path: str | Path,
    *,
    on_bad_record: OnBadRecord = "error",
    layout: DatasetLayout | None = None,
) -> DataInfo:
    """Read a REGEN file once and describe it (see the module docstring)."""
    layout = layout or DatasetLayout()
    path = Path(path)
    report = BadRecordReport()
    counts, collector = _scan(path, on_bad_record, report)
    layout = layout.with_discovered(lambda p: p in collector.stats and collector.stats[p].strings > 0)
    narratives = _narrative_fields(counts, collector)
    tasks = [_task_info(task, task_path, counts, collector) for task, task_path in layout.tasks.items()]
    critique = collector.stats.get(layout.critique_path) if layout.critique_path else None
    manifest, matches = read_manifest(path)
    return DataInfo(
        path=str(path),
        size_bytes=path.stat().st_size,
        users=counts.users,
        purchases=counts.purchases,
        mean_purchases_per_user=round(counts.purchases / max(counts.users, 1), 3),
        min_purchases=counts.least or 0,
        max_purchases=counts.most,
        fields=_field_infos(counts, collector),
        narrative_fields=narratives,
        tasks_available=[t for t in tasks if t.available],
        tasks_unavailable=[t for t in tasks if not t.available],
        critique_path=layout.critique_path,
        critique_available=bool(critique is not None and critique.strings > 0),
        bad_records=report if on_bad_record == "skip" else None,
        paths_truncated=collector.truncated,
        layout=layout.model_dump(),
        unmapped_narrative_fields=_unmapped(narratives, layout),
        synthetic_records=counts.synthetic,
        synthetic=counts.synthetic > 0,
        build_manifest=manifest,
        build_manifest_matches=matches,
    )


def _table(headers: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]

    def fmt(row: list[str]) -> str:
        cells = [cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        return "  " + "  ".join(cells).rstrip()

    return [fmt(headers), fmt(["-" * w for w in widths])] + [fmt(row) for row in rows]


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def _manifest_lines(info: DataInfo) -> list[str]:
    manifest = info.build_manifest
    if manifest is None:
        return []
    if "error" in manifest:
        return [f"built by:   (manifest: {manifest['error']})"]
    llm = manifest.get("llm") if isinstance(manifest.get("llm"), dict) else {}
    state = {True: "", False: "; the file has changed since (its sha256 differs)", None: ""}[info.build_manifest_matches]
    out = [f"built by:   {manifest.get('builder', '?')} {manifest.get('builder_version', '')} with "
           f"{llm.get('spec', '?')} (manifest {Path(info.path).name}{MANIFEST_SUFFIX}{state})"]
    prompts = manifest.get("prompts") if isinstance(manifest.get("prompts"), dict) else {}
    if prompts:
        out.append("prompts:    " + ", ".join(f"{name} {str(sha)[:12]}" for name, sha in prompts.items()))
    return out


def format_info(info: DataInfo) -> str:
    """A readable, aligned text report of `discover()`'s result."""
    out = [
        f"file:       {info.path} ({_size(info.size_bytes)})",
        f"users:      {info.users:,}",
        f"purchases:  {info.purchases:,} (mean {info.mean_purchases_per_user:.2f} per user, "
        f"min {info.min_purchases}, max {info.max_purchases})",
        "synthetic:  " + (
            f"yes ({info.synthetic_records:,} of {info.users:,} records carry the regen_bench_synthetic marker; "
            "runs on this file are labelled synthetic)" if info.synthetic
            else "no marker (runs on this file are labelled real unless its dataset is synthetic)"
        ),
    ]
    out += _manifest_lines(info)
    if info.bad_records is not None:
        out.append(f"bad records skipped: {info.bad_records.count}")
        out.extend(f"  {reason}" for reason in info.bad_records.reasons)
        if info.bad_records.count > len(info.bad_records.reasons):
            out.append(f"  ... and {info.bad_records.count - len(info.bad_records.reasons)} more")

    out += ["", "tasks available:"]
    if info.tasks_available:
        out += _table(
            ["task", "field", "fill"],
            [[t.task, t.path, f"{t.fill_rate:.1%}"] for t in info.tasks_available],
            right={2},
        )
    else:
        out.append("  (none)")
    out += ["", "tasks not available:"]
    if info.tasks_unavailable:
        out += _table(["task", "field", "why"], [[t.task, t.path, t.reason] for t in info.tasks_unavailable])
    else:
        out.append("  (none)")
    if info.unmapped_narrative_fields:
        out += ["", "narrative-like fields no task maps (run one with --task-map TASK=FIELD.PATH):"]
        out += [f"  {path}" for path in info.unmapped_narrative_fields]
    if info.critique_path:
        out += ["", f"critique field: {info.critique_path} ({'found' if info.critique_available else 'not found'})"]

    out += ["", "candidate narrative fields (text under user and last_purchase):"]
    if info.narrative_fields:
        out += _table(
            ["field", "users", "fill", "mean words", "mean chars"],
            [
                [n.path, f"{n.users:,}", f"{n.fill_rate:.1%}", f"{n.mean_words:.1f}", f"{n.mean_chars:.1f}"]
                for n in info.narrative_fields
            ],
            right={1, 2, 3, 4},
        )
    else:
        out.append("  (none)")

    out += ["", "fields (fill = present, not null, not empty; per user, or per purchase under purchase_history[]):"]
    out += _table(
        ["field", "per", "fill", "types"],
        [[f.path, f.unit, f"{f.fill_rate:.1%}", ", ".join(f.types)] for f in info.fields],
        right={2},
    )
    if info.paths_truncated:
        out.append(f"  (stopped listing new fields after {MAX_PATHS}; the file has more)")
    out += [
        "",
        "Map a task to another field with --task-map TASK=FIELD.PATH (e.g. --task-map user_summary=user.long_summary).",
    ]
    return "\n".join(out)


__all__ = ["DataInfo", "FieldInfo", "NarrativeField", "TaskInfo", "discover", "format_info"]
