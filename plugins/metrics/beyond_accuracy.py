"""Beyond-accuracy metrics of next-item lists, as RecBole defines them (Zhao et al. 2021):
`item-coverage`, `average-popularity`, `gini-index`, `shannon-entropy`, `tail-percentage`.

R_u is the first k items of user u's list as returned (option `k`, default 10;
`--metric gini-index:20`), duplicates kept as ranking.py keeps them; c_i is how often item
i occurs in all the lists, T = sum_u |R_u|. The catalogue I and the popularity phi come
from the scored examples, because a metric sees nothing else (`catalogue.py`):

- I: every item id in the scored examples' histories and targets; for item-coverage and
  gini-index, `catalogue=DATASET` (a dataset name or REGEN file path, the run's own) takes
  every item id of that whole dataset instead (signature `catalogue:dataset@HASH`);
- phi(i): how often i occurs in the scored examples' *histories* (inputs, never the
  targets): the stand-in for RecBole's count of i's interactions in the training split.
  It is the popularity among the evaluated users before their next purchase; the
  signature's `popularity:examples-history-purchases` says so. `popularity=DATASET` (a
  dataset name or REGEN file path, the run's own) counts the history purchases of every
  user of that dataset instead, the training users' included (never a target): closer to
  RecBole's training counts (`popularity:dataset-history-purchases@HASH`).

Definitions (RecBole's `recbole.evaluator.metrics`):

- item-coverage@k = |union_u R_u ∩ I| / |I| (higher: more of the catalogue recommended).
- average-popularity@k = mean_u (1/|R_u|) sum_{i in R_u} phi(i) (context: no better
  direction; RecBole marks it smaller-is-better, but popular items are often right).
- gini-index@k = sum_{j=1..n} (2j - n - 1) c_(j) / (n T), items sorted by c ascending,
  over n = |I ∪ recommended| items (those never recommended have c = 0); 0 when every item
  is recommended equally often, towards 1 when a few items take every slot (lower is better).
- shannon-entropy@k = -sum_i p_i ln p_i, p_i = c_i / T, in nats (higher: spread over more
  items). RecBole's code divides this sum by the number of different recommended items;
  its documented formula, used here, does not.
- tail-percentage@k = mean_u |R_u ∩ Tail| / |R_u|: the tail is, for `tail_ratio` <= 1 (default
  0.1), the max(floor(ratio * m), 1) least popular of the m items with phi > 0 (sorted by
  phi, then id), or, for `tail_ratio` > 1, the items with phi <= tail_ratio (RecBole's
  rule); an item no history holds has no popularity entry and is not in the tail, as in
  RecBole.

Confidence intervals. average-popularity and tail-percentage are means over users (the
core bootstrap of a mean; an empty list is undefined, left out). The other three are
corpus numbers, written as exact sums over users so the bootstrap resamples them, with
the counts c_i of the full set held fixed within a resample (as for `distinct`):
coverage credits each user sum_{i in set(R_u) ∩ I} 1/(users recommending i), the credits
summing to the covered items (aggregate: sum / |I|); entropy is sum_u h_u / sum_u |R_u| with
h_u = sum_{i in R_u} -ln p_i; Gini is sum_u g_u / sum_u |R_u| with g_u = sum_{i in R_u}
(2 r_i - n - 1) / n, r_i the item's rank by c (mid-rank for ties, which leaves the sum
unchanged). Per example (samples.jsonl): the user's credit, h_u / |R_u|, g_u / |R_u|.
Signature, e.g. `metric:gini-index|k:10|catalogue:examples-history+target|version:1`.
"""

from __future__ import annotations

import functools
import math
from collections import Counter

import numpy as np
from pydantic import Field

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput, Signature
from regen_bench_plugins.metrics.catalogue import (
    CatalogueOptions,
    PopularityOptions,
    catalogue_of,
    catalogue_setting,
    popularity_of,
    popularity_setting,
    ranked_items,
    require_examples,
)


