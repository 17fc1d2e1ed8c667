"""What the fake OpenAI/Gemini servers answer to `data build` prompts: the JSON asked for.

The prompt ends with `{"KEY": "..."}`; the answer is `{"KEY": "<text>"}`, a sentence
made from the prompt's hash and the first product titles it quotes, so it is
deterministic and reads like a narrative to the metrics. Words in a prompt steer it:
GARBAGE -> never valid JSON; FIXABLE -> invalid first, valid once asked to repair.
"""

from __future__ import annotations

import hashlib
import json
import re

_KEY = re.compile(r'\{"(\w+)": "\.\.\."\}')
_TITLE = re.compile(r'"([^"]{5,60})"')


def build_answer(conv) -> str:
    key = _KEY.findall(conv.last_user)[-1]
    prompt = conv.first_user
    repairing = len(conv.messages) > 1
    if "GARBAGE" in prompt:
        return "Sure! Here is a lovely narrative, not in JSON."
    if "FIXABLE" in prompt and not repairing:
        return f'{key}: "almost JSON"'
    digest = hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:8]
    titles = " and ".join(_TITLE.findall(prompt)[:2]) or "their usual products"
    text = f"The {key.replace('_', ' ')} {digest}: this shopper likes {titles}."
    return "```json\n" + json.dumps({key: text}) + "\n```" if digest[0] in "01" else json.dumps({key: text})
