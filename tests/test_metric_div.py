"""div (PETER's feature diversity) against the pairwise formula, and its Hoeffding pseudo-value interval."""

import itertools

import numpy as np
import pytest

from regen_bench.contracts.examples import Example
from regen_bench.contracts.records import Item, Purchase
from regen_bench.stats.bootstrap import bootstrap_interval
from regen_bench_plugins.metrics.div import FeatureDiversity, div_component
from regen_bench_plugins.metrics.item_features import FeatureOptions, build_vocabulary

EXAMPLES = [
    Example(example_id="u1", user_id="u1", history=[Purchase(item=Item(asin="a", title="Red Pen"))],
            target=Purchase(item=Item(asin="b", title="Blue Ink"))),
    Example(example_id="u2", user_id="u2", history=[Purchase(item=Item(asin="c", title="Desk Lamp"))],
            target=Purchase(item=Item(asin="d", title="Stapler"))),
]
WORDS = ["red", "pen", "blue", "ink", "desk", "lamp", "stapler", "nice"]


def _pairwise(sets):
    return float(np.mean([len(a & b) for a, b in itertools.combinations(sets, 2)]))


def test_div_by_hand():
    # {red, pen}, {pen, lamp}, {red, pen, lamp}: overlaps 1, 2, 2 -> 5/3
    preds = ["a red pen", "pens and a lamp", "red pens, lamps"]
    output = FeatureDiversity(features="title").score(preds, ["r"] * 3, EXAMPLES * 2)
    [component] = output.components
    assert component.corpus_score() == pytest.approx(5 / 3)
    # per example: the mean overlap with the other two
    assert component.per_example == pytest.approx([(1 + 2) / 2, (1 + 2) / 2, (2 + 2) / 2])
    assert "ci:hoeffding-pseudo" in output.signature
    assert FeatureDiversity.higher_is_better is False


def test_div_equals_the_mean_over_all_pairs_on_random_narratives():
    rng = np.random.default_rng(3)
    preds = [" ".join(rng.choice(WORDS, size=rng.integers(0, 6))) for _ in range(60)]
    vocabulary = build_vocabulary(FeatureOptions(features="title"), EXAMPLES)
    sets = [vocabulary.text_features(p) for p in preds]
    [component] = FeatureDiversity(features="title").score(preds, ["r"] * 60, EXAMPLES * 30).components
    assert component.corpus_score() == pytest.approx(_pairwise(sets), abs=1e-12)


def test_identical_narratives_score_their_feature_count_and_a_point_interval():
    component = div_component([frozenset({"red", "pen"})] * 5)
    assert component.corpus_score() == pytest.approx(2.0)
    interval = bootstrap_interval(component, seed=0, resamples=200)
    assert interval.low == pytest.approx(2.0) and interval.high == pytest.approx(2.0)


def test_fewer_than_two_narratives_are_undefined():
    component = div_component([frozenset({"red"})])
    assert np.isnan(component.per_example[0]) and np.isnan(component.corpus_score())


def test_pseudo_value_interval_has_the_u_statistics_spread():
    """The bootstrap of the pseudo-values has about the jackknife standard error of DIV itself
    (the mean of the per-example overlaps alone would have half of it)."""
    rng = np.random.default_rng(7)
    sets = [frozenset(rng.choice(WORDS, size=rng.integers(1, 5), replace=False)) for _ in range(150)]
    component = div_component(sets)
    n = len(sets)
    leave_one_out = np.array([_pairwise(sets[:i] + sets[i + 1:]) for i in range(n)])
    jackknife_se = np.sqrt((n - 1) / n * np.sum((leave_one_out - leave_one_out.mean()) ** 2))
    draws = np.random.default_rng(0).integers(0, n, size=(2000, n))
    counts = np.stack([np.bincount(d, minlength=n) for d in draws]).astype(float)
    boot = component.aggregate(counts @ component.stats, n)
    assert np.std(boot) == pytest.approx(jackknife_se, rel=0.15)
    plain = np.asarray(component.per_example)[draws].mean(axis=1)
    assert np.std(plain) < 0.7 * jackknife_se
