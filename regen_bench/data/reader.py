"""Streaming reader of REGEN JSON Lines files (`.jsonl`, `.jsonl.gz`).

One JSON object per line, one user per line. Lines are read one at a time (never
the whole file), validated with the pydantic models in `regen_bench.contracts.records`, and a
bad line is reported as `file:line: field: what was expected`.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import Any, Iterator, Literal

from pydantic import BaseModel, Field, ValidationError

from regen_bench.contracts.errors import BadRecordError, RegenBenchError
from regen_bench.contracts.records import RegenRecord

OnBadRecord = Literal["error", "skip"]
ON_BAD_RECORD_CHOICES = ("error", "skip")
SUFFIXES = (".jsonl", ".jsonl.gz")
MAX_REASONS = 5


class BadRecordReport(BaseModel):
    """What `on_bad_record="skip"` left out: how many lines, and the first few reasons."""

    count: int = 0
    reasons: list[str] = Field(default_factory=list)

    def add(self, error: BadRecordError | str) -> None:
        self.count += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(str(error))

    def summary(self) -> str:
        if not self.count:
            return "no bad records"
        more = self.count - len(self.reasons)
        lines = [f"{self.count} bad record(s) skipped:"] + [f"  {r}" for r in self.reasons]
        if more > 0:
            lines.append(f"  ... and {more} more")
        return "\n".join(lines)


# -- messages -------------------------------------------------------------------------


def _describe(value: Any, limit: int = 60) -> str:
    """`a string "abc"`, `a list [1, 2]`, `null`: what a value is, shortly."""
    if value is None:
        return "null"
    kind = {
        bool: "a boolean", int: "an integer", float: "a number", str: "a string",
        list: "a list", dict: "an object",
    }.get(type(value), type(value).__name__)
    if isinstance(value, dict) and len(value) > 4:
        text = "{" + ", ".join(json.dumps(k) for k in list(value)[:4]) + ", ...}"
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):  # pragma: no cover - values come from JSON
            text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{kind} {text}"


_MISSING = {
    "reviewer_id": "the user's id (a non-empty string)",
    "purchase_history": "a list of at least one purchase",
    "item": "the purchased item (an object with an 'asin')",
    "asin": "the item's ASIN (a non-empty string)",
}


def _expected_text(error: dict) -> str:
    kind = error.get("type", "")
    msg = error.get("msg", "")
    loc = error.get("loc", ())
    value = error.get("input")
    last = str(loc[-1]) if loc else ""
    if kind == "missing":
        return f"expected {_MISSING.get(last, 'a value')}, but the key is missing"
    if kind == "too_short" and last == "purchase_history":
        return f"expected at least one purchase, got {'an empty list' if value == [] else _describe(value)}"
    if kind == "string_too_short":
        return f"expected a non-empty string, got {_describe(value)}"
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        return f"expected {text}, got {_describe(value)}"
    if msg.startswith("Input should be "):
        head, _, detail = msg.removeprefix("Input should be ").partition(", ")
        detail = f" ({detail})" if detail else ""
        return f"expected {head}{detail}, got {_describe(value)}"
    return f"expected a valid value ({msg}), got {_describe(value)}"


def validation_error(path: str, line: int, exc: ValidationError) -> BadRecordError:
    """The first pydantic error as a BadRecordError; `(+N more)` when there were more."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    field = ".".join(str(part) for part in first.get("loc", ())) or "-"
    expected = _expected_text(first)
    if len(errors) > 1:
        expected += f" (+{len(errors) - 1} more)"
    return BadRecordError(path, line, field, expected)


def _check_path(path: Path) -> None:
    if not path.exists():
        raise RegenBenchError(
            f"{path}: no such file. Pass the path of a REGEN .jsonl or .jsonl.gz file, "
            f"or download REGEN with `regen-bench data download regen-office`."
        )
    if path.is_dir():
        raise RegenBenchError(f"{path}: is a folder; expected a REGEN .jsonl or .jsonl.gz file")
    if not path.name.lower().endswith(SUFFIXES):
        raise RegenBenchError(
            f"{path}: unsupported file type; expected REGEN JSON Lines (one user per line) "
            f"in a file ending in .jsonl or .jsonl.gz"
        )


