"""The results file (`results.json`) and per-sample log (`samples.jsonl`) as typed models.

Every number in a results file can be traced: the harness version and commit, the
dataset's bytes (sha256) and exact split (split hash), the model's config and its
hash, the seeds, and each score's signature. `python -m regen_bench.results.schema`
writes the JSON Schema to docs/results.schema.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from regen_bench.util.atomic import atomic_writer, atomic_write_text

SCHEMA_VERSION = 1


class HarnessInfo(BaseModel):
    version: str
    git_sha: str | None = None


class DatasetInfo(BaseModel):
    name: str
    source: str = Field(description="file the examples were read from")
    sha256: str = Field(description="sha256 of the dataset file's bytes")
    synthetic: bool = Field(description="true: numbers are on generated data, labelled synthetic")
    split: str
    split_hash: str
    split_config: dict[str, Any]
    n_examples: int = Field(description="examples in the evaluated split (after --limit)")
    n_examples_by_task: dict[str, int]
    layout: dict[str, Any]
    options: dict[str, Any] = Field(default_factory=dict)
    bad_records_skipped: int = 0


class ModelInfo(BaseModel):
    name: str
    config: dict[str, Any]
    config_hash: str = Field(description="hash of config + seed + split hash + tasks: the generation cache key")
    info: dict[str, Any] = Field(default_factory=dict)


class ScoreEntry(BaseModel):
    task: str
    metric: str = Field(description="the metric plugin's name")
    component: str = Field(description="which number of the metric (rouge has rouge1, rouge2, ...)")
    score: float
    ci_low: float
    ci_high: float
    n: int
    signature: str
    higher_is_better: bool
    counts: dict[str, int] = Field(default_factory=dict, description="e.g. rated/unrated examples of an LLM judge")


class MetricRecord(BaseModel):
    """A metric as it was configured for the run: enough to rebuild it and re-score."""

    name: str
    spec: str = Field(description="as given to --metric, e.g. 'evaluate:path' or 'rouge'")
    options: dict[str, Any]
    version: str
    kind: str
    higher_is_better: bool
    description: str = ""
    signature: str
    context_components: list[str] = Field(
        default_factory=list, description="components reported for context only: no better direction")


class BootstrapInfo(BaseModel):
    resamples: int
    confidence: float
    seed: int


class SamplesInfo(BaseModel):
    file: str = "samples.jsonl"
    sha256: str
    rows: int


class RunResults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    run_id: str
    created_at: str
    harness: HarnessInfo
    dataset: DatasetInfo
    model: ModelInfo
    seed: int
    tasks: list[str]
    k: int | None = Field(
        default=None, description="items asked of recommend() per example (ranking tasks); null: no ranking task run"
    )
    bootstrap: BootstrapInfo
    metrics: list[MetricRecord] = Field(default_factory=list)
    scores: list[ScoreEntry]
    samples: SamplesInfo
    cache: dict[str, int] = Field(default_factory=dict, description="generations read from cache / made now")
    usage: dict[str, Any] = Field(default_factory=dict, description="token usage and cost, for API models")
    timings: dict[str, float] = Field(description="seconds per stage")
    environment: dict[str, Any]
    command: list[str] = Field(default_factory=list)


class SampleRow(BaseModel):
    """One line of samples.jsonl: one example of one task."""

    model_config = ConfigDict(extra="allow")

    task: str
    example_id: str
    user_id: str
    prediction: Any
    reference: Any
    scores: dict[str, float | None] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)


def write_samples(path: Path, rows: list[SampleRow]) -> str:
    """Write samples.jsonl atomically; return the sha256 of its bytes."""
    import hashlib

    digest = hashlib.sha256()
    with atomic_writer(path) as handle:
        for row in rows:
            line = json.dumps(row.model_dump(mode="json"), ensure_ascii=False, sort_keys=True) + "\n"
            digest.update(line.encode("utf-8"))
            handle.write(line)
    return digest.hexdigest()


def read_samples(path: Path) -> list[SampleRow]:
    from regen_bench.contracts.errors import RegenBenchError

    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(SampleRow.model_validate_json(line))
            except Exception as exc:
                first = str(exc).splitlines()
                raise RegenBenchError(
                    f"{path}:{number}: not a samples.jsonl row "
                    f"(needs task, example_id, user_id, prediction, reference): {first[1] if len(first) > 1 else exc}"
                ) from None
    return rows


def write_results(path: Path, results: RunResults) -> None:
    atomic_write_text(path, results.model_dump_json(indent=2) + "\n")


def load_results(path: Path) -> RunResults:
    return RunResults.model_validate_json(Path(path).read_text(encoding="utf-8"))


def json_schema() -> dict:
    return RunResults.model_json_schema()


if __name__ == "__main__":  # python -m regen_bench.results.schema > docs/results.schema.json
    print(json.dumps(json_schema(), indent=2, sort_keys=True))
