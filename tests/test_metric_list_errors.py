"""list-errors: unknown ids, repeats and already-bought items in next-item lists, by hand."""

import numpy as np
import pytest

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.examples import Example
from regen_bench.contracts.records import Item, Purchase
from regen_bench_plugins.metrics.list_errors import ListErrors


def _example(uid, history, target):
    return Example(example_id=uid, user_id=uid, history=[Purchase(item=Item(asin=a)) for a in history],
                   target=Purchase(item=Item(asin=target)))


# catalogue: a, b, c, d, e, t1, t2
EXAMPLES = [_example("u1", ["a", "b"], "t1"), _example("u2", ["c", "d", "e"], "t2")]


def test_list_errors_by_hand():
    preds = [["t1", "a", "zz", "a"],  # zz unknown; a repeated; a twice from the history
             ["t1", "c", "x9", 7]]   # x9 and 7 unknown (7 compared as "7"); c from the history
    output = ListErrors().score(preds, ["t1", "t2"], EXAMPLES)
    unknown, repeated, bought = output.components
    assert unknown.per_example == [0.25, 0.5]
    assert repeated.per_example == [0.25, 0.0]
    assert bought.per_example == [0.5, 0.25]
    assert unknown.corpus_score() == pytest.approx(0.375)
    assert output.counts == {"empty_rankings": 0, "catalogue_items": 7}


def test_a_cutoff_scores_only_the_first_k_items():
    [unknown, repeated, bought] = ListErrors(k=2).score([["t1", "a", "zz", "a"]], ["t1"], EXAMPLES[:1]).components
    assert (unknown.per_example, repeated.per_example, bought.per_example) == ([0.0], [0.0], [0.5])
    assert "cutoff:2" in ListErrors(k=2).signature()


def test_an_empty_list_is_undefined_and_counted():
    output = ListErrors().score([[], None], ["t1", "t2"], EXAMPLES)
    assert all(np.isnan(v) for c in output.components for v in c.per_example)
    assert output.counts["empty_rankings"] == 2


def test_a_history_that_is_only_the_target_was_not_shown_and_is_not_history():
    example = _example("u", ["t"], "t")
    [_, _, bought] = ListErrors().score([["t"]], ["t"], [example]).components
    assert bought.per_example == [0.0]


def test_it_needs_the_examples_and_a_list_per_example():
    with pytest.raises(RegenBenchError, match="no example"):
        ListErrors().score([["a"]], ["t1"], [None])
    with pytest.raises(TypeError, match="expected a ranked list"):
        ListErrors().score(["a"], ["t1"], EXAMPLES[:1])
    assert ListErrors.kind == "ranking" and ListErrors.higher_is_better is False


def test_a_dataset_catalogue_knows_items_no_scored_user_has(tmp_path):
    import json

    path = tmp_path / "data.jsonl"
    records = [{"reviewer_id": "u1", "purchase_history": [{"item": {"asin": "a"}}, {"item": {"asin": "t1"}}]},
               {"reviewer_id": "u9", "purchase_history": [{"item": {"asin": "zz"}}, {"item": {"asin": "yy"}}]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    metric = ListErrors(catalogue=str(path))
    output = metric.score([["t1", "zz", "qq", "a"]], ["t1"], EXAMPLES[:1])
    assert output.components[0].per_example == [0.25]  # only qq is unknown: zz is another user's item
    assert output.counts["catalogue_items"] == 4
    assert "|catalogue:dataset@" in output.signature and "|catalogue:dataset|" in metric.signature()
