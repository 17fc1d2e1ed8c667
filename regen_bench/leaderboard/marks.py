"""Is a row significantly worse than the best row of its column? Paired bootstrap per cell.

Both runs are joined on `example_id` (from their samples.jsonl) and only the examples
that both runs scored (a non-null value in both) take part. How the pair is tested
depends on what kind of number the column is:

- **mean** — the results file's score is the mean of the per-example scores in
  samples.jsonl (ROUGE, semantic similarity, BERTScore, Recall@k, an LLM judge...): a
  paired bootstrap of the per-example differences. Exact.
- **corpus** — the score is not such a mean (BLEU, distinct-n): the metric is
  re-instantiated from the registry with its default options, and used only when its
  signature equals the signature of both runs *and* recomputing it on each run's
  samples gives back the score of the results file. Then both shared subsets are
  re-scored and the components' sufficient statistics are resampled together (the
  same resampled examples for both runs). Exact.
- **approximate** — a corpus metric that can't be recomputed here (plugin missing,
  options not the defaults, a judge that would need an API): the per-example scores
  are bootstrapped as if the column were their mean (for BLEU, sentence BLEU instead
  of corpus BLEU). The leaderboard flags these cells in a footnote.

Every test uses the same seed, so a build is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from regen_bench.leaderboard.collect import CollectedRun
from regen_bench.results.schema import ScoreEntry

ALPHA = 0.05
METHOD_MEAN = "mean"
METHOD_CORPUS = "corpus"
METHOD_APPROX = "approximate"
_REL_TOL = 1e-9


@dataclass(frozen=True)
class Comparison:
    """One row tested against the column's best row. `diff` is row minus best, in score units."""

    against: str  # the best row's id
    method: str
    n_shared: int
    diff: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    worse: bool  # significantly worse at ALPHA
    note: str = ""

    def to_json(self) -> dict:
        return {
            "against": self.against, "method": self.method, "n_shared": self.n_shared,
            "diff": _round(self.diff), "ci_low": _round(self.ci_low), "ci_high": _round(self.ci_high),
            "p_value": _round(self.p_value), "worse": self.worse, "note": self.note,
        }


def _round(value: float | None) -> float | None:
    """Derived numbers to 6 significant digits: bit-level noise never reaches the outputs."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.6g}")


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_REL_TOL, abs_tol=1e-12)


def per_example_values(run: CollectedRun, task: str, component: str) -> dict[str, float]:
    values = {}
    for row in run.rows_for(task):
        value = row.scores.get(component)
        if value is not None and math.isfinite(value):
            values[row.example_id] = float(value)
    return values


def is_mean_of_per_example(values: dict[str, float], entry: ScoreEntry) -> bool:
    if not values or len(values) != entry.n:
        return False
    ordered = [values[key] for key in sorted(values)]
    return _close(math.fsum(ordered) / len(ordered), entry.score)


class CorpusRecomputer:
    """Re-scores corpus metrics from samples through the registry, checked against the run.

    Scorings are cached per run, task, metric and example set: a column's best row is
    compared with every other row, usually on the same examples.
    """

    def __init__(self):
        self._metrics: dict[str, object | None] = {}
        self._outputs: dict[tuple, object] = {}
        self._verified: dict[tuple[str, str, str], bool] = {}

    def metric(self, name: str):
        if name not in self._metrics:
            try:
                from regen_bench.plugin.registry import get_registry

                self._metrics[name] = get_registry().get("metric", name).cls()
            except Exception:  # noqa: BLE001 - any failure means "can't recompute": fall back
                self._metrics[name] = None
        return self._metrics[name]

    def _output(self, run: CollectedRun, task: str, metric, example_ids: tuple[str, ...]):
        key = (run.relpath, task, metric.name, example_ids)
        if key not in self._outputs:
            by_id = {r.example_id: r for r in run.rows_for(task)}
            rows = [by_id[i] for i in example_ids]
            self._outputs[key] = metric.score(
                [r.prediction for r in rows], [r.reference for r in rows], [None] * len(rows)
            )
        return self._outputs[key]

    def component(self, run: CollectedRun, task: str, entry: ScoreEntry, example_ids: list[str]):
        """The recomputed Component on `example_ids`, or None if it can't be trusted."""
        metric = self.metric(entry.metric)
        if metric is None:
            return None
        key = (run.relpath, task, entry.metric)
        try:
            if key not in self._verified:
                everything = tuple(sorted(r.example_id for r in run.rows_for(task)))
                output = self._output(run, task, metric, everything)
                signature = output.signature or metric.signature()
                found = _find(output.components, entry.component)
                self._verified[key] = (
                    signature == entry.signature and found is not None and _close(found.corpus_score(), entry.score)
                )
            if not self._verified[key]:
                return None
            return _find(self._output(run, task, metric, tuple(example_ids)).components, entry.component)
        except Exception:  # noqa: BLE001 - a metric that fails here is one we can't recompute
            self._verified[key] = False
            return None


def _find(components, name):
    for component in components:
        if component.name == name:
            return component
    return None


def compare_with_best(
    best: CollectedRun, best_id: str, best_entry: ScoreEntry,
    other: CollectedRun, other_entry: ScoreEntry,
    task: str, *, seed: int, resamples: int, recomputer: CorpusRecomputer,
) -> Comparison:
    from regen_bench.stats import significance

    higher = best_entry.higher_is_better

    def untested(note: str, method: str = METHOD_MEAN, n: int = 0) -> Comparison:
        return Comparison(best_id, method, n, None, None, None, None, False, note)

    if best.samples is None or other.samples is None:
        return untested("not tested: a run's samples.jsonl is missing")
    best_values = per_example_values(best, task, best_entry.component)
    other_values = per_example_values(other, task, other_entry.component)
    shared = sorted(set(best_values) & set(other_values))
    if len(shared) < 2:
        return untested(f"not tested: {len(shared)} example(s) scored by both runs")
    exact_mean = is_mean_of_per_example(best_values, best_entry) and is_mean_of_per_example(other_values, other_entry)
    method, note = METHOD_MEAN, ""
    result = None
    if not exact_mean:
        a = recomputer.component(other, task, other_entry, shared)
        b = recomputer.component(best, task, best_entry, shared) if a is not None else None
        if a is not None and b is not None:
            method = METHOD_CORPUS
            result = significance.paired_bootstrap_components(a, b, seed=seed, resamples=resamples)
        else:
            method = METHOD_APPROX
            note = (
                f"{best_entry.metric} is a corpus metric that could not be recomputed here; tested on the "
                "per-example scores of samples.jsonl instead"
            )
    if result is None:
        result = significance.paired_bootstrap(
            [other_values[i] for i in shared], [best_values[i] for i in shared], seed=seed, resamples=resamples
        )
    diff = float(result.mean_diff)
    worse_direction = diff < 0 if higher else diff > 0
    worse = bool(worse_direction and result.p_value is not None and result.p_value < ALPHA)
    return Comparison(
        best_id, method, len(shared), diff, float(result.ci_low), float(result.ci_high), float(result.p_value),
        worse, note,
    )
