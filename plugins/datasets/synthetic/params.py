"""The knobs of the generative story, in one place (docs/synthetic-dataset.md explains them).

Changing any value changes the output: bump GENERATOR_VERSION in `__init__.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class StoryParams:
    # Catalogue: every community owns many items, so that no item is bought by many
    # users and a text model cannot cheaply memorise "this title means community c".
    items_per_community: int = 280
    generic_items: int = 200  # bought by anyone; carry no community signal
    # Every community lists the same product designs under its own ASINs, so an
    # item's text says nothing about its community (see catalogue.build_catalogue).
    shared_designs: bool = True
    null_category_share: float = 0.02

    # Where a purchase comes from: the user's community pool (most), the generic
    # pool, or another community's pool (noise).
    p_generic: float = 0.12
    p_other_community: float = 0.06

    # Content taste, as the share of purchases (within a pool) that match the user's
    # favourite group / brand / colour; the base rates are about 1/6, 1/15 and 1/10.
    # Taste is a *weighting* inside the pool, never a choice of pool: it makes taste
    # readable from the history text while adding little to co-purchase structure.
    taste_group_share: float = 0.45
    taste_brand_share: float = 0.28
    taste_colour_share: float = 0.30

    # History length before the target (REGEN Office has about 7.6 purchases per user).
    min_history: int = 5
    max_history: int = 15
    extra_history_mean: float = 2.6  # history = min_history + Poisson(mean), capped

    # Critiques: a purchase that refines the previous one (same leaf category, another
    # colour or brand), asked for in words. Refinements move toward the user's taste.
    p_history_refinement: float = 0.18
    p_target_refinement: float = 0.6

    # Timestamps (unix seconds, midnight UTC like REGEN).
    first_day_min: str = "2010-01-01"
    first_day_max: str = "2015-12-31"
    mean_gap_days: float = 40.0
    max_refinement_gap_days: int = 12


PARAMS = StoryParams()


# The catalogue grows with the user count as REGEN's does: Office has about 27,000
# items for 100,613 users, Clothing about 376,000 for 1,117,912. `catalogue_items` is
# the power law through those two points (exponent ~1.09), never below the embedded
# catalogue's 3,000 items, so every file of up to ~13,500 users (the default 3,000
# included) keeps the bytes of generator version 1.
DEFAULT_CATALOGUE_ITEMS = 3000  # 10 communities x 280 items + 200 generic
_OFFICE, _CLOTHING = (100_613, 27_000), (1_117_912, 376_000)
_EXPONENT = math.log(_CLOTHING[1] / _OFFICE[1]) / math.log(_CLOTHING[0] / _OFFICE[0])


def catalogue_items(users: int, items: int | None = None) -> int:
    """How many items a synthetic catalogue for `users` users has: `items` when given,
    else the default that grows with `users`."""
    if items is not None:
        return int(items)
    scaled = _OFFICE[1] * (max(int(users), 1) / _OFFICE[0]) ** _EXPONENT
    return max(DEFAULT_CATALOGUE_ITEMS, int(round(scaled)))


def catalogue_split(items: int, params: StoryParams, communities: int) -> tuple[int, int]:
    """(items per community, generic items) for a catalogue of about `items` items,
    in the embedded catalogue's proportions (exactly 280 and 200 at 3,000)."""
    default_total = communities * params.items_per_community + params.generic_items
    generic = int(round(items * params.generic_items / default_total))
    return (items - generic) // communities, generic
