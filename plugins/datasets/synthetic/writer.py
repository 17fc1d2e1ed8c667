"""Turns latent user stories into REGEN-format records and writes them as JSONL.

Randomness: the catalogue comes from `SeedSequence(seed, spawn_key=(0,))` and user i
from `SeedSequence(seed, spawn_key=(1, i))`, so a user's record depends only on
(seed, i, catalogue size): a larger file with the same catalogue starts with exactly the
users of a smaller one. The catalogue grows with the user count (`params.catalogue_items`)
unless `items` is given.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
from pathlib import Path
from typing import Iterator

import numpy as np

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.records import SYNTHETIC_MARKER
from regen_bench.util.atomic import atomic_writer
from regen_bench_plugins.datasets.synthetic import narratives
from regen_bench_plugins.datasets.synthetic.catalogue import BRANDS, COLOURS, GROUPS, Catalogue, build_catalogue
from regen_bench_plugins.datasets.synthetic.params import (
    DEFAULT_CATALOGUE_ITEMS,
    PARAMS,
    StoryParams,
    catalogue_items,
    catalogue_split,
)
from regen_bench_plugins.datasets.synthetic.personas import PERSONAS
from regen_bench_plugins.datasets.synthetic.reviews import write_review
from regen_bench_plugins.datasets.synthetic.users import Pools, UserStory, sample_user


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def reviewer_id(seed: int, index: int) -> str:
    """An Amazon-like reviewer id ("A" + 13 characters), fixed by (seed, index)."""
    digest = hashlib.sha256(f"regen-bench-synthetic\x00{seed}\x00{index}".encode()).digest()
    return "A" + base64.b32encode(digest).decode("ascii")[:13]


class World:
    """The catalogue and community structure shared by all users of one seed."""

    def __init__(self, seed: int, params: StoryParams = PARAMS, items: int = DEFAULT_CATALOGUE_ITEMS):
        rng = _rng(seed, 0)
        self.params = params
        per_community, generic = catalogue_split(items, params, len(PERSONAS))
        self.catalogue: Catalogue = build_catalogue(
            rng,
            communities=len(PERSONAS),
            items_per_community=per_community,
            generic_items=generic,
            null_category_share=params.null_category_share,
            shared_designs=params.shared_designs,
        )
        # Communities differ a little in size, as real co-purchase clusters do.
        self.community_weights = rng.dirichlet(np.full(len(PERSONAS), 25.0))
        self.pools = Pools(self.catalogue, len(PERSONAS), params)


def build_record(rng: np.random.Generator, user_id: str, story: UserStory, catalogue: Catalogue) -> dict:
    persona = PERSONAS[story.community]
    items = catalogue.items
    history_items = [items[event.item] for event in story.history]
    target = items[story.target.item]

    purchases = []
    for event, item in zip(story.history, history_items):
        purchases.append(
            {
                "item": item.as_record(),
                "review": write_review(rng, item, event, story.taste),
                "critique": narratives.critique_text(rng, event.critique, item) if event.critique else None,
            }
        )
    critique = story.target.critique
    previous = items[critique.previous] if critique is not None else None
    last_purchase = {
        "item": target.as_record(),
        "review": write_review(rng, target, story.target, story.taste),
        "critique": narratives.critique_text(rng, critique, target) if critique else None,
        "purchase_reason": narratives.purchase_reason(rng, persona, story.taste, target, critique, previous),
        "endorsement": narratives.endorsement(rng, persona, story.taste, target),
    }
    user = {
        "profile": narratives.profile(rng, persona, story.taste),
        "long_summary": narratives.long_summary(rng, persona, story.taste, history_items),
    }
    return {
        "reviewer_id": user_id,
        "purchase_history": purchases,
        "user": user,
        "last_purchase": last_purchase,
        # Ground truth of the generative story, for analysis and tests. Models see
        # Examples (history, target, critique), never this key.
        "latent": {
            "community": persona.key,
            "taste": {
                "group": GROUPS[story.taste.group].key,
                "brand": BRANDS[story.taste.brand],
                "colour": COLOURS[story.taste.colour],
            },
        },
    }


def _check(users: int, seed: int, items: int | None = None) -> None:
    if isinstance(users, bool) or not isinstance(users, (int, np.integer)) or users < 0:
        raise RegenBenchError(f"users must be a non-negative integer, got {users!r}")
    if items is not None and (
        isinstance(items, bool) or not isinstance(items, (int, np.integer)) or items < DEFAULT_CATALOGUE_ITEMS
    ):
        raise RegenBenchError(f"items must be an integer >= {DEFAULT_CATALOGUE_ITEMS:,}, got {items!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise RegenBenchError(f"seed must be a non-negative integer, got {seed!r}")


def generate_records(users: int, seed: int, items: int | None = None) -> Iterator[dict]:
    """Yield `users` REGEN-format records, one at a time (only the catalogue is held);
    the same (users, seed, items) always gives the same records. `items`: the catalogue
    size, by default `catalogue_items(users)`."""
    _check(users, seed, items)
    world = World(int(seed), items=catalogue_items(users, items))
    seen: set[str] = set()  # membership only
    for index, record in _records(world, int(seed), 0, int(users)):
        _check_unique(seen, record["reviewer_id"], index)
        yield record


def _records(world: World, seed: int, start: int, stop: int) -> Iterator[tuple[int, dict]]:
    """(index, record) of users start..stop-1: each depends only on (seed, index, world)."""
    for index in range(start, stop):
        rng = _rng(seed, 1, index)
        story = sample_user(rng, world.pools, world.community_weights, world.params)
        yield index, build_record(rng, reviewer_id(seed, index), story, world.catalogue)


def _check_unique(seen: set[str], user_id: str, index: int) -> None:
    if user_id in seen:  # astronomically unlikely; never silently duplicate a user
        raise RegenBenchError(f"reviewer id collision at user {index}; choose another seed")
    seen.add(user_id)


def dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=True, separators=(", ", ": "))


def write_dataset(
    path: str | os.PathLike, users: int, seed: int, *, marker: dict | None = None, items: int | None = None,
    jobs: int = 1,
) -> Path:
    """Write the records to `path` atomically: `.jsonl`, or `.jsonl.gz` (deterministic gzip).

    `marker` is written as the synthetic marker (`regen_bench_synthetic`,
    contracts/records.py) of every record, as `data generate` does, so whoever loads the file labels its
    numbers synthetic. The `synthetic` dataset's own cached file is written without it:
    its provider labels it, and its bytes (and sha256, which leaderboards record) stay
    those of generator version 1. `items` sets the catalogue size (default: grows with `users`).
    `jobs` > 1 generates in that many processes, writing the same bytes."""
    _check(users, seed, items)
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".jsonl.gz"):
        compressed = True
    elif name.endswith(".jsonl"):
        compressed = False
    else:
        raise RegenBenchError(f"{path}: the synthetic dataset is written as .jsonl or .jsonl.gz")
    with atomic_writer(path, "wb") as handle:
        if compressed:
            # No file name and mtime=0 in the header: same input, same bytes.
            with gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0) as gz:
                _write_lines(gz, users, seed, marker, items, jobs)
        else:
            _write_lines(handle, users, seed, marker, items, jobs)
    return path


# Users per range of a write: ~20 MB of JSON at 4,096, so a few ranges in flight stay small.
CHUNK_USERS = 4096
_WORKER_WORLD: dict[tuple[int, int], World] = {}


def _write_lines(binary, users: int, seed: int, marker: dict | None = None, items: int | None = None,
                 jobs: int = 1) -> None:
    if jobs > 1 and users > CHUNK_USERS:
        _write_lines_parallel(binary, users, seed, marker, items, jobs)
        return
    world = World(int(seed), items=catalogue_items(users, items))
    seen: set[str] = set()
    for start in range(0, int(users), CHUNK_USERS):
        stop = min(start + CHUNK_USERS, int(users))
        _write_range(binary, seen, start, *_range_lines(world, int(seed), start, stop, marker))


def _range_lines(world: World, seed: int, start: int, stop: int, marker: dict | None) -> tuple[bytes, list[str]]:
    """The JSON lines of users start..stop-1 (each with the synthetic marker when given) and their ids."""
    extra = {SYNTHETIC_MARKER: marker} if marker is not None else {}
    lines, ids = [], []
    for _, record in _records(world, seed, start, stop):
        lines.append(dumps({**record, **extra}))
        ids.append(record["reviewer_id"])
    return ("\n".join(lines) + "\n").encode("utf-8"), ids


def _write_range(binary, seen: set[str], start: int, data: bytes, ids: list[str]) -> None:
    for offset, user_id in enumerate(ids):
        _check_unique(seen, user_id, start + offset)
    binary.write(data)


def _chunk_lines(seed: int, items: int, start: int, stop: int, marker: dict | None) -> tuple[bytes, list[str]]:
    """`_range_lines` in a worker process, which builds the world once (a module-level cache per process)."""
    world = _WORKER_WORLD.get((seed, items))
    if world is None:
        _WORKER_WORLD.clear()
        world = _WORKER_WORLD[(seed, items)] = World(seed, items=items)
    return _range_lines(world, seed, start, stop, marker)


def _write_lines_parallel(binary, users: int, seed: int, marker, items: int | None, jobs: int) -> None:
    """The same bytes as the one-process write: the same ranges, generated in `jobs`
    processes and written in index order, with at most 2 x jobs ranges in flight."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    size = catalogue_items(users, items)
    ranges = [(start, min(start + CHUNK_USERS, users)) for start in range(0, users, CHUNK_USERS)]
    seen: set[str] = set()
    # spawn: a clean interpreter per worker (no forked locks or threads from the caller).
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        pending = []
        next_range = 0
        while next_range < len(ranges) or pending:
            while next_range < len(ranges) and len(pending) < 2 * jobs:
                start, stop = ranges[next_range]
                pending.append((start, pool.submit(_chunk_lines, int(seed), size, start, stop, marker)))
                next_range += 1
            start, future = pending.pop(0)
            _write_range(binary, seen, start, *future.result())