class BeyondOptions(MetricOptions):
    k: int = Field(default=10, ge=1, description="cutoff: the first k items of each list")


class CatalogueBeyondOptions(BeyondOptions, CatalogueOptions):
    pass


class PopularityBeyondOptions(BeyondOptions, PopularityOptions):
    pass


class TailOptions(PopularityBeyondOptions):
    tail_ratio: float = Field(default=0.1, gt=0, description="<= 1: least popular share of items; > 1: max count")


def ratio_aggregate(sums: np.ndarray, n: int) -> np.ndarray:
    del n
    sums = np.asarray(sums, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sums[..., 1] > 0, sums[..., 0] / sums[..., 1], np.nan)


def divided_by(sums: np.ndarray, n: int, *, size: int) -> np.ndarray:
    del n
    sums = np.asarray(sums, dtype=np.float64)
    return sums[..., 0] / size if size > 0 else np.full(sums.shape[:-1], np.nan)


def mid_ranks(counts: dict[str, int], n: int) -> dict[str, float]:
    """1-based rank of each item by count ascending among n items (n - len(counts) at count 0 come first);
    tied items share their mean rank."""
    ranks, position = {}, n - len(counts)  # ranks 1..position belong to the unrecommended items
    by_count: dict[int, list[str]] = {}
    for item, count in counts.items():
        by_count.setdefault(count, []).append(item)
    for count in sorted(by_count):
        group = by_count[count]
        mean_rank = position + (len(group) + 1) / 2
        for item in group:
            ranks[item] = mean_rank
        position += len(group)
    return ranks


def tail_items(popularity: Counter, ratio: float) -> set[str]:
    if ratio > 1:
        return {item for item, count in popularity.items() if count <= ratio}
    ordered = sorted(popularity.items(), key=lambda kv: (kv[1], kv[0]))
    return {item for item, _ in ordered[: max(int(len(ordered) * ratio), 1)]} if ordered else set()


class _BeyondAccuracy(Metric):
    kind = "ranking"
    version = "1"
    Options = BeyondOptions
    spec_option = "k"

    def component_name(self) -> str:
        return f"{self.name}@{self.options.k}"

    def check_inputs(self, predictions: list, references: list) -> None:
        if len(predictions) != len(references):
            raise ValueError(f"{self.name}: {len(predictions)} predictions but {len(references)} references")

    def lists(self, predictions: list) -> list[list[str]]:
        return [ranked_items(self.name, i, ranking)[: self.options.k] for i, ranking in enumerate(predictions)]

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        examples = require_examples(self.name, examples)
        self._seen = {}
        component = self.component(self.lists(predictions), examples)
        signature = Signature(self.name, self.version, {**self._settings(), **self._seen}).format()
        return MetricOutput([component], signature=signature)

    def component(self, lists: list[list[str]], examples: list) -> Component:
        raise NotImplementedError

    def catalogue(self, examples: list):
        """The catalogue, noting for the signature which one it was."""
        ids, source = catalogue_of(self.options, examples)
        self._seen["catalogue"] = source
        return ids

    def popularity(self, examples: list):
        """The popularity counts, noting for the signature which ones they were."""
        counts, source = popularity_of(self.options, examples)
        self._seen["popularity"] = source
        return counts

    def _settings(self) -> dict:
        return {"k": self.options.k}

    def signature(self) -> str:
        return Signature(self.name, self.version, self._settings()).format()


class ItemCoverage(_BeyondAccuracy):
    """Share of the catalogue recommended to anyone (RecBole's ItemCoverage@k)."""

    name = "item-coverage"
    description = "Item coverage@k (RecBole): share of the catalogue's items in anyone's top k."
    higher_is_better = True
    Options = CatalogueBeyondOptions

    def component(self, lists, examples):
        catalogue = self.catalogue(examples)
        users_of = Counter(item for items in lists for item in set(items) if item in catalogue)
        credits = [float(sum(1.0 / users_of[i] for i in set(items) if i in catalogue)) for items in lists]
        stats = np.asarray(credits, dtype=np.float64).reshape(-1, 1)
        return Component(self.component_name(), credits, stats, functools.partial(divided_by, size=len(catalogue)))

    def _settings(self):
        return {"k": self.options.k, "catalogue": catalogue_setting(self.options)}


