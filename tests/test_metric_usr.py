"""usr: unique sentence ratio (PETER) by hand, against the set formula, and its bootstrap statistics."""

import numpy as np
import pytest

from regen_bench.stats.bootstrap import bootstrap_interval
from regen_bench_plugins.metrics.usr import UniqueSentenceRatio, normalise

PREDS = ["They love pens.", "they  LOVE pens.", "A stapler fan. Buys staples.", "Buys staples. Loves ink."]


def _score(preds, **options):
    return UniqueSentenceRatio(**options).score(preds, ["ref"] * len(preds), [None] * len(preds))


def test_usr_by_hand_counts_different_predictions_over_all():
    # the first two are the same after lowercasing and collapsing spaces: 3 different of 4
    output = _score(PREDS)
    [component] = output.components
    assert component.corpus_score() == pytest.approx(3 / 4)
    assert component.per_example == pytest.approx([0.5, 0.5, 1.0, 1.0])
    assert output.counts == {"units": 4, "different": 3}


def test_usr_equals_the_set_formula_of_peter():
    rng = np.random.default_rng(1)
    pool = ["good pens", "great ink", "nice paper", "Good pens", "a desk lamp"]
    preds = [pool[i] for i in rng.integers(0, len(pool), size=50)]
    expected = len({normalise(p) for p in preds}) / len(preds)
    assert _score(preds).components[0].corpus_score() == pytest.approx(expected, abs=1e-12)


def test_sentence_unit_counts_different_sentences_over_all_sentences():
    # sentences: they love pens. x2, a stapler fan., buys staples. x2, loves ink. -> 4 different of 6
    [component] = _score(PREDS, unit="sentence").components
    assert component.corpus_score() == pytest.approx(4 / 6)


def test_one_narrative_for_everyone_scores_one_over_n_and_a_point_interval():
    [component] = _score(["same text"] * 10).components
    assert component.corpus_score() == pytest.approx(0.1)
    interval = bootstrap_interval(component, seed=0, resamples=200)
    assert interval.low == pytest.approx(0.1) and interval.high == pytest.approx(0.1)


def test_all_different_narratives_score_one_and_the_interval_contains_it():
    [component] = _score([f"narrative {i}" for i in range(30)]).components
    interval = bootstrap_interval(component, seed=0, resamples=200)
    assert interval.score == 1.0 and interval.low <= 1.0 <= interval.high


def test_an_empty_prediction_has_no_sentence_and_is_left_out():
    [component] = _score(["", "one. two."], unit="sentence").components
    assert np.isnan(component.per_example[0]) and component.stats.shape == (1, 2)


def test_signature_names_unit_and_normalisation():
    assert UniqueSentenceRatio().signature() == "metric:usr|unit:prediction|norm:nfkc-lc-ws|version:1"
    assert "unit:sentence" in UniqueSentenceRatio(unit="sentence").signature()
