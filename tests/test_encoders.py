"""CF / text / history encoders: determinism, unseen items, fold-in, caching, padding, pooling."""

import subprocess
import sys

import numpy as np
import pytest

from regen_bench.contracts.examples import Example
from regen_bench.contracts.records import Item, Purchase, Review
from regen_bench_plugins.encoders import CFEncoder, HistoryFeatures, TextEncoder, history_features, pooled
from regen_bench_plugins.encoders.cf import user_item_counts


@pytest.fixture(scope="module")
def splits():
    from regen_bench.data.loading import load_dataset_examples
    from regen_bench.data.splits import split_users_by_hash
    from regen_bench_plugins.datasets.synthetic import SyntheticDataset

    return split_users_by_hash(load_dataset_examples(SyntheticDataset(users=300, seed=0)).examples)


@pytest.fixture(scope="module")
def cf(splits):
    return CFEncoder(factors=16, iterations=8, seed=3).fit(splits.train)


@pytest.fixture(scope="module")
def text(shared_cache):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGEN_BENCH_CACHE_DIR", str(shared_cache))
        encoder = TextEncoder()
        encoder.config()  # resolve and hash the weights once
    return encoder


def purchase(asin, title="Blue pen", category="Office Products - Pens", review=None):
    return Purchase(item=Item(asin=asin, title=title, category=category), review=review)


def example(user, asins, critique=None):
    return Example(
        example_id=user, user_id=user, history=[purchase(a, title=f"Item {a}") for a in asins], critique=critique
    )


# -- CF --------------------------------------------------------------------------------


def test_cf_is_deterministic_for_a_seed(splits, cf):
    again = CFEncoder(factors=16, iterations=8, seed=3).fit(splits.train)
    assert again.item_ids == cf.item_ids
    assert np.array_equal(again.item_factors, cf.item_factors)
    other = CFEncoder(factors=16, iterations=8, seed=4).fit(splits.train)
    assert not np.array_equal(other.item_factors, cf.item_factors)


def test_cf_catalogue_and_unseen_items(splits, cf):
    seen = {p.item.asin for e in splits.train for p in [*e.history, e.target] if p is not None}
    assert set(cf.item_ids) == seen and cf.item_ids == sorted(cf.item_ids)
    assert cf.dim == 16
    matrix = cf.item_matrix([cf.item_ids[0], "NEVER-SEEN", cf.item_ids[1]])
    assert matrix.shape == (3, 16) and matrix.dtype == np.float32
    assert np.all(matrix[1] == 0) and np.any(matrix[0] != 0)
    assert np.array_equal(matrix[2], cf.item_factors[1])
    assert np.all(cf.fold_in(["NEVER-SEEN"]) == 0)


def test_fold_in_matches_the_als_user_factor(splits, cf):
    cosines = []
    for example in splits.train[:25]:
        counts = user_item_counts(example)
        folded = cf.fold_in(list(counts), weights=[float(c) for c in counts.values()])
        assert folded.shape == (cf.dim,) and folded.dtype == np.float32
        trained = cf.user_factors[cf.user_ids.index(example.user_id)]
        cosines.append(float(folded @ trained / np.linalg.norm(folded) / np.linalg.norm(trained)))
    assert min(cosines) > 0.9, cosines
    # Repeated asins add up: listing an item twice equals weight 2.
    asins = list(user_item_counts(splits.train[0]))
    assert np.allclose(cf.fold_in(asins + asins[:1]), cf.fold_in(asins, weights=[2.0] + [1.0] * (len(asins) - 1)))


def test_fold_in_solves_the_regularised_normal_equations(cf):
    asins = cf.item_ids[:4]
    y = cf.item_factors[:4].astype(np.float64)
    c = 1.0 + cf.alpha * np.ones(4)
    full = cf.item_factors.astype(np.float64)
    a = full.T @ full + y.T @ np.diag(c - 1) @ y + cf.regularization * np.eye(cf.dim)
    expected = np.linalg.solve(a, y.T @ c)
    assert np.allclose(cf.fold_in(asins), expected, rtol=1e-4, atol=1e-5)


def test_cf_config_names_the_options(cf):
    config = cf.config()
    assert config["factors"] == 16 and config["seed"] == 3 and config["alpha"] == 20.0


# -- text ------------------------------------------------------------------------------


def test_purchase_text_and_reviews():
    review = Review(summary="Great", text="x" * 1000)
    p = purchase("A1", title="Blue pen", category="Office Products - Pens", review=review)
    assert TextEncoder().purchase_text(p) == "Blue pen. Office Products - Pens"
    with_review = TextEncoder(include_review=True).purchase_text(p)
    assert with_review.startswith("Blue pen. Office Products - Pens. Review: Great x")
    assert len(with_review) < 400  # truncated
    assert TextEncoder().purchase_text(Purchase(item=Item(asin="A2"))) == "A2"


