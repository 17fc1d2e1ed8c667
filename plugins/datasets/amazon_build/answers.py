"""Reading an LLM's answer: one JSON object holding the artefact's text under its key.

Strict but forgiving of wrapping: a Markdown code fence around the object is removed, and
text before or after the object is ignored when exactly one object can be cut out. The
value must be a non-empty string (whitespace collapsed) of at most `MAX_CHARS`.
"""

from __future__ import annotations

import json

from regen_bench_plugins.prompting.judging import json_object

MAX_CHARS = 4000


def _object(body: str):
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        start, end = body.find("{"), body.rfind("}")
        if 0 <= start < end and (start > 0 or end < len(body) - 1):
            try:
                return json.loads(body[start:end + 1])
            except json.JSONDecodeError:
                pass
        raise exc


def parse_answer(text: str | None, key: str) -> tuple[str | None, str | None]:
    """(the text, None) or (None, what is wrong with the answer)."""
    data, problem = json_object(text, loads=_object)
    if data is None:
        return None, problem
    if key not in data:
        return None, f"the object has no {key!r} key (keys: {', '.join(map(repr, data)) or 'none'})"
    value = data[key]
    if not isinstance(value, str):
        return None, f"{key!r} is {json.dumps(value)[:60]}, not a string"
    value = " ".join(value.split())
    if not value:
        return None, f"{key!r} is empty"
    if not value.strip(". …"):
        return None, f"{key!r} is only the placeholder {value!r}, not a text"
    if len(value) > MAX_CHARS:
        return None, f"{key!r} is {len(value)} characters long, more than {MAX_CHARS}"
    return value, None