class AveragePopularity(_BeyondAccuracy):
    """Mean history popularity of the recommended items (RecBole's AveragePopularity@k); context only."""

    name = "average-popularity"
    description = ("Average popularity@k (RecBole): mean count in the examples' histories of the recommended items "
                   "(context: no better direction).")
    higher_is_better = False
    Options = PopularityBeyondOptions

    def __init__(self, **options):
        super().__init__(**options)
        self.context_components = (self.component_name(),)

    def component(self, lists, examples):
        popularity = self.popularity(examples)
        values = [sum(popularity.get(i, 0) for i in items) / len(items) if items else None for items in lists]
        return Component.mean(self.component_name(), values)

    def _settings(self):
        return {"k": self.options.k, "popularity": popularity_setting(self.options)}


class GiniIndex(_BeyondAccuracy):
    """Inequality of how often items are recommended (RecBole's GiniIndex@k); lower is better."""

    name = "gini-index"
    description = "Gini index@k (RecBole) of how often each item is recommended (lower: exposure spread evenly)."
    higher_is_better = False
    Options = CatalogueBeyondOptions

    def component(self, lists, examples):
        occurrences = Counter(item for items in lists for item in items)
        n = len(set(self.catalogue(examples)) | set(occurrences))
        ranks = mid_ranks(dict(occurrences), n)
        per_example, rows = [], []
        for items in lists:
            if not items:
                per_example.append(float("nan"))
                continue
            g = float(sum((2.0 * ranks[i] - n - 1.0) / n for i in items))
            per_example.append(g / len(items))
            rows.append((g, float(len(items))))
        stats = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
        return Component(self.component_name(), per_example, stats, ratio_aggregate)

    def _settings(self):
        return {"k": self.options.k, "catalogue": catalogue_setting(self.options)}


class ShannonEntropy(_BeyondAccuracy):
    """Entropy (nats) of the recommended items' distribution (RecBole's ShannonEntropy@k formula)."""

    name = "shannon-entropy"
    description = "Shannon entropy@k (RecBole's formula, nats) of the recommended items over all lists."
    higher_is_better = True

    def component(self, lists, examples):
        occurrences = Counter(item for items in lists for item in items)
        total = sum(occurrences.values())
        per_example, rows = [], []
        for items in lists:
            if not items:
                per_example.append(float("nan"))
                continue
            h = float(sum(-math.log(occurrences[i] / total) for i in items))
            per_example.append(h / len(items))
            rows.append((h, float(len(items))))
        stats = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
        return Component(self.component_name(), per_example, stats, ratio_aggregate)

    def _settings(self):
        return {"k": self.options.k, "log": "e"}


class TailPercentage(_BeyondAccuracy):
    """Share of recommended items in the popularity tail (RecBole's TailPercentage@k)."""

    name = "tail-percentage"
    description = "Tail percentage@k (RecBole): share of recommended items in the long tail of history popularity."
    higher_is_better = True
    Options = TailOptions

    def component(self, lists, examples):
        tail = tail_items(self.popularity(examples), self.options.tail_ratio)
        values = [sum(i in tail for i in items) / len(items) if items else None for items in lists]
        return Component.mean(self.component_name(), values)

    def _settings(self):
        return {"k": self.options.k, "tail_ratio": self.options.tail_ratio, "popularity": popularity_setting(self.options)}


@hookimpl
def register_metrics(register):
    for metric in (ItemCoverage, AveragePopularity, GiniIndex, ShannonEntropy, TailPercentage):
        register(metric)
