"""fcr (PETER's feature coverage ratio) by hand, against the set formula, and its bootstrap statistics."""

import numpy as np
import pytest

from regen_bench.contracts.examples import Example
from regen_bench.contracts.records import Item, Purchase
from regen_bench.stats.bootstrap import bootstrap_interval
from regen_bench_plugins.metrics.fcr import FeatureCoverageRatio
from regen_bench_plugins.metrics.item_features import FeatureOptions, build_vocabulary


def _example(uid, titles):
    items = [Purchase(item=Item(asin=f"{uid}{i}", title=t)) for i, t in enumerate(titles)]
    return Example(example_id=uid, user_id=uid, history=items[:-1], target=items[-1])


# title features: {red, pen}, {blue, ink}, {desk, lamp}, {stapler} -> |F| = 7
EXAMPLES = [_example("u1", ["Red Pen", "Blue Ink"]), _example("u2", ["Desk Lamp"]), _example("u3", ["Stapler"])]


def _score(preds, examples=EXAMPLES, **options):
    return FeatureCoverageRatio(features="title", **options).score(preds, ["r"] * len(preds), examples)


def test_fcr_by_hand():
    # named: {red, pen}, {pen, lamp}, {} -> union {red, pen, lamp}: 3 of 7
    output = _score(["a red pen", "pens and a lamp", "nothing here"])
    [component] = output.components
    assert component.corpus_score() == pytest.approx(3 / 7)
    # credits: pen is named twice (1/2 each), red and lamp once
    assert component.per_example == pytest.approx([1.5, 1.5, 0.0])
    assert output.counts == {"vocabulary": 7, "covered": 3}
    assert [d["fcr_features"] for d in output.details] == [2, 2, 0]
    assert "vocab_size:7" in output.signature


def test_fcr_equals_the_union_formula_on_random_narratives():
    rng = np.random.default_rng(0)
    words = ["red", "pen", "blue", "ink", "desk", "lamp", "stapler", "nice", "good"]
    preds = [" ".join(rng.choice(words, size=rng.integers(0, 5))) for _ in range(40)]
    vocabulary = build_vocabulary(FeatureOptions(features="title"), EXAMPLES)
    union = set().union(*(vocabulary.text_features(p) for p in preds))
    assert _score(preds).components[0].corpus_score() == pytest.approx(len(union) / 7, abs=1e-12)


def test_resampling_sums_credits_over_the_fixed_vocabulary():
    [component] = _score(["a red pen", "pens and a lamp", "nothing here"]).components
    counts = np.array([2.0, 0.0, 1.0])  # the first drawn twice, the second not at all
    assert component.aggregate(counts @ component.stats, 3) == pytest.approx(3.0 / 7)
    interval = bootstrap_interval(component, seed=0, resamples=300)
    assert interval.low <= interval.score <= interval.high


def test_an_empty_vocabulary_is_a_failed_score_not_a_number():
    examples = [Example(example_id="u", user_id="u", history=[Purchase(item=Item(asin="x"))])]
    [component] = _score(["anything"], examples).components
    assert np.isnan(component.corpus_score())
