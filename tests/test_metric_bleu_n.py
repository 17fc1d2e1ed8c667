"""BLEU-1..4 (`max_ngram_order`) against sacrebleu, by hand, through the bootstrap and the chunked workers."""

import math

import numpy as np
import pytest
import sacrebleu

from regen_bench.plugin.specs import build_metrics
from regen_bench_plugins.metrics import bleu as bleu_plugin
from regen_bench_plugins.metrics.bleu import BleuMetric, corpus_bleu_from_stats

PREDS = [
    "this stapler is built from solid steel and lasts for years",
    "a great gift for someone who loves cats",
    "you bought printer ink so these cartridges keep your office running",
    "",
]
REFS = [
    "this all-steel stapler is built to last for years",
    "a notebook with lined pages and a hard cover",
    "given how often you buy printer ink these cartridges keep your office stocked",
    "an empty prediction scores nothing",
]


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_corpus_and_sentence_bleu_n_equal_sacrebleus(order):
    output = BleuMetric(max_ngram_order=order).score(PREDS, REFS, [None] * len(PREDS))
    [component] = output.components
    assert component.stats.shape == (len(PREDS), 2 + 2 * order)
    expected = sacrebleu.BLEU(max_ngram_order=order).corpus_score(PREDS, [REFS]).score
    assert component.corpus_score() == pytest.approx(expected, abs=1e-9)
    sentence = sacrebleu.BLEU(max_ngram_order=order, effective_order=True)
    for value, pred, ref in zip(component.per_example, PREDS, REFS):
        assert value == pytest.approx(sentence.sentence_score(pred, [ref]).score, abs=1e-9)


def test_bleu_1_by_hand_is_the_unigram_precision_times_the_brevity_penalty():
    # hypothesis: 4 tokens, 3 of them in the reference ("the cat sat" + "here"); reference: 6 tokens
    hyp, ref = "the cat sat here", "the cat sat on the mat"
    [component] = BleuMetric(max_ngram_order=1).score([hyp], [ref], [None]).components
    by_hand = 100 * (3 / 4) * math.exp(1 - 6 / 4)
    assert component.corpus_score() == pytest.approx(by_hand, abs=1e-9)


def test_component_is_named_by_its_order_and_bleu_4_keeps_its_old_name():
    names = [BleuMetric(max_ngram_order=n).score(PREDS, REFS, [None] * 4).components[0].name for n in (1, 2, 3, 4)]
    assert names == ["bleu-1", "bleu-2", "bleu-3", "bleu"]


def test_signature_is_sacrebleus_with_the_order_added_below_4():
    four = BleuMetric().signature()
    assert four == "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:" + sacrebleu.__version__
    assert BleuMetric(max_ngram_order=4).signature() == four
    one = BleuMetric(max_ngram_order=1).signature()
    assert one == f"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|order:1|version:{sacrebleu.__version__}"
    assert len({BleuMetric(max_ngram_order=n).signature() for n in (1, 2, 3, 4)}) == 4


@pytest.mark.parametrize("bad", [0, 5])
def test_an_order_outside_1_to_4_is_refused(bad):
    with pytest.raises(ValueError):
        BleuMetric(max_ngram_order=bad)


def test_spec_argument_sets_the_order():
    [metric] = build_metrics(["bleu:2"], {})
    assert metric.options.max_ngram_order == 2


@pytest.mark.parametrize("order", [1, 2])
def test_resampled_aggregate_equals_sacrebleu_on_the_resampled_corpus(order):
    metric = BleuMetric(max_ngram_order=order)
    [component] = metric.score(PREDS, REFS, [None] * len(PREDS)).components
    rng = np.random.default_rng(0)
    for _ in range(5):
        idx = rng.integers(0, len(PREDS), size=len(PREDS))
        counts = np.bincount(idx, minlength=len(PREDS)).astype(float)
        value = component.aggregate(counts @ component.stats, len(PREDS))
        expected = sacrebleu.BLEU(max_ngram_order=order).corpus_score(
            [PREDS[i] for i in idx], [[REFS[i] for i in idx]]).score
        assert value == pytest.approx(expected, abs=1e-9)


def test_aggregate_refuses_statistics_of_another_order():
    [component] = BleuMetric(max_ngram_order=2).score(PREDS, REFS, [None] * 4).components
    with pytest.raises(ValueError):
        corpus_bleu_from_stats(component.stats.sum(0), max_ngram_order=4)


def test_parallel_chunks_give_the_same_rows_for_bleu_2(monkeypatch):
    monkeypatch.setattr(bleu_plugin, "PARALLEL_ABOVE", 4)
    preds, refs = PREDS * 3, REFS * 3
    one = BleuMetric(max_ngram_order=2, workers=1).score(preds, refs, [None] * len(preds)).components[0]
    two = BleuMetric(max_ngram_order=2, workers=2).score(preds, refs, [None] * len(preds)).components[0]
    assert np.array_equal(one.stats, two.stats) and one.per_example == two.per_example
    assert one.stats.shape == (len(preds), 6)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_bleu_n_on_whitespace_tokens_equals_nltks_corpus_bleu(order):
    from nltk.translate.bleu_score import corpus_bleu

    preds, refs = PREDS[:3], REFS[:3]  # nltk has no score for an empty hypothesis
    [component] = BleuMetric(max_ngram_order=order, tokenize="none", smooth_method="none").score(
        preds, refs, [None] * 3).components
    expected = corpus_bleu([[r.split()] for r in refs], [p.split() for p in preds], weights=(1 / order,) * order)
    assert component.corpus_score() == pytest.approx(100 * expected, abs=1e-9)
