"""Streaming reader of REGEN JSON Lines files (`.jsonl`, `.jsonl.gz`).

One JSON object per line, one user per line. Lines are read one at a time (never
the whole file), validated with the pydantic models in `regen_bench.contracts.records`, and a
bad line is reported as `file:line: field: what was expected`.

This module is the error boundary of reading: whatever a line holds, it becomes a
record or a `BadRecordError` (counted and left out with `on_bad_record="skip"`), never
another exception. Beyond what the record models check, a line is bad when it is
longer than `MAX_LINE_BYTES`, nested deeper than `MAX_DEPTH`, not UTF-8, holds a
string with a lone surrogate escape (`"\\ud800"`, which no UTF-8 file can hold), a
`NaN`, `Infinity` or `-Infinity` literal or a number too large for a float (`1e999`),
or an integer of more digits than Python converts.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import zlib
from collections import deque
from itertools import accumulate
from pathlib import Path
from typing import Any, Iterator, Literal

from pydantic import BaseModel, Field, ValidationError

from regen_bench.contracts.errors import BadRecordError, RegenBenchError, json_error_text
from regen_bench.contracts.records import RegenRecord

OnBadRecord = Literal["error", "skip"]
ON_BAD_RECORD_CHOICES = ("error", "skip")
SUFFIXES = (".jsonl", ".jsonl.gz")
MAX_REASONS = 5
# A REGEN record is nested about 5 deep (record > purchase_history > purchase > item);
# anything past this is not a record, and would exhaust the stack of code that walks it.
MAX_DEPTH = 64
# The largest real REGEN users are well under 1 MiB a line.
MAX_LINE_BYTES = 16 * 1024 * 1024


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


def _read_line(handle) -> tuple[bytes, bool]:
    """One line of at most MAX_LINE_BYTES (b"" at the end), and whether it was longer:
    the rest of a longer line is read and dropped in chunks, never held whole."""
    raw = handle.readline(MAX_LINE_BYTES + 1)
    if len(raw) <= MAX_LINE_BYTES or raw.endswith(b"\n"):
        return raw, False
    while True:
        rest = handle.readline(1024 * 1024)
        if not rest or rest.endswith(b"\n"):
            return raw[:MAX_LINE_BYTES], True


def _raw_lines(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) per line, None for a line longer than MAX_LINE_BYTES;
    gzip damage becomes a RegenBenchError."""
    line_no = 0
    try:
        handle = _open(path)
    except OSError as exc:
        raise RegenBenchError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    with handle:
        while True:
            try:
                raw, too_long = _read_line(handle)
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
            yield line_no, None if too_long else raw


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


class _NonFinite(ValueError):
    """Raised while parsing at a NaN/Infinity literal or a float that overflows."""


def _reject_constant(text: str):
    raise _NonFinite(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFinite(text)
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
# Unrolled string loop and runs of non-brackets: each regex step consumes a run, not a character.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests objects and arrays more than `limit` deep.

    Counted on the text (strings left out) before parsing, so no parser or walker ever
    recurses that deep; lines with few brackets are never scanned."""
    if text.count("{") + text.count("[") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


class _Constant:
    def __init__(self, text: str):
        self.text = text


def _nonfinite_field(text: str) -> tuple[str, str]:
    """(dotted field, literal) of the first non-finite number of a line (the error path only)."""
    def mark_float(literal: str):
        value = float(literal)
        return value if math.isfinite(value) else _Constant(literal)

    obj = json.loads(text, parse_constant=_Constant, parse_float=mark_float)
    queue: deque[tuple[str, Any]] = deque([("", obj)])  # breadth first; popleft keeps it linear
    while queue:
        where, node = queue.popleft()
        if isinstance(node, _Constant):
            return where or "-", node.text
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        queue.extend((f"{where}.{key}" if where else str(key), child) for key, child in children)
    return "-", "?"  # pragma: no cover - the strict parse found one


def _parse(where: str, line_no: int, text: str) -> Any:
    """The line's JSON value, or a BadRecordError for anything the record models cannot check."""
    if _depth_exceeds(text):
        raise BadRecordError(where, line_no, "-", f"expected a REGEN record, got JSON nested more than "
                                                  f"{MAX_DEPTH} levels deep")
    try:
        obj = _DECODER.decode(text)
    except _NonFinite:
        field, literal = _nonfinite_field(text)
        raise BadRecordError(where, line_no, field, f"expected a finite number, got {literal} "
                                                    f"(a REGEN file holds no NaN, Infinity or number beyond the range of a float)") from None
    except json.JSONDecodeError as exc:
        raise BadRecordError(where, line_no, "-", f"expected valid JSON ({json_error_text(exc)})") from None
    except RecursionError:  # pragma: no cover - _depth_exceeds keeps lines far shallower
        raise BadRecordError(where, line_no, "-", "expected a REGEN record, got JSON nested too deeply") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise BadRecordError(where, line_no, "-", f"expected valid JSON numbers ({str(exc)[:80]})") from None
    if _SURROGATE.search(text):
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise BadRecordError(where, line_no, "-", "expected text, got a lone surrogate escape "
                                                      "(\\ud800-\\udfff without its pair)") from None
    return obj


def _decode(where: str, line_no: int, raw: bytes | None) -> str:
    if raw is None:
        raise BadRecordError(where, line_no, "-", f"expected one user per line, got a line longer than "
                                                  f"{MAX_LINE_BYTES // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRecordError(where, line_no, "-", f"expected UTF-8 text (invalid byte at column {exc.start + 1})") \
            from None
    return text.lstrip("\ufeff") if line_no == 1 else text


def _record(where: str, line_no: int, text: str) -> tuple[dict, RegenRecord]:
    obj = _parse(where, line_no, text)
    if not isinstance(obj, dict):
        raise BadRecordError(where, line_no, "-", f"expected a JSON object (one user per line), got {_describe(obj)}")
    try:
        return obj, RegenRecord.model_validate(obj)
    except ValidationError as exc:
        raise validation_error(where, line_no, exc) from None


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
            text = _decode(where, line_no, raw)
        except BadRecordError as error:
            nonblank += 1
            bad(error)
            continue
        if not text.strip():
            continue
        nonblank += 1
        try:
            obj, record = _record(where, line_no, text)
        except BadRecordError as error:
            bad(error)
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


def iter_json_lines(path: str | Path) -> Iterator[tuple[int, str | None, Any]]:
    """(line number, text, value) for each non-blank line of any JSON Lines file, plain or
    gzip, streamed, with the limits and messages of REGEN files: a bad line's value is its
    `BadRecordError` (the caller applies its `--on-bad-record` policy), and its text is None
    when the line could not be decoded. Gzip damage raises `RegenBenchError` naming the
    last good line. For raw inputs that are not REGEN records (Amazon review dumps)."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise RegenBenchError(f"{path}: no such file" if not path.exists() else f"{path}: is not a file")
    for line_no, raw in _raw_lines(path):
        try:
            text = _decode(where, line_no, raw)
        except BadRecordError as error:
            yield line_no, None, error
            continue
        if not text.strip():
            continue
        try:
            yield line_no, text, _parse(where, line_no, text)
        except BadRecordError as error:
            yield line_no, text, error


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
    "iter_json_lines",
    "iter_raw",
    "iter_records",
    "validation_error",
]
