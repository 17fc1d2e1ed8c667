"""A purchase history as prompt text: shared by the prompting models' prompts and the
LLM rater's judge prompt.

Both show the last N purchases, oldest first, one numbered line each: the item, then
`| review: ` and what the review says (rating, summary, the text clipped). Each caller
says how an item reads and what to write for an empty or shortened history. Prompt text
is part of every API call's cache key (and of the prompting models' template sha through
`prompts.FORMAT_VERSION`), so a change here that alters the text must bump that version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from regen_bench.contracts.records import Item, Purchase, Review

SUMMARY_CHARS = 100  # a review summary is a title: clipped short whatever review_chars says


def clip(text: str, limit: int) -> str:
    """`text` with its white space folded, cut to `limit` characters ending in an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def review_text(review: Review, review_chars: int) -> str | None:
    """`rated 4/5 "summary" text…`, or None for a review that says nothing."""
    bits = []
    if review.rating is not None:
        bits.append(f"rated {review.rating:g}/5")
    if review.summary:
        bits.append(f'"{clip(review.summary, SUMMARY_CHARS)}"')
    if review.text and review_chars > 0:
        bits.append(clip(review.text, review_chars))
    return " ".join(bits) if bits else None


def render_history(
    history: Sequence[Purchase],
    *,
    max_items: int,
    review_chars: int,
    item_text: Callable[[Item], str],
    empty: str,
    omitted: str,
) -> str:
    """The last `max_items` purchases, numbered, after an `omitted` line (a format string
    with `{n}`) when earlier ones are cut; `empty` for no purchases at all."""
    if not history:
        return empty
    shown = history[-max_items:] if max_items > 0 else []
    lines = [omitted.format(n=len(history) - len(shown))] if len(shown) < len(history) else []
    for number, purchase in enumerate(shown, 1):
        line = f"{number}. {item_text(purchase.item)}"
        review = review_text(purchase.review, review_chars) if purchase.review is not None else None
        if review is not None:
            line += " | review: " + review
        lines.append(line)
    return "\n".join(lines)
