"""The one paired comparison of a score between two runs: `compare` and the leaderboard marks.

`compare_scores(x, y, ...)` tests x - y. Both runs are joined on `example_id` (from
their samples.jsonl) and only examples that both scored (a finite per-example value in
both) take part; the same resampled examples are used for both runs, so the test sees
the pairing (`regen_bench.stats.significance`). How the pair is tested depends on what
kind of number the score is:

- MEAN: the recorded score is the mean of the per-example scores (ROUGE, semsim,
  Recall@k, an LLM judge): the per-example differences are bootstrapped. Exact.
- CORPUS: it is not (BLEU, distinct-n): the metric is rebuilt, trusted for a run only if
  re-scoring all its examples gives back the recorded signature and score, and then
  both runs' shared examples are re-scored and the components' sufficient statistics
  resampled together. Exact.
- APPROXIMATE: a corpus metric that can't be rebuilt or trusted here (plugin missing,
  options that don't reproduce the run, a paid API): the per-example scores stand in
  (for BLEU, sentence BLEU), and `why_approximate` says why.

The callers choose how the resampled differences become a CI and p (`PValueMethod`:
`compare` reads both from one percentile distribution, the leaderboard marks keep the
shifted-bootstrap p so committed leaderboards rebuild unchanged), and where a rebuilt metric's options come from
(`RebuildFrom`): `compare` uses the options each run recorded; the leaderboard uses
the metric's defaults, as docs/leaderboards.md says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from regen_bench.contracts.metric import Component, Metric, MetricOutput
from regen_bench.results.loader import LoadedRun
from regen_bench.results.rebuild import RebuildSpec, build_metric, rebuild_specs
from regen_bench.results.schema import ScoreEntry
from regen_bench.stats.significance import PairedResult, PValueMethod, paired_bootstrap, paired_bootstrap_components
from regen_bench.stats.tolerance import same_number


class PairedMethod(str, Enum):
    MEAN = "mean"
    CORPUS = "corpus"
    APPROXIMATE = "approximate"


class RebuildFrom(str, Enum):
    """Where a corpus metric rebuilt for the test gets its options."""

    RECORDED_OPTIONS = "recorded"  # the options each run's results.json records (compare)
    DEFAULT_OPTIONS = "defaults"  # the metric's defaults (the leaderboard)


@dataclass(frozen=True)
class RunScore:
    """One side of a comparison: a run and one score entry of its results file."""

    run: LoadedRun
    entry: ScoreEntry


@dataclass(frozen=True)
class PairedComparison:
    """x - y on the `n` examples both runs scored; untested (result None) when n < 2."""

    n: int
    method: PairedMethod | None = None
    result: PairedResult | None = None
    score_x: float = math.nan  # x's score on the shared examples (its corpus score when recomputed)
    score_y: float = math.nan
    why_approximate: str = ""

    @property
    def tested(self) -> bool:
        return self.result is not None


def per_example_values(side: RunScore) -> dict[str, float]:
    """example_id -> the finite per-example value of the side's component."""
    values = {}
    for row in side.run.rows_for(side.entry.task):
        value = row.scores.get(side.entry.component)
        if value is not None and math.isfinite(value):
            values[row.example_id] = float(value)
    return values


def is_mean_of_per_example(values: dict[str, float], entry: ScoreEntry) -> bool:
    if not values or len(values) != entry.n:
        return False
    ordered = [values[key] for key in sorted(values)]
    return same_number(entry.score, math.fsum(ordered) / len(ordered))


def _find(components: list[Component], name: str) -> Component | None:
    return next((component for component in components if component.name == name), None)


