"""retrieval-cf / retrieval-text / retrieval-fusion: copy the nearest training user's narrative.

On the synthetic data the CF neighbour must share the user's latent co-purchase
community, and the text neighbour the user's content taste, far more often than
two random users do (the generator's ground truth is in each record's `latent` key).
"""

from collections import Counter

import numpy as np
import pytest

from regen_bench.contracts.examples import Example
from regen_bench.contracts.records import Item, Purchase
from regen_bench_plugins.models.retrieval import (
    MODELS,
    RetrievalCFModel,
    RetrievalFusionModel,
    RetrievalTextEmbeddingModel,
    nearest_rows,
)

pytestmark = pytest.mark.usefixtures("use_shared_cache")  # conftest: embed items once

USERS = 600
TASK = "user_summary"




@pytest.fixture(scope="module")
def data():
    from regen_bench.data.loading import load_dataset_examples
    from regen_bench.data.splits import split_users_by_hash
    from regen_bench_plugins.datasets.synthetic import SyntheticDataset
    from regen_bench_plugins.datasets.synthetic.writer import generate_records

    splits = split_users_by_hash(load_dataset_examples(SyntheticDataset(users=USERS, seed=0)).examples)
    latent = {r["reviewer_id"]: r["latent"] for r in generate_records(USERS, 0)}
    return splits, latent


@pytest.fixture(scope="module")
def fitted(data, shared_cache):
    splits, _ = data
    models = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGEN_BENCH_CACHE_DIR", str(shared_cache))
        for cls in MODELS:
            model = cls()
            model.fit(splits.train, splits.validation, tasks=[TASK], seed=0)
            models[cls.kind] = model
    return models


def held_out(splits):
    return [e for e in splits.validation + splits.test if TASK in e.references]


def chance(splits, latent, key) -> float:
    """P(two random training users agree on `key`)."""
    counts = Counter(key(latent[e.user_id]) for e in splits.train)
    n = sum(counts.values())
    return sum((c / n) ** 2 for c in counts.values())


def agreement(model, examples, latent, key) -> float:
    nearest = model.nearest(examples, TASK)
    return float(np.mean([key(latent[e.user_id]) == key(latent[model.train[i].user_id]) for e, i in zip(examples, nearest)]))


def community(latent):
    return latent["community"]


def taste_group(latent):
    return latent["taste"]["group"]


def test_outputs_are_training_narratives(data, fitted):
    splits, _ = data
    examples = held_out(splits)[:40]
    train_narratives = {e.references[TASK] for e in splits.train if TASK in e.references}
    for model in fitted.values():
        outputs = model.generate(examples, TASK)
        assert len(outputs) == len(examples)
        assert all(o in train_narratives for o in outputs)
        assert outputs == model.generate(examples, TASK)  # deterministic
    info = fitted["fusion"].info()
    assert info["train_users"] == len(splits.train) and info["cf"]["items"] > 0


def test_cf_neighbour_shares_the_community(data, fitted):
    splits, latent = data
    examples = held_out(splits)
    base = chance(splits, latent, community)
    assert agreement(fitted["cf"], examples, latent, community) > max(3 * base, 0.5)
    assert agreement(fitted["fusion"], examples, latent, community) > max(3 * base, 0.5)


def test_text_neighbour_shares_the_taste(data, fitted):
    splits, latent = data
    examples = held_out(splits)
    base = chance(splits, latent, taste_group)
    text_rate = agreement(fitted["text"], examples, latent, taste_group)
    assert text_rate > 2 * base
    # Text sees content, not co-purchase: its neighbour shares the community far less than CF's.
    assert agreement(fitted["text"], examples, latent, community) < agreement(fitted["cf"], examples, latent, community)


def _purchase(asin):
    return Purchase(item=Item(asin=asin, title=f"Blue pen {asin}", category="Office Products - Pens"))


def _user(user_id, asins, reference=None):
    return Example(
        example_id=user_id, user_id=user_id, history=[_purchase(a) for a in asins], target=_purchase("T-" + user_id),
        references={TASK: reference} if reference else {},
    )


def test_ties_go_to_the_smaller_user_id_among_users_with_a_reference():
    train = [
        _user("B", ["x", "y"], "narrative of B"),
        _user("C", ["z", "w"], "narrative of C"),
        _user("A", ["x", "y"], "narrative of A"),
        _user("0", ["x", "y"]),  # identical history, but no reference for the task: skipped
    ]
    model = RetrievalCFModel(factors=4, iterations=3)
    model.fit(train, [], tasks=[TASK], seed=0)
    assert model.generate([_user("Q", ["y", "x"])], TASK) == ["narrative of A"]
    with pytest.raises(ValueError, match="no training narratives"):
        model.generate([_user("Q", ["x"])], "endorsement")


def test_nearest_rows_in_blocks_equal_one_product_ties_included():
    rng = np.random.default_rng(3)
    matrix = rng.integers(-2, 3, size=(1000, 6)).astype(np.float32)  # small integers: many exact ties
    queries = rng.integers(-2, 3, size=(40, 6)).astype(np.float32)
    allowed = rng.random(1000) < 0.7
    whole = queries @ matrix.T
    whole[:, ~allowed] = -np.inf
    expected = whole.argmax(axis=1)
    for columns in (1000, 4096, 333, 7, 1):
        assert nearest_rows(queries, matrix, allowed, columns=columns).tolist() == expected.tolist()


def test_options_and_config():
    model = RetrievalTextEmbeddingModel(include_review="true", last_n="10")
    assert model.options.include_review is True and model.options.last_n == 10
    config = model.config()
    assert config["kind"] == "text" and config["encoders"]["text"]["model"].startswith("all-MiniLM-L6-v2@")
    with pytest.raises(Exception):
        RetrievalCFModel(include_review=True)  # a text option on the CF-only model
    assert set(RetrievalFusionModel().options.model_dump()) >= {"factors", "alpha", "text_model", "last_n"}


def test_registered_names():
    from regen_bench.plugin.registry import get_registry

    registry = get_registry()  # `retrieval-text` is the embedding model; TF-IDF is `retrieval-tfidf`
    for name, cls in [("retrieval-cf", RetrievalCFModel), ("retrieval-text", RetrievalTextEmbeddingModel),
                      ("retrieval-fusion", RetrievalFusionModel)]:
        assert registry.get("model", name).cls is cls
