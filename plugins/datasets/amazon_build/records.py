"""REGEN-layout records from chosen histories: one JSON object per user.

    {"reviewer_id": ..., "purchase_history": [{"item": {...}, "review": {...}, "critique": str|null}, ...],
     "user": {"profile": str|null, "long_summary": str|null},
     "last_purchase": {"item", "review", "critique", "purchase_reason", "endorsement"}}

`purchase_history` holds every purchase but the last; the last is `last_purchase` (the
target of `purchase_reason`, `endorsement` and `next_item`), as in REGEN and the
synthetic data. `item.category` is the category path joined with " - " (REGEN's way);
`item.brand` is kept as an extra key. A narrative the LLM did not give is null.
"""

from __future__ import annotations

from regen_bench.contracts.layout import WRITTEN_LAYOUT
from regen_bench_plugins.datasets.amazon_build.formats import Interaction, ItemMeta

BUILD_LAYOUT = WRITTEN_LAYOUT  # every task, the target at last_purchase


def item_dict(asin: str, meta: ItemMeta | None) -> dict:
    item: dict = {"asin": asin, "title": None, "category": None, "price": None}
    if meta is not None:
        item.update(title=meta.title, category=" - ".join(meta.category) or None, price=meta.price)
        if meta.brand:
            item["brand"] = meta.brand
    return item


def purchase_dict(review: Interaction, meta: ItemMeta | None) -> dict:
    return {
        "item": item_dict(review.asin, meta),
        "review": {"summary": review.summary, "rating": review.rating, "text": review.text,
                   "unix_time": review.time},
        "critique": None,
    }


def user_record(user: str, purchases: list[dict], narratives: dict[str, str | None]) -> dict:
    *history, last = purchases
    return {
        "reviewer_id": user,
        "purchase_history": history,
        "user": {"profile": narratives.get("profile"), "long_summary": narratives.get("long_summary")},
        "last_purchase": {
            **last,
            "purchase_reason": narratives.get("purchase_reason"),
            "endorsement": narratives.get("endorsement"),
        },
    }
