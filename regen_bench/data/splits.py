"""User-disjoint train/validation/test splits by a stable hash of the user id.

A user's split depends only on (salt, user id, fractions), never on file order or
on which other users are present, so adding users never moves existing ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Sequence, TypeVar

from pydantic import BaseModel, Field, model_validator

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.example_set import ExampleSet
from regen_bench.util.hashing import hash_config, sha256_text

SPLITS = ("train", "validation", "test")

# Documented minimums (docs/data.md, "Too little data"), checked before a model is fitted
# (pipeline/checks.py): a run needs MIN_TRAIN_USERS training users, and for each text task
# that many with the task's narrative, and at least one evaluated example per task. A
# task scored on fewer than MIN_SCORED_EXAMPLES examples is warned about: its interval
# says little, and a leaderboard should not rank it.
MIN_TRAIN_USERS = 1
MIN_SCORED_EXAMPLES = 30
T = TypeVar("T")


class SplitConfig(BaseModel):
    train: float = Field(default=0.8, ge=0, le=1)
    validation: float = Field(default=0.1, ge=0, le=1)
    test: float = Field(default=0.1, ge=0, le=1)
    salt: str = "regen-bench-v1"

    @model_validator(mode="after")
    def _fractions_sum_to_one(self):
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"split fractions must sum to 1, got {total:g}")
        return self


def user_bucket(user_id: str, salt: str) -> float:
    """A number in [0, 1) fixed by (salt, user id)."""
    digest = hashlib.sha256(f"{salt}\x00{user_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of_user(user_id: str, config: SplitConfig) -> str:
    bucket = user_bucket(user_id, config.salt)
    if bucket < config.train:
        return "train"
    if bucket < config.train + config.validation:
        return "validation"
    return "test"


@dataclass
class Splits:
    """The three parts: ExampleSets when the items were an ExampleSet, else lists."""

    train: Sequence
    validation: Sequence
    test: Sequence
    config: SplitConfig
    split_hash: str

    def get(self, name: str) -> Sequence:
        if name not in SPLITS:
            raise RegenBenchError(f"unknown split {name!r}; choose one of {', '.join(SPLITS)}")
        return getattr(self, name)


def _users_of(part: Sequence, user_of) -> list[str]:
    return part.user_ids if isinstance(part, ExampleSet) else [user_of(item) for item in part]


def assert_user_disjoint(splits: Splits, user_of=lambda item: item.user_id) -> None:
    seen: dict[str, str] = {}
    for name in SPLITS:
        for user in _users_of(splits.get(name), user_of):
            other = seen.setdefault(user, name)
            if other != name:
                raise RegenBenchError(f"user {user!r} is in both the {other} and the {name} split")


def split_hash_of(config: SplitConfig, membership: dict[str, list[str]]) -> str:
    """The hash of an exact assignment: the config and each split's sorted user ids."""
    users = {name: sha256_text("\n".join(sorted(membership[name]))) for name in SPLITS}
    return hash_config({"config": config.model_dump(), "users": users})


def split_users_by_hash(items: Iterable[T] | ExampleSet, config: SplitConfig | None = None,
                        user_of=lambda item: item.user_id) -> Splits:
    """Partition items (Examples) by user, in their order; records a hash of the exact assignment.

    An ExampleSet is split from its user id column into ExampleSets over the same rows
    (no Example is built); anything else into lists."""
    config = config or SplitConfig()
    if isinstance(items, ExampleSet):
        users = items.user_ids
        where = [split_of_user(user, config) for user in users]
        parts = {name: items.take([i for i, w in enumerate(where) if w == name]) for name in SPLITS}
        membership = {name: [u for u, w in zip(users, where) if w == name] for name in SPLITS}
    else:
        parts = {name: [] for name in SPLITS}
        for item in items:
            parts[split_of_user(user_of(item), config)].append(item)
        membership = {name: [user_of(item) for item in parts[name]] for name in SPLITS}
    splits = Splits(**parts, config=config, split_hash=split_hash_of(config, membership))
    assert_user_disjoint(splits, user_of)
    return splits
