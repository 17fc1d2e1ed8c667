"""On-disk cache of text embeddings (and of model-file hashes), plus the Embedder protocol.

An embedding is a pure function of (model, text), so it is computed once and kept:

    <cache_dir("embeddings")>/embeddings.sqlite
        embeddings(model TEXT, text_sha256 TEXT, dim INTEGER, vector BLOB float32)
            PRIMARY KEY (model, text_sha256)
        file_sha256(path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT)

`model` is the embedder's `id` (plus its endpoint, if it has one), which names the
weights by content hash (a local sentence-transformers folder) or the provider and model
(an API embedder), so a changed model never reads another model's vectors. Both references and predictions are cached:
references repeat across every run on a split, predictions across metric reruns
(`regen-bench score`). Rows are written after every chunk, with INSERT OR IGNORE (the
first writer wins), so a killed run keeps what it embedded and concurrent runs agree.

Nothing here imports torch.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Protocol, runtime_checkable

import numpy as np

from regen_bench.util.hashing import sha256_file, sha256_text
from regen_bench.util.paths import cache_dir
from regen_bench_plugins.api_client import public_endpoint, select_by_keys

DB_NAME = "embeddings.sqlite"
# Texts handed to `Embedder.embed` per call; each chunk is stored before the next starts.
DEFAULT_CHUNK = 256


@runtime_checkable
class Embedder(Protocol):
    """Anything that embeds texts. `id` must change whenever the vectors would."""

    id: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) array, row i the embedding of texts[i]."""
        ...


class EmbeddingCache:
    """SQLite store of float32 vectors keyed by (model id, sha256 of the text)."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else cache_dir("embeddings") / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=60.0)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:  # e.g. a file system without shared memory
            pass
        self._conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS embeddings (
                model TEXT NOT NULL,
                text_sha256 TEXT NOT NULL,
                dim INTEGER NOT NULL,
                vector BLOB NOT NULL,
                PRIMARY KEY (model, text_sha256)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS file_sha256 (
                path TEXT PRIMARY KEY,
                size INTEGER NOT NULL,
                mtime_ns INTEGER NOT NULL,
                sha256 TEXT NOT NULL
            );
            """
        )
        self._conn.commit()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "EmbeddingCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- embeddings ---------------------------------------------------------------------

    def get_many(self, model: str, keys: Iterable[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        query = "SELECT text_sha256, dim, vector FROM embeddings WHERE model = ? AND text_sha256 IN ({marks})"
        for key, dim, blob in select_by_keys(self._conn, query, list(keys), (model,)):
            vector = np.frombuffer(blob, dtype=np.float32)
            if vector.shape[0] != dim:
                continue  # a damaged row: treat as missing, it is recomputed
            found[key] = vector
        return found

    def put_many(self, model: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        rows = []
        for key, vector in items:
            vector = np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)
            rows.append((model, key, int(vector.shape[0]), vector.tobytes()))
        with self._conn:
            self._conn.executemany(
                "INSERT OR IGNORE INTO embeddings (model, text_sha256, dim, vector) VALUES (?, ?, ?, ?)", rows
            )

    def count(self, model: str | None = None) -> int:
        if model is None:
            return self._conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        return self._conn.execute("SELECT COUNT(*) FROM embeddings WHERE model = ?", (model,)).fetchone()[0]

    # -- file hashes --------------------------------------------------------------------

    def get_file_hash(self, path: str, size: int, mtime_ns: int) -> str | None:
        row = self._conn.execute(
            "SELECT sha256 FROM file_sha256 WHERE path = ? AND size = ? AND mtime_ns = ?", (path, size, mtime_ns)
        ).fetchone()
        return row[0] if row else None

    def put_file_hash(self, path: str, size: int, mtime_ns: int, sha256: str) -> None:
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO file_sha256 (path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?)",
                (path, size, mtime_ns, sha256),
            )


_FILE_HASHES: dict[tuple[str, int, int], str] = {}
_FILE_HASHES_LOCK = threading.Lock()


def cached_file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, computed once per (absolute path, size, mtime) and kept on disk.

    Model weights are ~100 MB to many GB; hashing them on every run would cost seconds.
    """
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _FILE_HASHES_LOCK:
        if key in _FILE_HASHES:
            return _FILE_HASHES[key]
    digest = None
    try:
        with EmbeddingCache() as cache:
            digest = cache.get_file_hash(*key)
            if digest is None:
                digest = sha256_file(path)
                cache.put_file_hash(*key, digest)
    except sqlite3.Error:  # an unusable cache must not stop scoring
        digest = digest or sha256_file(path)
    with _FILE_HASHES_LOCK:
        _FILE_HASHES[key] = digest
    return digest


def cache_model_id(embedder: Embedder) -> str:
    """The cache's model key: the embedder's id, plus its endpoint when it has one (an API
    model name served by two different servers is two models), without credentials."""
    endpoint = getattr(embedder, "endpoint", None)
    if not endpoint or not isinstance(endpoint, str):
        return embedder.id
    return f"{embedder.id}|endpoint:{public_endpoint(endpoint)}"


def embed_cached(
    embedder: Embedder,
    texts: list[str],
    cache: EmbeddingCache | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK,
) -> tuple[np.ndarray, dict[str, int]]:
    """Embeddings of `texts` (row i for texts[i]), computing only what the cache lacks.

    Distinct uncached texts are sorted by length (shorter first, ties in first-seen order)
    so that each batch pads little, embedded `chunk_size` at a time, stored, and put back
    in input order. Returns (float32 array (n, dim), counts) with counts
    `embedded` (distinct texts computed now) and `cache_hits` (distinct texts read).
    """
    keys = [sha256_text(text) for text in texts]
    distinct: dict[str, str] = {}
    for key, text in zip(keys, texts):
        distinct.setdefault(key, text)

    model = cache_model_id(embedder)
    found = cache.get_many(model, distinct) if cache is not None else {}
    hits = len(found)
    missing = [key for key in distinct if key not in found]
    missing.sort(key=lambda key: len(distinct[key]))  # stable: ties keep first-seen order
    for start in range(0, len(missing), chunk_size):
        batch = missing[start : start + chunk_size]
        vectors = np.asarray(embedder.embed([distinct[key] for key in batch]), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(batch):
            raise ValueError(
                f"embedder {embedder.id!r} returned an array of shape {vectors.shape} for {len(batch)} texts"
            )
        if cache is not None:
            cache.put_many(model, zip(batch, vectors))
        found.update(zip(batch, vectors))

    counts = {"embedded": len(missing), "cache_hits": hits}
    if not texts:
        return np.zeros((0, 0), dtype=np.float32), counts
    dims = {found[key].shape[0] for key in distinct}
    if len(dims) != 1:
        raise ValueError(f"embedder {embedder.id!r}: vectors of different sizes {sorted(dims)}")
    return np.stack([found[key] for key in keys]), counts
