"""Compare two runs, paired: `compare_runs(run_a, run_b, seed=, resamples=)`.

For every task and metric component both runs report with the same signature, the
runs are joined on `example_id` (from their samples.jsonl) and only examples that both
scored (a non-null per-example value in both) take part. The difference B - A gets a
paired bootstrap CI and p-value (`regen_bench.stats.significance`): the same resampled
examples for both runs, so the test sees the per-example pairing, which makes it much
more sensitive than two overlapping CIs.

- mean components (the recorded score is the mean of the per-example scores: ROUGE,
  semsim, Recall@k, an LLM judge): the per-example differences are bootstrapped.
- corpus components (BLEU, distinct-n): the metric is rebuilt from the run's recorded
  options, both runs' shared examples are re-scored, and the components' sufficient
  statistics are resampled together. If the metric can't be rebuilt here, the
  per-example scores stand in (for BLEU: sentence BLEU), and the row says so.

Runs on different data (dataset sha256, split or split hash) are refused unless
`force=True`: their examples are not the same test set.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.results.schema import RunResults, SampleRow, ScoreEntry

ALPHA = 0.05
METHOD_MEAN = "paired-mean"
METHOD_CORPUS = "paired-corpus"
METHOD_APPROX = "paired-mean (approximate: corpus metric not recomputed)"


@dataclass
class LoadedRun:
    path: Path  # results.json
    results: RunResults
    rows: list[SampleRow]

    @property
    def label(self) -> str:
        return f"{self.results.model.name} ({self.results.run_id})"


@dataclass
class CompareRow:
    task: str
    metric: str
    component: str
    signature: str
    higher_is_better: bool
    n: int  # examples both runs scored
    mean_a: float  # A's score on those examples (corpus score for corpus metrics)
    mean_b: float
    diff: float  # B - A
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    score_a: float  # the scores as recorded in each results file (all of each run's examples)
    score_b: float
    note: str = ""

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    @property
    def verdict(self) -> str:
        if not self.significant or self.diff == 0:
            return "n.s."
        b_better = self.diff > 0 if self.higher_is_better else self.diff < 0
        return "B better" if b_better else "A better"

    def as_dict(self) -> dict:
        return {**asdict(self), "significant": self.significant, "verdict": self.verdict}


@dataclass
class Comparison:
    """The rows of a comparison (iterable like a list) and what was left out, and why."""

    run_a: LoadedRun
    run_b: LoadedRun
    seed: int
    resamples: int
    rows: list[CompareRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):
        return self.rows[index]

    def title(self) -> str:
        dataset = self.run_a.results.dataset
        label = " [SYNTHETIC DATA]" if dataset.synthetic else ""
        return (f"A = {self.run_a.label}\nB = {self.run_b.label}\n"
                f"on {dataset.name}{label}, split {dataset.split}; paired bootstrap of B - A on shared examples, "
                f"{self.resamples} resamples, seed {self.seed}; p < {ALPHA} is significant")

    def as_dict(self) -> dict:
        return {
            "run_a": {"path": str(self.run_a.path), "run_id": self.run_a.results.run_id,
                      "model": self.run_a.results.model.name},
            "run_b": {"path": str(self.run_b.path), "run_id": self.run_b.results.run_id,
                      "model": self.run_b.results.model.name},
            "dataset": {"name": self.run_a.results.dataset.name, "synthetic": self.run_a.results.dataset.synthetic},
            "seed": self.seed, "resamples": self.resamples, "alpha": ALPHA,
            "rows": [row.as_dict() for row in self.rows], "notes": list(self.notes),
        }


def load_run(path: str | Path) -> LoadedRun:
    """A run directory (or its results.json) with its samples, whose sha256 must match."""
    from pydantic import ValidationError

    from regen_bench.util.hashing import sha256_file
    from regen_bench.results.schema import read_samples

    path = Path(path)
    results_path = path / "results.json" if path.is_dir() else path
    if not results_path.is_file():
        raise RegenBenchError(f"{results_path}: no such results file (give a run directory or its results.json)")
    try:
        results = RunResults.model_validate_json(results_path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        raise RegenBenchError(f"{results_path}: not a valid results file; run `regen-bench leaderboard validate "
                              f"{results_path}` to see why ({str(exc).splitlines()[0]})") from None
    samples_path = results_path.parent / results.samples.file
    if not samples_path.is_file():
        raise RegenBenchError(f"{samples_path}: missing; a paired comparison needs each run's per-example scores")
    if sha256_file(samples_path) != results.samples.sha256:
        raise RegenBenchError(f"{samples_path}: sha256 differs from the one {results_path.name} records: the "
                              "samples were changed after the run")
    return LoadedRun(results_path, results, read_samples(samples_path))


def _same_data(a: RunResults, b: RunResults) -> list[str]:
    """What differs between the two runs' test sets (empty: the same)."""
    da, db = a.dataset, b.dataset
    out = []
    if da.sha256 != db.sha256:
        out.append(f"dataset sha256 {da.sha256[:12]} ({da.name}) vs {db.sha256[:12]} ({db.name})")
    if da.split != db.split:
        out.append(f"split {da.split!r} vs {db.split!r}")
    if da.split_hash != db.split_hash:
        out.append(f"split hash {da.split_hash[:12]} vs {db.split_hash[:12]}")
    return out


def _values(rows: list[SampleRow], task: str, component: str) -> dict[str, float]:
    out = {}
    for row in rows:
        if row.task == task:
            value = row.scores.get(component)
            if value is not None and math.isfinite(value):
                out[row.example_id] = float(value)
    return out


