"""Collaborative-filtering item embeddings: WALS (weighted ALS) via `implicit`.

Fit on training users only. The interaction matrix is users x items, one row per
training user, built from the user's purchase history plus the target purchase;
a repeated purchase adds to the count. Confidence follows Hu, Koren & Volinsky
(2008): c_ui = 1 + alpha * count_ui with preference p_ui = 1 for every bought item.

Determinism: the CPU solver (`implicit.cpu.als.AlternatingLeastSquares`) with one
thread, a seeded `random_state`, and BLAS limited to one thread, so the factors are
a pure function of (training users, options).

`implicit` and `threadpoolctl` are imported only inside `fit`.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from regen_bench import as_example_set
from regen_bench.plugin.extras import require

if TYPE_CHECKING:  # pragma: no cover
    from regen_bench.contracts.examples import Example


def user_item_counts(example: "Example") -> Counter:
    """Purchase counts of one user: history plus target (asin -> count)."""
    counts: Counter = Counter(p.item.asin for p in example.history)
    if example.target is not None:
        counts[example.target.item.asin] += 1
    return counts


def purchase_matrix(train) -> tuple["object", list[str], list[str]]:
    """The training users x items purchase-count matrix (CSR, float32), straight from the
    id columns: rows are users sorted by user id, columns items sorted by asin; each
    user's history plus target, as `user_item_counts` counts them (no Example built)."""
    import pyarrow as pa
    import scipy.sparse as sp

    user_ids = list(train.user_ids)
    order = sorted(range(len(user_ids)), key=user_ids.__getitem__)  # stable, as sorted(examples) was
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    offsets, asins = train.history_item_ids()
    targets = train.target_item_ids()
    has_target = np.array([t is not None for t in targets], dtype=bool)
    rows = np.concatenate([np.repeat(rank, np.diff(np.asarray(offsets, dtype=np.int64))), rank[has_target]])
    bought = pa.concat_arrays([
        pa.array(asins, type=pa.string()) if not isinstance(asins, pa.Array) else asins.cast(pa.string()),
        pa.array([t for t in targets if t is not None], type=pa.string()),
    ]).dictionary_encode()
    names = bought.dictionary.to_pylist()
    sorted_names = sorted(names)
    position = {asin: i for i, asin in enumerate(sorted_names)}
    remap = np.array([position[a] for a in names], dtype=np.int64)
    cols = remap[bought.indices.to_numpy(zero_copy_only=False)]
    matrix = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows, cols)),
        shape=(len(user_ids), len(sorted_names)),
        dtype=np.float32,
    )  # duplicates summed: a user's count of an item
    return matrix, sorted_names, [user_ids[i] for i in order]


