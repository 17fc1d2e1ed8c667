"""The prompts of a build: versioned text files in `prompts/`, their hashes, and rendering.

A file is `NAME.vN.txt` (str.format placeholders; literal braces doubled). Editing a
prompt means adding `NAME.v(N+1).txt` and bumping `PROMPT_VERSION`, so a manifest's
version and sha256s always say which words made a dataset. The sha256 of each file
(line endings normalised) goes into the call-cache key of every call made from it, so an
edited prompt never reuses an old answer, and into the build manifest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PROMPT_DIR = Path(__file__).resolve().parent / "prompts"
PROMPT_VERSION = "v1"
REVIEW_CHARS = 300  # of each history review shown in a prompt
TARGET_REVIEW_CHARS = 800


@dataclass(frozen=True)
class Artefact:
    name: str  # the prompt file and the JSON key of the answer
    where: str  # the output field it fills
    max_tokens: int
    per_user: bool = True  # False: one per similar pair (the critique)


ARTEFACTS: dict[str, Artefact] = {
    a.name: a for a in (
        Artefact("critique", "purchase_history[].critique, last_purchase.critique", 80, per_user=False),
        Artefact("purchase_reason", "last_purchase.purchase_reason", 200),
        Artefact("endorsement", "last_purchase.endorsement", 150),
        Artefact("profile", "user.profile", 60),
        Artefact("long_summary", "user.long_summary", 300),
    )
}
FILES = ("system", "repair", *ARTEFACTS)


@dataclass(frozen=True)
class Template:
    name: str
    text: str
    sha256: str

    @property
    def file(self) -> str:
        return f"{self.name}.{PROMPT_VERSION}.txt"

    def format(self, **fields: Any) -> str:
        return self.text.format(**fields)


@cache
def template(name: str) -> Template:
    path = PROMPT_DIR / f"{name}.{PROMPT_VERSION}.txt"
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n").strip()
    return Template(name, text, hashlib.sha256(text.encode("utf-8")).hexdigest())


def prompt_hashes() -> dict[str, str]:
    """File name -> sha256 of every prompt a build uses (for the manifest)."""
    return {template(name).file: template(name).sha256 for name in FILES}


def _clip(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def item_text(item: dict) -> str:
    parts = [f'"{item["title"]}"' if item.get("title") else f"a product (ASIN {item['asin']}, title unknown)"]
    if item.get("category"):
        parts.append(item["category"])
    if item.get("brand"):
        parts.append(f"brand {item['brand']}")
    if item.get("price") is not None:
        parts.append(f"${item['price']:.2f}")
    return " | ".join(parts)


def review_text(review: dict | None, limit: int = TARGET_REVIEW_CHARS) -> str:
    if not review:
        return "(no review)"
    parts = []
    if review.get("rating") is not None:
        parts.append(f"rated {review['rating']:g}/5")
    if review.get("summary"):
        parts.append(f'"{_clip(review["summary"], 120)}"')
    if review.get("text"):
        parts.append(_clip(review["text"], limit))
    return ", ".join(parts) if parts else "(no review text)"


def history_text(purchases: list[dict]) -> str:
    if not purchases:
        return "(no earlier purchases)"
    return "\n".join(
        f"{i}. {item_text(p['item'])}; {review_text(p.get('review'), REVIEW_CHARS)}"
        for i, p in enumerate(purchases, 1)
    )


def critique_prompt(previous: dict, purchase: dict) -> str:
    return template("critique").format(previous_item=item_text(previous["item"]), item=item_text(purchase["item"]),
                                       review=review_text(purchase.get("review")))


def narrative_prompt(name: str, history: list[dict], last: dict, critique: str | None) -> str:
    """The prompt of a per-user artefact. Summaries see the history before the last purchase only."""
    fields = {"history": history_text(history)}
    if name in ("purchase_reason", "endorsement"):
        fields.update(item=item_text(last["item"]), critique=critique or "(nothing recorded)",
                      review=review_text(last.get("review")))
    return template(name).format(**fields)


def repair_prompt(name: str, error: str) -> str:
    return template("repair").format(error=error, key=name)
