"""From a stream of reviews to users' chronological histories: deduplication, k-core
filtering, a seeded choice of users and the last `history` purchases of each.

Two passes over the review file keep memory to (user, item, time) triples: the first
finds who and what survives; the second keeps the review texts of the chosen users only.

- A user reviewing the same item more than once (the 2018 files repeat a review across an
  item's size and colour variants) counts once: the earliest review, ties by file order.
- k-core: users with fewer than `min_interactions` distinct items and items with fewer
  than `item_min_interactions` users are removed, again and again, until none is left to
  remove (both thresholds hold at the end).
- `users`: the first N surviving users in the order of sha256(seed, user id), so the
  choice does not depend on file order and a larger N keeps the smaller N's users.
- A history is sorted by time (ties by ASIN) and cut to its last `history` purchases.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from regen_bench_plugins.datasets.amazon_build.formats import Interaction


@dataclass(frozen=True)
class Selection:
    users: list[str]  # in the seeded order
    histories: dict[str, list[tuple[int, str]]]  # user -> [(time, asin)], chronological, truncated
    counts: dict[str, int]


def user_order_key(seed: int, user: str) -> str:
    return hashlib.sha256(f"{seed}\x00{user}".encode("utf-8")).hexdigest()


def k_core(items_of: dict[str, dict[str, int]], min_user: int, min_item: int) -> dict[str, dict[str, int]]:
    """The users (and their items) that survive iterative k-core filtering."""
    kept = {u: dict(items) for u, items in items_of.items()}
    while True:
        item_users = Counter(asin for items in kept.values() for asin in items)
        changed = False
        for user in list(kept):
            items = kept[user]
            if min_item > 1:
                for asin in [a for a in items if item_users[a] < min_item]:
                    del items[asin]
                    changed = True
            if len(items) < min_user:
                del kept[user]
                changed = True
        if not changed:
            return kept


def select(interactions: Iterable[Interaction], *, users: int | None, min_interactions: int,
           item_min_interactions: int, history: int, seed: int,
           progress: Callable[[int], None] | None = None) -> Selection:
    items_of: dict[str, dict[str, int]] = {}
    reviews = 0
    for reviews, it in enumerate(interactions, 1):
        seen = items_of.setdefault(it.user, {})
        if it.asin not in seen or it.time < seen[it.asin]:
            seen[it.asin] = it.time
        if progress is not None and reviews % 100_000 == 0:
            progress(reviews)
    distinct = sum(len(v) for v in items_of.values())
    kept = k_core(items_of, min_interactions, item_min_interactions)
    order = sorted(kept, key=lambda u: user_order_key(seed, u))
    chosen = order if users is None else order[:users]
    histories = {u: sorted((t, a) for a, t in kept[u].items())[-history:] for u in chosen}
    counts = {
        "reviews": reviews, "users_in_file": len(items_of), "duplicate_reviews": reviews - distinct,
        "users_after_k_core": len(kept),
        "items_after_k_core": len({a for items in kept.values() for a in items}),
        "users_chosen": len(chosen),
    }
    return Selection(chosen, histories, counts)


def collect_reviews(interactions: Iterable[Interaction], selection: Selection) -> dict[tuple[str, str], Interaction]:
    """The second pass: the kept review of each (user, item) in the chosen histories."""
    wanted = {(u, a): t for u, hist in selection.histories.items() for t, a in hist}
    found: dict[tuple[str, str], Interaction] = {}
    for it in interactions:
        key = (it.user, it.asin)
        if key in wanted and key not in found and wanted[key] == it.time:
            found[key] = it
    return found
