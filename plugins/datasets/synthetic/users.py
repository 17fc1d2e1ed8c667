"""Latent users and their purchase sequences.

A user has a community (drives *which items* they buy: co-purchase structure) and a
content taste (favourite group, brand and colour: drives *what the items look like*).
The two are drawn independently. Purchases come mostly from the community's pool,
weighted by taste; some refine the previous purchase after a critique.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from regen_bench_plugins.datasets.synthetic.catalogue import BRANDS, COLOURS, GROUPS, LEAVES, Catalogue
from regen_bench_plugins.datasets.synthetic.params import StoryParams

DAY = 86_400


@dataclass(frozen=True)
class Taste:
    group: int
    brand: int
    colour: int


@dataclass(frozen=True)
class Critique:
    """Why a purchase replaced the previous one: the user asked for another colour/brand."""

    kind: str  # "colour", "brand" or "both"
    previous: int  # item index of the purchase being critiqued


@dataclass(frozen=True)
class PurchaseEvent:
    item: int
    day: int  # days since the epoch
    critique: Critique | None = None


@dataclass(frozen=True)
class UserStory:
    community: int
    taste: Taste
    history: list[PurchaseEvent]
    target: PurchaseEvent


def _multiplier(share_in_catalogue: np.ndarray, target_share: float) -> np.ndarray:
    """Weight factor that lifts an attribute from its base share to `target_share`."""
    s = np.clip(share_in_catalogue, 1e-6, 1 - 1e-6)
    return np.maximum(1.0, target_share * (1 - s) / (s * (1 - target_share)))


class Pools:
    """Item pools per community, precomputed once per catalogue."""

    def __init__(self, catalogue: Catalogue, communities: int, params: StoryParams):
        self.catalogue = catalogue
        self.communities = communities
        self.params = params
        self.own = [np.flatnonzero(catalogue.community == c) for c in range(communities)]
        self.generic = np.flatnonzero(catalogue.community == -1)
        self.everything = np.arange(len(catalogue))
        # Refinement candidates: the community's items plus generic ones, per leaf.
        self.by_leaf: list[list[np.ndarray]] = []
        for c in range(communities):
            reachable = np.sort(np.concatenate([self.own[c], self.generic]))
            self.by_leaf.append([reachable[catalogue.leaf[reachable] == leaf] for leaf in range(len(LEAVES))])
        n = len(catalogue)
        self.group_mult = _multiplier(np.bincount(catalogue.group, minlength=len(GROUPS)) / n, params.taste_group_share)
        self.brand_mult = _multiplier(np.bincount(catalogue.brand, minlength=len(BRANDS)) / n, params.taste_brand_share)
        self.colour_mult = _multiplier(np.bincount(catalogue.colour, minlength=len(COLOURS)) / n, params.taste_colour_share)
        # Index lists instead of whole-catalogue masks, so a user costs O(their pools), not
        # O(catalogue), once the catalogue grows with the user count; the arithmetic (and so
        # every byte written) is the same as with the masks.
        self.of_group = [np.flatnonzero(catalogue.group == g) for g in range(len(GROUPS))]
        self.of_brand = [np.flatnonzero(catalogue.brand == b) for b in range(len(BRANDS))]
        self.of_colour = [np.flatnonzero(catalogue.colour == c) for c in range(len(COLOURS))]
        order = np.argsort(catalogue.design, kind="stable")
        bounds = np.searchsorted(catalogue.design[order], np.arange(int(catalogue.design.max()) + 2))
        self._design_order, self._design_bounds = order, bounds

    def listings_of_design(self, design: int) -> np.ndarray:
        """Every item (one per listing community) of one product design."""
        return self._design_order[self._design_bounds[design] : self._design_bounds[design + 1]]

    def taste_weights(self, taste: Taste) -> np.ndarray:
        """Purchase weight of every item for this taste: popularity x taste multipliers."""
        cat = self.catalogue
        weights = cat.popularity.copy()
        weights[self.of_group[taste.group]] *= self.group_mult[taste.group]
        weights[self.of_brand[taste.brand]] *= self.brand_mult[taste.brand]
        weights[self.of_colour[taste.colour]] *= self.colour_mult[taste.colour]
        return weights


def _weighted_pick(rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray) -> int | None:
    w = weights[candidates]
    total = float(w.sum())
    if total <= 0.0:
        return None
    position = int(np.searchsorted(np.cumsum(w), rng.random() * total, side="right"))
    return int(candidates[min(position, len(candidates) - 1)])


def _draw(rng, pools: Pools, community: int, weights: np.ndarray) -> int:
    """One ordinary purchase: pick a pool, then an item in it by taste x popularity."""
    params = pools.params
    u = rng.random()
    if u < params.p_generic:
        pool = pools.generic
    elif u < params.p_generic + params.p_other_community and pools.communities > 1:
        other = int(rng.integers(0, pools.communities - 1))
        pool = pools.own[other + (other >= community)]
    else:
        pool = pools.own[community]
    picked = _weighted_pick(rng, pool, weights)
    if picked is None:  # everything in the pool already bought: fall back to the community
        picked = _weighted_pick(rng, pools.own[community], weights)
    if picked is None:
        picked = _weighted_pick(rng, pools.everything, weights)
    assert picked is not None, "catalogue exhausted"
    return picked


def _refine(rng, pools: Pools, community: int, taste: Taste, previous: int, weights: np.ndarray):
    """A purchase in the previous item's leaf with another colour and/or brand.

    The user critiques toward their taste where the pool allows it (asks for their
    favourite colour or brand); returns (item, Critique) or None when no candidate exists.
    """
    cat = pools.catalogue
    candidates = pools.by_leaf[community][cat.leaf[previous]]
    candidates = candidates[
        (weights[candidates] > 0)
        & ((cat.colour[candidates] != cat.colour[previous]) | (cat.brand[candidates] != cat.brand[previous]))
    ]
    if len(candidates) == 0:
        return None
    options = []
    if cat.colour[previous] != taste.colour:
        options.append(("colour", candidates[cat.colour[candidates] == taste.colour]))
    if cat.brand[previous] != taste.brand:
        options.append(("brand", candidates[cat.brand[candidates] == taste.brand]))
    options = [(kind, c) for kind, c in options if len(c)]
    if options:
        kind, chosen_from = options[int(rng.integers(0, len(options)))]
    else:
        kind, chosen_from = "", candidates
    item = _weighted_pick(rng, chosen_from, cat.popularity)
    if item is None:
        return None
    colour_changed = cat.colour[item] != cat.colour[previous]
    brand_changed = cat.brand[item] != cat.brand[previous]
    if colour_changed and brand_changed and cat.colour[item] == taste.colour and cat.brand[item] == taste.brand:
        kind = "both"
    elif not kind:
        kind = "colour" if colour_changed and (not brand_changed or rng.random() < 0.5) else "brand"
    return item, Critique(kind=kind, previous=previous)


def sample_user(
    rng: np.random.Generator, pools: Pools, community_weights: np.ndarray, params: StoryParams
) -> UserStory:
    community = int(rng.choice(len(community_weights), p=community_weights))
    # Taste is independent of community: drawn from the same distribution for everyone.
    taste = Taste(
        group=int(rng.integers(0, len(GROUPS))),
        brand=int(rng.integers(0, len(BRANDS))),
        colour=int(rng.integers(0, len(COLOURS))),
    )
    weights = pools.taste_weights(taste)
    length = min(params.max_history, params.min_history + int(rng.poisson(params.extra_history_mean)))

    first = date.fromisoformat(params.first_day_min).toordinal()
    last = date.fromisoformat(params.first_day_max).toordinal()
    day = int(rng.integers(first, last + 1)) - date(1970, 1, 1).toordinal()

    events: list[PurchaseEvent] = []
    for position in range(length + 1):
        is_target = position == length
        p_refine = params.p_target_refinement if is_target else params.p_history_refinement
        refined = None
        if events and rng.random() < p_refine:
            refined = _refine(rng, pools, community, taste, events[-1].item, weights)
        if refined is not None:
            item, critique = refined
            day += int(rng.integers(1, params.max_refinement_gap_days + 1))
        else:
            item, critique = _draw(rng, pools, community, weights), None
            if events:
                day += 1 + int(rng.exponential(params.mean_gap_days))
        weights[pools.listings_of_design(int(pools.catalogue.design[item]))] = 0.0  # never buy a product twice
        events.append(PurchaseEvent(item=item, day=day, critique=critique))
    return UserStory(community=community, taste=taste, history=events[:-1], target=events[-1])
