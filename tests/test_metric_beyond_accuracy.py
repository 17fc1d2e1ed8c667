"""Beyond-accuracy metrics against RecBole's formulas (written out here in numpy) and by hand."""

from collections import Counter

import numpy as np
import pytest

from regen_bench.contracts.examples import Example
from regen_bench.contracts.records import Item, Purchase
from regen_bench.plugin.specs import build_metrics
from regen_bench.stats.bootstrap import bootstrap_interval
from regen_bench_plugins.metrics.beyond_accuracy import (
    AveragePopularity,
    GiniIndex,
    ItemCoverage,
    ShannonEntropy,
    TailPercentage,
    mid_ranks,
)


def _example(uid, history, target):
    return Example(example_id=uid, user_id=uid, history=[Purchase(item=Item(asin=a)) for a in history],
                   target=Purchase(item=Item(asin=target)))


# popularity in histories: a 3, b 2, c 1, d 1; catalogue a..d + targets t1..t3 = 7 items
EXAMPLES = [_example("u1", ["a", "b"], "t1"), _example("u2", ["a", "b", "c"], "t2"), _example("u3", ["a", "d"], "t3")]
LISTS = [["a", "b"], ["a", "t2"], ["a", "c"]]


def _score(cls, lists=LISTS, examples=EXAMPLES, **options):
    [component] = cls(k=2, **options).score(lists, ["t"] * len(lists), examples).components
    return component


def recbole_gini(matrix, num_items):
    """RecBole's GiniIndex.get_gini, step for step."""
    sorted_count = np.array(sorted(Counter(matrix.flatten()).values()))
    idx = np.arange(num_items - sorted_count.shape[0] + 1, num_items + 1)
    return np.sum((2 * idx - num_items - 1) * sorted_count) / matrix.size / num_items


def recbole_entropy_formula(matrix):
    p = np.array(list(Counter(matrix.flatten()).values())) / matrix.size
    return float(-(p * np.log(p)).sum())


