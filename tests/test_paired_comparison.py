"""The one paired comparison (results/paired.py) that `compare` and the leaderboard marks share,
and the metric rebuilding it relies on (results/rebuild.py)."""

from pathlib import Path

import pytest

from regen_bench.leaderboard.marks import compare_with_best, corpus_recomputer
from regen_bench.plugin.specs import build_plugin
from regen_bench.results.compare import METHOD_LABELS
from regen_bench.results.loader import LoadedRun
from regen_bench.results.paired import (
    CorpusRecomputer,
    PairedMethod,
    RebuildFrom,
    RunScore,
    compare_scores,
    per_example_values,
)
from regen_bench.results.rebuild import PAID_API_REASON, RebuildSpec, build_metric
from regen_bench.results.schema import MetricRecord, RunResults, SampleRow
from regen_bench.results.scoring import score_rows
from regen_bench.stats import significance

REFERENCES = [f"the user likes item {i} for its colour and its price" for i in range(12)]
GOOD = [f"the user likes item {i} for its colour" for i in range(12)]
POOR = [f"someone bought thing {i}" if i % 3 else f"the user likes item {i}" for i in range(12)]
CHAR_BLEU = {"tokenize": "char"}  # not bleu's default: only a rebuild from recorded options reproduces it


def make_run(name: str, predictions: list[str], metric_options: dict[str, dict]) -> LoadedRun:
    """A run in memory: its rows scored by the named metrics with the given options, as the runner would."""
    rows = [SampleRow(task="user_summary", example_id=f"e{i:02d}", user_id=f"u{i}", prediction=p, reference=r)
            for i, (p, r) in enumerate(zip(predictions, REFERENCES))]
    metrics = [build_plugin("metric", metric, options) for metric, options in metric_options.items()]
    scores = score_rows(rows, metrics, seed=0, resamples=50)
    records = [MetricRecord(name=m.name, spec=m.name, options=m.options.model_dump(mode="json"), version=m.version,
                            kind=m.kind, higher_is_better=m.higher_is_better, signature=m.signature())
               for m in metrics]
    results = RunResults.model_construct(metrics=records, scores=scores)
    return LoadedRun(Path(f"/runs/{name}/results.json"), results, rows)


def side(run: LoadedRun, component: str) -> RunScore:
    return RunScore(run, next(s for s in run.results.scores if s.component == component))


@pytest.fixture(scope="module")
def runs():
    metrics = {"bleu": CHAR_BLEU, "rouge": {}}
    return make_run("good", GOOD, metrics), make_run("poor", POOR, metrics)


def test_a_mean_metric_is_the_paired_bootstrap_of_its_per_example_scores(runs):
    good, poor = side(runs[0], "rougeL"), side(runs[1], "rougeL")
    paired = compare_scores(good, poor, seed=3, resamples=200, recomputer=CorpusRecomputer(RebuildFrom.DEFAULT_OPTIONS))
    x, y = per_example_values(good), per_example_values(poor)
    ids = sorted(x)
    assert paired.method is PairedMethod.MEAN and paired.n == len(ids) == 12
    assert paired.result == significance.paired_bootstrap([x[i] for i in ids], [y[i] for i in ids], seed=3,
                                                          resamples=200)
    assert paired.score_x == pytest.approx(good.entry.score) and paired.result.mean_diff > 0


def test_recorded_options_recompute_a_corpus_metric_the_defaults_cannot(runs):
    good, poor = side(runs[0], "bleu"), side(runs[1], "bleu")
    recorded = CorpusRecomputer(RebuildFrom.RECORDED_OPTIONS)
    paired = compare_scores(good, poor, seed=0, resamples=100, recomputer=recorded)
    assert paired.method is PairedMethod.CORPUS and not paired.why_approximate
    ids = sorted(per_example_values(good))
    components = [recorded.component(s, ids) for s in (good, poor)]
    assert paired.result == significance.paired_bootstrap_components(*components, seed=0, resamples=100)
    assert paired.score_x == pytest.approx(good.entry.score)  # all examples shared: the recorded score

    defaults = compare_scores(good, poor, seed=0, resamples=100,
                              recomputer=CorpusRecomputer(RebuildFrom.DEFAULT_OPTIONS))
    assert defaults.method is PairedMethod.APPROXIMATE and "rebuilt here it signs" in defaults.why_approximate
    sentence = per_example_values(good)  # approximate: the per-example (sentence) BLEU stands in
    assert defaults.score_x == pytest.approx(sum(sentence.values()) / len(sentence))


def test_a_recorded_score_that_the_rebuilt_metric_does_not_give_back_is_not_trusted(runs):
    good, poor = side(runs[0], "bleu"), side(runs[1], "bleu")
    edited = RunScore(good.run, good.entry.model_copy(update={"score": good.entry.score + 1}))
    paired = compare_scores(edited, poor, seed=0, resamples=50, recomputer=CorpusRecomputer(RebuildFrom.RECORDED_OPTIONS))
    assert paired.method is PairedMethod.APPROXIMATE and "not the recorded" in paired.why_approximate


def test_fewer_than_two_shared_examples_are_not_tested(runs):
    good = side(runs[0], "rougeL")
    lonely = make_run("lonely", GOOD[:1], {"rouge": {}})
    paired = compare_scores(good, side(lonely, "rougeL"), seed=0, resamples=50,
                            recomputer=CorpusRecomputer(RebuildFrom.RECORDED_OPTIONS))
    assert not paired.tested and paired.n == 1


def test_compare_and_the_leaderboard_label_the_same_methods_their_own_way(runs):
    good, poor = runs
    best, other = side(good, "bleu"), side(poor, "bleu")
    mark = compare_with_best(good, "good", best.entry, poor, other.entry, seed=0, resamples=50,
                             recomputer=corpus_recomputer())
    assert mark.method == "approximate" and mark.note  # the leaderboard rebuilds with defaults
    assert mark.diff == pytest.approx(compare_scores(other, best, seed=0, resamples=50,
                                                     recomputer=corpus_recomputer()).result.mean_diff)
    assert {METHOD_LABELS[m] for m in PairedMethod} == {
        "paired-mean", "paired-corpus", "paired-mean (approximate: corpus metric not recomputed)"}


def test_a_metric_that_calls_a_paid_api_is_never_rebuilt_to_run():
    metric, why = build_metric(RebuildSpec("llm-rater"))  # paid_api = True
    assert metric is None and why == PAID_API_REASON and why.startswith("the metric calls a network API")
    metric, why = build_metric(RebuildSpec("semsim", {"model": "openai:text-embedding-3-small"}))
    assert metric is None and why == PAID_API_REASON  # semsim says so for an API embedding model
    metric, why = build_metric(RebuildSpec("semsim", {}))
    assert metric is not None and why is None


def test_a_metric_that_cannot_be_rebuilt_says_why():
    assert build_metric(RebuildSpec("no-such-metric")) == (None, "metric plugin 'no-such-metric' is not installed here")
    metric, why = build_metric(RebuildSpec("bleu", {"tokenize": "nope"}))
    assert metric is None and why.startswith("metric 'bleu' cannot be built with the recorded options: ")
