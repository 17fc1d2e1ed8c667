"""samples.parquet: a run's samples as columns, written beside samples.jsonl (`--samples-format parquet`).

samples.jsonl stays the run's record (its sha256 is in results.json and every checker
reads it); the Parquet copy is for analysis: pandas, polars, DuckDB or `datasets` read
it without parsing JSON lines. Its columns:

    task, example_id, user_id      strings
    prediction, reference          a narrative (text tasks), else null
    prediction_items, reference_items
                                   a ranked list of item ids (ranking tasks), else null;
                                   a ranking task's reference (the next item) is one id
    score.<component>              the row's per-example score of each component (null: none)
    details                        the row's details as JSON text

Its key-value metadata holds the sha256 of the samples.jsonl it was made from, so a
reader can tell it belongs to the run (`read_samples_parquet(path, expected_sha256=)`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.results.schema import SampleRow
from regen_bench.util.atomic import atomic_writer

PARQUET_FILE = "samples.parquet"
SOURCE_SHA256_KEY = b"regen_bench.samples_jsonl_sha256"
SCORE_PREFIX = "score."


class SamplesParquetError(RegenBenchError):
    """samples.parquet cannot be read, or was not made from this run's samples.jsonl."""


def _text_and_items(value) -> tuple[str | None, list[str] | None]:
    if isinstance(value, list):
        return None, [str(v) for v in value]
    return (None if value is None else str(value)), None


def samples_table(rows: list[SampleRow], source_sha256: str) -> pa.Table:
    components = sorted({name for row in rows for name in row.scores})
    columns: dict[str, list] = {"task": [], "example_id": [], "user_id": [], "prediction": [],
                                "prediction_items": [], "reference": [], "reference_items": []}
    for row in rows:
        columns["task"].append(row.task)
        columns["example_id"].append(row.example_id)
        columns["user_id"].append(row.user_id)
        for name, value in (("prediction", row.prediction), ("reference", row.reference)):
            text, items = _text_and_items(value)
            columns[name].append(text)
            columns[f"{name}_items"].append(items)
    fields = [pa.field(name, pa.list_(pa.string()) if name.endswith("_items") else pa.string())
              for name in columns]
    arrays = [pa.array(values, type=f.type) for f, values in zip(fields, columns.values(), strict=True)]
    for name in components:
        fields.append(pa.field(SCORE_PREFIX + name, pa.float64()))
        arrays.append(pa.array([row.scores.get(name) for row in rows], type=pa.float64()))
    fields.append(pa.field("details", pa.string()))
    arrays.append(pa.array([json.dumps(row.details, sort_keys=True, ensure_ascii=False) if row.details else None
                            for row in rows], type=pa.string()))
    schema = pa.schema(fields, metadata={SOURCE_SHA256_KEY: source_sha256.encode("ascii")})
    return pa.Table.from_arrays(arrays, schema=schema)


def write_samples_parquet(path: Path, rows: list[SampleRow], source_sha256: str) -> None:
    """Write `rows` (already in the order of samples.jsonl) atomically as Parquet."""
    import pyarrow.parquet as pq  # deferred: only runs that ask for Parquet pay for the import

    with atomic_writer(path, "wb", encoding=None) as handle:
        pq.write_table(samples_table(rows, source_sha256), handle, compression="zstd")


def read_samples_table(path: Path, expected_sha256: str | None = None) -> pa.Table:
    """The Parquet table; with `expected_sha256`, it must have been made from that samples.jsonl."""
    import pyarrow.parquet as pq  # deferred, as above

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise SamplesParquetError(f"{path}: not a readable Parquet file: {exc}") from None
    made_from = (table.schema.metadata or {}).get(SOURCE_SHA256_KEY, b"").decode("ascii", "replace")
    if expected_sha256 is not None and made_from != expected_sha256:
        raise SamplesParquetError(
            f"{path}: made from samples.jsonl {made_from[:12] or '(unknown)'}, but the run recorded "
            f"{expected_sha256[:12]}: it belongs to another run or is stale")
    return table


def rows_from_table(table: pa.Table) -> list[SampleRow]:
    """The SampleRows of a samples.parquet table (scores that were null are left out)."""
    data = table.to_pydict()
    components = [name for name in table.column_names if name.startswith(SCORE_PREFIX)]
    rows = []
    for i, task in enumerate(data["task"]):
        prediction = data["prediction_items"][i] if data["prediction_items"][i] is not None else data["prediction"][i]
        reference = data["reference_items"][i] if data["reference_items"][i] is not None else data["reference"][i]
        scores = {name[len(SCORE_PREFIX):]: data[name][i] for name in components if data[name][i] is not None}
        details = json.loads(data["details"][i]) if data["details"][i] else {}
        rows.append(SampleRow(task=task, example_id=data["example_id"][i], user_id=data["user_id"][i],
                              prediction=prediction, reference=reference, scores=scores, details=details))
    return rows
