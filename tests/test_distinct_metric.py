"""distinct-1/2 and length: hand-computed values, generic vs varied narratives, the bootstrap."""

import math

import numpy as np
import pytest

from regen_bench.plugin.registry import get_registry
from regen_bench.results.schema import SampleRow
from regen_bench.results.scoring import score_rows
from regen_bench.stats.bootstrap import bootstrap_interval, resample_counts
from regen_bench_plugins.metrics.distinct import DistinctMetric, tokenize

GENERIC = (
    "Based on your purchase history, this product is a great choice for you. "
    "It offers great quality and great value, and it fits your needs perfectly."
)

ADJECTIVES = "sturdy compact bright quiet refillable ergonomic recycled glossy matte heavy-duty slim colourful".split()
ITEMS = "stapler notebook binder printer desk-lamp planner marker calculator envelope shredder label-maker".split()
REASONS = [
    "you keep reordering {a} supplies for the home office",
    "your last review praised how {a} the {i} felt",
    "you asked for something that survives a busy classroom",
    "your team plans quarterly reports on paper",
    "you prefer brands that use less plastic",
    "the previous {i} jammed twice in one week",
]
CLOSERS = [
    "It ships with {k} spare parts.", "Expect about {k} months of daily use.",
    "It costs roughly {k} dollars less than your last one.", "Reviewers rate it {k} of five.",
]


def _varied(n=100, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a, i = rng.choice(ADJECTIVES), rng.choice(ITEMS)
        b, j = rng.choice(ADJECTIVES), rng.choice(ITEMS)
        reason = rng.choice(REASONS).format(a=b, i=j)
        closer = rng.choice(CLOSERS).format(k=int(rng.integers(2, 99)))
        out.append(f"We picked this {a} {i} because {reason}. {closer}")
    return out


def _score(predictions):
    output = DistinctMetric().score(predictions, [""] * len(predictions), [None] * len(predictions))
    return output, {c.name: c for c in output.components}


def test_registered_text_metric():
    entry = get_registry().get("metric", "distinct")
    assert entry.cls is DistinctMetric
    assert DistinctMetric.kind == "text" and DistinctMetric.higher_is_better is True
    assert "higher is better" in DistinctMetric.description  # distinct-n; length alone has no better direction
    assert "length in tokens, context only (no better direction)" in DistinctMetric.description


def test_tokenizer_is_lowercased_words():
    assert tokenize("Don't STOP, don't!  The cat's  toy...") == ["don't", "stop", "don't", "the", "cat's", "toy"]
    assert tokenize("  ... ") == []


def test_hand_computed_corpus_values():
    output, c = _score(["the cat sat", "the cat ran", "The cat, sat!"])
    # unigrams: 9 occurrences, {the, cat, sat, ran} -> 4/9; bigrams: 6, {the cat, cat sat, cat ran} -> 3/6
    assert c["distinct-1"].corpus_score() == pytest.approx(4 / 9)
    assert c["distinct-2"].corpus_score() == pytest.approx(3 / 6)
    assert c["length"].corpus_score() == pytest.approx(3.0)
    # per example: credit / n-grams; "ran" occurs once: (1/3 + 1/3 + 1) / 3
    assert c["distinct-1"].per_example[1] == pytest.approx((1 / 3 + 1 / 3 + 1) / 3)
    assert c["distinct-2"].per_example[0] == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert [d["tokens"] for d in output.details] == [3, 3, 3]
    assert output.details[0]["distinct1_within"] == 1.0


def test_credits_sum_to_the_number_of_distinct_ngrams():
    predictions = _varied(60) + [GENERIC] * 5 + ["great great great value"]
    _, c = _score(predictions)
    tokens = [tokenize(p) for p in predictions]
    for n in (1, 2):
        grams = [tuple(t[i : i + n]) for t in tokens for i in range(len(t) - n + 1)]
        component = c[f"distinct-{n}"]
        assert component.stats[:, 0].sum() == pytest.approx(len(set(grams)), rel=1e-12)
        assert component.stats[:, 1].sum() == len(grams)
        assert component.corpus_score() == pytest.approx(len(set(grams)) / len(grams), rel=1e-12)


def test_generic_narratives_score_low_and_varied_high():
    _, same = _score([GENERIC] * 100)
    _, varied = _score(_varied(100))
    for name in ("distinct-1", "distinct-2"):
        low = bootstrap_interval(same[name], seed=0, resamples=300)
        high = bootstrap_interval(varied[name], seed=0, resamples=300)
        assert low.score <= 0.01 + 1e-12  # at most (distinct n-grams of one narrative) / 100 copies
        assert low.low == pytest.approx(low.score) and low.high == pytest.approx(low.score)
        assert high.score > 5 * low.score
        assert high.low > low.high
    assert varied["distinct-2"].corpus_score() > 0.15


def test_interval_contains_the_score_unlike_a_naive_unique_count_bootstrap():
    predictions = _varied(200, seed=3)
    _, c = _score(predictions)
    for name in ("distinct-1", "distinct-2"):
        interval = bootstrap_interval(c[name], seed=1, resamples=500)
        assert interval.low < interval.score < interval.high
        assert interval.n == 200
    # The naive bootstrap (unique n-grams of the resampled multiset) is biased low: repeats add
    # n-grams but no new ones. This is why the metric uses per-example credits.
    tokens = [tokenize(p) for p in predictions]
    bigrams = [[tuple(t[i : i + 2]) for i in range(len(t) - 1)] for t in tokens]
    naive = []
    for counts in resample_counts(len(predictions), 100, 0):
        seen, total = set(), 0
        for grams, times in zip(bigrams, counts):
            if times:
                seen.update(grams)
                total += times * len(grams)
        naive.append(len(seen) / total)
    assert np.quantile(naive, 0.975) < c["distinct-2"].corpus_score()


def test_empty_and_one_token_predictions_are_undefined_and_left_out():
    output, c = _score(["", "word", "two words"])
    assert math.isnan(c["distinct-1"].per_example[0])
    assert c["distinct-1"].stats.shape == (2, 2)
    assert math.isnan(c["distinct-2"].per_example[1])
    assert c["distinct-2"].stats.shape == (1, 2)
    assert c["length"].per_example == [0.0, 1.0, 2.0]
    assert output.details[0] == {"tokens": 0, "distinct1_within": None, "distinct2_within": None}
    _, none = _score([])
    assert math.isnan(none["distinct-1"].corpus_score())


def test_signature_and_score_rows():
    signature = DistinctMetric().signature()
    assert signature == "metric:distinct|n:1,2|tok:lc-words|ci:fixed-freq-credit|version:1"
    rows = [
        SampleRow(task="purchase_reason", example_id=f"e{i}", user_id=f"u{i}", prediction=p, reference="ref")
        for i, p in enumerate(_varied(30))
    ]
    entries = score_rows(rows, [DistinctMetric()], seed=0, resamples=200)
    assert [e.component for e in entries] == ["distinct-1", "distinct-2", "length"]
    assert all(e.signature == signature and e.ci_low <= e.score <= e.ci_high for e in entries)
    assert rows[0].details["tokens"] == rows[0].scores["length"]


def test_rejects_non_strings():
    with pytest.raises(TypeError, match=r"predictions\[1\]"):
        DistinctMetric().score(["ok", ["a"]], ["", ""], [None, None])
