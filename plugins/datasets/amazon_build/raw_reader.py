"""Streaming readers of raw Amazon review and metadata dumps (plain or gzip).

Lines are read one at a time through `regen_bench.data.reader.iter_json_lines`, so the
limits, the gzip checks and the `file:line: field: expected ...` messages are the REGEN
reader's; `on_bad_record="skip"` counts bad lines in a `BadRecordReport` instead of
stopping. The format (2014/2018 or 2023, see `formats.py`) is given or detected from the
first good line.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from regen_bench.contracts.errors import BadRecordError, RegenBenchError
from regen_bench.data.reader import BadRecordReport, iter_json_lines, validation_error
from regen_bench_plugins.datasets.amazon_build.formats import (
    META_KEYS,
    META_MODELS,
    REVIEW_KEYS,
    REVIEW_MODELS,
    ItemMeta,
    detect,
)


def _literal(text: str) -> Any:
    """A 2014 metadata line: a Python dict literal (`{'asin': ...}`), parsed without eval."""
    if not text.lstrip().startswith("{'"):
        return None
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


class _Lines:
    """Validated lines of one file: the policy, the report and the format in one place."""

    def __init__(self, path: str | Path, kind: str, fmt: str, keys: dict, models: dict,
                 on_bad_record: str, report: BadRecordReport, literals: bool = False):
        if on_bad_record not in ("error", "skip"):
            raise RegenBenchError(f"on_bad_record must be 'error' or 'skip', got {on_bad_record!r}")
        self.path, self.kind, self.fmt = Path(path), kind, fmt
        self.keys, self.models = keys, models
        self.on_bad_record, self.report, self.literals = on_bad_record, report, literals
        self.good = 0

    def _bad(self, error: BadRecordError) -> None:
        if self.on_bad_record == "error":
            raise error
        self.report.add(error)

    def _format_of(self, line_no: int, obj: dict) -> str:
        if self.fmt == "auto":
            found = detect(obj, self.keys)
            if found is None:
                wanted = " or ".join(f"({', '.join(k)}; {name})" for name, k in self.keys.items())
                raise BadRecordError(str(self.path), line_no, "-",
                                     f"expected an Amazon {self.kind} line with the keys {wanted}, "
                                     f"got the keys {', '.join(sorted(obj)[:8]) or 'none'}")
            self.fmt = found
        return self.fmt

    def __iter__(self) -> Iterator[Any]:
        where = str(self.path)
        for line_no, text, value in iter_json_lines(self.path):
            if isinstance(value, BadRecordError) and self.literals and text is not None:
                value = _literal(text) or value
            try:
                if isinstance(value, BadRecordError):
                    raise value
                if not isinstance(value, dict):
                    raise BadRecordError(where, line_no, "-", f"expected a JSON object per line, got {type(value).__name__}")
                model = self.models[self._format_of(line_no, value)]
                try:
                    parsed = model.model_validate(value).normalised()
                except ValidationError as exc:
                    raise validation_error(where, line_no, exc) from None
            except BadRecordError as error:
                self._bad(error)
                continue
            self.good += 1
            yield parsed
        if self.good == 0:
            detail = f" All {self.report.count} line(s) were bad; first: {self.report.reasons[0]}" \
                if self.report.count else " The file is empty."
            raise RegenBenchError(f"{self.path}: no valid {self.kind} lines.{detail}")


def iter_interactions(path: str | Path, *, fmt: str = "auto", on_bad_record: str = "error",
                      report: BadRecordReport | None = None) -> "_Lines":
    """Every review of a dump as an `Interaction`, streamed (an iterable whose `fmt` is the
    format found, once a line has been read)."""
    return (_Lines(path, "review", fmt, REVIEW_KEYS, REVIEW_MODELS, on_bad_record,
                       report if report is not None else BadRecordReport()))


def read_meta(path: str | Path, wanted: set[str], *, fmt: str = "auto", on_bad_record: str = "error",
              report: BadRecordReport | None = None,
              progress: Callable[[int], None] | None = None) -> tuple[dict[str, ItemMeta], str]:
    """The metadata of the items in `wanted` (the rest of the file is read and dropped), and
    the format found."""
    found: dict[str, ItemMeta] = {}
    lines = _Lines(path, "metadata", fmt, META_KEYS, META_MODELS, on_bad_record,
                   report if report is not None else BadRecordReport(), literals=True)
    for n, meta in enumerate(lines, 1):
        if meta.asin in wanted and meta.asin not in found:
            found[meta.asin] = meta
        if progress is not None and n % 100_000 == 0:
            progress(n)
    return found, lines.fmt
