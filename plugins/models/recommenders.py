"""Next-item recommenders for the joint task (`next_item`): popularity, WALS, fused-embedding kNN.

The catalogue is every item seen in the training users' histories and targets; items
already in the user's history are never recommended. Ties break toward the smaller
asin, so rankings do not depend on file order.

- `popularity`: items bought most often by training users.
- `wals`: the new user's history folded into the WALS model (`CFEncoder.fold_in`,
  the exact ALS least-squares step with the item factors fixed); score = Y x_u.
  A user with no item known to the model gets the popularity ranking.
- `fusion-knn`: nearest catalogue items to the fused history embedding. Item
  representation = concat(normalise(CF factor), normalise(text embedding of the
  item's title and category)); query = concat(normalise(mean CF of the history),
  normalise(mean text of the history)). When the example has a critique (the
  user's request, e.g. "Do you have labels like this in white?") the text half
  moves toward it: normalise(history_text_mean + beta * critique_embedding).
  `cf_weight` scales the CF half of the score (score = cf_weight * cf_cos + text_cos).

These models do not write narratives (`generate` raises NotImplementedError).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from pydantic import Field

from regen_bench import as_example_set, hookimpl
from regen_bench.contracts.model import Model, ModelOptions
from regen_bench_plugins.encoders.options import CFOptions, EncoderOptions, encoder_config, make_cf, make_text


def training_counts(train) -> Counter:
    """How often each asin was bought by the training users (history + target), from the
    id columns of the ExampleSet (a plain list of Examples is wrapped): no Example built."""
    train = as_example_set(train)
    counts: Counter = Counter()
    _, asins = train.history_item_ids()
    if hasattr(asins, "value_counts"):  # a pyarrow array: no Python string per purchase
        for entry in asins.value_counts().to_pylist():
            counts[entry["values"]] += int(entry["counts"])
    else:
        counts.update(asins.tolist() if hasattr(asins, "tolist") else asins)
    counts.update(asin for asin in train.target_item_ids() if asin is not None)
    return counts


def top_k(scores: np.ndarray, item_ids: list[str], exclude: list[set[str]], k: int, index: dict[str, int]) -> list[list[str]]:
    """Per row, the k best items by score (ties: smaller item index), skipping `exclude`."""
    out = []
    for row, seen in zip(scores, exclude):
        row = row.astype(np.float64, copy=True)
        for asin in seen:
            position = index.get(asin)
            if position is not None:
                row[position] = -np.inf
        allowed = len(item_ids) - sum(1 for a in seen if a in index)
        take = min(k, allowed)
        order = np.argsort(-row, kind="stable")[:take]
        out.append([item_ids[i] for i in order])
    return out


class _Recommender(Model):
    """Next-item models: `recommend` only (no `generate`, so a run picks `next_item` alone)."""

    batch_size = 256

    def _popularity_fit(self, train) -> None:
        counts = training_counts(train)
        self.popular_items = [asin for asin, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def _popular(self, example, k: int) -> list[str]:
        seen = {p.item.asin for p in example.history}
        return [a for a in self.popular_items if a not in seen][:k]


class PopularityModel(_Recommender):
    name = "popularity"
    description = "Next item: the items most bought by training users, minus the user's history"
    version = "1"
    Options = ModelOptions

    def fit(self, train, validation, *, tasks, seed):
        self._popularity_fit(train)

    def recommend(self, examples, k):
        return [self._popular(e, k) for e in examples]

    def info(self):
        return {"catalogue": len(getattr(self, "popular_items", []))}


class WalsModel(_Recommender):
    name = "wals"
    extras = ("models",)  # `regen-bench list` shows it; the optional libraries it imports
    description = "Next item: WALS (implicit ALS) with the user's history folded in"
    version = "1"
    Options = CFOptions

    def fit(self, train, validation, *, tasks, seed):
        self._popularity_fit(train)
        self.cf = make_cf(self.options, seed).fit(train)

    def recommend(self, examples, k):
        cf = self.cf
        users = np.stack([cf.fold_in([p.item.asin for p in e.history]) for e in examples]) if examples else None
        if users is None:
            return []
        scores = users @ cf.item_factors.T
        seen = [{p.item.asin for p in e.history} for e in examples]
        ranked = top_k(scores, cf.item_ids, seen, k, cf.item_index)
        return [
            ranked_row if np.any(user) else self._popular(example, k)
            for ranked_row, user, example in zip(ranked, users, examples)
        ]

    def config(self):
        out = super().config()
        out["encoders"] = encoder_config(self.options, True, False)
        return out

    def info(self):
        return {"cf": self.cf.info()} if hasattr(self, "cf") else {}


class FusionKnnOptions(EncoderOptions):
    beta: float = Field(default=2.0, ge=0.0, description="weight of the critique embedding in the text query")
    cf_weight: float = Field(default=0.5, ge=0.0, description="weight of the CF cosine in the score")
    use_critique: bool = Field(default=True, description="shift the text query toward the example's critique")
    last_n: int = Field(default=50, ge=1, description="history items pooled (the most recent ones)")


class FusionKnnModel(_Recommender):
    name = "fusion-knn"
    extras = ("models",)  # `regen-bench list` shows it; the optional libraries it imports
    description = "Next item: nearest catalogue items to the fused CF + text history embedding (critique-aware)"
    version = "1"
    Options = FusionKnnOptions

    def fit(self, train, validation, *, tasks, seed):
        from regen_bench.contracts.records import Purchase
        from regen_bench_plugins.encoders.text import l2_normalise

        self._popularity_fit(train)
        self.cf = make_cf(self.options, seed).fit(train)
        self.text = make_text(self.options)
        items: dict[str, object] = {}
        for example in sorted(train, key=lambda e: e.user_id):
            for purchase in [*example.history, *([example.target] if example.target is not None else [])]:
                items.setdefault(purchase.item.asin, purchase.item)
        self.item_ids = self.cf.item_ids
        self.item_index = self.cf.item_index
        item_cf = l2_normalise(self.cf.item_matrix(self.item_ids))
        item_text = self.text.encode_purchases([Purchase(item=items[a]) for a in self.item_ids])
        self.item_cf, self.item_text = item_cf, l2_normalise(item_text)

    def queries(self, examples) -> tuple[np.ndarray, np.ndarray]:
        """(cf query, text query) per example, each L2-normalised."""
        from regen_bench_plugins.encoders.history import history_features, pooled
        from regen_bench_plugins.encoders.text import l2_normalise

        features = history_features(list(examples), self.cf, self.text, self.options.last_n)
        cf_query = l2_normalise(pooled(features, "cf"))
        text_mean = l2_normalise(pooled(features, "text"))
        if self.options.use_critique and self.options.beta > 0:
            rows = [i for i, e in enumerate(examples) if e.critique]
            if rows:
                critique = self.text.encode_texts([examples[i].critique for i in rows])
                text_mean[rows] = text_mean[rows] + self.options.beta * critique
        return cf_query, l2_normalise(text_mean)

    def scores(self, examples) -> np.ndarray:
        cf_query, text_query = self.queries(examples)
        return self.options.cf_weight * (cf_query @ self.item_cf.T) + text_query @ self.item_text.T

    def recommend(self, examples, k):
        if not examples:
            return []
        seen = [{p.item.asin for p in e.history} for e in examples]
        return top_k(self.scores(examples), self.item_ids, seen, k, self.item_index)

    def config(self):
        out = super().config()
        out["encoders"] = encoder_config(self.options, True, True)
        return out

    def info(self):
        if not hasattr(self, "cf"):
            return {}
        return {
            "catalogue": len(self.item_ids),
            "cf": self.cf.info(),
            "text": {"texts_encoded": self.text.texts_encoded, "cache_hits": self.text.cache_hits},
        }


MODELS = (PopularityModel, WalsModel, FusionKnnModel)


@hookimpl
def register_models(register):
    for model in MODELS:
        register(model)
