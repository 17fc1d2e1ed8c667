"""The results file (`results.json`) and per-sample log (`samples.jsonl`) as typed models.

Every number in a results file can be traced: the harness version and commit, the
dataset's bytes (sha256) and exact split (split hash), the model's config and its
hash, the seeds, and each score's signature. The files are written and read here, and
only here: a reader says where a file is not what it should be (`ResultsFormatError`,
`SamplesFileError`). `python -m regen_bench.results.schema` writes the JSON Schema to
docs/results.schema.json.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from regen_bench.contracts.errors import RegenBenchError, json_error_text
from regen_bench.util.atomic import atomic_write_text, atomic_writer

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
    status: Literal["ok", "failed"] = Field(
        default="ok", description="failed: the component scored no example (n=0); score and CI are null")
    reason: str | None = Field(
        default=None, description="why a failed component scored nothing, e.g. 'unrated: 10 of 10, ...'")
    score: float | None = Field(description="null only when status is failed")
    ci_low: float | None
    ci_high: float | None
    n: int
    signature: str
    higher_is_better: bool
    counts: dict[str, int] = Field(default_factory=dict, description="e.g. rated/unrated examples of an LLM judge")

    @model_validator(mode="before")
    @classmethod
    def _legacy_null_score_is_failed(cls, data: Any) -> Any:
        """A file written before `status` existed recorded a component that scored nothing as a null
        score with n=0: read it as the failed entry it was."""
        if isinstance(data, dict) and "status" not in data and data.get("score") is None and data.get("n") == 0:
            data = {**data, "status": "failed", "reason": data.get("reason") or "scored no example (n=0)"}
        return data

    @model_validator(mode="after")
    def _ok_has_numbers(self) -> "ScoreEntry":
        if self.status == "ok" and (self.score is None or self.ci_low is None or self.ci_high is None):
            raise ValueError("score, ci_low and ci_high must be numbers when status is 'ok' "
                             "(a component that scored nothing has status 'failed' and a reason)")
        return self

    @property
    def failed(self) -> bool:
        return self.status == "failed"


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


class ExecutorInfo(BaseModel):
    """How generation (and, on Ray, the heavy metrics) ran: the executor and the size of what it ran on."""

    name: str = Field(description="the --executor: local (this process) or ray")
    nodes: int = Field(1, ge=1, description="machines in the cluster (1 for local)")
    cpus: float = Field(description="CPUs of the cluster (local: this machine's; ray: 0 when the run needed no "
                                    "cluster, everything being cached)")
    gpus: float = Field(0, ge=0, description="GPUs of the cluster")
    workers: int = Field(1, ge=0, description="generation workers used (Ray: actors of the pool; 0: nothing generated)")
    remote_metrics: list[str] = Field(default_factory=list, description="metrics scored on the cluster")


class BootstrapInfo(BaseModel):
    resamples: int
    confidence: float
    seed: int


class SamplesInfo(BaseModel):
    file: str = "samples.jsonl"
    sha256: str
    rows: int


class RescoredFrom(BaseModel):
    """The run a `regen-bench score --output` run re-scored: its id and its results file's bytes."""

    run_id: str
    results_sha256: str = Field(description="sha256 of the source run's results.json bytes")
    samples_sha256: str = Field(description="sha256 of the source run's samples.jsonl bytes")


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
    executor: ExecutorInfo | None = Field(
        default=None, description="how the run was executed; absent in files written before executors were recorded")
    environment: dict[str, Any]
    command: list[str] = Field(default_factory=list)
    rescored_from: RescoredFrom | None = Field(
        default=None, description="set by `regen-bench score --output`: the run whose samples were re-scored")


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
    digest = hashlib.sha256()
    with atomic_writer(path) as handle:
        for row in rows:
            line = json.dumps(row.model_dump(mode="json"), ensure_ascii=False, sort_keys=True) + "\n"
            digest.update(line.encode("utf-8"))
            handle.write(line)
    return digest.hexdigest()


def write_results(path: Path, results: RunResults) -> None:
    atomic_write_text(path, results.model_dump_json(indent=2) + "\n")


# --- reading: every reader of results.json and samples.jsonl comes through here ----------

class ResultsFileError(RegenBenchError):
    """The results file is missing or cannot be read at all (not a verdict on its content)."""


class ResultsFormatError(RegenBenchError):
    """results.json was read but is not a results file.

    `problems` are (where, what) pairs: `where` is a field path (`scores[3].signature`) or a
    place in the file (`results.json:2:5`), so a validator can list every one of them.
    """

    def __init__(self, path: Path, problems: list[tuple[str, str]]):
        self.path = path
        self.problems = problems
        where, what = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{path}: {where}: {what}{more}")


class SamplesFileError(RegenBenchError):
    """A samples.jsonl that cannot be read: `where` is the file, or `file:line` of a bad row."""

    def __init__(self, path: Path, what: str, line: int | None = None):
        self.path = path
        self.what = what
        self.where = path.name if line is None else f"{path.name}:{line}"
        super().__init__(f"{path if line is None else f'{path}:{line}'}: {what}")


def field_path(loc) -> str:
    """A pydantic error location as `scores[3].signature`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def read_results_json(path: Path) -> Any:
    """The JSON value in a results file; ResultsFileError if it can't be read, else
    ResultsFormatError when it is not UTF-8 JSON."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ResultsFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ResultsFileError(f"{path}: is a directory; give the results.json inside it") from None
    except OSError as exc:
        raise ResultsFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ResultsFormatError(path, [(path.name, f"not UTF-8 text (byte {exc.start})")]) from None
    except json.JSONDecodeError as exc:
        raise ResultsFormatError(path, [(f"{path.name}:{exc.lineno}:{exc.colno}", f"not valid JSON: {json_error_text(exc)}")]) from None


def parse_results(data: Any, path: Path) -> RunResults:
    """`data` (read from `path`) as RunResults, or ResultsFormatError listing what is wrong."""
    if not isinstance(data, dict):
        raise ResultsFormatError(path, [(Path(path).name, f"expected a JSON object, found {type(data).__name__}")])
    try:
        return RunResults.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            got = f" (got {err['input']!r:.60})" if err["type"] != "missing" and "input" in err else ""
            problems.append((field_path(err["loc"]), f"{err['msg']}{got}"))
        raise ResultsFormatError(path, problems) from None


def load_results(path: Path) -> RunResults:
    path = Path(path)
    return parse_results(read_results_json(path), path)


def read_sample_lines(path: Path) -> tuple[list[SampleRow], list[int]]:
    """The rows of a samples.jsonl with the line each was read from (blank lines skipped);
    SamplesFileError names the first line that is not a row."""
    path = Path(path)
    rows, lines = [], []
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    rows.append(SampleRow.model_validate_json(line))
                except ValueError as exc:  # pydantic's ValidationError
                    detail = str(exc).splitlines()
                    raise SamplesFileError(path, "not a samples.jsonl row (needs task, example_id, user_id, prediction, "
                                           f"reference): {detail[1].strip() if len(detail) > 1 else exc}",
                                           number) from None
                lines.append(number)
    except UnicodeDecodeError:
        raise SamplesFileError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise SamplesFileError(path, f"cannot read: {exc.strerror or exc}") from None
    return rows, lines


def read_samples(path: Path) -> list[SampleRow]:
    return read_sample_lines(path)[0]


def json_schema() -> dict:
    return RunResults.model_json_schema()


if __name__ == "__main__":  # python -m regen_bench.results.schema > docs/results.schema.json
    print(json.dumps(json_schema(), indent=2, sort_keys=True))
