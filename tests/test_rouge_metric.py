"""The rouge plugin: rouge-score-rs must give exactly Google's rouge-score numbers."""

import json
import math

import pytest
from rouge_score import rouge_scorer

from regen_bench.contracts.metric import MetricOptions
from regen_bench_plugins.metrics import rouge as rouge_plugin
from regen_bench_plugins.metrics.rouge import ROUGE_TYPES, RougeMetric


def _reference_scores(preds, refs, use_stemmer=True):
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer)
    return [scorer.score(ref, pred) for pred, ref in zip(preds, refs)]


def _assert_identical(output, preds, refs, use_stemmer=True):
    """Every F1, precision and recall equals rouge-score's, with no tolerance."""
    expected = _reference_scores(preds, refs, use_stemmer)
    by_name = {c.name: c for c in output.components}
    assert list(by_name) == list(ROUGE_TYPES)
    assert len(output.details) == len(preds)
    for i, scores in enumerate(expected):
        for rouge_type in ROUGE_TYPES:
            want = scores[rouge_type]
            got_f = by_name[rouge_type].per_example[i]
            got_p = output.details[i][f"{rouge_type}_p"]
            got_r = output.details[i][f"{rouge_type}_r"]
            assert (got_f, got_p, got_r) == (want.fmeasure, want.precision, want.recall), (i, rouge_type)


