"""Which consecutive purchases are similar enough to have a critique between them.

REGEN writes a critique (what the user would have asked a recommender) only between
consecutive items that are alike. The rule here, in order:

1. Both items have a category path: similar when the paths share their first
   `depth` levels (default 2, e.g. "Office Products > Office & School Supplies"), or,
   when a path is shorter than `depth`, when the two paths are equal.
2. Either item has no category path (metadata missing, or no metadata file at all):
   similar when both titles are known and share at least `title_overlap` (default 0.3)
   of their distinct words (Jaccard, words of 3+ letters).
3. Neither categories nor titles to compare: similar only when `fallback_category` (the
   category of the whole dump, `--category`) is set, which then stands for every missing
   path; otherwise not similar, and the user gets no critique.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]{3,}")


def _words(title: str | None) -> set[str]:
    return set(_WORD.findall(title.lower())) if title else set()


def similar(a_path: tuple[str, ...], a_title: str | None, b_path: tuple[str, ...], b_title: str | None, *,
            depth: int = 2, title_overlap: float = 0.3, fallback_category: str | None = None) -> bool:
    if a_path and b_path:
        if len(a_path) < depth or len(b_path) < depth:
            return a_path == b_path
        return a_path[:depth] == b_path[:depth]
    a_words, b_words = _words(a_title), _words(b_title)
    if a_words and b_words:
        return len(a_words & b_words) / len(a_words | b_words) >= title_overlap
    if fallback_category:
        return (a_path or (fallback_category,))[:1] == (b_path or (fallback_category,))[:1]
    return False
