"""fmr (PETER's feature matching ratio) by hand; what counts as a feature; what the metric reads."""

import numpy as np
import pytest

from regen_bench.contracts.examples import Example
from regen_bench.contracts.records import Item, Purchase
from regen_bench_plugins.metrics.fmr import FeatureMatchingRatio
from regen_bench_plugins.metrics.item_features import category_words, words

OFFICE = "Office Products - Office & School Supplies - Writing & Correction Supplies - Pens"


def _example(uid, history, target):
    return Example(example_id=uid, user_id=uid, history=[Purchase(item=Item(**h)) for h in history],
                   target=Purchase(item=Item(**target)) if target else None)


EXAMPLES = [
    _example("u1", [{"asin": "a", "title": "Bic Round Stic Pen", "category": OFFICE}],
             {"asin": "b", "title": "Postal Scale", "category": "Office Products - Scales"}),
    _example("u2", [{"asin": "b", "title": "Postal Scale", "category": "Office Products - Scales"}],
             {"asin": "c", "title": "Stapler, Black", "category": "Office Products - Staplers"}),
    _example("u3", [{"asin": "a", "title": "Bic Round Stic Pen", "category": OFFICE}], None),
]


def test_feature_words_drop_the_category_root_stop_words_short_words_and_plurals():
    assert category_words(OFFICE) == ["office", "school", "supply", "writing", "correction", "supply", "pen"]
    assert words("The Batteries, 2 packs of AA & glass!") == ["battery", "pack", "glass"]


def test_fmr_by_hand():
    # u1: target features {postal, scale}; "scales" names scale -> 1
    # u2: target features {stapler, black}; names none -> 0
    # u3: no target -> undefined, left out
    preds = ["They weigh parcels on scales.", "They write with pens.", "Anything."]
    output = FeatureMatchingRatio().score(preds, ["r"] * 3, EXAMPLES)
    [component] = output.components
    assert component.per_example[:2] == [1.0, 0.0] and np.isnan(component.per_example[2])
    assert component.corpus_score() == pytest.approx(0.5)
    assert output.counts == {"no_target_features": 1}
    assert output.details[0] == {"fmr_target_features": 2, "fmr_matched": 1}


def test_share_match_gives_the_share_of_the_target_features_named():
    preds = ["A postal scale.", "A black one.", "x"]
    [component] = FeatureMatchingRatio(match="share").score(preds, ["r"] * 3, EXAMPLES).components
    assert component.per_example[:2] == [1.0, 0.5]


def test_only_the_chosen_sources_are_features():
    preds = ["They weigh parcels on scales.", "A stapler.", "x"]
    # category only: u1's target features are {scale}; u2's {stapler}
    [component] = FeatureMatchingRatio(features="category").score(preds, ["r"] * 3, EXAMPLES).components
    assert component.per_example[:2] == [1.0, 1.0]
    # title only: "Postal Scale" -> {postal, scale}; still named
    [component] = FeatureMatchingRatio(features="title").score(["postal"] + preds[1:], ["r"] * 3, EXAMPLES).components
    assert component.per_example[0] == 1.0


def test_a_brand_attribute_is_a_feature_when_the_item_has_one():
    example = _example("u", [], {"asin": "z", "title": "Gel Pen", "category": "Office - Pens", "brand": "Pilot"})
    [component] = FeatureMatchingRatio(features="brand").score(["They trust Pilot."], ["r"], [example]).components
    assert component.per_example == [1.0]


def test_fmr_reads_the_target_item_never_its_review_or_the_references():
    example = Example(example_id="u", user_id="u", history=[],
                      target=Purchase.model_validate({"item": {"asin": "z", "title": "Desk Lamp"},
                                                      "review": {"text": "wonderful brightness"}}),
                      references={"purchase_reason": "wonderful brightness"})
    [component] = FeatureMatchingRatio().score(["wonderful brightness"], ["wonderful brightness"],
                                               [example]).components
    assert component.per_example == [0.0]


def test_signature_records_source_tokeniser_and_the_vocabulary_hash():
    metric = FeatureMatchingRatio()
    output = metric.score(["scales"] * 3, ["r"] * 3, EXAMPLES)
    assert output.signature.startswith("metric:fmr|match:any|features:category,brand,title|"
                                       "tok:lc-alpha3-nostop-plural|vocab:examples@")
    assert metric.signature() == ("metric:fmr|match:any|features:category,brand,title|"
                                  "tok:lc-alpha3-nostop-plural|vocab:examples|version:1")
    other = FeatureMatchingRatio().score(["scales"], ["r"], EXAMPLES[1:2]).signature
    assert other != output.signature  # another set of items, another vocabulary


def test_a_vocabulary_file_restricts_the_features(tmp_path):
    path = tmp_path / "features.txt"
    path.write_text("Scale\nstaplers\n", encoding="utf-8")
    metric = FeatureMatchingRatio(vocabulary_file=str(path))
    output = metric.score(["postal", "a stapler", "x"], ["r"] * 3, EXAMPLES)
    assert output.components[0].per_example[:2] == [0.0, 1.0]  # "postal" is not in the file
    assert "vocab:file@" in output.signature


def test_bad_sources_and_missing_examples_are_refused():
    with pytest.raises(ValueError):
        FeatureMatchingRatio(features="colour")
    from regen_bench.contracts.errors import RegenBenchError

    with pytest.raises(RegenBenchError, match="no example"):
        FeatureMatchingRatio().score(["x"], ["r"], [None])


def test_a_real_regen_target_has_its_category_and_title_words_as_features(shared_data):
    from regen_bench.contracts.dataset import LocalFileDataset
    from regen_bench.data.loading import load_dataset_examples

    path = shared_data / "regen_real" / "office_reconstructed.jsonl"
    (example,) = load_dataset_examples(LocalFileDataset(path)).examples
    target = example.target.item
    assert "office" not in category_words(target.category) or "office" in target.category.split(" - ", 1)[1].lower()
    feature = category_words(target.category)[-1]
    [component] = FeatureMatchingRatio().score([f"A fine {feature}."], ["r"], [example]).components
    assert component.per_example == [1.0]
    [component] = FeatureMatchingRatio().score(["Nothing relevant."], ["r"], [example]).components
    assert component.per_example == [0.0]
