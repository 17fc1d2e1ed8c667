"""What the LLM judges (`llm-rater`, `llm-judge-pair`) and `data build` share: how a judge is
shown an example, and how an answer that should be one JSON object is read.

- `item_text`: the title as it is (not clipped), the full category path, the price.
- `format_history`: the last `max_items` purchases in that form (`HistoryFormat`).
- `task_of`: which task of the example a reference narrative is.
- `json_object`: an answer's JSON object, a Markdown code fence around it tolerated, or
  what is wrong with it, in one line for a repair prompt.

The texts are part of every judge call's cache key: a change that alters them changes the
calls (and a rubric's sha does not say so), so change them only with a judge's version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from regen_bench_plugins.prompting.history import render_history

HISTORY_EMPTY = "(no purchases)"
HISTORY_OMITTED = "({n} earlier purchases omitted)"
FENCE = re.compile(r"^```(?:json|JSON)?\s*\n?(.*?)\n?```$", re.S)


class HistoryFormat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_items: int = Field(20, ge=1)
    review_chars: int = Field(200, ge=0)


def item_text(item) -> str:
    """The title as it is (not clipped), the full category path, the price."""
    parts = [f'"{item.title}"' if item.title else f"item {item.asin}"]
    if item.category:
        parts.append(item.category)
    if item.price is not None:
        parts.append(f"${item.price:.2f}")
    return " | ".join(parts)


def format_history(history, fmt: HistoryFormat) -> str:
    return render_history(
        history, max_items=fmt.max_items, review_chars=fmt.review_chars, item_text=item_text,
        empty=HISTORY_EMPTY, omitted=HISTORY_OMITTED,
    )


def task_of(example, reference: str) -> str | None:
    """The task whose reference narrative, in `example`, is `reference` (None: none is)."""
    return next((task for task, text in (example.references or {}).items() if text == reference), None)


def json_object(text: str | None, loads: Callable[[str], Any] = json.loads) -> tuple[dict | None, str | None]:
    """(the answer's JSON object, None), or (None, what is wrong with the answer).
    `loads` parses the text inside the fence (`json.loads`; a caller may be more forgiving)."""
    body = (text or "").strip()
    if not body:
        return None, "the answer is empty"
    fenced = FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        data = loads(body)
    except json.JSONDecodeError as exc:
        return None, f"the answer is not valid JSON ({exc.msg} at position {exc.pos})"
    if not isinstance(data, dict):
        return None, f"the answer is a JSON {type(data).__name__}, not an object"
    return data, None
