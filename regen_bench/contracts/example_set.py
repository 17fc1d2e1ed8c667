"""`ExampleSet`: a read-only sequence of `Example`s over an Arrow table, built on demand.

What `Model.fit(train, validation, ...)` receives, what a split holds and what a load
returns. The rows live in an Arrow table (memory-mapped from the Arrow cache, or in
memory for `from_examples`); an `Example` is built only when it is asked for (`s[i]`,
iteration, `iter_batches`), so a set of a million users costs its columns, not a million
pydantic objects. The column methods (`example_ids`, `user_ids`, `history_item_ids`,
`target_item_ids`, `references`, `has_reference`) read columns and build no Example.

A set is a *store* (the table, and how a row becomes an Example) plus the row indices it
holds, in order. Slicing and `take` make a new set over the same store. Pickling sends
the store's file path (re-opened memory-mapped on the other side) or, for an in-memory
store, its table; never the built Examples.

Two kinds of store:
- example rows (`from_examples`): columns `example_id`, `user_id`, `history_asins`,
  `target_asin`, `references` (task -> text) and `example` (the Example as JSON);
- record rows (the Arrow cache, `regen_bench.data.loading`): a validated REGEN record
  per row, with a `DatasetLayout` saying where each task's text and the target live;
  columns `reviewer_id`, `history` (the purchases' asins), `last_asin` (the
  `last_purchase.item.asin`, or null), `strings` (dotted path -> non-empty string, as
  `build_example` resolves paths) and `record` (the record as JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from regen_bench.contracts.examples import Example, build_example
from regen_bench.contracts.layout import DatasetLayout
from regen_bench.contracts.records import RegenRecord
from regen_bench.contracts.tasks import RANKING, kind_of
from regen_bench.util.mapped_pages import MappedArrowFile

BATCH = 1024

EXAMPLE_SCHEMA = pa.schema([
    ("example_id", pa.string()),
    ("user_id", pa.string()),
    ("history_asins", pa.list_(pa.string())),
    ("target_asin", pa.string()),
    ("references", pa.map_(pa.string(), pa.string())),
    ("example", pa.large_string()),
])


# One validated REGEN record per row (the Arrow cache): `record_row` makes a row.
PURCHASE_TYPE = pa.struct([
    ("asin", pa.string()), ("title", pa.string()), ("category", pa.string()), ("price", pa.float64()),
    ("rating", pa.float64()), ("unix_time", pa.int64()),
])
RECORD_SCHEMA = pa.schema([
    ("reviewer_id", pa.string()),
    ("line", pa.int64()),
    ("history", pa.list_(PURCHASE_TYPE)),
    ("last_asin", pa.string()),
    ("strings", pa.map_(pa.string(), pa.string())),
    ("record", pa.large_string()),
])


def _string_leaves(node, prefix: str, out: list) -> None:
    """(dotted path, value) of every non-empty string reached through objects only."""
    if isinstance(node, dict):
        for key, value in node.items():
            _string_leaves(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(node, str) and node.strip() and prefix:
        out.append((prefix, node))


def record_strings(record: RegenRecord, raw: dict | None = None) -> list[tuple[str, str]]:
    """Every path `resolve_path` can follow in `record.model_dump()` to a non-empty string
    (what `build_example` reads a task's text and the critique from), but the purchases.

    `raw`, the line's JSON object the record was validated from, gives the same paths
    and strings without a dump: outside the purchases, validation keeps every string."""
    out: list[tuple[str, str]] = []
    source = raw if raw is not None else record.model_dump(exclude={"purchase_history"})
    for key, value in source.items():
        if key != "purchase_history":
            _string_leaves(value, str(key), out)
    return out


def _last_asin(record: RegenRecord) -> str | None:
    last = record.last_purchase or {}
    item = last.get("item") if isinstance(last, dict) else None
    asin = item.get("asin") if isinstance(item, dict) else None
    return asin if asin and isinstance(asin, str) else (str(asin) if asin else None)


def record_row(line: int, record: RegenRecord, record_json: str, raw: dict | None = None) -> dict:
    """The columns of one record row (RECORD_SCHEMA); `raw` as `record_strings` takes it."""
    history = []
    for purchase in record.purchase_history:
        item, review = purchase.item, purchase.review
        history.append({
            "asin": item.asin, "title": item.title, "category": item.category, "price": item.price,
            "rating": review.rating if review is not None else None,
            "unix_time": review.unix_time if review is not None else None,
        })
    return {
        "reviewer_id": record.reviewer_id, "line": line, "history": history, "last_asin": _last_asin(record),
        "strings": record_strings(record, raw), "record": record_json,
    }


def records_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=RECORD_SCHEMA)


def open_arrow_file(path: str | Path) -> pa.Table:
    """An Arrow IPC file, memory-mapped (its pages are read when touched)."""
    return MappedArrowFile(path).table


def _offsets(array: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(int64 offsets of n + 1, flat values) of a list column."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    offsets = np.asarray(array.offsets, dtype=np.int64)
    values = array.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    return offsets - offsets[0], values


def take_rows(column: pa.ChunkedArray | pa.Array, rows: np.ndarray, per_chunk=None, after_take=None,
              done=None) -> pa.Array:
    """`column.take(rows)` that reads only the chosen rows' chunks: pyarrow's ChunkedArray.take
    concatenates every chunk first (a 100k-user record column: ~1 GB for 500 rows).
    `per_chunk(chunk) -> array` (e.g. one map key's values) is applied to each chunk first;
    `after_take(taken) -> array` to each chunk's taken rows (reads only those rows);
    `done(chunk)` is called once a chunk's rows are copied (e.g. to release its pages)."""
    rows = np.asarray(rows, dtype=np.int64)
    chunks = [column] if isinstance(column, pa.Array) else list(column.chunks)

    def pick(chunk, positions):
        source = chunk
        chunk = chunk if per_chunk is None else per_chunk(chunk)
        taken = chunk.take(pa.array(positions, pa.int64()))
        taken = taken if after_take is None else after_take(taken)
        if done is not None:
            done(source)
        return taken

    if len(rows) == 0 or not chunks:
        first = chunks[0] if chunks else pa.array([], column.type)
        return pick(first, np.zeros(0, dtype=np.int64))
    if len(chunks) == 1:
        return pick(chunks[0], rows)
    bounds = np.cumsum([0] + [len(chunk) for chunk in chunks])
    chunk_of = np.searchsorted(bounds, rows, side="right") - 1
    pieces, positions = [], []
    for c in np.unique(chunk_of):
        where = np.flatnonzero(chunk_of == c)
        pieces.append(pick(chunks[int(c)], rows[where] - bounds[c]))
        positions.append(where)
    inverse = np.empty(len(rows), dtype=np.int64)
    inverse[np.concatenate(positions)] = np.arange(len(rows), dtype=np.int64)
    return pa.concat_arrays(pieces).take(pa.array(inverse, pa.int64()))


def _history_asins(column: pa.ChunkedArray, release=None) -> tuple[np.ndarray, pa.Array]:
    """(int64 offsets of n + 1, flat asins) of the list-of-purchase `history` column, a chunk
    at a time, so the purchases' other fields (titles, categories) are never copied."""
    offsets, asins, base = [np.zeros(1, dtype=np.int64)], [], 0
    for chunk in column.chunks:
        chunk_offsets, purchases = _offsets(chunk)
        asins.append(pc.struct_field(purchases, "asin"))
        offsets.append(chunk_offsets[1:] + base)
        base += int(chunk_offsets[-1])
    values = pa.concat_arrays(asins) if asins else pa.array([], pa.string())
    if release is not None:  # the asins are copied: the column's pages can go
        release(column)
    return np.concatenate(offsets), values


class _Store:
    """A table and how its rows become Examples; the derived columns computed once."""

    def __init__(self, table: pa.Table, layout: DatasetLayout | None = None, path: str | None = None):
        # A set over a file maps the file itself, so that it can hand back the pages a pass
        # has read (`release`; util/mapped_pages.py): the same bytes as `table`.
        self.mapped = MappedArrowFile(path) if path is not None and Path(path).is_file() else None
        self.table = self.mapped.table if self.mapped is not None else table
        self.layout = layout
        self.path = path
        self._derived: dict[str, object] = {}

    def release(self, array) -> None:
        """Drop the resident pages a pass over `array` (a column or chunk of this file) read."""
        if self.mapped is not None:
            self.mapped.release(array)

    def __reduce__(self):
        if self.path is not None:
            return (_reopen, (self.path, self.layout))
        return (_Store, (self.table, self.layout, None))

    @property
    def n(self) -> int:
        return self.table.num_rows

    def ids(self) -> pa.Array:
        return self.table.column("reviewer_id" if self.layout is not None else "example_id")

    def user_ids(self) -> pa.Array:
        return self.table.column("reviewer_id" if self.layout is not None else "user_id")

    def build(self, rows: np.ndarray) -> list[Example]:
        if self.layout is None:
            texts = take_rows(self.table.column("example"), rows, done=self.release).to_pylist()
            return [Example.model_validate_json(t) for t in texts]
        texts = take_rows(self.table.column("record"), rows, done=self.release).to_pylist()
        return [build_example(RegenRecord.model_validate_json(t), self.layout) for t in texts]

    def history_and_target(self) -> tuple[np.ndarray, pa.Array, pa.Array]:
        """(offsets, flat asins, target asin per row) of the history as `Example.history` gives it."""
        if "history" not in self._derived:
            if self.layout is None:
                offsets, values = _offsets(self.table.column("history_asins"))
                self._derived["history"] = (offsets, values, self.table.column("target_asin").combine_chunks())
            else:
                self._derived["history"] = _split_target(self.table, self.layout.target, self.release)
        return self._derived["history"]

    def history_columns(self, rows: np.ndarray) -> tuple[np.ndarray, pa.Array, pa.Array, pa.Array] | None:
        """(int64 offsets of len(rows) + 1, asins, titles, categories) of these rows' histories
        as `Example.history` gives them (the target left out), copied from these rows of the
        history column only; None for a table of Examples (it keeps only the asins)."""
        if self.layout is None:
            return None
        kept_offsets = self.history_and_target()[0]
        kept = (kept_offsets[rows + 1] - kept_offsets[rows]).astype(np.int64)
        lists = take_rows(self.table.column("history"), rows, done=self.release)
        starts = np.asarray(lists.offsets, dtype=np.int64)
        purchases = lists.values.slice(int(starts[0]), int(starts[-1] - starts[0]))
        lengths = np.diff(starts)
        # `Example.history` is a prefix of the record's purchases (at most the last one is the target).
        within = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(starts[:-1] - starts[0], lengths)
        keep = pa.array(within < np.repeat(kept, lengths))
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(kept, out=offsets[1:])
        fields = [pc.struct_field(purchases, name).filter(keep) for name in ("asin", "title", "category")]
        return (offsets, *fields)

    def _text_column(self, task: str) -> tuple[pa.ChunkedArray, str | None]:
        if self.layout is None:
            return self.table.column("references"), task
        return self.table.column("strings"), self.layout.tasks.get(task)

    def has_text(self, task: str) -> np.ndarray:
        """Per row, whether `Example.reference(task)` has a text for a text task; computed a
        chunk at a time from the map's keys and the values' validity, so the texts' bytes are
        never read (they are most of the memory-mapped column), and kept as booleans."""
        key = ("has", task)
        if key not in self._derived:
            column, path = self._text_column(task)
            if path is None:
                self._derived[key] = np.zeros(self.n, dtype=bool)
            else:
                parts = []
                for chunk in column.chunks:
                    parts.append(_rows_with_key(chunk, path))
                    self.release(chunk)
                self._derived[key] = np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
        return self._derived[key]

    def texts_at(self, task: str, rows: np.ndarray) -> pa.Array:
        """The text `Example.reference(task)` gives for a text task, at these rows (null where none)."""
        column, path = self._text_column(task)
        if path is None:
            return pa.nulls(len(rows), pa.string())
        key = pa.scalar(path, pa.string())
        # Per chunk, the rows first and then the lookup: only the chosen rows' strings are
        # read (a lookup over a whole chunk would touch every text of the column).
        return take_rows(column, rows, after_take=lambda taken: pc.map_lookup(taken, key, "first"), done=self.release)


def _rows_with_key(chunk: pa.MapArray, path: str) -> np.ndarray:
    """Per row of a map<string, string> chunk, whether `path` is a key with a non-null value
    (what `map_lookup(..., "first").is_valid()` gives, the record's keys being unique)."""
    offsets = np.asarray(chunk.offsets, dtype=np.int64)  # into the whole children, a slice or not
    keys, items = chunk.keys, chunk.items
    hit = np.asarray(pc.equal(keys, pa.scalar(path, pa.string())).fill_null(False), dtype=bool)
    if items.null_count:
        hit &= np.asarray(items.is_valid(), dtype=bool)
    seen = np.zeros(len(hit) + 1, dtype=np.int64)
    np.cumsum(hit, out=seen[1:])
    has = seen[offsets[1:]] > seen[offsets[:-1]]
    if chunk.null_count:
        has &= np.asarray(chunk.is_valid(), dtype=bool)
    return has


def _reopen(path: str, layout: DatasetLayout | None) -> _Store:
    # The store maps the file itself; a file gone since is the mapping's own clear error.
    return _Store(None if Path(path).is_file() else open_arrow_file(path), layout, path)


def _split_target(table: pa.Table, mode: str, release=None) -> tuple[np.ndarray, pa.Array, pa.Array]:
    """`_target_from` of contracts/examples.py, on columns: the history less the target, and the target."""
    offsets, values = _history_asins(table.column("history"), release)
    lengths = np.diff(offsets)
    last = table.column("last_asin").combine_chunks()
    has_last = np.asarray(last.is_valid(), dtype=bool) if mode != "last_of_history" else np.zeros(len(lengths), bool)
    last_of_history = pc.take(values, pa.array(np.maximum(offsets[1:] - 1, 0)))
    if len(values) == 0:
        last_of_history = pa.nulls(len(lengths), pa.string())
    same = np.asarray(pc.fill_null(pc.equal(last_of_history, last), False), dtype=bool)
    from_history = ~has_last & (lengths >= 2) if mode != "last_purchase" else np.zeros(len(lengths), bool)
    drop_last = (has_last & same & (lengths > 1)) | from_history
    target = pc.if_else(pa.array(has_last), last, pc.if_else(pa.array(from_history), last_of_history,
                                                               pa.nulls(len(lengths), pa.string())))
    new_lengths = lengths - drop_last.astype(np.int64)
    keep = np.ones(len(values), dtype=bool)
    keep[(offsets[1:] - 1)[drop_last]] = False
    new_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(new_lengths, out=new_offsets[1:])
    return new_offsets, values.filter(pa.array(keep)), target


class ExampleSet(Sequence):
    """A read-only `Sequence[Example]` over Arrow columns (see the module docstring)."""

    __slots__ = ("_store", "_rows")

    def __init__(self, store: _Store, rows: np.ndarray | None = None):
        self._store = store
        self._rows = np.arange(store.n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_examples(cls, examples: Iterable[Example]) -> "ExampleSet":
        """An in-memory set holding these Examples (for tests and callers with plain lists)."""
        examples = list(examples)
        columns = {
            "example_id": [e.example_id for e in examples],
            "user_id": [e.user_id for e in examples],
            "history_asins": [[p.item.asin for p in e.history] for e in examples],
            "target_asin": [e.target_item_id for e in examples],
            "references": [list(e.references.items()) for e in examples],
            "example": [e.model_dump_json() for e in examples],
        }
        return cls(_Store(pa.table(columns, schema=EXAMPLE_SCHEMA)))

    @classmethod
    def from_records_table(cls, table: pa.Table, layout: DatasetLayout, path: str | Path | None = None) -> "ExampleSet":
        """A set over a table of record rows (the Arrow cache's layout), read with `layout`."""
        return cls(_Store(table, layout, str(path) if path is not None else None))

    def _with(self, rows: np.ndarray) -> "ExampleSet":
        return ExampleSet(self._store, rows)

    # -- the sequence -------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._with(self._rows[index])
        if isinstance(index, (int, np.integer)):
            n = len(self._rows)
            if not -n <= index < n:
                raise IndexError(f"ExampleSet index {index} out of range ({n} examples)")
            return self._store.build(self._rows[[index]])[0]
        raise TypeError(f"ExampleSet indices are integers or slices, not {type(index).__name__}")

    def __iter__(self) -> Iterator[Example]:
        for batch in self.iter_batches():
            yield from batch

    def __repr__(self) -> str:
        return f"ExampleSet({len(self)} examples)"

    def __eq__(self, other) -> bool:
        if isinstance(other, (ExampleSet, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def __add__(self, other):
        """`train + validation`, as with lists: a set over the same store, else a list of Examples."""
        if isinstance(other, ExampleSet) and other._store is self._store:
            return self._with(np.concatenate([self._rows, other._rows]))
        if isinstance(other, (ExampleSet, list, tuple)):
            return list(self) + list(other)
        return NotImplemented

    def __radd__(self, other):
        if isinstance(other, (list, tuple)):
            return list(other) + list(self)
        return NotImplemented

    def iter_batches(self, size: int = BATCH) -> Iterator[list[Example]]:
        """The Examples in order, `size` at a time (only the current batch is held)."""
        size = max(1, int(size))
        for start in range(0, len(self._rows), size):
            yield self._store.build(self._rows[start : start + size])

    def take(self, indices: Iterable[int]) -> "ExampleSet":
        """The rows at these positions of this set, in the given order."""
        positions = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices, dtype=np.int64)
        return self._with(self._rows[positions] if len(positions) else positions)

    def filter(self, mask: np.ndarray | Sequence[bool]) -> "ExampleSet":
        """The rows where `mask` is true, in order."""
        return self._with(self._rows[np.asarray(mask, dtype=bool)])

    def sorted_by_id(self) -> "ExampleSet":
        """The same rows ordered by example id (as `sorted(..., key=example_id)`; ids are unique)."""
        ids = self.example_ids
        order = sorted(range(len(ids)), key=ids.__getitem__)
        return self._with(self._rows[np.asarray(order, dtype=np.int64)])

    # -- columns ------------------------------------------------------------------------

    def _column(self, array) -> pa.Array:
        return take_rows(array, self._rows)

    @property
    def rows(self) -> np.ndarray:
        """The store's row numbers this set holds, in order (a copy)."""
        return self._rows.copy()

    @property
    def example_ids(self) -> list[str]:
        return self._column(self._store.ids()).to_pylist()

    @property
    def user_ids(self) -> list[str]:
        return self._column(self._store.user_ids()).to_pylist()

    def history_item_ids(self) -> tuple[np.ndarray, pa.Array]:
        """CSR of each row's history asins (`Example.history` order): (int64 offsets of n + 1, asins)."""
        offsets, values, _target = self._store.history_and_target()
        starts, ends = offsets[self._rows], offsets[self._rows + 1]
        lengths = ends - starts
        out = np.zeros(len(self._rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=out[1:])
        if len(self._rows) == 0 or out[-1] == 0:
            return out, pa.array([], pa.string())
        index = np.repeat(starts - out[:-1], lengths) + np.arange(out[-1], dtype=np.int64)
        return out, values.take(pa.array(index, pa.int64()))

    def history_columns(self) -> tuple[np.ndarray, pa.Array, pa.Array, pa.Array] | None:
        """CSR of each row's history purchases (`Example.history` order) with the item text
        fields: (int64 offsets of n + 1, asins, titles, categories), read from these rows only;
        None when the set was built from Examples (use the Examples then)."""
        return self._store.history_columns(self._rows)

    def target_item_ids(self) -> list[str | None]:
        return self._column(self._store.history_and_target()[2]).to_pylist()

    def _reference_array(self, task: str) -> pa.Array:
        if kind_of(task) is RANKING:
            return self._column(self._store.history_and_target()[2])
        return self._store.texts_at(task, self._rows)

    def references(self, task: str) -> list[str | None]:
        """`Example.reference(task)` of each row, from columns."""
        return self._reference_array(task).to_pylist()

    def has_reference(self, task: str) -> np.ndarray:
        """Whether each row is scored on `task` (has a reference)."""
        if kind_of(task) is RANKING:
            return np.asarray(self._column(self._store.history_and_target()[2]).is_valid(), dtype=bool)
        return self._store.has_text(task)[self._rows]

    def arrow_view(self, tasks: Iterable[str]) -> tuple[pa.Table, np.ndarray]:
        """(a table over every row of the set's store, this set's row numbers in it), for
        readers such as `datasets.Dataset(...).select(rows)` (an index over the table, no copy).

        The store's own columns come as they are (memory-mapped from the Arrow cache, not
        copied), but its map of strings (no `datasets` type for a map); in its place one
        string column per text task in `tasks` (the task's reference text at this set's rows,
        null elsewhere and where the row has none: only this set's texts are read) and, for a
        ranking task, `<task>` as the next item's id."""
        table = self._store.table
        keep = [name for name in table.column_names if name not in ("strings", "references")]
        view = table.select(keep)
        # where each store row is in this set (-1: not in it), to spread this set's texts out
        position = np.full(self._store.n, -1, dtype=np.int64)
        position[self._rows] = np.arange(len(self._rows), dtype=np.int64)
        spread = pa.array(position, mask=position < 0)
        for task in tasks:
            if task in view.column_names:
                raise ValueError(f"task {task!r} has the name of a column of the table")
            if kind_of(task) is RANKING:
                view = view.append_column(task, self._store.history_and_target()[2])
            else:
                view = view.append_column(task, self._store.texts_at(task, self._rows).take(spread))
        return view, self._rows.copy()

    def __reduce__(self):
        return (ExampleSet, (self._store, self._rows))


def as_example_set(examples) -> ExampleSet:
    """`examples` if it is an ExampleSet, else an in-memory one of `list(examples)`."""
    if isinstance(examples, ExampleSet):
        return examples
    return ExampleSet.from_examples(list(examples))


__all__ = ["EXAMPLE_SCHEMA", "ExampleSet", "as_example_set", "open_arrow_file"]
