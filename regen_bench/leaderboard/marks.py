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

Every test uses the same seed, so a build is deterministic. The test itself is
`regen_bench.results.paired`, shared with `regen-bench compare` (which rebuilds corpus
metrics from the options each run recorded instead of the defaults).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from regen_bench.leaderboard.collect import CollectedRun
from regen_bench.results.paired import CorpusRecomputer, PairedMethod, RebuildFrom, RunScore, compare_scores
from regen_bench.results.schema import ScoreEntry
from regen_bench.stats.significance import ALPHA

METHOD_APPROX = PairedMethod.APPROXIMATE.value


def corpus_recomputer() -> CorpusRecomputer:
    """The leaderboard recomputes corpus metrics with their default options (see the module docstring)."""
    return CorpusRecomputer(RebuildFrom.DEFAULT_OPTIONS)


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


def compare_with_best(
    best: CollectedRun, best_id: str, best_entry: ScoreEntry, other: CollectedRun, other_entry: ScoreEntry,
    *, seed: int, resamples: int, recomputer: CorpusRecomputer,
) -> Comparison:
    """Other row minus the best row, paired; `worse` when significantly worse at ALPHA."""

    def untested(note: str) -> Comparison:
        return Comparison(best_id, PairedMethod.MEAN.value, 0, None, None, None, None, False, note)

    if best.rows is None or other.rows is None:
        return untested("not tested: a run's samples.jsonl is missing")
    paired = compare_scores(RunScore(other, other_entry), RunScore(best, best_entry),
                            seed=seed, resamples=resamples, recomputer=recomputer)
    if not paired.tested:
        return untested(f"not tested: {paired.n} example(s) scored by both runs")
    note = ""
    if paired.method is PairedMethod.APPROXIMATE:
        note = (f"{best_entry.metric} is a corpus metric that could not be recomputed here; tested on the "
                "per-example scores of samples.jsonl instead")
    result = paired.result
    diff = float(result.mean_diff)
    worse_direction = diff < 0 if best_entry.higher_is_better else diff > 0
    worse = bool(worse_direction and result.p_value is not None and result.p_value < ALPHA)
    return Comparison(best_id, paired.method.value, paired.n, diff, float(result.ci_low), float(result.ci_high),
                      float(result.p_value), worse, note)
