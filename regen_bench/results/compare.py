"""Compare two runs, paired: `compare_runs(run_a, run_b, seed=, resamples=)`.

For every task and metric component both runs report with the same signature, the
runs are joined on `example_id` (from their samples.jsonl) and only examples that both
scored (a non-null per-example value in both) take part. The difference B - A gets a
paired bootstrap CI and p-value (`regen_bench.stats.significance`): the same resampled
examples for both runs, so the test sees the per-example pairing, which makes it much
more sensitive than two overlapping CIs. The CI and the p-value come from the same
resampled distribution (percentile; `PValueMethod.PERCENTILE`), so p < ALPHA exactly
when the 95% CI excludes 0. Every row also gets a Holm-adjusted p (family-wise, over
all the rows of this comparison): with 20 rows, about one raw p < 0.05 is expected by
chance alone when the runs do not differ at all.

- mean components (the recorded score is the mean of the per-example scores: ROUGE,
  semsim, Recall@k, an LLM judge): the per-example differences are bootstrapped.
- corpus components (BLEU, distinct-n): the metric is rebuilt from the run's recorded
  options, both runs' shared examples are re-scored, and the components' sufficient
  statistics are resampled together. If the metric can't be rebuilt here (or does not
  reproduce a run's recorded score), the per-example scores stand in (for BLEU:
  sentence BLEU), and the row says so.

The test itself is `regen_bench.results.paired`, shared with the leaderboard marks;
this module pairs up the two runs' scores and labels its methods `paired-*`.

Runs on different data (dataset sha256, split or split hash) are refused unless
`force=True`: their examples are not the same test set. A score that failed in either
run (`status: "failed"`, it scored no example) is not compared; a note says why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.pairwise import PairwiseMetric
from regen_bench.contracts.tasks import TEXT, kind_of
from regen_bench.results.loader import LoadedRun, load_run, results_file
from regen_bench.results.paired import CorpusRecomputer, PairedMethod, RebuildFrom, RunScore, compare_scores
from regen_bench.results.rescoring import examples_for_results
from regen_bench.results.schema import ResultsFormatError, RunResults, SampleRow, ScoreEntry
from regen_bench.results.scoring import component_entries
from regen_bench.stats.significance import ALPHA, PValueMethod, holm_adjust

ADJUSTMENT = "Holm"  # the multiple-comparison adjustment of p_holm, over all rows of one comparison

METHOD_LABELS = {
    PairedMethod.MEAN: "paired-mean",
    PairedMethod.CORPUS: "paired-corpus",
    PairedMethod.APPROXIMATE: "paired-mean (approximate: corpus metric not recomputed)",
}


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
    p_holm: float = float("nan")  # p adjusted by Holm over all rows of the comparison (set by compare_runs)

    @property
    def significant(self) -> bool:
        """p < ALPHA; the same as: the 95% CI of B - A excludes 0 (both from one distribution)."""
        return self.p_value < ALPHA

    @property
    def significant_holm(self) -> bool:
        return self.p_holm < ALPHA

    @property
    def verdict(self) -> str:
        if not self.significant or self.diff == 0:
            return "n.s."
        b_better = self.diff > 0 if self.higher_is_better else self.diff < 0
        verdict = "B better" if b_better else "A better"
        return verdict if self.significant_holm else f"{verdict} (not after {ADJUSTMENT})"

    def as_dict(self) -> dict:
        return {**asdict(self), "significant": self.significant, "significant_holm": self.significant_holm,
                "verdict": self.verdict}


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
                f"{self.resamples} resamples, seed {self.seed}; 95% CI and p from the same percentile bootstrap "
                f"distribution (p < {ALPHA} exactly when the CI excludes 0)\n"
                f"{self.multiple_comparisons_note()}")

    def multiple_comparisons_note(self) -> str:
        return (f"multiple comparisons: {len(self.rows)} test(s); p ({ADJUSTMENT}) is {ADJUSTMENT}-adjusted over all "
                f"of them (family-wise error rate {ALPHA}); a raw p < {ALPHA} that is not significant after "
                f"{ADJUSTMENT} may be chance")

    def as_dict(self) -> dict:
        return {
            "run_a": {"path": str(self.run_a.path), "run_id": self.run_a.results.run_id,
                      "model": self.run_a.results.model.name},
            "run_b": {"path": str(self.run_b.path), "run_id": self.run_b.results.run_id,
                      "model": self.run_b.results.model.name},
            "dataset": {"name": self.run_a.results.dataset.name, "synthetic": self.run_a.results.dataset.synthetic},
            "seed": self.seed, "resamples": self.resamples, "alpha": ALPHA,
            "ci_and_p": "percentile bootstrap: CI and p from one distribution of B - A",
            "p_adjustment": ADJUSTMENT, "multiple_comparisons": self.multiple_comparisons_note(),
            "rows": [row.as_dict() for row in self.rows], "notes": list(self.notes),
        }


def load_compared_run(path: str | Path) -> LoadedRun:
    """A run directory (or its results.json) with its samples, whose sha256 must match."""
    results_path = results_file(path)
    if not results_path.is_file():
        raise RegenBenchError(f"{results_path}: no such results file (give a run directory or its results.json)")
    try:
        run = load_run(results_path)
    except ResultsFormatError as exc:
        where, what = exc.problems[0]
        raise RegenBenchError(f"{results_path}: not a valid results file; run `regen-bench leaderboard validate "
                              f"{results_path}` to see why ({where}: {what})") from None
    if run.rows is None:
        raise RegenBenchError(f"{results_path.parent / run.results.samples.file}: missing; a paired comparison "
                              "needs each run's per-example scores")
    return run


def data_differences(a: RunResults, b: RunResults) -> list[str]:
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


def _check_same_data(comparison: Comparison, force: bool) -> None:
    differences = data_differences(comparison.run_a.results, comparison.run_b.results)
    if not differences:
        return
    if not force:
        raise RegenBenchError(
            "the two runs were not made on the same test set: " + "; ".join(differences)
            + ". Their scores are not comparable; run both on the same dataset and split, "
            "or pass --force to compare them anyway on the example ids they share."
        )
    comparison.notes.append("compared despite different data (--force): " + "; ".join(differences))


def _compare_entry(comparison: Comparison, ea: ScoreEntry, eb: ScoreEntry,
                   recomputer: CorpusRecomputer) -> CompareRow | str:
    """B - A on one score both runs report: the row, or a note saying why it was not compared."""
    what = f"{ea.task} {ea.metric}/{ea.component}"
    failed = [f"failed in {side} ({entry.reason or 'scored nothing'})" for side, entry in (("A", ea), ("B", eb))
              if entry.failed]
    if failed:
        return f"{what}: not compared, " + "; ".join(failed)
    if ea.signature != eb.signature:
        return (f"{what}: not compared, the signatures differ ({ea.signature!r} vs {eb.signature!r}): "
                "the numbers were made differently")
    paired = compare_scores(RunScore(comparison.run_b, eb), RunScore(comparison.run_a, ea),
                            seed=comparison.seed, resamples=comparison.resamples, recomputer=recomputer,
                            p_method=PValueMethod.PERCENTILE)
    if not paired.tested:
        return f"{what}: not compared, {paired.n} example(s) scored by both runs"
    note = ""
    if paired.method is PairedMethod.APPROXIMATE:
        note = f"corpus metric not recomputed ({paired.why_approximate}); tested on the per-example scores instead"
    result = paired.result
    return CompareRow(
        task=ea.task, metric=ea.metric, component=ea.component, signature=ea.signature,
        higher_is_better=ea.higher_is_better, n=paired.n, mean_a=paired.score_y, mean_b=paired.score_x,
        diff=float(result.mean_diff), ci_low=float(result.ci_low), ci_high=float(result.ci_high),
        p_value=float(result.p_value), method=METHOD_LABELS[paired.method], score_a=ea.score, score_b=eb.score,
        note=note,
    )


def compare_runs(run_a_dir, run_b_dir, *, seed: int = 0, resamples: int = 1000, force: bool = False) -> Comparison:
    """Paired comparison of run B against run A; see the module docstring."""
    comparison = Comparison(load_compared_run(run_a_dir), load_compared_run(run_b_dir), seed, resamples)
    _check_same_data(comparison, force)
    a_scores = comparison.run_a.results.scores
    b_entries = {(s.task, s.metric, s.component): s for s in comparison.run_b.results.scores}
    recomputer = CorpusRecomputer(RebuildFrom.RECORDED_OPTIONS)
    for ea in a_scores:
        key = (ea.task, ea.metric, ea.component)
        if key not in b_entries:
            comparison.notes.append(f"{key[0]} {key[1]}/{key[2]}: only in A")
            continue
        outcome = _compare_entry(comparison, ea, b_entries[key], recomputer)
        if isinstance(outcome, str):
            comparison.notes.append(outcome)
        else:
            comparison.rows.append(outcome)
    for key in sorted(set(b_entries) - {(s.task, s.metric, s.component) for s in a_scores}):
        comparison.notes.append(f"{key[0]} {key[1]}/{key[2]}: only in B")
    for row, adjusted in zip(comparison.rows, holm_adjust([row.p_value for row in comparison.rows])):
        row.p_holm = adjusted
    return comparison


# -- pairwise judges (`compare A B --metric llm-judge-pair`) ----------------------------
#
# Judge two runs against each other with pairwise metrics: `compare A B --metric llm-judge-pair`.
#
# For every text task both runs generated, the examples both have a narrative for are joined on
# `example_id` (sorted by it), and each `PairwiseMetric` judges B's narrative against A's
# (`score_pairs(baseline=A, candidate=B, ...)`). Its components become score entries with
# bootstrap CIs exactly as a run's do (`results/scoring.py`), from B's side. The examples'
# histories come from the runs' dataset when it is available here (else the judge sees the
# reference only, and the signature says so). Runs on different test sets are refused unless
# `force`, as by `compare`.


@dataclass
class PairwiseJudgement:
    run_a: str  # run ids
    run_b: str
    entries: list[ScoreEntry] = field(default_factory=list)
    usage: dict[str, dict] = field(default_factory=dict)  # metric -> its API usage and cost
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"run_a": self.run_a, "run_b": self.run_b, "entries": [e.model_dump() for e in self.entries],
                "usage": self.usage, "notes": self.notes}


def _shared_rows(rows_a: list[SampleRow], rows_b: list[SampleRow], task: str) -> list[tuple[SampleRow, SampleRow]]:
    by_id = {r.example_id: r for r in rows_a if r.task == task and isinstance(r.prediction, str)}
    pairs = [(by_id[r.example_id], r) for r in rows_b
             if r.task == task and isinstance(r.prediction, str) and r.example_id in by_id]
    return sorted(pairs, key=lambda pair: pair[1].example_id)


def judge_runs(run_a_dir, run_b_dir, metrics: list[PairwiseMetric], *, seed: int = 0, resamples: int = 1000,
               force: bool = False) -> PairwiseJudgement:
    """B judged against A by each pairwise metric, per text task both runs have."""
    run_a, run_b = load_compared_run(run_a_dir), load_compared_run(run_b_dir)
    judgement = PairwiseJudgement(run_a.results.run_id, run_b.results.run_id)
    differences = data_differences(run_a.results, run_b.results)
    if differences and not force:
        raise RegenBenchError("the two runs were not made on the same test set: " + "; ".join(differences)
                              + "; pass --force to judge them anyway on the example ids they share")
    examples_by_id, note = examples_for_results(run_b.results)
    if note:
        judgement.notes.append(note)
    tasks = [t for t in run_b.results.tasks if t in run_a.results.tasks and kind_of(t) is TEXT]
    for task in tasks:
        pairs = _shared_rows(run_a.rows or [], run_b.rows or [], task)
        if not pairs:
            judgement.notes.append(f"{task}: no example has a narrative from both runs")
            continue
        rows = [b.model_copy(deep=True) for _, b in pairs]
        examples = [(examples_by_id or {}).get(b.example_id) for _, b in pairs]
        for metric in metrics:
            output = metric.checked_score_pairs([a.prediction for a, _ in pairs], [b.prediction for _, b in pairs],
                                                [b.reference for _, b in pairs],
                                                examples if examples_by_id is not None else None)
            judgement.entries.extend(component_entries(task, rows, metric, output, seed=seed, resamples=resamples))
            if output.usage:
                judgement.usage.setdefault(metric.name, {})[task] = output.usage
    return judgement