class CorpusRecomputer:
    """Re-scores corpus metrics on some of a run's examples, once trusted for that run.

    Everything is cached: the rebuilt metrics, each scoring (per run, task, metric and
    example set: a leaderboard column's best row is compared with every other row,
    usually on the same examples) and each verdict on whether a run can be recomputed.
    """

    def __init__(self, rebuild_from: RebuildFrom):
        self.rebuild_from = rebuild_from
        self._metrics: dict[tuple, tuple[Metric | None, str | None]] = {}
        self._outputs: dict[tuple, MetricOutput] = {}
        self._why_not: dict[tuple, str | None] = {}  # per run score; None: trusted

    def component(self, side: RunScore, example_ids: list[str]) -> Component | None:
        """The recomputed Component on `example_ids` (in that order), or None; see `why_not`."""
        key = _side_key(side)
        try:
            if key not in self._why_not:
                self._why_not[key] = self._untrusted_because(side)
            if self._why_not[key] is not None:
                return None
            metric, _ = self._metric(side)
            found = _find(self._score(side, metric, tuple(example_ids)).components, side.entry.component)
        except Exception as exc:  # noqa: BLE001 - a metric that fails here is one we can't recompute
            self._why_not[key] = f"re-scoring failed: {type(exc).__name__}: {exc}"
            return None
        if found is None:
            self._why_not[key] = f"re-scoring the shared examples gives no {side.entry.component!r}"
        return found

    def why_not(self, side: RunScore) -> str | None:
        """Why the side's metric was not recomputed (None: it was, or was not tried)."""
        return self._why_not.get(_side_key(side))

    def _metric(self, side: RunScore) -> tuple[Metric | None, str | None]:
        name = side.entry.metric
        recorded = self.rebuild_from is RebuildFrom.RECORDED_OPTIONS
        key = (side.run.path if recorded else None, name)
        if key not in self._metrics:
            spec = {s.name: s for s in rebuild_specs(side.run.results)}.get(name) if recorded else RebuildSpec(name)
            self._metrics[key] = build_metric(spec) if spec is not None else (None, "not recorded in the results file")
        return self._metrics[key]

    def _score(self, side: RunScore, metric: Metric, example_ids: tuple[str, ...]) -> MetricOutput:
        key = (side.run.path, side.entry.task, side.entry.metric, example_ids)
        if key not in self._outputs:
            by_id = {row.example_id: row for row in side.run.rows_for(side.entry.task)}
            rows = [by_id[i] for i in example_ids]
            self._outputs[key] = metric.score([r.prediction for r in rows], [r.reference for r in rows], [None] * len(rows))
        return self._outputs[key]

    def _untrusted_because(self, side: RunScore) -> str | None:
        """Why the rebuilt metric does not reproduce this run's score (None: it does)."""
        metric, why = self._metric(side)
        if metric is None:
            return why
        entry = side.entry
        everything = tuple(sorted(row.example_id for row in side.run.rows_for(entry.task)))
        output = self._score(side, metric, everything)
        signature = output.signature or metric.signature()
        if signature != entry.signature:
            return f"rebuilt here it signs {signature!r}, not {entry.signature!r}"
        found = _find(output.components, entry.component)
        if found is None:
            return f"rebuilt here it gives no {entry.component!r}"
        if not same_number(entry.score, found.corpus_score()):
            return f"rebuilt here it scores {found.corpus_score()!r}, not the recorded {entry.score!r}"
        return None


def _side_key(side: RunScore) -> tuple:
    return (side.run.path, side.entry.task, side.entry.metric, side.entry.component)


def _per_example_test(method: PairedMethod, x: dict[str, float], y: dict[str, float], shared: list[str], *,
                      seed: int, resamples: int, p_method: PValueMethod, why: str = "") -> PairedComparison:
    xs, ys = [x[i] for i in shared], [y[i] for i in shared]
    result = paired_bootstrap(xs, ys, seed=seed, resamples=resamples, method=p_method)
    return PairedComparison(len(shared), method, result, math.fsum(xs) / len(xs), math.fsum(ys) / len(ys), why)


def compare_scores(x: RunScore, y: RunScore, *, seed: int, resamples: int, recomputer: CorpusRecomputer,
                   p_method: PValueMethod = PValueMethod.SHIFTED) -> PairedComparison:
    """Paired test of x - y on the examples both runs scored; see the module docstring."""
    x_values, y_values = per_example_values(x), per_example_values(y)
    shared = sorted(set(x_values) & set(y_values))
    if len(shared) < 2:
        return PairedComparison(len(shared))
    if is_mean_of_per_example(x_values, x.entry) and is_mean_of_per_example(y_values, y.entry):
        return _per_example_test(PairedMethod.MEAN, x_values, y_values, shared, seed=seed, resamples=resamples,
                                 p_method=p_method)
    x_component, y_component = recomputer.component(x, shared), recomputer.component(y, shared)
    if x_component is not None and y_component is not None:
        result = paired_bootstrap_components(x_component, y_component, seed=seed, resamples=resamples,
                                             method=p_method)
        return PairedComparison(len(shared), PairedMethod.CORPUS, result,
                                x_component.corpus_score(), y_component.corpus_score())
    why = recomputer.why_not(y) or recomputer.why_not(x) or "unknown"
    return _per_example_test(PairedMethod.APPROXIMATE, x_values, y_values, shared, seed=seed, resamples=resamples,
                             p_method=p_method, why=why)