def test_text_embeddings_are_cached_on_disk(isolated_cache):
    texts = ["A blue ballpoint pen", "Crisp white labels", "A blue ballpoint pen", "Walnut desk organiser"]
    first = TextEncoder()
    vectors = first.encode_texts(texts)
    assert vectors.shape == (4, first.dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2])
    assert first.texts_encoded == 3
    first.encode_texts(texts)
    assert first.last_counts["embedded"] == 0
    second = TextEncoder()  # a new process would see the same: nothing encoded again
    again = second.encode_texts(texts)
    assert second.texts_encoded == 0 and second.last_counts == {"embedded": 0, "cache_hits": 3, "memory_hits": 0}
    assert np.allclose(again, vectors)
    config = second.config()
    assert config["model"].startswith("all-MiniLM-L6-v2@") and config["include_review"] is False


# -- history features ------------------------------------------------------------------


def test_history_features_are_right_aligned(use_shared_cache, cf, text):
    known = cf.item_ids
    examples = [
        example("u1", [known[0], known[1]]),
        example("u2", [known[i] for i in range(2, 9)]),  # longer than last_n: keeps the last 5
        example("u3", [known[9], "NEVER-SEEN"]),
    ]
    features = history_features(examples, cf, text, last_n=5)
    assert isinstance(features, HistoryFeatures)
    assert features.cf.shape == (3, 5, cf.dim) and features.text.shape == (3, 5, text.dim)
    assert features.mask.dtype == bool
    assert features.mask.tolist() == [
        [False, False, False, True, True],
        [True] * 5,
        [False, False, False, True, True],
    ]
    assert np.all(features.cf[0, :3] == 0) and np.all(features.text[0, :3] == 0)
    expected = cf.item_matrix([known[8]])[0]
    assert np.allclose(features.cf[1, 4], expected / np.linalg.norm(expected))  # most recent item last
    assert np.allclose(features.cf[1, 0], cf.item_matrix([known[4]])[0] / np.linalg.norm(cf.item_matrix([known[4]])[0]))
    assert np.all(features.cf[2, 4] == 0) and features.mask[2, 4]  # unseen by CF, still present
    norms = np.linalg.norm(features.text[features.mask], axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5)
    cf_norms = np.linalg.norm(features.cf[features.mask], axis=1)
    assert np.allclose(cf_norms[cf_norms > 0], 1.0, atol=1e-5)

    only_cf = history_features(examples, cf, None, last_n=5)
    assert only_cf.text is None and np.array_equal(only_cf.cf, features.cf)


@pytest.mark.parametrize("last_n", [1, 5, 50])
def test_history_features_from_columns_equal_those_from_examples(use_shared_cache, splits, cf, text, last_n):
    """An ExampleSet's features come from its history columns (no record parsed): the same
    arrays, bit for bit, as from its Examples."""
    from regen_bench_plugins.encoders.history import history_features_of

    rows = splits.test.take(list(range(min(40, len(splits.test)))))
    assert rows.history_columns() is not None
    from_columns = history_features_of(rows, cf, text, last_n=last_n)
    from_examples = history_features(list(rows), cf, text, last_n=last_n)
    assert np.array_equal(from_columns.mask, from_examples.mask)
    assert np.array_equal(from_columns.cf, from_examples.cf) and np.array_equal(from_columns.text, from_examples.text)
    empty = history_features_of(rows.take([]), cf, None, last_n=last_n)
    assert empty.cf.shape == (0, last_n, cf.dim) and empty.text is None


def test_pooled_parts(use_shared_cache, cf, text):
    examples = [example("u1", cf.item_ids[:3]), example("u2", [cf.item_ids[5]]), example("u3", [])]
    features = history_features(examples, cf, text, last_n=4)
    cf_mean = pooled(features, "cf")
    assert cf_mean.shape == (3, cf.dim)
    assert np.allclose(cf_mean[0], features.cf[0, 1:].mean(axis=0), atol=1e-6)
    assert np.all(cf_mean[2] == 0)  # empty history: zeros, no NaN
    text_mean = pooled(features, "text")
    assert text_mean.shape == (3, text.dim)
    fused = pooled(features, "fusion")
    assert fused.shape == (3, cf.dim + text.dim)
    assert np.allclose(np.linalg.norm(fused[:2], axis=1), 1.0, atol=1e-5)
    # Both halves weigh the same: each is a unit vector scaled by 1/sqrt(2).
    assert np.isclose(np.linalg.norm(fused[0, : cf.dim]), np.linalg.norm(fused[0, cf.dim :]), atol=1e-5)
    assert not np.isnan(fused).any()
    with pytest.raises(ValueError):
        pooled(features, "bogus")
    with pytest.raises(ValueError):
        pooled(history_features(examples, cf, None), "fusion")


def test_importing_encoders_is_light():
    code = (
        "import sys, regen_bench_plugins.encoders, regen_bench_plugins.models.retrieval, "
        "regen_bench_plugins.models.recommenders\n"
        "heavy = [m for m in ('torch', 'implicit', 'sentence_transformers') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
