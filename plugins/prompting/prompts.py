"""Prompts of the LLM prompting baselines (`llm-openai`, `llm-gemini`, `llm-local`).

Every word a model is shown lives in `TEMPLATES`, one place; its sha256 (of the
canonical JSON, plus `FORMAT_VERSION` for the formatting code below) is the
`template_sha` in each model's config and in the API call cache key, so editing a
template never reuses old generations or old API answers.

A prompt is a chat conversation:

    system     TEMPLATES["system"]
    user       shot 1 (only with shots > 0): history [+ request] [+ next item] + task
    assistant  shot 1's reference narrative
    ...
    user       the example: history [+ the user's request (critique)] [+ next item] + task

The history shows the last `history_items` purchases, oldest first: title, the last
two levels of the category path, price, and the review (rating, summary, the text
clipped to `review_chars` characters). The target item (title, category, price; never
its review, which is written after the purchase) is shown only for tasks about it
(`purchase_reason`, `endorsement`). Unknown tasks get a generic instruction that
names the task, and no target item.

Few-shot examples are the same `shots` training users for every example of a task,
drawn by a seeded RNG from the training users that have a reference for the task
(sorted by id first, so the draw does not depend on file order).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from regen_bench.contracts.examples import Example
from regen_bench.util.hashing import canonical_json, hash_config, sha256_text
from regen_bench_plugins.prompting.history import clip, render_history

# Bump when the code below changes what a prompt looks like for the same templates.
FORMAT_VERSION = 1

TEMPLATES: dict = {
    "system": (
        "You write short narratives for a conversational recommender system, based on a shopper's "
        "Amazon purchase history and reviews. Write fluent, natural English prose. Say only what the "
        "history supports. Answer with the narrative itself: no preamble, no headings, no lists."
    ),
    "history_header": "The shopper's purchase history, oldest first:",
    "history_omitted": "({n} earlier purchases omitted)",
    "history_empty": "(no purchases)",
    "critique": 'Then the shopper asked the recommender: "{critique}"',
    "target": "The shopper's next purchase: {item}",
    "task": "Task: {instruction}",
    "tasks": {
        "user_summary": {
            "instruction": (
                "Write a summary of this shopper in 3 to 5 sentences: who they seem to be, what they buy and "
                "what for, and which brands, colours and qualities they favour. Write in the third person."
            ),
            "target": False,
        },
        "user_profile": {
            "instruction": (
                "Write a one-sentence profile of this shopper (at most 25 words): who they seem to be, what "
                "they mostly buy, and the brand or style they prefer."
            ),
            "target": False,
        },
        "purchase_reason": {
            "instruction": (
                "In 1 to 3 sentences, explain why this shopper bought their next purchase, linking it to "
                "their history and tastes (and to their request, if they made one). Write in the third person."
            ),
            "target": True,
        },
        "endorsement": {
            "instruction": (
                "Write a short endorsement (1 or 2 sentences) that recommends the next purchase to this "
                'shopper, addressing them as "you" and saying why it suits their needs and tastes.'
            ),
            "target": True,
        },
    },
    "generic": {
        "instruction": (
            'Write the narrative for the task "{task}" ({words}) about this shopper, based on their '
            "purchase history. Answer with the text only."
        ),
        "target": False,
    },
}


def template_sha() -> str:
    return sha256_text(canonical_json({"format_version": FORMAT_VERSION, "templates": TEMPLATES}))


TEMPLATE_SHA = template_sha()


def _category(category: str | None) -> str | None:
    """The last two levels of an Amazon category path ("A - B - C - D" -> "C - D")."""
    if not category:
        return None
    parts = [p.strip() for p in category.split(" - ") if p.strip()]
    return " - ".join(parts[-2:]) if parts else None


def item_text(item) -> str:
    parts = [f'"{clip(item.title, 200)}"' if item.title else f"item {item.asin}"]
    category = _category(item.category)
    if category:
        parts.append(category)
    if item.price is not None:
        parts.append(f"${item.price:.2f}")
    return " | ".join(parts)


@dataclass(frozen=True)
class PromptFormat:
    history_items: int = 20  # the last N purchases are shown
    review_chars: int = 150  # review text clipped to this many characters (0: no review text)


def history_text(history, fmt: PromptFormat) -> str:
    return render_history(
        history, max_items=fmt.history_items, review_chars=fmt.review_chars, item_text=item_text,
        empty=TEMPLATES["history_empty"], omitted=TEMPLATES["history_omitted"],
    )


def task_template(task: str) -> dict:
    """{"instruction", "target"} for a task; the generic one (naming the task) when unknown."""
    known = TEMPLATES["tasks"].get(task)
    if known is not None:
        return known
    generic = TEMPLATES["generic"]
    return {
        "instruction": generic["instruction"].format(task=task, words=task.replace("_", " ")),
        "target": generic["target"],
    }


def user_prompt(example: Example, task: str, fmt: PromptFormat) -> str:
    """The user turn for one example: history, request, next item (when the task is about it), task."""
    template = task_template(task)
    blocks = [TEMPLATES["history_header"] + "\n" + history_text(example.history, fmt)]
    if example.critique:
        blocks.append(TEMPLATES["critique"].format(critique=clip(example.critique, 500)))
    if template["target"] and example.target is not None:
        blocks.append(TEMPLATES["target"].format(item=item_text(example.target.item)))
    blocks.append(TEMPLATES["task"].format(instruction=template["instruction"]))
    return "\n\n".join(blocks)


def shot_candidates(train: Sequence[Example], task: str) -> list[Example]:
    """Training users usable as examples of `task`: with a reference (and a target item
    when the task shows one), sorted by id."""
    needs_target = task_template(task)["target"]
    pool = [
        e for e in train
        if (e.references.get(task) or "").strip() and (not needs_target or e.target is not None)
    ]
    return sorted(pool, key=lambda e: e.example_id)


def choose_shots(train: Sequence[Example], task: str, shots: int, seed: int) -> list[Example]:
    """`shots` training examples for `task`, the same for every test example, chosen by `seed`."""
    if shots <= 0:
        return []
    pool = shot_candidates(train, task)
    if len(pool) <= shots:
        return pool
    rng = random.Random(int(hash_config({"seed": seed, "task": task}), 16))
    return [pool[i] for i in sorted(rng.sample(range(len(pool)), shots))]


def conversation(example: Example, task: str, fmt: PromptFormat, shots: Sequence[Example] = ()) -> tuple:
    """((role, text), ...) ending with the example's user turn; the system prompt is separate."""
    messages: list[tuple[str, str]] = []
    for shot in shots:
        if shot.user_id == example.user_id:
            continue
        messages.append(("user", user_prompt(shot, task, fmt)))
        messages.append(("assistant", shot.references[task].strip()))
    messages.append(("user", user_prompt(example, task, fmt)))
    return tuple(messages)


SYSTEM = TEMPLATES["system"]

__all__ = [
    "FORMAT_VERSION", "SYSTEM", "TEMPLATES", "TEMPLATE_SHA", "PromptFormat", "choose_shots", "conversation",
    "history_text", "item_text", "shot_candidates", "task_template", "template_sha", "user_prompt",
]
