"""Retrieval baselines: copy the narrative of the nearest training user by history embedding.

- `retrieval-cf`:     pooled WALS item factors of the history (collaborative signal only)
- `retrieval-text`:   pooled sentence embeddings of the history's item texts (content only)
- `retrieval-fusion`: concat of the normalised CF and text means, normalised

Each user's history (the last `last_n` purchases; the target is never used for the
query side) is pooled with `regen_bench_plugins.encoders.history.pooled`; a test
user gets the reference narrative of the training user with the highest cosine
similarity among training users that have a reference for the task. Ties go to the
smaller user id. The WALS factors are fit on the training users' histories and
targets (`CFEncoder`), seeded with the run seed.

These are the "beyond retrieval" baselines: a generator that does not beat them has
learned nothing a nearest-neighbour lookup does not already give.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from regen_bench import as_example_set, hookimpl
from regen_bench.contracts.model import Model, ModelOptions
from regen_bench_plugins.encoders.options import (  # noqa: F401
    CFOptions,
    EncoderOptions,
    TextOptions,
    encoder_config,
    make_cf,
    make_text,
)


class _LastN(ModelOptions):
    last_n: int = Field(default=50, ge=1, description="history items pooled (the most recent ones)")


class RetrievalCFOptions(CFOptions, _LastN):
    pass


class RetrievalTextOptions(TextOptions, _LastN):
    pass


class RetrievalOptions(EncoderOptions, _LastN):
    pass


def pooled_histories(examples, kind: str, cf, text, last_n: int, chunk: int = 1024) -> np.ndarray:
    """(n, d) pooled history embeddings of `kind`, L2-normalised (chunks bound the memory)."""
    from regen_bench_plugins.encoders.history import history_features_of, pooled
    from regen_bench_plugins.encoders.text import l2_normalise

    out = None  # filled chunk by chunk: no list of parts concatenated (twice the matrix at the end)
    for start in range(0, len(examples), chunk):
        # One chunk at a time: an ExampleSet's history columns, else its Examples.
        batch = examples[start : start + chunk]
        features = history_features_of(
            batch, cf if kind in ("cf", "fusion") else None, text if kind in ("text", "fusion") else None, last_n
        )
        part = l2_normalise(pooled(features, kind))
        if out is None:
            out = np.empty((len(examples), part.shape[1]), dtype=part.dtype)
        out[start : start + len(part)] = part
    if out is None:
        width = (cf.dim if kind != "text" else 0) + (text.dim if kind != "cf" else 0)
        return np.zeros((0, width), dtype=np.float32)
    return out


# Training users compared with a batch of queries at once: 256 queries x 131,072 users of
# float32 is 134 MB, where one product with Clothing's ~890k training users would be 0.9 GB.
SIMILARITY_COLUMNS = 131_072


def nearest_rows(queries: np.ndarray, matrix: np.ndarray, allowed: np.ndarray,
                 columns: int = SIMILARITY_COLUMNS) -> np.ndarray:
    """Per query row, the index of the most similar `matrix` row (dot product) among the
    `allowed` ones; the first index wins ties. Compared `columns` training rows at a time
    (a training set no larger is one product, as before), an earlier block keeping a tie."""
    best = np.full(len(queries), -np.inf, dtype=np.float64)
    index = np.zeros(len(queries), dtype=np.int64)
    for start in range(0, max(len(matrix), 1), columns):
        block = queries @ matrix[start : start + columns].T
        block[:, ~allowed[start : start + columns]] = -np.inf
        if block.shape[1] == 0:
            break
        top = block.argmax(axis=1)
        value = block[np.arange(len(queries)), top]
        better = value > best if start else np.ones(len(queries), dtype=bool)
        best[better], index[better] = value[better], top[better] + start
    return index


class EmbeddingRetrievalModel(Model):
    """Narrative of the nearest training user by pooled history embedding (`kind`)."""

    name = "retrieval-fusion"
    extras = ("models",)  # `regen-bench list` shows it; the optional libraries it imports
    description = "Narrative of the nearest training user by fused (CF + text) history embedding"
    version = "1"
    Options = RetrievalOptions
    batch_size = 256
    kind: ClassVar[str] = "fusion"

    @property
    def uses_cf(self) -> bool:
        return self.kind in ("cf", "fusion")

    @property
    def uses_text(self) -> bool:
        return self.kind in ("text", "fusion")

    def fit(self, train, validation, *, tasks, seed):
        # An ExampleSet in user-id order (rows, not Examples): the pooled matrix is built
        # chunk by chunk, references are read from the columns of the chosen rows only.
        train = as_example_set(train)
        user_ids = train.user_ids
        self.train = train.take(sorted(range(len(user_ids)), key=user_ids.__getitem__))
        self._has_reference: dict[str, np.ndarray] = {}
        self.cf = make_cf(self.options, seed).fit(self.train) if self.uses_cf else None
        self.text = make_text(self.options) if self.uses_text else None
        self.matrix = pooled_histories(self.train, self.kind, self.cf, self.text, self.options.last_n)

    def nearest(self, examples, task: str) -> list[int]:
        """Index into `self.train` of each example's nearest training user with a reference."""
        if task not in self._has_reference:
            self._has_reference[task] = np.asarray(self.train.has_reference(task), dtype=bool)
        has_ref = self._has_reference[task]
        if not has_ref.any():
            raise ValueError(f"no training narratives for task {task!r}")
        queries = pooled_histories(list(examples), self.kind, self.cf, self.text, self.options.last_n)
        return [int(i) for i in nearest_rows(queries, self.matrix, has_ref)]

    def generate(self, examples, task):
        return self.train.take(self.nearest(examples, task)).references(task)

    def config(self):
        out = super().config()
        out["kind"] = self.kind
        out["encoders"] = encoder_config(self.options, self.uses_cf, self.uses_text)
        return out

    def info(self):
        out = {"kind": self.kind, "train_users": len(getattr(self, "train", []))}
        if getattr(self, "cf", None) is not None:
            out["cf"] = self.cf.info()
        if getattr(self, "text", None) is not None:
            out["text"] = {"texts_encoded": self.text.texts_encoded, "cache_hits": self.text.cache_hits}
        return out


class RetrievalCFModel(EmbeddingRetrievalModel):
    name = "retrieval-cf"
    description = "Narrative of the nearest training user by pooled WALS item factors of the history"
    kind = "cf"
    Options = RetrievalCFOptions


class RetrievalTextEmbeddingModel(EmbeddingRetrievalModel):
    name = "retrieval-text"
    description = "Narrative of the nearest training user by pooled sentence embeddings of the history"
    kind = "text"
    Options = RetrievalTextOptions


class RetrievalFusionModel(EmbeddingRetrievalModel):
    name = "retrieval-fusion"
    kind = "fusion"


MODELS = (RetrievalCFModel, RetrievalTextEmbeddingModel, RetrievalFusionModel)


@hookimpl
def register_models(register):
    for model in MODELS:
        register(model)