def _load_pairs(shared_data):
    fashion = []
    with open(shared_data / "amazon_fashion_5core" / "AMAZON_FASHION_5.json", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            fashion.append((row.get("reviewText") or "", row.get("summary") or ""))
    # Consecutive lines are often the same review under another variant; take a spread.
    fashion = fashion[::7][:400]
    multiline = [text for text, _ in fashion if "\n" in text]
    assert multiline, "expected some multi-line reviews in the fashion data"

    history = []
    with open(shared_data / "amazon2023_office_users" / "office_users.jsonl", encoding="utf-8") as f:
        for line in f:
            history += json.loads(line)["history"]
    office = [(h.get("review_full") or "", h.get("review_title") or "") for h in history]

    preds, refs = [], []

    def add(pred, ref):
        preds.append(pred)
        refs.append(ref)

    for (text, summary), (next_text, _) in zip(fashion, fashion[1:]):
        add(summary, text)          # short headline vs review
        add(text, next_text)        # review vs another review
    for (full, title), (next_full, _) in zip(office, office[1:]):
        add(title, full)
        add(full, next_full)
        add(full.replace("<br />", "\n"), next_full.replace("<br />", "\n"))
    # Multi-line: reviews joined with newlines, sentences in another order (rougeLsum differs).
    texts = [text for text, _ in fashion if text] + [full for full, _ in office if full]
    for i in range(0, 60, 3):
        add("\n".join(texts[i : i + 3]), "\n".join(reversed(texts[i : i + 4])))
        add(texts[i].replace(". ", ".\n"), texts[i])
    for text in multiline[:20]:
        add(text, text.replace("\n", " "))
        add(text, text)
    # Empty and whitespace-only strings on either side.
    for text in texts[:5]:
        add("", text)
        add(text, "")
        add("\n\n", text)
    add("", "")
    add("   ", "\n")
    return preds, refs


@pytest.mark.parametrize("use_stemmer", [True, False])
def test_rs_backend_identical_to_rouge_score_on_real_reviews(shared_data, use_stemmer):
    preds, refs = _load_pairs(shared_data)
    assert len(preds) > 1000
    output = RougeMetric(use_stemmer=use_stemmer).score(preds, refs, [None] * len(preds))
    _assert_identical(output, preds, refs, use_stemmer)


def test_reference_backend_equals_rs_backend_on_real_reviews(shared_data):
    preds, refs = _load_pairs(shared_data)
    preds, refs = preds[:300], refs[:300]
    rs = RougeMetric().score(preds, refs, [None] * len(preds))
    reference = RougeMetric(backend="reference").score(preds, refs, [None] * len(preds))
    assert rs.details == reference.details
    for a, b in zip(rs.components, reference.components):
        assert a.name == b.name
        assert a.per_example == b.per_example
        assert a.corpus_score() == b.corpus_score()


SMALL_PREDS = [
    "the cat sat",
    "cats running quickly",
    "c d\na b",
    "",
    "identical text here.",
    "Café au lait, s'il vous plaît!",
]
SMALL_REFS = [
    "the cat ran",
    "cat runs quick",
    "a b\nc d",
    "not empty",
    "identical text here.",
    "cafe au lait",
]


def test_small_cases_without_shared_data():
    output = RougeMetric().score(SMALL_PREDS, SMALL_REFS, [None] * len(SMALL_PREDS))
    _assert_identical(output, SMALL_PREDS, SMALL_REFS)
    c = {component.name: component for component in output.components}
    # Hand-computed: two of three unigrams match; one of two bigrams.
    assert c["rouge1"].per_example[0] == pytest.approx(2 / 3)
    assert c["rouge2"].per_example[0] == pytest.approx(1 / 2)
    # Stemming makes "cats running" match "cat runs".
    assert c["rouge1"].per_example[1] == pytest.approx(2 / 3)
    # rougeLsum works per newline-separated sentence; rougeL sees one sequence.
    assert c["rougeL"].per_example[2] == pytest.approx(0.5)
    assert c["rougeLsum"].per_example[2] == pytest.approx(1.0)
    # Empty prediction scores 0; identical text scores 1.
    assert all(c[t].per_example[3] == 0.0 for t in ROUGE_TYPES)
    assert all(c[t].per_example[4] == pytest.approx(1.0) for t in ROUGE_TYPES)
    # Corpus score is the mean of per-example F1.
    for component in output.components:
        assert component.corpus_score() == pytest.approx(sum(component.per_example) / len(SMALL_PREDS))
    assert set(output.details[0]) == {f"{t}_{k}" for t in ROUGE_TYPES for k in ("p", "r")}


def test_stemming_option():
    on = RougeMetric().score(["cats running"], ["cat runs"], [None])
    off = RougeMetric(use_stemmer=False).score(["cats running"], ["cat runs"], [None])
    assert on.components[0].per_example == [1.0]
    assert off.components[0].per_example == [0.0]
    assert "stem:yes" in on.signature and "stem:no" in off.signature
    _assert_identical(off, ["cats running"], ["cat runs"], use_stemmer=False)


def test_reference_backend_small_cases():
    rs = RougeMetric().score(SMALL_PREDS, SMALL_REFS, [None] * len(SMALL_PREDS))
    reference = RougeMetric(backend="reference").score(SMALL_PREDS, SMALL_REFS, [None] * len(SMALL_PREDS))
    assert rs.details == reference.details
    assert [c.per_example for c in rs.components] == [c.per_example for c in reference.components]


def test_signatures():
    from importlib.metadata import version

    rs = RougeMetric()
    assert rs.signature() == (
        f"metric:rouge|stem:yes|lsum_split:newline|backend:rouge-score-rs-{version('rouge-score-rs')}|version:1"
    )
    assert RougeMetric(backend="reference", use_stemmer=False).signature() == (
        f"metric:rouge|stem:no|lsum_split:newline|backend:rouge-score-{version('rouge-score')}|version:1"
    )
    assert rs.score(["a"], ["a"], [None]).signature == rs.signature()


def test_empty_input_gives_nan_not_a_crash():
    output = RougeMetric().score([], [], [])
    assert [c.name for c in output.components] == list(ROUGE_TYPES)
    assert all(math.isnan(c.corpus_score()) for c in output.components)
    assert output.details == []


def test_bad_input():
    with pytest.raises(ValueError, match="1 predictions but 2 references"):
        RougeMetric().score(["a"], ["a", "b"], [None])
    with pytest.raises(TypeError, match=r"references\[0\]"):
        RougeMetric().score(["a"], [None], [None])
    with pytest.raises(Exception):
        RougeMetric(backend="perl")


def test_plugin_registration():
    registered = []
    rouge_plugin.register_metrics(register=registered.append)
    assert registered == [RougeMetric]
    assert RougeMetric.name == "rouge"
    assert RougeMetric.higher_is_better is True
    assert RougeMetric.description and "\n" not in RougeMetric.description
    assert issubclass(RougeMetric.Options, MetricOptions)
    assert RougeMetric().options.model_dump() == {"use_stemmer": True, "backend": "rs"}