class CFEncoder:
    """WALS item embeddings via implicit ALS, fit on training users only.

    Options: `factors` (the embedding size, `dim`), `regularization` (the L2 weight
    lambda), `alpha` (confidence slope: c = 1 + alpha * count), `iterations`, `seed`.

    After `fit`:
      dim          the number of factors
      item_ids     the catalogue, sorted asins of every item seen in training
      user_ids     the training users, sorted (row order of `user_factors`)
      item_factors (n_items, dim) float32
      user_factors (n_users, dim) float32
    """

    def __init__(
        self,
        *,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 20.0,
        iterations: int = 15,
        seed: int = 0,
    ):
        self.factors = int(factors)
        self.regularization = float(regularization)
        self.alpha = float(alpha)
        self.iterations = int(iterations)
        self.seed = int(seed)
        self.dim: int = self.factors
        self.item_ids: list[str] = []
        self.user_ids: list[str] = []
        self.item_index: dict[str, int] = {}
        self.item_factors: np.ndarray = np.zeros((0, self.factors), dtype=np.float32)
        self.user_factors: np.ndarray = np.zeros((0, self.factors), dtype=np.float32)
        self.item_counts: np.ndarray = np.zeros(0, dtype=np.int64)
        self._fitted = False

    # -- fitting ------------------------------------------------------------------------

    def fit(self, train_examples: list["Example"]) -> "CFEncoder":
        """Fit item (and training-user) factors on the training users' purchases, from the
        id columns of the ExampleSet (a plain list of Examples is wrapped)."""
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.environ.setdefault("MKL_NUM_THREADS", "1")
        from threadpoolctl import threadpool_limits

        train = as_example_set(train_examples)
        matrix, self.item_ids, self.user_ids = purchase_matrix(train)
        self.item_index = {asin: i for i, asin in enumerate(self.item_ids)}
        users = self.user_ids
        matrix.sort_indices()
        self.item_counts = np.asarray(matrix.sum(axis=0)).ravel().astype(np.int64)

        if matrix.nnz == 0:
            self.item_factors = np.zeros((len(self.item_ids), self.factors), dtype=np.float32)
            self.user_factors = np.zeros((len(users), self.factors), dtype=np.float32)
            self._fitted = True
            return self

        with threadpool_limits(limits=1):
            als = require("implicit.cpu.als", "models", "the CF (WALS) item encoder of models wals, retrieval-cf, "
                          "retrieval-fusion, fusion and cf-only")

            model = als.AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=1,
                calculate_training_loss=False,
            )
            model.fit(matrix, show_progress=False)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self._gram = (self.item_factors.T.astype(np.float64) @ self.item_factors.astype(np.float64))
        self._fitted = True
        return self

    def _require_fit(self) -> None:
        if not self._fitted:
            raise RuntimeError("CFEncoder is not fitted; call fit(train_examples) first")

    # -- lookups ------------------------------------------------------------------------

    def item_matrix(self, asins: list[str]) -> np.ndarray:
        """(n, dim) float32 item factors; a ZERO vector for items never seen in training."""
        self._require_fit()
        out = np.zeros((len(asins), self.dim), dtype=np.float32)
        for row, asin in enumerate(asins):
            index = self.item_index.get(asin)
            if index is not None:
                out[row] = self.item_factors[index]
        return out

    def fold_in(self, asins: list[str], weights: list[float] | None = None) -> np.ndarray:
        """(dim,) ALS user factor of a new user who bought `asins` (item factors fixed).

        Solves the regularised, confidence-weighted normal equations of one ALS user
        step exactly: (Y^T Y + Y^T (C - I) Y + lambda I) x = Y^T C p, with
        c_i = 1 + alpha * w_i over the user's items (w_i = the summed weight of
        repeated asins; default weight 1 per purchase) and p_i = 1. Unseen items are
        ignored; a user with no known item gets the zero vector.
        """
        self._require_fit()
        if weights is not None and len(weights) != len(asins):
            raise ValueError(f"{len(weights)} weights for {len(asins)} items")
        counts: dict[int, float] = {}
        for position, asin in enumerate(asins):
            index = self.item_index.get(asin)
            if index is None:
                continue
            counts[index] = counts.get(index, 0.0) + (1.0 if weights is None else float(weights[position]))
        if not counts:
            return np.zeros(self.dim, dtype=np.float32)
        indices = np.fromiter(counts.keys(), dtype=np.int64)
        strength = np.fromiter(counts.values(), dtype=np.float64) * self.alpha  # c - 1
        factors = self.item_factors[indices].astype(np.float64)
        gram = getattr(self, "_gram", None)
        if gram is None:
            gram = self.item_factors.T.astype(np.float64) @ self.item_factors.astype(np.float64)
            self._gram = gram
        a = gram + (factors * strength[:, None]).T @ factors + self.regularization * np.eye(self.dim)
        b = ((1.0 + strength)[:, None] * factors).sum(axis=0)
        return np.linalg.solve(a, b).astype(np.float32)

    def fold_in_many(self, histories: list[list[str]]) -> np.ndarray:
        """(n, dim) float32: `fold_in` of each asin list."""
        if not histories:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.fold_in(h) for h in histories])

    def config(self) -> dict:
        return {
            "kind": "wals",
            "library": "implicit.cpu.als.AlternatingLeastSquares",
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "iterations": self.iterations,
            "seed": self.seed,
            "confidence": "1 + alpha * count",
        }

    def info(self) -> dict:
        return {"items": len(self.item_ids), "users": len(self.user_ids), "dim": self.dim}
