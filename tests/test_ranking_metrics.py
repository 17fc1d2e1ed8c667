"""recall@k, ndcg@k and mrr: hand-computed values, cutoffs, empty lists, duplicates, CIs, CLI specs."""

import math

import numpy as np
import pytest
from pydantic import ValidationError

from regen_bench.plugin.registry import get_registry
from regen_bench.plugin.specs import build_metrics
from regen_bench.results.schema import SampleRow
from regen_bench.results.scoring import score_rows
from regen_bench.stats.bootstrap import bootstrap_interval
from regen_bench_plugins.metrics.ranking import MeanReciprocalRank, NdcgAtK, RecallAtK

# Target ranks: 1, 3, absent, 12, 2 (as ints: a model may return int ids).
PREDICTIONS = [
    ["a", "b", "c"],
    ["x", "y", "t", "z"],
    ["p", "q"],
    [f"i{j}" for j in range(1, 12)] + ["t"],
    [7, 42, 9],
]
REFERENCES = ["a", "t", "t", "t", "42"]


def _score(metric, predictions=PREDICTIONS, references=REFERENCES):
    output = metric.score(predictions, references, [None] * len(predictions))
    [component] = output.components
    return output, component


def test_names_kind_and_registration():
    registry = get_registry()
    for name, cls in (("recall@k", RecallAtK), ("ndcg@k", NdcgAtK), ("mrr", MeanReciprocalRank)):
        assert registry.get("metric", name).cls is cls
        assert cls.kind == "ranking"
        assert cls.higher_is_better is True


def test_hand_computed_recall_ndcg_mrr_default_k():
    _, recall = _score(RecallAtK())
    assert recall.name == "recall@10"
    assert recall.per_example == [1.0, 1.0, 0.0, 0.0, 1.0]
    assert recall.corpus_score() == pytest.approx(3 / 5)

    _, ndcg = _score(NdcgAtK())
    assert ndcg.name == "ndcg@10"
    expected = [1.0, 1 / math.log2(4), 0.0, 0.0, 1 / math.log2(3)]
    assert ndcg.per_example == pytest.approx(expected)
    assert ndcg.corpus_score() == pytest.approx(sum(expected) / 5)

    output, mrr = _score(MeanReciprocalRank())
    assert mrr.name == "mrr"  # whole list: rank 12 still counts
    expected = [1.0, 1 / 3, 0.0, 1 / 12, 1 / 2]
    assert mrr.per_example == pytest.approx(expected)
    assert mrr.corpus_score() == pytest.approx(sum(expected) / 5)
    assert [d["target_rank"] for d in output.details] == [1, 3, None, 12, 2]
    assert output.counts["target_found"] == 4


@pytest.mark.parametrize(
    "k, recall, ndcg",
    [
        (1, [1, 0, 0, 0, 0], [1, 0, 0, 0, 0]),
        (2, [1, 0, 0, 0, 1], [1, 0, 0, 0, 1 / math.log2(3)]),
        (3, [1, 1, 0, 0, 1], [1, 1 / math.log2(4), 0, 0, 1 / math.log2(3)]),
        (12, [1, 1, 0, 1, 1], [1, 1 / math.log2(4), 0, 1 / math.log2(13), 1 / math.log2(3)]),
    ],
)
def test_k_variations(k, recall, ndcg):
    _, r = _score(RecallAtK(k=k))
    _, g = _score(NdcgAtK(k=k))
    assert r.name == f"recall@{k}" and g.name == f"ndcg@{k}"
    assert r.per_example == pytest.approx(recall)
    assert g.per_example == pytest.approx(ndcg)


def test_mrr_with_cutoff():
    _, mrr = _score(MeanReciprocalRank(k=2))
    assert mrr.name == "mrr@2"
    assert mrr.per_example == pytest.approx([1.0, 0.0, 0.0, 0.0, 0.5])
    assert "cutoff:2" in MeanReciprocalRank(k=2).signature()
    assert "cutoff:none" in MeanReciprocalRank().signature()


def test_empty_and_missing_lists_score_zero():
    output, recall = _score(RecallAtK(), [[], None, ["t"]], ["t", "t", "t"])
    assert recall.per_example == [0.0, 0.0, 1.0]
    assert output.counts["empty_rankings"] == 2
    _, mrr = _score(MeanReciprocalRank(), [[], None], ["t", "t"])
    assert mrr.per_example == [0.0, 0.0]
    _, ndcg = _score(NdcgAtK(), [], [])
    assert ndcg.per_example == [] and math.isnan(ndcg.corpus_score())


def test_duplicates_first_occurrence_counts_and_repeats_keep_positions():
    # Repeated other items take up positions: the target is at position 3, not 2.
    predictions = [["a", "a", "t", "t", "t"], ["t", "t"]]
    output, mrr = _score(MeanReciprocalRank(), predictions, ["t", "t"])
    assert mrr.per_example == pytest.approx([1 / 3, 1.0])  # a repeated target earns nothing more
    assert output.counts["rankings_with_duplicates"] == 2
    _, ndcg = _score(NdcgAtK(k=2), predictions, ["t", "t"])
    assert ndcg.per_example == pytest.approx([0.0, 1.0])
    _, recall = _score(RecallAtK(k=2), predictions, ["t", "t"])
    assert recall.per_example == [0.0, 1.0]


def test_bad_inputs_are_clear():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        RecallAtK().score([["a"], ["b"]], ["a"], [None, None])
    with pytest.raises(TypeError, match="expected a ranked list"):
        RecallAtK().score(["a b c"], ["a"], [None])
    with pytest.raises(TypeError, match=r"references\[0\]"):
        RecallAtK().score([["a"]], [["a"]], [None])
    with pytest.raises(ValidationError):
        RecallAtK(k=0)


def test_bootstrap_ci_contains_the_mean():
    rng = np.random.default_rng(0)
    n = 300
    predictions = [[f"i{j}" for j in rng.permutation(30)[:20]] for _ in range(n)]
    references = [f"i{j}" for j in rng.integers(0, 30, size=n)]
    for metric in (RecallAtK(), NdcgAtK(k=5), MeanReciprocalRank()):
        _, component = _score(metric, predictions, references)
        interval = bootstrap_interval(component, seed=1, resamples=500)
        mean = float(np.mean(component.per_example))
        assert interval.score == pytest.approx(mean)
        assert interval.low < mean < interval.high
        assert interval.n == n


def test_cli_spec_sets_k_and_scoring_uses_next_item_task():
    metrics = build_metrics(["recall@k:20", "ndcg@k", "mrr:5"], {})
    assert [m.options.k for m in metrics] == [20, 10, 5]
    rows = [
        SampleRow(task="next_item", example_id=f"e{i}", user_id=f"u{i}", prediction=p, reference=r)
        for i, (p, r) in enumerate(zip(PREDICTIONS, REFERENCES))
    ]
    rows.append(SampleRow(task="user_summary", example_id="s0", user_id="u0", prediction="text", reference="text"))
    entries = score_rows(rows, metrics, seed=0, resamples=200)
    assert {(e.task, e.component) for e in entries} == {
        ("next_item", "recall@20"), ("next_item", "ndcg@10"), ("next_item", "mrr@5")
    }
    recall = next(e for e in entries if e.component == "recall@20")
    assert recall.score == pytest.approx(4 / 5)
    assert "k:20" in recall.signature
    assert rows[3].scores["recall@20"] == 1.0 and rows[3].details["target_rank"] == 12
