"""The bleu plugin against sacrebleu: corpus score, resampled aggregates, sentence BLEU, signature."""

import json
import math

import numpy as np
import pytest
import sacrebleu

from regen_bench.contracts.metric import MetricOptions
from regen_bench_plugins.metrics import bleu as bleu_plugin
from regen_bench_plugins.metrics.bleu import BleuMetric, corpus_bleu_from_stats

NARRATIVE_PREDS = [
    "You bought a lot of printer ink lately, so this 13-pack of remanufactured HP cartridges "
    "would keep your office running for months at a fraction of the price.",
    "Since you liked the blue running shoes, these lightweight trainers offer the same cushioning "
    "with a breathable mesh upper.",
    "Based on your reviews praising durability, this stapler is built from solid steel.",
    "A great gift for someone who loves cats.",
]
NARRATIVE_REFS = [
    "Given how often you buy printer ink, this 13-pack of remanufactured cartridges for HP printers "
    "keeps your office stocked for months at a low price.",
    "You enjoyed the blue running shoes; these trainers are just as cushioned and have a breathable mesh upper.",
    "You care about things that last, and this all-steel stapler is built to last.",
    "This notebook has 200 lined pages and a hard cover.",
]

CASES = {
    "narratives": (NARRATIVE_PREDS, NARRATIVE_REFS),
    "identical": (["the quick brown fox jumps over the lazy dog", "a b c d e"],
                  ["the quick brown fox jumps over the lazy dog", "a b c d e"]),
    "unrelated": (["alpha beta gamma delta", "one two three"], ["red green blue yellow", "four five six seven"]),
    "empty_predictions": (["", "", "the cat sat on the mat"], ["the cat sat on the mat", "x", "the cat sat on a mat"]),
    "all_empty": (["", ""], ["some reference", "another one"]),
    "empty_reference": (["a prediction", "the cat sat"], ["", "the cat sat here"]),
    "short": (["a", "b c", "c d e"], ["a", "b c", "c d e"]),
    "unicode": (["Café naïve résumé — déjà vu 東京 タワー", "Ünïcödé ½ ✓ emoji 🙂 works!"],
                ["Cafe naïve résumé — deja vu 東京 タワー", "Ünïcödé ½ ✓ emoji 🙂 works?"]),
    "tokenised_period": (["this ends with a tokenised period .", "so does this ."],
                         ["this ends with a tokenised period.", "so does this."]),
}

OPTION_SETS = [
    {},
    {"lowercase": True},
    {"tokenize": "intl"},
    {"tokenize": "char"},
    {"tokenize": "none"},
    {"smooth_method": "floor"},
    {"smooth_method": "floor", "smooth_value": 0.3},
    {"smooth_method": "add-k"},
    {"smooth_method": "add-k", "smooth_value": 2},
    {"smooth_method": "none"},
]


def _sacrebleu_kwargs(options):
    return {"tokenize": "13a", **options}


@pytest.mark.parametrize("case", sorted(CASES))
def test_corpus_score_equals_sacrebleu(case):
    preds, refs = CASES[case]
    output = BleuMetric().score(preds, refs, [None] * len(preds))
    [component] = output.components
    assert component.name == "bleu"
    assert component.stats.shape == (len(preds), 10)
    assert component.corpus_score() == pytest.approx(sacrebleu.corpus_bleu(preds, [refs]).score, abs=1e-9)


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: json.dumps(o, sort_keys=True))
def test_options_match_sacrebleu(options):
    for preds, refs in CASES.values():
        output = BleuMetric(**options).score(preds, refs, [None] * len(preds))
        [component] = output.components
        expected = sacrebleu.corpus_bleu(preds, [refs], **_sacrebleu_kwargs(options)).score
        assert component.corpus_score() == pytest.approx(expected, abs=1e-9)
        sentence = sacrebleu.BLEU(effective_order=True, **_sacrebleu_kwargs(options))
        for value, pred, ref in zip(component.per_example, preds, refs):
            assert value == pytest.approx(sentence.sentence_score(pred, [ref]).score, abs=1e-9)


@pytest.mark.parametrize("case", sorted(CASES))
def test_per_example_is_sentence_bleu_with_effective_order(case):
    preds, refs = CASES[case]
    [component] = BleuMetric().score(preds, refs, [None] * len(preds)).components
    assert len(component.per_example) == len(preds)
    for value, pred, ref in zip(component.per_example, preds, refs):
        assert value == pytest.approx(sacrebleu.sentence_bleu(pred, [ref]).score, abs=1e-9)
        assert value == pytest.approx(sacrebleu.BLEU(effective_order=True).sentence_score(pred, [ref]).score, abs=1e-9)


def _random_corpus(rng, n, vocab=12, max_len=9):
    words = [f"w{i}" for i in range(vocab)]

    def sentence():
        return " ".join(rng.choice(words, size=int(rng.integers(0, max_len + 1))))

    return [sentence() for _ in range(n)], [sentence() for _ in range(n)]


@pytest.mark.parametrize("options", OPTION_SETS[:1] + OPTION_SETS[5:], ids=lambda o: json.dumps(o, sort_keys=True))
def test_vectorised_aggregate_equals_sacrebleu_on_resamples(options):
    rng = np.random.default_rng(7)
    preds, refs = _random_corpus(rng, 25)
    preds[3] = ""
    component = BleuMetric(**options).score(preds, refs, [None] * len(preds)).components[0]
    n = len(preds)
    index_sets = [rng.integers(0, n, size=n) for _ in range(40)]
    # Small resamples too: orders with no n-grams at all, or no matches at all.
    index_sets += [rng.integers(0, n, size=int(size)) for size in rng.integers(1, 4, size=20)]
    counts = np.stack([np.bincount(idx, minlength=n) for idx in index_sets]).astype(np.float64)
    values = component.aggregate(counts @ component.stats, n)
    assert values.shape == (len(index_sets),)
    for value, idx in zip(values, index_sets):
        expected = sacrebleu.corpus_bleu(
            [preds[i] for i in idx], [[refs[i] for i in idx]], **_sacrebleu_kwargs(options)
        ).score
        assert value == pytest.approx(expected, abs=1e-9)


