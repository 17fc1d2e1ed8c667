"""Is a results file what a run produced? `validate_results(path) -> ValidationReport`.

A leaderboard cell is trusted because it can be recomputed. This module checks a
`results.json` against the schema, checks that its `samples.jsonl` is the one the run
wrote (sha256), and recomputes every score and bootstrap interval from the samples with
the recorded bootstrap seed and resamples. A number that differs from its
recomputation by more than 1e-9 (relative) rejects the file.

Some scores cannot be recomputed here: the metric calls a paid API (an LLM judge: it
says so, `Metric.calls_paid_api()`), its plugin is not installed, or the run used
non-default metric options that the results file does not record. Those are listed as *not recomputed*, with the reason, never
passed silently; for mean metrics the score and interval are still checked against
the per-example scores in samples.jsonl.

Metric options: each metric is rebuilt from `results.metrics` (name, options, version,
signature, as the runner records them; `regen_bench.results.rebuild`). A file without
that list (written before it existed) gets each metric rebuilt with its default options,
and a score is recomputed only when the rebuilt metric reproduces the recorded signature.

The recomputation runs as steps: read (results, samples), check the structure, re-score
the samples with the rebuilt metrics (`rescore_samples`), then judge every recorded
score against what came out (`recompute_scores`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regen_bench.contracts.metric import CACHE_STATE_COUNTS, Component
from regen_bench.results.loader import (
    SamplesChangedError,
    SamplesLocationError,
    check_samples_sha256,
    samples_file,
)
from regen_bench.results.provenance import check_provenance
from regen_bench.results.rebuild import RebuildSpec, build_metric, rebuild_specs
from regen_bench.results.schema import (
    SCHEMA_VERSION,
    ResultsFileError,
    ResultsFormatError,
    RunResults,
    SampleRow,
    SamplesFileError,
    ScoreEntry,
    parse_results,
    read_results_json,
    read_sample_lines,
)
from regen_bench.results.scoring import SCORE_CONFIDENCE, score_rows
from regen_bench.stats.bootstrap import bootstrap_interval
from regen_bench.stats.tolerance import REL_TOL, same_number

__all__ = ["ResultsFileError", "ValidationReport", "recompute_scores", "rescore_samples", "validate_results"]

MAX_LISTED = 8  # per-example mismatches listed before "and N more"


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
    unconfirmed: list[Finding] = field(default_factory=list)  # provenance not verifiable here: fails, said so
    not_recomputed: list[Finding] = field(default_factory=list)  # accepted, but say so
    checked: list[str] = field(default_factory=list)  # what was verified
    results: RunResults | None = None
    scores_recomputed: int = 0
    scores_total: int = 0
    scores_failed: int = 0  # entries the run recorded as failed metrics
    provenance: str = ""  # what became of each recorded hash (ProvenanceCheck.summary)
    missing: str | None = None  # a file the validation needs is not there (the CLI exits 2)

    @property
    def ok(self) -> bool:
        """No problem found, and every recorded hash confirmed. Scores that could not be
        recomputed are in `not_recomputed` (accepted unless --strict)."""
        return not self.problems and not self.unconfirmed

    @property
    def fully_verified(self) -> bool:
        return self.ok and not self.not_recomputed

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Finding(where, message))

    def unverified(self, where: str, message: str) -> None:
        self.not_recomputed.append(Finding(where, message))

    def verdict(self, strict: bool = False) -> str:
        """One line: the outcome, what was recomputed and confirmed, and what was not."""
        scores = f"{self.scores_recomputed}/{self.scores_total} scores recomputed"
        if self.problems:
            verdict = f"REJECTED: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}; {scores}"
        elif self.unconfirmed:
            verdict = (f"NOT VERIFIED: {', '.join(f.where for f in self.unconfirmed)} could not be confirmed "
                       f"here; {scores}")
        elif self.not_recomputed:
            head = "REJECTED (--strict):" if strict else "ACCEPTED, but"
            verdict = (f"{head} {len(self.not_recomputed)} score(s) NOT RECOMPUTED "
                       f"({self.scores_recomputed}/{self.scores_total} recomputed)")
        else:
            verdict = f"OK: all {self.scores_total} scores recomputed from samples.jsonl"
        if self.scores_failed:
            verdict += f"; {self.scores_failed} recorded as failed metrics"
        return verdict + (f"; {self.provenance}" if self.provenance else "")

    def format(self, strict: bool = False) -> str:
        lines = [f"{self.path}: {self.verdict(strict)}"]
        for title, findings in (("problems:", self.problems), ("not verified:", self.unconfirmed),
                                ("not recomputed:", self.not_recomputed)):
            if findings:
                lines.append(title)
                lines += [f"  - {p}" for p in findings]
        if self.checked:
            lines.append("checked:")
            lines += [f"  - {c}" for c in self.checked]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path), "ok": self.ok, "fully_verified": self.fully_verified,
            "verdict": self.verdict(),
            "problems": [vars(p) for p in self.problems],
            "not_verified": [vars(p) for p in self.unconfirmed],
            "not_recomputed": [vars(p) for p in self.not_recomputed],
            "checked": list(self.checked),
            "scores_recomputed": self.scores_recomputed, "scores_total": self.scores_total,
            "scores_failed": self.scores_failed, "provenance": self.provenance, "missing": self.missing,
        }


def _describe(entry: ScoreEntry) -> str:
    return f"{entry.task} {entry.metric}/{entry.component}"


def _key(entry: ScoreEntry) -> tuple[str, str, str, str]:
    return (entry.task, entry.metric, entry.component, entry.signature)


# --- reading -----------------------------------------------------------------------------

def _read_results(path: Path, report: ValidationReport) -> RunResults | None:
    """The results, or None with every reason it is not a results file in `report`.
    ResultsFileError (the file can't be read at all) is raised."""
    try:
        results = parse_results(read_results_json(path), path)
    except ResultsFormatError as exc:
        for where, what in exc.problems:
            report.problem(where, what)
        return None
    report.checked.append(f"schema: RunResults (schema_version {results.schema_version})")
    return results


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


def _check_samples(results: RunResults, results_path: Path, report: ValidationReport):
    """The samples file beside results.json: present, the recorded bytes, consistent rows."""
    name = results.samples.file
    try:
        path = samples_file(results_path, results)
    except SamplesLocationError as exc:
        report.problem("samples.file", str(exc))
        return None
    if not path.is_file():
        report.missing = f"{path}: no such file ({results_path.name} names it as its samples); put the run's own {name} beside it"
        report.problem("samples.file", f"{name} not found beside {results_path.name} (looked for {path})")
        return None
    try:
        actual = check_samples_sha256(path, results_path, results)
        report.checked.append(f"{name}: sha256 matches ({actual[:16]}...)")
    except SamplesChangedError as exc:
        report.problem("samples.sha256", f"{name} has sha256 {exc.actual}, but results.json records "
                       f"{exc.recorded}: the samples were changed after the run")
    try:
        rows, lines = read_sample_lines(path)
    except SamplesFileError as exc:
        report.problem(exc.where, exc.what)
        return None
    _check_sample_rows(results, rows, lines, name, report)
    return path, rows, lines


def _check_sample_rows(results: RunResults, rows: list[SampleRow], lines: list[int], name: str,
                       report: ValidationReport) -> None:
    """One row per task and example, for the run's tasks, as many as results.json says."""
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


def _check_references(examples_by_id: dict, rows, lines, name: str, report: ValidationReport) -> None:
    wrong = []
    for row, line in zip(rows, lines):
        example = examples_by_id.get(row.example_id)
        if example is None:
            wrong.append(Finding(f"{name}:{line}", f"example {row.example_id!r} is not in the dataset"))
            continue
        if row.reference != example.reference(row.task):
            wrong.append(Finding(f"{name}:{line}", f"reference for {row.task!r} differs from the dataset's"))
    _add_capped(report, wrong)
    if not wrong:
        report.checked.append(f"{name}: every reference matches the dataset")


def _add_capped(report: ValidationReport, findings: list[Finding]) -> None:
    report.problems.extend(findings[:MAX_LISTED])
    if len(findings) > MAX_LISTED:
        report.problem("...", f"and {len(findings) - MAX_LISTED} more like these")


# --- recomputation --------------------------------------------------------------------------

def _fresh_rows(rows: list[SampleRow]) -> list[SampleRow]:
    return [SampleRow(task=r.task, example_id=r.example_id, user_id=r.user_id,
                      prediction=r.prediction, reference=r.reference) for r in rows]


@dataclass
class Rescored:
    """What re-running the rebuilt metrics on the samples gave."""

    rows: list[SampleRow]  # the samples without their scores, scored again
    entries: dict[tuple, ScoreEntry] = field(default_factory=dict)  # by (task, metric, component, signature)
    blocked: dict[str, str] = field(default_factory=dict)  # metric name -> why its scores were not recomputed
    defaults_used: set[str] = field(default_factory=set)  # metrics rebuilt with default options
    metric_tolerance: dict[str, float] = field(default_factory=dict)  # Metric.recompute_tolerance
    component_tolerance: dict[str, float] = field(default_factory=dict)


def rescore_samples(results: RunResults, rows: list[SampleRow], specs: list[RebuildSpec],
                    examples_by_id: dict | None = None) -> Rescored:
    """Rebuild every metric in `specs` and score fresh copies of `rows` with it, as the run did."""
    rescored = Rescored(rows=_fresh_rows(rows))
    seed, resamples = results.bootstrap.seed, results.bootstrap.resamples
    for spec in specs:
        metric, why = build_metric(spec)
        if metric is None:
            rescored.blocked.setdefault(spec.name, why)
            continue
        rescored.metric_tolerance[spec.name] = float(metric.recompute_tolerance)
        try:
            entries = score_rows(rescored.rows, [metric], seed=seed, resamples=resamples, examples_by_id=examples_by_id)
        except Exception as exc:  # noqa: BLE001 - a metric that fails here leaves its scores unchecked, said why
            rescored.blocked.setdefault(spec.name, f"re-running {spec.name!r} failed: {type(exc).__name__}: {exc}")
            continue
        if not spec.recorded:
            rescored.defaults_used.add(spec.name)
        for entry in entries:
            rescored.entries[_key(entry)] = entry
            rescored.component_tolerance[entry.component] = rescored.metric_tolerance[spec.name]
    return rescored


@dataclass
class _Recheck:
    """One results file's scores against their recomputation: the inputs of every judging step."""

    results: RunResults
    rows: list[SampleRow]
    specs: list[RebuildSpec]
    from_file: bool  # the specs are the file's own `metrics`
    rescored: Rescored
    report: ValidationReport

    @property
    def ci_checkable(self) -> bool:
        return math.isclose(self.results.bootstrap.confidence, SCORE_CONFIDENCE)


@dataclass
class Judged:
    """What judging the recorded scores found reproduced."""

    matched: set[tuple] = field(default_factory=set)  # keys of recorded scores that were recomputed
    matching: int = 0  # of those, how many agree
    metrics_reproduced: set[str] = field(default_factory=set)
    components_checked: set[str] = field(default_factory=set)


def _mean_fallback(entry: ScoreEntry, rows: list[SampleRow], results: RunResults) -> tuple[bool, str]:
    """Check a score that wasn't recomputed against its per-example scores in samples.jsonl.

    (problem?, message). Only mean metrics can be checked this way: when the recorded
    score is the mean of the per-example scores, the interval must be their bootstrap.
    """
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


def _report_not_recomputed(where: str, entry: ScoreEntry, reason: str, check: _Recheck) -> None:
    """A score the metric could not re-run: unverified with the reason, unless its per-example scores refute it."""
    problem, detail = _mean_fallback(entry, check.rows, check.results)
    if problem:
        check.report.problem(where, f"{_describe(entry)}: {detail}")
    else:
        check.report.unverified(where, f"{_describe(entry)}: {reason}; {detail}")


def _result_counts(counts: dict | None) -> dict:
    """The counts that describe the result, without how much the cache held (CACHE_STATE_COUNTS)."""
    return {k: v for k, v in (counts or {}).items() if k not in CACHE_STATE_COUNTS}


def _same(recorded: float | None, recomputed: float | None, tolerance: float = 0.0) -> bool:
    if recorded is None or recomputed is None:
        return recorded is None and recomputed is None
    return same_number(recorded, recomputed, tolerance)


def _compare_entry(i: int, recorded: ScoreEntry, recomputed: ScoreEntry, report: ValidationReport,
                   tolerance: float = 0.0) -> bool:
    ok = True
    if _is_failed(recomputed) and not _is_failed(recorded):
        report.problem(f"scores[{i}]", f"{_describe(recorded)}: recorded score {recorded.score!r} on n={recorded.n}, "
                       f"but re-running the metric on samples.jsonl scores nothing "
                       f"({getattr(recomputed, 'reason', None) or 'n=0'})")
        return False
    for label in ("score", "ci_low", "ci_high"):
        a, b = getattr(recorded, label), getattr(recomputed, label)
        if not _same(a, b, tolerance):
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


def _unrecorded_problem(i: int, entry: ScoreEntry, check: _Recheck) -> tuple[str, str] | None:
    """With the file's own `metrics`: a score whose metric or signature that list does not back."""
    if not check.from_file:
        return None
    specs = [spec for spec in check.specs if spec.name == entry.metric]
    if not specs:
        return (f"scores[{i}].metric",
                f"{entry.metric!r} has no entry in `metrics`: how it was configured is not recorded")
    if _key(entry) not in check.rescored.entries and entry.signature not in {spec.signature for spec in specs}:
        # Not reproduced, and not what `metrics` says the metric was: an edited signature.
        return (f"scores[{i}].signature", f"{_describe(entry)}: {entry.signature!r} is neither reproduced "
                f"nor the signature recorded for metric {entry.metric!r} in `metrics`")
    return None


def _judge_recomputed(i: int, entry: ScoreEntry, check: _Recheck, judged: Judged) -> None:
    """A recorded score that the rebuilt metric gives again: it must be the same numbers."""
    key, report = _key(entry), check.report
    recomputed = check.rescored.entries[key]
    judged.matched.add(key)
    judged.metrics_reproduced.add(entry.metric)
    if not check.ci_checkable:
        recomputed = recomputed.model_copy(update={"ci_low": entry.ci_low, "ci_high": entry.ci_high})
        report.unverified(f"scores[{i}]", f"{_describe(entry)}: CI at confidence {check.results.bootstrap.confidence} "
                          f"not recomputed (the harness computes {SCORE_CONFIDENCE})")
    report.scores_recomputed += 1
    tolerance = check.rescored.metric_tolerance.get(entry.metric, 0.0)
    judged.matching += _compare_entry(i, entry, recomputed, report, tolerance)
    judged.components_checked.add(entry.component)


def _signature_not_reproduced(entry: ScoreEntry, rescored: Rescored) -> str | None:
    """Why the rebuilt metric gave other signatures than the recorded one (None: it gave nothing for it)."""
    same_component = [e for k, e in rescored.entries.items() if k[:3] == _key(entry)[:3]]
    if not same_component and entry.metric not in rescored.defaults_used:
        return None
    got = same_component[0].signature if same_component else "other components"
    if entry.metric in rescored.defaults_used:
        return ("cannot recompute: metric options not recorded, and the metric's default options give "
                f"{got!r}, not the recorded signature (non-default options, or another version of the metric)")
    return (f"cannot recompute: the recorded options give signature {got!r}, not the recorded one "
            "(another version of the metric or of a library it names?)")


def _is_failed(entry: ScoreEntry) -> bool:
    """A component that scored nothing: recorded `status: failed`, or (before that field) n=0."""
    return getattr(entry, "status", "ok") == "failed" or entry.n == 0


def _judge_failed(i: int, entry: ScoreEntry, check: _Recheck, judged: Judged) -> None:
    """A score the run recorded as a failed metric: it must have scored nothing, and fail again when re-run."""
    where, report, rescored, key = f"scores[{i}]", check.report, check.rescored, _key(entry)
    report.scores_failed += 1
    recorded_as = f"{_describe(entry)}: recorded as failed ({entry.reason or 'no reason recorded'})"
    numbers = (entry.score, entry.ci_low, entry.ci_high)
    if any(v is not None for v in numbers) or entry.n != 0:
        report.problem(where, f"{recorded_as}, but it has numbers (score {entry.score!r}, n {entry.n}): "
                       "a failed metric scores nothing")
        return
    scored = sum(1 for r in check.rows if r.task == entry.task and r.scores.get(entry.component) is not None)
    if scored:
        report.problem(where, f"{recorded_as}, but samples.jsonl has {scored} per-example scores for it")
    elif entry.metric in rescored.blocked:
        report.unverified(where, f"{recorded_as}; the failure is unverified: {rescored.blocked[entry.metric]}")
    elif key in rescored.entries:
        again = rescored.entries[key]
        judged.matched.add(key)
        judged.metrics_reproduced.add(entry.metric)
        if not _is_failed(again):
            report.problem(where, f"{recorded_as}, but re-running {entry.metric!r} on samples.jsonl scores it: "
                           f"{again.score!r} on n={again.n}")
        elif _result_counts(entry.counts) != _result_counts(again.counts):
            report.problem(f"{where}.counts", f"{recorded_as}: counts {entry.counts}, re-running gives {again.counts}")
        else:
            report.scores_recomputed += 1
            judged.matching += 1
            report.checked.append(f"{where}: {recorded_as}; re-running {entry.metric!r} fails the same way (n=0)")
    elif why := _signature_not_reproduced(entry, rescored):
        report.unverified(where, f"{recorded_as}; the failure is unverified: {why}")
    else:
        report.problem(where, f"{recorded_as}, but re-running metric {entry.metric!r} gives no such score")


def _judge_entry(i: int, entry: ScoreEntry, check: _Recheck, judged: Judged) -> None:
    """Judge one recorded score: recomputed and equal, not recomputable (and why), or a problem."""
    where, rescored = f"scores[{i}]", check.rescored
    problem = _unrecorded_problem(i, entry, check)
    if problem:
        check.report.problem(*problem)
    elif getattr(entry, "status", "ok") == "failed":
        _judge_failed(i, entry, check, judged)
    elif None in (entry.score, entry.ci_low, entry.ci_high):
        check.report.problem(where, f"{_describe(entry)}: score or CI is null, but the entry is not recorded as "
                             "failed (status 'failed' with a reason)")
    elif entry.metric in rescored.blocked:
        _report_not_recomputed(where, entry, rescored.blocked[entry.metric], check)
    elif _key(entry) in rescored.entries:
        _judge_recomputed(i, entry, check, judged)
    elif why := _signature_not_reproduced(entry, rescored):
        _report_not_recomputed(where, entry, why, check)
    else:
        check.report.problem(where, f"{_describe(entry)}: re-running metric {entry.metric!r} gives no such score")


def _check_nothing_missing(check: _Recheck, judged: Judged) -> None:
    """Every recorded metric has scores, and no score the samples give was dropped from the file."""
    results, report = check.results, check.report
    if check.from_file:
        scored = {s.metric for s in results.scores}
        for j, spec in enumerate(check.specs):
            if spec.name not in scored:
                report.problem(f"metrics[{j}]", f"metric {spec.name!r} has no scores in the file")
    # A score the samples give but the file lacks was dropped (for metrics whose settings were reproduced).
    for key, entry in sorted(check.rescored.entries.items()):
        if key not in judged.matched and entry.metric in judged.metrics_reproduced and key[3] in {
            s.signature for s in results.scores if s.metric == entry.metric
        }:
            report.problem("scores", f"missing {_describe(entry)} ({entry.signature}), which samples.jsonl gives: "
                           "a score was removed from the file")


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


def _summarize(check: _Recheck, judged: Judged, samples_name: str) -> None:
    report, bootstrap = check.report, check.results.bootstrap
    if report.scores_recomputed:
        report.checked.append(
            f"{report.scores_recomputed}/{report.scores_total} scores and 95% CIs recomputed from {samples_name} "
            f"(bootstrap seed {bootstrap.seed}, {bootstrap.resamples} resamples), {judged.matching} matching "
            f"within {REL_TOL:g} relative"
            + "".join(f"; {name} within {tol:g} absolute (its recompute_tolerance)"
                      for name, tol in sorted(check.rescored.metric_tolerance.items()) if tol > 0)
        )
    if judged.components_checked:
        report.checked.append(
            f"per-example scores in {samples_name} recomputed: {', '.join(sorted(judged.components_checked))}")


def recompute_scores(
    results: RunResults,
    rows: list[SampleRow],
    report: ValidationReport,
    *,
    lines: list[int] | None = None,
    specs: list[RebuildSpec] | None = None,
    examples_by_id: dict | None = None,
    samples_name: str = "samples.jsonl",
) -> None:
    """Recompute every score of `results` from `rows`; record problems and gaps in `report`.

    `specs`: the metrics to rebuild (default: the file's own `metrics`, else defaults by name).
    """
    from_file = specs is None and bool(results.metrics)
    specs = specs if specs is not None else rebuild_specs(results)
    report.scores_total = len(results.scores)
    check = _Recheck(results, rows, specs, from_file, rescore_samples(results, rows, specs, examples_by_id), report)
    judged = Judged()
    for i, entry in enumerate(results.scores):
        _judge_entry(i, entry, check, judged)
    _check_nothing_missing(check, judged)
    _check_per_example(rows, lines or list(range(1, len(rows) + 1)), check.rescored.rows, judged.components_checked,
                       samples_name, report, check.rescored.component_tolerance)
    _summarize(check, judged, samples_name)


def _check_provenance(results: RunResults, samples, report: ValidationReport, with_dataset: bool) -> dict | None:
    """The recorded hashes, confirmed as far as they can be here (results/provenance.py); the
    dataset's examples when `with_dataset` loaded them."""
    rows, lines, name = (samples[1], samples[2], samples[0].name) if samples else (None, None, "samples.jsonl")
    check = check_provenance(results, rows, lines, with_dataset=with_dataset, samples_name=name)
    for where, what in check.problems:
        report.problem(where, what)
    report.unconfirmed += [Finding(where, what) for where, what in check.unverified]
    report.checked += check.checked
    report.provenance = check.summary()
    return check.examples_by_id


def validate_results(path: str | Path, *, with_dataset: bool = False) -> ValidationReport:
    """Check a results.json and the samples.jsonl beside it; see the module docstring.

    The recorded hashes are confirmed as results/provenance.py says (the dataset's sha256
    from its file, found here without downloading). with_dataset: also load the run's
    dataset, recompute its split hash, check each sample's reference against it, and give
    metrics that read histories their examples. Raises ResultsFileError when the file
    can't be read, and when its samples.jsonl is missing.
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
    examples_by_id = _check_provenance(results, samples, report, with_dataset)
    if samples is None:
        report.unverified("scores", "no score recomputed: samples.jsonl is missing or unreadable")
        return report
    samples_path, rows, lines = samples
    if with_dataset and examples_by_id is None:
        report.unverified("dataset", "references not checked and metrics see no histories: the run's dataset "
                          "was not confirmed here")
    elif with_dataset:
        _check_references(examples_by_id, rows, lines, samples_path.name, report)
    recompute_scores(results, rows, report, lines=lines, examples_by_id=examples_by_id,
                     samples_name=samples_path.name)
    return report