def test_by_hand():
    assert _score(ItemCoverage).corpus_score() == pytest.approx(4 / 7)  # a, b, c, t2
    assert _score(AveragePopularity).corpus_score() == pytest.approx(((3 + 2) / 2 + 3 / 2 + (3 + 1) / 2) / 3)
    # counts a 3, b 1, t2 1, c 1 over 6 slots
    p = np.array([3, 1, 1, 1]) / 6
    assert _score(ShannonEntropy).corpus_score() == pytest.approx(-(p * np.log(p)).sum())
    # tail (ratio 0.1 of 4 items -> 1 item): the least popular by (count, id) is c
    assert _score(TailPercentage).corpus_score() == pytest.approx((0 + 0 + 0.5) / 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gini_coverage_and_entropy_equal_recboles_formulas_on_random_lists(seed):
    rng = np.random.default_rng(seed)
    items = [f"i{j}" for j in range(30)]
    examples = [_example(f"u{u}", list(rng.choice(items, size=3, replace=False)), f"i{u % 30}") for u in range(40)]
    matrix = np.array([list(rng.choice(items[:20], size=5, replace=False, p=None)) for _ in range(40)])
    lists = matrix.tolist()
    num_items = len({p.item.asin for e in examples for p in e.history} | {e.target.item.asin for e in examples}
                    | set(matrix.flatten()))
    gini = GiniIndex(k=5).score(lists, ["t"] * 40, examples).components[0]
    assert gini.corpus_score() == pytest.approx(recbole_gini(matrix, num_items), abs=1e-12)
    entropy = ShannonEntropy(k=5).score(lists, ["t"] * 40, examples).components[0]
    assert entropy.corpus_score() == pytest.approx(recbole_entropy_formula(matrix), abs=1e-12)
    catalogue = {p.item.asin for e in examples for p in e.history} | {e.target.item.asin for e in examples}
    coverage = ItemCoverage(k=5).score(lists, ["t"] * 40, examples).components[0]
    assert coverage.corpus_score() == pytest.approx(len(set(matrix.flatten()) & catalogue) / len(catalogue))


def test_tail_percentage_follows_recboles_two_rules():
    # ratio > 1: items with popularity <= 2 are the tail (b, c, d)
    assert _score(TailPercentage, tail_ratio=2).corpus_score() == pytest.approx((0.5 + 0 + 0.5) / 3)
    # ratio 0.5 of 4 items -> the 2 least popular by (count, id): c, d
    assert _score(TailPercentage, tail_ratio=0.5).corpus_score() == pytest.approx((0 + 0 + 0.5) / 3)


def test_equal_exposure_has_gini_zero_and_one_item_everywhere_is_near_one():
    examples = [_example(f"u{i}", [f"x{i}"], f"x{i}") for i in range(4)]
    even = GiniIndex(k=1).score([["x0"], ["x1"], ["x2"], ["x3"]], ["t"] * 4, examples).components[0]
    assert even.corpus_score() == pytest.approx(0.0)
    one = GiniIndex(k=1).score([["x0"]] * 4, ["t"] * 4, examples).components[0]
    assert one.corpus_score() == pytest.approx((2 * 4 - 4 - 1) / 4)  # RecBole's maximum for n = 4


def test_mid_ranks_give_tied_items_their_mean_rank():
    assert mid_ranks({"a": 3, "b": 1, "c": 1}, 5) == {"b": 3.5, "c": 3.5, "a": 5.0}


def test_corpus_ones_are_bootstrapped_through_their_statistics():
    for cls in (ItemCoverage, GiniIndex, ShannonEntropy):
        component = _score(cls)
        interval = bootstrap_interval(component, seed=0, resamples=200)
        assert interval.n == 3 and interval.low <= interval.score <= interval.high
        assert component.aggregate(component.stats.sum(0), 3) == pytest.approx(component.corpus_score())


def test_directions_context_names_and_signatures():
    assert [m.higher_is_better for m in (ItemCoverage, GiniIndex, ShannonEntropy, TailPercentage)] == [
        True, False, True, True]
    metric = AveragePopularity(k=20)
    assert metric.context_components == ("average-popularity@20",)
    assert metric.signature() == "metric:average-popularity|k:20|popularity:examples-history-purchases|version:1"
    assert TailPercentage().signature() == ("metric:tail-percentage|k:10|tail_ratio:0.1|"
                                            "popularity:examples-history-purchases|version:1")
    [gini] = build_metrics(["gini-index:5"], {})
    assert gini.options.k == 5 and gini.signature() == "metric:gini-index|k:5|catalogue:examples-history+target|version:1"


def test_coverage_over_a_whole_datasets_catalogue(tmp_path):
    import json

    path = tmp_path / "data.jsonl"
    ids = ["a", "b", "c", "d", "t1", "t2", "t3", "x", "y", "z"]
    records = [{"reviewer_id": f"u{i}", "purchase_history": [{"item": {"asin": a}}, {"item": {"asin": b}}]}
               for i, (a, b) in enumerate(zip(ids[::2], ids[1::2]))]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    output = ItemCoverage(k=2, catalogue=str(path)).score(LISTS, ["t"] * 3, EXAMPLES)
    assert output.components[0].corpus_score() == pytest.approx(4 / 10)
    assert "|catalogue:dataset@" in output.signature


def test_popularity_from_every_users_history_in_a_dataset(tmp_path):
    import json

    path = tmp_path / "data.jsonl"
    # histories (the last purchase is each user's target): a x3, c x1
    records = [{"reviewer_id": f"u{i}", "purchase_history": [{"item": {"asin": a}}, {"item": {"asin": "t"}}]}
               for i, a in enumerate(["a", "a", "a", "c"])]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    output = AveragePopularity(k=2, popularity=str(path)).score(LISTS, ["t"] * 3, EXAMPLES)
    assert output.components[0].corpus_score() == pytest.approx(((3 + 0) / 2 + (3 + 0) / 2 + (3 + 1) / 2) / 3)
    assert "|popularity:dataset-history-purchases@" in output.signature
    # the least popular tenth of {a, c} is c
    tail = TailPercentage(k=2, popularity=str(path)).score(LISTS, ["t"] * 3, EXAMPLES).components[0]
    assert tail.corpus_score() == pytest.approx((0 + 0 + 0.5) / 3)