def _open(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _raw_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) per line; gzip damage becomes a RegenBenchError."""
    line_no = 0
    try:
        handle = _open(path)
    except OSError as exc:
        raise RegenBenchError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    with handle:
        while True:
            try:
                raw = handle.readline()
            except (OSError, EOFError, zlib.error) as exc:
                if path.name.lower().endswith(".gz"):
                    raise RegenBenchError(
                        f"{path}: cannot read the compressed file after line {line_no} ({exc}); "
                        f"is it a complete gzip file?"
                    ) from None
                raise RegenBenchError(f"{path}: cannot read the file after line {line_no} ({exc})") from None
            if not raw:
                return
            line_no += 1
            yield line_no, raw


def iter_raw(
    path: str | Path,
    *,
    on_bad_record: OnBadRecord = "error",
    report: BadRecordReport | None = None,
) -> Iterator[tuple[int, dict, RegenRecord]]:
    """Like `iter_records`, but also yields the line's JSON object as read (for discovery).

    The file is checked (exists, supported suffix) at the call, not at the first `next()`.
    """
    if on_bad_record not in ON_BAD_RECORD_CHOICES:
        raise RegenBenchError(f"on_bad_record must be 'error' or 'skip', got {on_bad_record!r}")
    path = Path(path)
    _check_path(path)
    return _generate(path, on_bad_record, report if report is not None else BadRecordReport())


def _generate(path: Path, on_bad_record: str, report: BadRecordReport) -> Iterator[tuple[int, dict, RegenRecord]]:
    where = str(path)
    first_seen: dict[str, int] = {}
    good = 0
    nonblank = 0

    def bad(error: BadRecordError) -> None:
        if on_bad_record == "error":
            raise error
        report.add(error)

    for line_no, raw in _raw_lines(path):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            nonblank += 1
            bad(BadRecordError(where, line_no, "-", f"expected UTF-8 text (invalid byte at column {exc.start + 1})"))
            continue
        if line_no == 1:
            text = text.lstrip("\ufeff")
        if not text.strip():
            continue
        nonblank += 1
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            bad(BadRecordError(where, line_no, "-", f"expected valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(obj, dict):
            bad(BadRecordError(where, line_no, "-", f"expected a JSON object (one user per line), got {_describe(obj)}"))
            continue
        try:
            record = RegenRecord.model_validate(obj)
        except ValidationError as exc:
            bad(validation_error(where, line_no, exc))
            continue
        seen_at = first_seen.get(record.reviewer_id)
        if seen_at is not None:
            bad(BadRecordError(
                where, line_no, "reviewer_id",
                f"duplicate user {record.reviewer_id!r} (first seen at line {seen_at})",
            ))
            continue
        first_seen[record.reviewer_id] = line_no
        good += 1
        yield line_no, obj, record

    if good == 0:
        if nonblank == 0:
            raise RegenBenchError(f"{path}: no records; the file is empty (expected one JSON object per line)")
        first = report.reasons[0] if report.reasons else "-"
        raise RegenBenchError(
            f"{path}: no valid records; all {report.count} non-blank line(s) were bad. First: {first}"
        )


def iter_records(
    path: str | Path,
    *,
    on_bad_record: OnBadRecord = "error",
    report: BadRecordReport | None = None,
) -> Iterator[tuple[int, RegenRecord]]:
    """Yield (line number, record) for each user in a REGEN file, streaming.

    `on_bad_record="error"` raises `BadRecordError` at the first bad line;
    `"skip"` leaves it out and counts it in `report`. Blank lines are ignored. A
    reviewer_id seen before is a bad record (the later line is the bad one).
    """
    raw = iter_raw(path, on_bad_record=on_bad_record, report=report)
    return ((line_no, record) for line_no, _obj, record in raw)


__all__ = [
    "BadRecordReport",
    "ON_BAD_RECORD_CHOICES",
    "OnBadRecord",
    "iter_raw",
    "iter_records",
    "validation_error",
]
