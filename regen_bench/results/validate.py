"""Is a results file what a run produced? `validate_results(path) -> ValidationReport`.

A leaderboard cell is trusted because it can be recomputed. This module checks a
`results.json` against the schema, checks that its `samples.jsonl` is the one the run
wrote (sha256), and recomputes every score and bootstrap interval from the samples with
the recorded bootstrap seed and resamples. A number that differs from its
recomputation by more than 1e-9 (relative) rejects the file.

Some scores cannot be recomputed here: the metric calls an API (an LLM judge), its
plugin is not installed, or the run used non-default metric options that the results
file does not record. Those are listed as *not recomputed*, with the reason, never
passed silently; for mean metrics the score and interval are still checked against
the per-example scores in samples.jsonl.

Metric options: each metric is rebuilt from `results.metrics` (name, options, version,
signature, as the runner records them). A file without that list (written before it
existed) gets each metric rebuilt with its default options, and a score is recomputed
only when the rebuilt metric reproduces the recorded signature.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.metric import CACHE_STATE_COUNTS
from regen_bench.results.schema import SCHEMA_VERSION, RunResults, SampleRow, ScoreEntry

REL_TOL = 1e-9
ABS_TOL = 1e-12  # a score of exactly 0 recomputed as 1e-17 is the same number
SCORE_CONFIDENCE = 0.95  # score_rows' intervals; the runner records this
MAX_LISTED = 8  # per-example mismatches listed before "and N more"
API_OPTION_FIELDS = ("api_key_env",)  # an option only metrics that call a paid API have
API_MODEL_PREFIXES = ("openai:", "gemini:")


class ResultsFileError(RegenBenchError):
    """The results file is missing or cannot be read at all (not a verdict on its content)."""


@dataclass
class Finding:
    where: str  # e.g. "scores[3].score", "samples.jsonl:12", "results.json"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class ValidationReport:
    path: Path
    problems: list[Finding] = field(default_factory=list)  # any one rejects the file
    not_recomputed: list[Finding] = field(default_factory=list)  # accepted, but say so
    checked: list[str] = field(default_factory=list)  # what was verified
    results: RunResults | None = None
    scores_recomputed: int = 0
    scores_total: int = 0

    @property
    def ok(self) -> bool:
        """No problem found. Scores that could not be recomputed are in `not_recomputed`."""
        return not self.problems

    @property
    def fully_verified(self) -> bool:
        return self.ok and not self.not_recomputed

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Finding(where, message))

    def unverified(self, where: str, message: str) -> None:
        self.not_recomputed.append(Finding(where, message))

    def format(self) -> str:
        if self.problems:
            verdict = f"REJECTED: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        elif self.not_recomputed:
            verdict = (f"ACCEPTED, but {len(self.not_recomputed)} score(s) NOT RECOMPUTED "
                       f"({self.scores_recomputed}/{self.scores_total} recomputed)")
        else:
            verdict = f"OK: all {self.scores_total} scores recomputed from samples.jsonl"
        lines = [f"{self.path}: {verdict}"]
        if self.problems:
            lines.append("problems:")
            lines += [f"  - {p}" for p in self.problems]
        if self.not_recomputed:
            lines.append("not recomputed:")
            lines += [f"  - {p}" for p in self.not_recomputed]
        if self.checked:
            lines.append("checked:")
            lines += [f"  - {c}" for c in self.checked]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path), "ok": self.ok, "fully_verified": self.fully_verified,
            "problems": [vars(p) for p in self.problems],
            "not_recomputed": [vars(p) for p in self.not_recomputed],
            "checked": list(self.checked),
            "scores_recomputed": self.scores_recomputed, "scores_total": self.scores_total,
        }


@dataclass
class RebuildSpec:
    """How to rebuild one metric: its registered name and options (None: the defaults)."""

    name: str
    options: dict[str, Any] | None = None
    signature: str | None = None

    @property
    def recorded(self) -> bool:
        return self.options is not None


def same_number(recorded: float, recomputed: float, tolerance: float = 0.0) -> bool:
    """Equal within REL_TOL, or within the metric's own absolute `tolerance` (see
    `Metric.recompute_tolerance`: float32 model embeddings differ in the last bits with
    how texts were batched)."""
    if math.isnan(recorded) or math.isnan(recomputed):
        return math.isnan(recorded) and math.isnan(recomputed)
    return math.isclose(recorded, recomputed, rel_tol=REL_TOL, abs_tol=max(ABS_TOL, tolerance))


def _loc(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(entry: ScoreEntry) -> str:
    return f"{entry.task} {entry.metric}/{entry.component}"


# --- reading -----------------------------------------------------------------------------

def _read_results(path: Path, report: ValidationReport) -> RunResults | None:
    from pydantic import ValidationError

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ResultsFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ResultsFileError(f"{path}: is a directory; give the results.json inside it") from None
    except OSError as exc:
        raise ResultsFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        report.problem(path.name, f"not UTF-8 text (byte {exc.start})")
        return None
    except json.JSONDecodeError as exc:
        report.problem(f"{path.name}:{exc.lineno}:{exc.colno}", f"not valid JSON: {exc.msg}")
        return None
    if not isinstance(raw, dict):
        report.problem(path.name, f"expected a JSON object, found {type(raw).__name__}")
        return None
    try:
        results = RunResults.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            got = f" (got {err['input']!r:.60})" if err["type"] != "missing" and "input" in err else ""
            report.problem(_loc(err["loc"]), f"{err['msg']}{got}")
        return None
    report.checked.append(f"schema: RunResults (schema_version {results.schema_version})")
    return results


def _read_samples(path: Path, report: ValidationReport) -> tuple[list[SampleRow], list[int]] | None:
    """Rows with their line numbers, or None (problem reported) when unreadable."""
    rows, lines = [], []
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        report.problem(path.name, f"cannot read: {exc.strerror or exc}")
        return None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    rows.append(SampleRow.model_validate_json(line))
                    lines.append(number)
                except Exception as exc:
                    detail = str(exc).splitlines()
                    report.problem(f"{path.name}:{number}",
                                   f"not a samples row: {detail[1].strip() if len(detail) > 1 else exc}")
                    return None
        except UnicodeDecodeError:
            report.problem(path.name, "not UTF-8 text")
            return None
    return rows, lines


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- structural checks ---------------------------------------------------------------------

def _check_structure(results: RunResults, report: ValidationReport) -> None:
    if results.schema_version != SCHEMA_VERSION:
        report.problem("schema_version", f"{results.schema_version}, but this regen-bench reads {SCHEMA_VERSION}")
    blank = [i for i, s in enumerate(results.scores) if not s.signature.strip()]
    for i in blank:
        report.problem(f"scores[{i}].signature", f"empty: {_describe(results.scores[i])} does not say how it was made")
    if not blank:
        report.checked.append(f"signatures: present on all {len(results.scores)} scores")
    if not results.scores:
        report.problem("scores", "no scores")
    seen: dict[tuple, int] = {}
    for i, s in enumerate(results.scores):
        key = (s.task, s.metric, s.component, s.signature)
        if key in seen:
            report.problem(f"scores[{i}]", f"duplicate of scores[{seen[key]}] ({_describe(s)})")
        seen.setdefault(key, i)
        if s.task not in results.tasks:
            report.problem(f"scores[{i}].task", f"{s.task!r} is not one of the run's tasks {results.tasks}")
    from regen_bench.util.hashing import run_config_hash

    expected = run_config_hash(results.model.config, results.seed, results.dataset.split_hash, results.tasks)
    if expected != results.model.config_hash:
        report.problem("model.config_hash",
                       f"{results.model.config_hash} does not match model.config, seed, split hash and tasks "
                       f"({expected})")
    else:
        report.checked.append("model.config_hash matches model.config, seed, split hash and tasks")


def _check_samples(results: RunResults, results_path: Path, report: ValidationReport):
    """The samples file beside results.json: present, the recorded bytes, consistent rows."""
    name = results.samples.file
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not name.strip():
        report.problem("samples.file", f"{name!r} must be a file name beside results.json")
        return None
    path = results_path.parent / relative
    if not path.is_file():
        report.problem("samples.file", f"{name} not found beside {results_path.name} (looked for {path})")
        return None
    actual = _sha256(path)
    if actual != results.samples.sha256:
        report.problem("samples.sha256", f"{name} has sha256 {actual}, but results.json records "
                       f"{results.samples.sha256}: the samples were changed after the run")
    else:
        report.checked.append(f"{name}: sha256 matches ({actual[:16]}...)")
    read = _read_samples(path, report)
    if read is None:
        return None
    rows, lines = read
    if len(rows) != results.samples.rows:
        report.problem("samples.rows", f"{results.samples.rows}, but {name} has {len(rows)} rows")
    seen: dict[tuple[str, str], int] = {}
    per_task: dict[str, int] = defaultdict(int)
    for row, line in zip(rows, lines):
        key = (row.task, row.example_id)
        if key in seen:
            report.problem(f"{name}:{line}", f"duplicate row for task {row.task!r}, example {row.example_id!r} "
                           f"(first at line {seen[key]})")
        seen.setdefault(key, line)
        per_task[row.task] += 1
    for task in sorted(set(per_task) | set(results.tasks)):
        recorded = results.dataset.n_examples_by_task.get(task)
        if task not in results.tasks:
            report.problem(name, f"has rows for task {task!r}, which is not one of the run's tasks")
        elif recorded is not None and recorded != per_task.get(task, 0):
            report.problem(f"dataset.n_examples_by_task.{task}", f"{recorded}, but {name} has {per_task.get(task, 0)} rows")
    return path, rows, lines


def _check_references(examples_by_id: dict, rows, lines, name: str, report: ValidationReport) -> None:
    from regen_bench.contracts.tasks import task_kind

    wrong = []
    for row, line in zip(rows, lines):
        example = examples_by_id.get(row.example_id)
        if example is None:
            wrong.append(Finding(f"{name}:{line}", f"example {row.example_id!r} is not in the dataset"))
            continue
        expected = example.references.get(row.task) if task_kind(row.task) == "text" else example.target_item_id
        if row.reference != expected:
            wrong.append(Finding(f"{name}:{line}", f"reference for {row.task!r} differs from the dataset's"))
    _add_capped(report, wrong)
    if not wrong:
        report.checked.append(f"{name}: every reference matches the dataset")


def _add_capped(report: ValidationReport, findings: list[Finding]) -> None:
    report.problems.extend(findings[:MAX_LISTED])
    if len(findings) > MAX_LISTED:
        report.problem("...", f"and {len(findings) - MAX_LISTED} more like these")


# --- recomputation --------------------------------------------------------------------------

def rebuild_specs(results: RunResults) -> list[RebuildSpec]:
    """The metrics to rebuild: `results.metrics` when the file records them, else defaults by name."""
    recorded = getattr(results, "metrics", None)
    if recorded:
        out = []
        for item in recorded:
            get = item.get if isinstance(item, dict) else (lambda key, obj=item: getattr(obj, key, None))
            out.append(RebuildSpec(name=get("name"), options=dict(get("options") or {}), signature=get("signature")))
        return out
    names = dict.fromkeys(s.metric for s in results.scores)
    return [RebuildSpec(name=name) for name in names]


def _cannot_rerun_reason(cls: type, options: dict[str, Any]) -> str | None:
    """Why this metric must not be re-run by a validator (it would call a paid API), or None."""
    declared = getattr(cls, "needs_network", None)
    if declared is not None:
        return "the metric calls a network API" if declared else None
    fields = getattr(getattr(cls, "Options", None), "model_fields", {})
    if any(name in fields for name in API_OPTION_FIELDS):
        return "the metric calls a network API (an LLM judge)"
    if any(isinstance(v, str) and v.startswith(API_MODEL_PREFIXES) for v in options.values()):
        return "the metric calls a network API (an embedding model)"
    return None


def build_metric(record: RebuildSpec):
    """(metric, None) or (None, why it can't be rebuilt)."""
    from regen_bench.plugin.registry import get_registry
    from regen_bench.plugin.specs import build_metrics

    registry = get_registry()
    if record.name not in registry.entries["metric"]:
        return None, f"metric plugin {record.name!r} is not installed here"
    cls = registry.get("metric", record.name).cls
    reason = _cannot_rerun_reason(cls, record.options or {})
    if reason:
        return None, reason
    try:
        if record.recorded:
            return cls(**record.options), None
        (metric,) = build_metrics([record.name], {})
        return metric, None
    except Exception as exc:
        how = "the recorded options" if record.recorded else "its default options"
        return None, f"metric {record.name!r} cannot be built with {how}: {exc}"


def _fresh_rows(rows: list[SampleRow]) -> list[SampleRow]:
    return [SampleRow(task=r.task, example_id=r.example_id, user_id=r.user_id,
                      prediction=r.prediction, reference=r.reference) for r in rows]


def _mean_fallback(entry: ScoreEntry, rows: list[SampleRow], results: RunResults) -> tuple[bool, str]:
    """Check a score that wasn't recomputed against its per-example scores in samples.jsonl.

    (problem?, message). Only mean metrics can be checked this way: when the recorded
    score is the mean of the per-example scores, the interval must be their bootstrap.
    """
    from regen_bench.stats.bootstrap import bootstrap_interval
    from regen_bench.contracts.metric import Component

    task_rows = sorted((r for r in rows if r.task == entry.task), key=lambda r: r.example_id)
    if not any(entry.component in r.scores for r in task_rows):
        return False, "samples.jsonl has no per-example scores for it either"
    component = Component.mean(entry.component, [r.scores.get(entry.component) for r in task_rows])
    if not same_number(entry.score, component.corpus_score()):
        return False, "and it is not the mean of its per-example scores (a corpus metric?), so it is unchecked"
    interval = bootstrap_interval(component, seed=results.bootstrap.seed, resamples=results.bootstrap.resamples)
    if entry.n != interval.n:
        return True, f"n {entry.n}, but samples.jsonl has {interval.n} per-example scores"
    for label, recorded, recomputed in (("ci_low", entry.ci_low, interval.low), ("ci_high", entry.ci_high, interval.high)):
        if not same_number(recorded, recomputed):
            return True, f"{label} {recorded!r}, but the bootstrap of its per-example scores gives {recomputed!r}"
    return False, "score and CI agree with its per-example scores in samples.jsonl (the metric itself was not re-run)"


def _result_counts(counts: dict | None) -> dict:
    """The counts that describe the result, without how much the cache held (CACHE_STATE_COUNTS)."""
    return {k: v for k, v in (counts or {}).items() if k not in CACHE_STATE_COUNTS}


def _compare_entry(i: int, recorded: ScoreEntry, recomputed: ScoreEntry, report: ValidationReport,
                   tolerance: float = 0.0) -> bool:
    ok = True
    for label in ("score", "ci_low", "ci_high"):
        a, b = getattr(recorded, label), getattr(recomputed, label)
        if not same_number(a, b, tolerance):
            report.problem(f"scores[{i}].{label}", f"{_describe(recorded)}: recorded {a!r}, "
                           f"recomputed from samples.jsonl {b!r}")
            ok = False
    if recorded.n != recomputed.n:
        report.problem(f"scores[{i}].n", f"{_describe(recorded)}: recorded {recorded.n}, recomputed {recomputed.n}")
        ok = False
    if recorded.higher_is_better != recomputed.higher_is_better:
        report.problem(f"scores[{i}].higher_is_better",
                       f"{_describe(recorded)}: recorded {recorded.higher_is_better}, the metric says {recomputed.higher_is_better}")
        ok = False
    if _result_counts(recorded.counts) != _result_counts(recomputed.counts):
        report.problem(f"scores[{i}].counts", f"{_describe(recorded)}: recorded {recorded.counts}, recomputed {recomputed.counts}")
        ok = False
    return ok


def _check_per_example(recorded_rows, lines, recomputed_rows, components: set[str], name: str,
                       report: ValidationReport, tolerances: dict[str, float] | None = None) -> None:
    wrong = []
    tolerances = tolerances or {}
    for row, line, fresh in zip(recorded_rows, lines, recomputed_rows):
        for component in sorted(components & set(fresh.scores)):
            a, b = row.scores.get(component, "missing"), fresh.scores[component]
            same = (a is None and b is None) or (
                isinstance(a, (int, float)) and b is not None
                and same_number(float(a), b, tolerances.get(component, 0.0)))
            if not same:
                wrong.append(Finding(f"{name}:{line}", f"scores.{component} recorded {a!r}, recomputed {b!r} "
                                     f"({row.task}, example {row.example_id})"))
    _add_capped(report, wrong)


def recompute_scores(
    results: RunResults,
    rows: list[SampleRow],
    report: ValidationReport,
    *,
    lines: list[int] | None = None,
    records: list[RebuildSpec] | None = None,
    examples_by_id: dict | None = None,
    samples_name: str = "samples.jsonl",
) -> None:
    """Recompute every score of `results` from `rows`; record problems and gaps in `report`."""
    from regen_bench.results.scoring import score_rows

    lines = lines or list(range(1, len(rows) + 1))
    from_file = records is None and bool(getattr(results, "metrics", None))
    records = records if records is not None else rebuild_specs(results)
    report.scores_total = len(results.scores)
    seed, resamples = results.bootstrap.seed, results.bootstrap.resamples
    ci_checkable = math.isclose(results.bootstrap.confidence, SCORE_CONFIDENCE)

    fresh = _fresh_rows(rows)
    by_name: dict[str, list[RebuildSpec]] = defaultdict(list)
    for record in records:
        by_name[record.name].append(record)
    recomputed: dict[tuple, ScoreEntry] = {}  # (task, metric, component, signature) -> entry
    blocked: dict[str, str] = {}  # metric name -> why its scores were not recomputed
    defaults_used: set[str] = set()
    components_checked: set[str] = set()
    tolerance_of_metric: dict[str, float] = {}
    tolerance_of_component: dict[str, float] = {}
    for record in records:
        metric, why = build_metric(record)
        if metric is None:
            blocked.setdefault(record.name, why)
            continue
        tolerance_of_metric[record.name] = float(getattr(metric, "recompute_tolerance", 0.0) or 0.0)
        try:
            entries = score_rows(fresh, [metric], seed=seed, resamples=resamples, examples_by_id=examples_by_id)
        except Exception as exc:
            blocked.setdefault(record.name, f"re-running {record.name!r} failed: {type(exc).__name__}: {exc}")
            continue
        if not record.recorded:
            defaults_used.add(record.name)
        for entry in entries:
            recomputed[(entry.task, entry.metric, entry.component, entry.signature)] = entry
            tolerance_of_component[entry.component] = tolerance_of_metric[record.name]

    matched: set[tuple] = set()
    matching = 0
    metrics_reproduced: set[str] = set()
    for i, entry in enumerate(results.scores):
        key = (entry.task, entry.metric, entry.component, entry.signature)
        where = f"scores[{i}]"
        if from_file and entry.metric not in by_name:
            report.problem(f"{where}.metric", f"{entry.metric!r} has no entry in `metrics`: how it was configured "
                           "is not recorded")
            continue
        if key not in recomputed and from_file and entry.signature not in {r.signature for r in by_name[entry.metric]}:
            # Not reproduced, and not what `metrics` says the metric was: an edited signature.
            report.problem(f"{where}.signature", f"{_describe(entry)}: {entry.signature!r} is neither reproduced "
                           f"nor the signature recorded for metric {entry.metric!r} in `metrics`")
            continue
        if entry.metric in blocked:
            problem, detail = _mean_fallback(entry, rows, results)
            if problem:
                report.problem(where, f"{_describe(entry)}: {detail}")
            else:
                report.unverified(where, f"{_describe(entry)}: {blocked[entry.metric]}; {detail}")
            continue
        if key in recomputed:
            matched.add(key)
            metrics_reproduced.add(entry.metric)
            if not ci_checkable:
                recomputed[key] = recomputed[key].model_copy(update={"ci_low": entry.ci_low, "ci_high": entry.ci_high})
                report.unverified(where, f"{_describe(entry)}: CI at confidence {results.bootstrap.confidence} "
                                  f"not recomputed (the harness computes {SCORE_CONFIDENCE})")
            report.scores_recomputed += 1
            matching += _compare_entry(i, entry, recomputed[key], report, tolerance_of_metric.get(entry.metric, 0.0))
            components_checked.add(entry.component)
            continue
        same_component = [e for k, e in recomputed.items() if k[:3] == key[:3]]
        if same_component or entry.metric in defaults_used:
            got = same_component[0].signature if same_component else "other components"
            if entry.metric in defaults_used:
                why = ("cannot recompute: metric options not recorded, and the metric's default options give "
                       f"{got!r}, not the recorded signature (non-default options, or another version of the metric)")
            else:
                why = (f"cannot recompute: the recorded options give signature {got!r}, not the recorded one "
                       "(another version of the metric or of a library it names?)")
            problem, detail = _mean_fallback(entry, rows, results)
            if problem:
                report.problem(where, f"{_describe(entry)}: {detail}")
            else:
                report.unverified(where, f"{_describe(entry)}: {why}; {detail}")
            continue
        report.problem(where, f"{_describe(entry)}: re-running metric {entry.metric!r} gives no such score")

    if from_file:
        scored = {s.metric for s in results.scores}
        for j, record in enumerate(records):
            if record.name not in scored:
                report.problem(f"metrics[{j}]", f"metric {record.name!r} has no scores in the file")
    # A score the samples give but the file lacks was dropped (for metrics whose settings were reproduced).
    for key, entry in sorted(recomputed.items()):
        if key not in matched and entry.metric in metrics_reproduced and key[3] in {
            s.signature for s in results.scores if s.metric == entry.metric
        }:
            report.problem("scores", f"missing {_describe(entry)} ({entry.signature}), which samples.jsonl gives: "
                           "a score was removed from the file")
    _check_per_example(rows, lines, fresh, components_checked, samples_name, report, tolerance_of_component)
    if report.scores_recomputed:
        report.checked.append(
            f"{report.scores_recomputed}/{report.scores_total} scores and 95% CIs recomputed from {samples_name} "
            f"(bootstrap seed {seed}, {resamples} resamples), {matching} matching within {REL_TOL:g} relative"
            + "".join(f"; {name} within {tol:g} absolute (its recompute_tolerance)"
                      for name, tol in sorted(tolerance_of_metric.items()) if tol > 0)
        )
    if components_checked:
        report.checked.append(f"per-example scores in {samples_name} recomputed: {', '.join(sorted(components_checked))}")


def validate_results(path: str | Path, *, with_dataset: bool = False) -> ValidationReport:
    """Check a results.json and the samples.jsonl beside it; see the module docstring.

    with_dataset: also load the run's dataset (regenerated for `synthetic`, or the local
    file / Kaggle download) so metrics that read histories can be re-run, and check each
    sample's reference against it. Raises ResultsFileError when the file can't be read.
    """
    path = Path(path)
    report = ValidationReport(path=path)
    results = _read_results(path, report)
    if results is None:
        return report
    report.results = results
    report.scores_total = len(results.scores)
    _check_structure(results, report)
    samples = _check_samples(results, path, report)
    if samples is None:
        report.unverified("scores", "no score recomputed: samples.jsonl is missing or unreadable")
        return report
    samples_path, rows, lines = samples
    examples_by_id = None
    if with_dataset:
        from regen_bench.results.rescoring import examples_for_results

        examples_by_id, note = examples_for_results(results)
        if note:
            report.unverified("dataset", note)
        else:
            _check_references(examples_by_id, rows, lines, samples_path.name, report)
    recompute_scores(results, rows, report, lines=lines, examples_by_id=examples_by_id,
                     samples_name=samples_path.name)
    return report