def test_aggregate_broadcasts_over_leading_axes():
    preds, refs = CASES["narratives"]
    component = BleuMetric().score(preds, refs, [None] * len(preds)).components[0]
    sums = component.stats.sum(0)
    grid = np.broadcast_to(sums, (3, 2, sums.shape[0]))
    values = component.aggregate(grid, len(preds))
    assert values.shape == (3, 2)
    assert np.all(values == component.aggregate(sums, len(preds)))


def test_effective_order_aggregate_matches_sentence_bleu():
    preds, refs = CASES["short"][0] + CASES["narratives"][0], CASES["short"][1] + CASES["narratives"][1]
    component = BleuMetric().score(preds, refs, [None] * len(preds)).components[0]
    values = corpus_bleu_from_stats(component.stats, effective_order=True)
    np.testing.assert_allclose(values, component.per_example, rtol=0, atol=1e-9)


def test_signature_is_sacrebleus():
    preds, refs = CASES["narratives"]
    reference = sacrebleu.BLEU()
    reference.corpus_score(preds, [refs])
    expected = reference.get_signature().format()
    assert expected == f"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:{sacrebleu.__version__}"
    metric = BleuMetric()
    assert metric.score(preds, refs, [None] * len(preds)).signature == expected
    assert metric.signature() == expected  # before/without scoring too


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: json.dumps(o, sort_keys=True))
def test_signature_with_options(options):
    preds, refs = CASES["narratives"]
    reference = sacrebleu.BLEU(**_sacrebleu_kwargs(options))
    reference.corpus_score(preds, [refs])
    metric = BleuMetric(**options)
    assert metric.score(preds, refs, [None] * len(preds)).signature == reference.get_signature().format()
    assert metric.signature() == reference.get_signature().format()


def test_empty_input_gives_nan_not_a_crash():
    output = BleuMetric().score([], [], [])
    [component] = output.components
    assert component.per_example == []
    assert component.stats.shape == (0, 10)
    assert math.isnan(component.corpus_score())
    assert output.signature.startswith("nrefs:1|")


def test_bad_input():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        BleuMetric().score(["a", "b"], ["a"], [None, None])
    with pytest.raises(TypeError, match=r"predictions\[1\]"):
        BleuMetric().score(["a", None], ["a", "b"], [None, None])
    with pytest.raises(Exception):
        BleuMetric(tokenize="no-such-tokenizer")
    with pytest.raises(Exception):
        BleuMetric(smooth_method="bogus")
    with pytest.raises(Exception):
        BleuMetric(not_an_option=1)


def test_plugin_registration():
    registered = []
    bleu_plugin.register_metrics(register=registered.append)
    assert registered == [BleuMetric]
    assert BleuMetric.name == "bleu"
    assert BleuMetric.higher_is_better is True
    assert BleuMetric.description and "\n" not in BleuMetric.description
    assert issubclass(BleuMetric.Options, MetricOptions)
    assert BleuMetric().options.model_dump() == {
        "max_ngram_order": 4, "tokenize": "13a", "lowercase": False, "smooth_method": "exp", "smooth_value": None,
    }


def test_real_reviews_match_sacrebleu(shared_data):
    texts = []
    with open(shared_data / "amazon_fashion_5core" / "AMAZON_FASHION_5.json", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts.append(row.get("reviewText") or "")
            if len(texts) == 300:
                break
    preds, refs = texts[::2], texts[1::2]
    component = BleuMetric().score(preds, refs, [None] * len(preds)).components[0]
    assert component.corpus_score() == pytest.approx(sacrebleu.corpus_bleu(preds, [refs]).score, abs=1e-9)
    for value, pred, ref in zip(component.per_example, preds, refs):
        assert value == pytest.approx(sacrebleu.sentence_bleu(pred, [ref]).score, abs=1e-9)


def test_parallel_chunks_give_one_process_s_statistics_and_scores(monkeypatch):
    # Above PARALLEL_ABOVE the statistics are computed in worker processes, a chunk each;
    # lowered here so a small input takes that path. Every case's pairs, repeated into one
    # input whose chunk boundaries fall mid-case, with an odd number of workers.
    preds = [p for case in CASES.values() for p in case[0]] * 3
    refs = [r for case in CASES.values() for r in case[1]] * 3
    examples = [None] * len(preds)
    one = BleuMetric(workers=1).score(preds, refs, examples)
    monkeypatch.setattr(bleu_plugin, "PARALLEL_ABOVE", 10)
    many = BleuMetric(workers=3).score(preds, refs, examples)
    [a], [b] = one.components, many.components
    assert np.array_equal(a.stats, b.stats)
    assert a.per_example == b.per_example
    assert a.corpus_score() == b.corpus_score()
    assert b.corpus_score() == pytest.approx(sacrebleu.corpus_bleu(preds, [refs]).score, rel=1e-12)
    assert one.signature == many.signature == BleuMetric().signature()
    assert "workers" not in BleuMetric(workers=3).options.model_dump()  # not in the signature or config