def _is_mean(values: dict[str, float], entry: ScoreEntry) -> bool:
    from regen_bench.results.validate import same_number

    if not values or len(values) != entry.n:
        return False
    ordered = [values[k] for k in sorted(values)]
    return same_number(entry.score, math.fsum(ordered) / len(ordered))


class _Rescorer:
    """Rebuilds corpus metrics from a run's recorded options and scores subsets of its rows."""

    def __init__(self, results: RunResults):
        from regen_bench.results.validate import rebuild_specs

        self.specs = {spec.name: spec for spec in rebuild_specs(results)}
        self.metrics: dict[str, object] = {}
        self.why_not: dict[str, str] = {}

    def metric(self, name: str):
        from regen_bench.results.validate import build_metric

        if name not in self.metrics and name not in self.why_not:
            spec = self.specs.get(name)
            metric, why = build_metric(spec) if spec is not None else (None, "not recorded in the results file")
            if metric is None:
                self.why_not[name] = why
            else:
                self.metrics[name] = metric
        return self.metrics.get(name)

    def component(self, entry: ScoreEntry, rows: list[SampleRow]):
        """The metric's Component on `rows` (ordered as given), or None with the reason in why_not."""
        metric = self.metric(entry.metric)
        if metric is None:
            return None
        try:
            output = metric.score([r.prediction for r in rows], [r.reference for r in rows], [None] * len(rows))
        except Exception as exc:  # noqa: BLE001 - any failure: fall back, and say why
            self.why_not[entry.metric] = f"re-scoring failed: {type(exc).__name__}: {exc}"
            return None
        signature = output.signature or metric.signature()
        if signature != entry.signature:
            self.why_not[entry.metric] = f"rebuilt here it signs {signature!r}, not {entry.signature!r}"
            return None
        return next((c for c in output.components if c.name == entry.component), None)


def compare_runs(run_a_dir, run_b_dir, *, seed: int = 0, resamples: int = 1000, force: bool = False) -> Comparison:
    """Paired comparison of run B against run A; see the module docstring."""
    from regen_bench.stats import significance

    a, b = load_run(run_a_dir), load_run(run_b_dir)
    comparison = Comparison(a, b, seed, resamples)
    differences = _same_data(a.results, b.results)
    if differences:
        if not force:
            raise RegenBenchError(
                "the two runs were not made on the same test set: " + "; ".join(differences)
                + ". Their scores are not comparable; run both on the same dataset and split, "
                "or pass --force to compare them anyway on the example ids they share."
            )
        comparison.notes.append("compared despite different data (--force): " + "; ".join(differences))

    b_entries = {(s.task, s.metric, s.component): s for s in b.results.scores}
    rescorers = {"a": _Rescorer(a.results), "b": _Rescorer(b.results)}
    for ea in a.results.scores:
        key = (ea.task, ea.metric, ea.component)
        eb = b_entries.get(key)
        what = f"{ea.task} {ea.metric}/{ea.component}"
        if eb is None:
            comparison.notes.append(f"{what}: only in A")
            continue
        if ea.signature != eb.signature:
            comparison.notes.append(f"{what}: not compared, the signatures differ ({ea.signature!r} vs "
                                    f"{eb.signature!r}): the numbers were made differently")
            continue
        va, vb = _values(a.rows, ea.task, ea.component), _values(b.rows, eb.task, eb.component)
        shared = sorted(set(va) & set(vb))
        if len(shared) < 2:
            comparison.notes.append(f"{what}: not compared, {len(shared)} example(s) scored by both runs")
            continue
        method, note, result = METHOD_MEAN, "", None
        if _is_mean(va, ea) and _is_mean(vb, eb):
            xs, ys = [va[i] for i in shared], [vb[i] for i in shared]
            mean_a, mean_b = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
        else:
            rows_a = {r.example_id: r for r in a.rows if r.task == ea.task}
            rows_b = {r.example_id: r for r in b.rows if r.task == eb.task}
            ca = rescorers["a"].component(ea, [rows_a[i] for i in shared])
            cb = rescorers["b"].component(eb, [rows_b[i] for i in shared]) if ca is not None else None
            if ca is not None and cb is not None:
                method = METHOD_CORPUS
                result = significance.paired_bootstrap_components(cb, ca, seed=seed, resamples=resamples)
                mean_a, mean_b = ca.corpus_score(), cb.corpus_score()
            else:
                why = rescorers["a"].why_not.get(ea.metric) or rescorers["b"].why_not.get(eb.metric) or "unknown"
                method = METHOD_APPROX
                note = f"corpus metric not recomputed ({why}); tested on the per-example scores instead"
                xs, ys = [va[i] for i in shared], [vb[i] for i in shared]
                mean_a, mean_b = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
        if result is None:
            result = significance.paired_bootstrap([vb[i] for i in shared], [va[i] for i in shared],
                                                   seed=seed, resamples=resamples)
        comparison.rows.append(CompareRow(
            task=ea.task, metric=ea.metric, component=ea.component, signature=ea.signature,
            higher_is_better=ea.higher_is_better, n=len(shared), mean_a=mean_a, mean_b=mean_b,
            diff=float(result.mean_diff), ci_low=float(result.ci_low), ci_high=float(result.ci_high),
            p_value=float(result.p_value), method=method, score_a=ea.score, score_b=eb.score, note=note,
        ))
    for key in sorted(set(b_entries) - {(s.task, s.metric, s.component) for s in a.results.scores}):
        comparison.notes.append(f"{key[0]} {key[1]}/{key[2]}: only in B")
    return comparison
