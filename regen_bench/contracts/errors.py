"""Errors meant for people: each says what was wrong, where, and what to do."""

from __future__ import annotations


class RegenBenchError(Exception):
    """Base class; the CLI prints these as one message, without a traceback."""


class BadRecordError(RegenBenchError):
    """A record in a REGEN file is malformed.

    `location` is `file:line`, `field` a dotted path (or `-` for the whole line).
    """

    def __init__(self, path: str, line: int, field: str, expected: str):
        self.path = str(path)
        self.line = line
        self.field = field
        self.expected = expected
        super().__init__(f"{self.path}:{line}: {field}: {expected}")


class UnknownNameError(RegenBenchError):
    """A model, metric, dataset or task name that nothing registered."""

    def __init__(self, kind: str, name: str, known: list[str]):
        import difflib

        self.kind = kind
        self.name = name
        self.known = sorted(known)
        close = difflib.get_close_matches(name, self.known, n=3, cutoff=0.5)
        msg = f"unknown {kind} {name!r}."
        if close:
            msg += " Did you mean: " + ", ".join(close) + "?"
        msg += f" Known {kind}s: " + (", ".join(self.known) if self.known else "(none)")
        super().__init__(msg)


class DuplicateNameError(RegenBenchError):
    """Two plugins registered the same name for the same kind of thing.

    The registry raises its subclass `NameClashError`, which says where each plugin comes
    from and how to block either one.
    """


class MissingFieldPathError(RegenBenchError):
    """A task maps to a field path that the data does not have."""

    def __init__(self, task: str, path: str, source: str, existing: list[str]):
        shown = ", ".join(existing) if existing else "(no string fields found)"
        super().__init__(
            f"task {task!r} maps to field {path!r}, which {source} does not have. "
            f"String fields that exist: {shown}. "
            f"Map the task to one of them with --task-map {task}=FIELD.PATH"
        )


def json_error_text(exc) -> str:
    """A `json.JSONDecodeError` as text for people: `Unterminated string starting at column 12`.

    json's own message may already end in "at" (it reads "... starting at: line 1 column 12"),
    so it is trimmed before the column is added, never "at at".
    """
    return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"
