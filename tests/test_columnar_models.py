"""Models that read columns (ExampleSet) give what the per-Example code gave, for a
plain list of Examples and for an ExampleSet alike."""

from collections import Counter

import numpy as np
import pytest

from regen_bench import ExampleSet
from regen_bench.contracts.examples import build_example
from regen_bench.contracts.records import RegenRecord
from regen_bench_plugins.datasets.synthetic.generator import SYNTHETIC_LAYOUT, generate_records
from regen_bench_plugins.encoders.cf import CFEncoder, purchase_matrix, user_item_counts
from regen_bench_plugins.models.popular import PopularModel, sample_pool
from regen_bench_plugins.models.recommenders import training_counts

TASKS = ["user_summary", "user_profile", "purchase_reason", "endorsement"]


@pytest.fixture(scope="module")
def examples():
    # Straight from the generator: what the models are given, without the loading layer.
    return [build_example(RegenRecord.model_validate(r), SYNTHETIC_LAYOUT) for r in generate_records(400, 3)]


def _per_example_counts(examples) -> Counter:
    counts: Counter = Counter()
    for example in examples:
        counts.update(user_item_counts(example))
    return counts


def test_counts_from_columns_equal_per_example_counts(examples):
    expected = _per_example_counts(examples)
    assert training_counts(examples) == expected
    assert training_counts(ExampleSet.from_examples(examples)) == expected


def test_purchase_matrix_equals_per_user_counts(examples):
    matrix, item_ids, user_ids = purchase_matrix(ExampleSet.from_examples(examples))
    by_user = {e.user_id: user_item_counts(e) for e in examples}
    assert user_ids == sorted(by_user) and item_ids == sorted({a for c in by_user.values() for a in c})
    dense = matrix.toarray()
    for u, user in enumerate(user_ids):
        row = {item_ids[i]: int(v) for i, v in enumerate(dense[u]) if v}
        assert row == dict(by_user[user])


def test_cf_factors_do_not_depend_on_the_container(examples):
    a = CFEncoder(iterations=3).fit(examples)
    b = CFEncoder(iterations=3).fit(ExampleSet.from_examples(examples))
    assert a.item_ids == b.item_ids and np.array_equal(a.item_factors, b.item_factors)


def test_popular_pool_is_everything_when_small_and_seeded_when_large(examples):
    assert sample_pool(10, 10, seed=0) == list(range(10))
    assert sample_pool(100, 10, seed=0) == sample_pool(100, 10, seed=0) != sample_pool(100, 10, seed=1)
    whole = PopularModel()
    whole.fit(examples, [], tasks=TASKS, seed=0)
    again = PopularModel()
    again.fit(ExampleSet.from_examples(examples), [], tasks=TASKS, seed=0)
    assert whole.narrative_by_task == again.narrative_by_task and whole.ranked_items == again.ranked_items
    pooled = PopularModel(max_pool=50)
    pooled.fit(examples, [], tasks=TASKS, seed=0)
    assert set(pooled.narrative_by_task) == set(TASKS)
