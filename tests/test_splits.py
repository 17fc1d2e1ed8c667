"""User-disjoint hash splits: stable, disjoint, configurable, recorded by hash."""

from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.data.splits import SplitConfig, Splits, assert_user_disjoint, split_of_user, split_users_by_hash


@dataclass
class Row:
    user_id: str


USERS = [Row(f"U{i:05d}") for i in range(5000)]


def test_split_is_user_disjoint_and_covers_everyone():
    splits = split_users_by_hash(USERS)
    names = [set(r.user_id for r in splits.get(s)) for s in ("train", "validation", "test")]
    assert names[0].isdisjoint(names[1]) and names[0].isdisjoint(names[2]) and names[1].isdisjoint(names[2])
    assert sum(len(n) for n in names) == len(USERS)


def test_default_fractions_are_80_10_10():
    splits = split_users_by_hash(USERS)
    assert abs(len(splits.train) / len(USERS) - 0.8) < 0.03
    assert abs(len(splits.validation) / len(USERS) - 0.1) < 0.02
    assert abs(len(splits.test) / len(USERS) - 0.1) < 0.02


def test_assignment_does_not_depend_on_order_or_other_users():
    forward = split_users_by_hash(USERS)
    backward = split_users_by_hash(list(reversed(USERS)))
    assert forward.split_hash == backward.split_hash
    subset = split_users_by_hash(USERS[:100])
    full_test = {r.user_id for r in forward.test}
    assert {r.user_id for r in subset.test} == full_test & {r.user_id for r in USERS[:100]}


def test_salt_and_fractions_change_the_split_and_its_hash():
    base = split_users_by_hash(USERS)
    salted = split_users_by_hash(USERS, SplitConfig(salt="other"))
    resized = split_users_by_hash(USERS, SplitConfig(train=0.6, validation=0.2, test=0.2))
    assert len({base.split_hash, salted.split_hash, resized.split_hash}) == 3
    assert {r.user_id for r in base.test} != {r.user_id for r in salted.test}
    assert abs(len(resized.test) / len(USERS) - 0.2) < 0.03


def test_split_of_user_is_a_pure_function():
    config = SplitConfig()
    assert [split_of_user("A7W1AR9ITP8CV", config) for _ in range(3)] == [split_of_user("A7W1AR9ITP8CV", config)] * 3


def test_fractions_must_sum_to_one():
    with pytest.raises(ValidationError, match="sum to 1"):
        SplitConfig(train=0.8, validation=0.1, test=0.2)


def test_disjointness_violation_is_detected():
    splits = Splits(train=[Row("a")], validation=[], test=[Row("a")], config=SplitConfig(), split_hash="x")
    with pytest.raises(RegenBenchError, match="user 'a' is in both the train and the test split"):
        assert_user_disjoint(splits)
