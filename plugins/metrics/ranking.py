"""Next-item ranking metrics: `recall@k`, `ndcg@k` and `mrr` (task `next_item`).

Each example has one target item (binary relevance) and a prediction that is a ranked
list of item ids, best first. Items are compared as strings, so a model may return
ints while the reference is the id string.

Rank = the 1-based position of the **first occurrence** of the target in the list as
given. Duplicates are not removed: a repeated other item still takes up a position (a
list padded with repeats is not rewarded), and a repeated target earns nothing more
than its first occurrence. An empty (or missing) list, or a list without the target,
scores 0.

- recall@k  = 1 if rank <= k else 0 (with one target, recall@k is hit@k).
- ndcg@k    = 1 / log2(rank + 1) if rank <= k else 0 (the ideal DCG of one relevant
              item is 1, so DCG is already normalised).
- mrr       = 1 / rank over the **whole list as returned** (no cutoff) by default;
              `k` (e.g. `--metric mrr:10`) makes it MRR@k (0 beyond rank k). The component
              is named `mrr` without a cutoff and `mrr@K` with one; the signature records
              `cutoff:none` or `cutoff:K`.

Every metric is a mean of per-example values, so its CI is the core bootstrap of a
mean. Component names carry the k used (`recall@10`, `ndcg@20`). Signature, e.g.
`metric:recall@k|k:10|rank:first-occurrence|dups:kept|version:1`.
"""

from __future__ import annotations

import math

from pydantic import Field

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput, Signature


class CutoffOptions(MetricOptions):
    k: int = Field(default=10, ge=1, description="cutoff: only the first k items count")


class MrrOptions(MetricOptions):
    k: int | None = Field(default=None, ge=1, description="optional cutoff; None = the whole list")


def _item_key(value, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{where} is {type(value).__name__}, expected an item id (str or int)")
    return str(value)


def target_ranks(name: str, predictions: list, references: list) -> tuple[list[int | None], dict[str, int]]:
    """1-based rank of each example's target (first occurrence), None when absent; plus counts."""
    if len(predictions) != len(references):
        raise ValueError(f"{name}: {len(predictions)} predictions but {len(references)} references")
    ranks: list[int | None] = []
    counts = {"empty_rankings": 0, "rankings_with_duplicates": 0, "target_found": 0}
    for i, (ranking, reference) in enumerate(zip(predictions, references)):
        target = _item_key(reference, f"{name}: references[{i}]")
        if ranking is None:
            ranking = []
        if isinstance(ranking, (str, bytes)) or not isinstance(ranking, (list, tuple)):
            raise TypeError(
                f"{name}: predictions[{i}] is {type(ranking).__name__}, expected a ranked list of item ids"
            )
        items = [_item_key(item, f"{name}: predictions[{i}] item") for item in ranking]
        if not items:
            counts["empty_rankings"] += 1
        if len(set(items)) < len(items):
            counts["rankings_with_duplicates"] += 1
        rank = next((pos for pos, item in enumerate(items, start=1) if item == target), None)
        if rank is not None:
            counts["target_found"] += 1
        ranks.append(rank)
    return ranks, counts


class _RankingMetric(Metric):
    kind = "ranking"
    higher_is_better = True
    version = "1"
    spec_option = "k"  # `--metric recall@k:20`

    def component_name(self) -> str:
        raise NotImplementedError

    def value(self, rank: int | None) -> float:
        raise NotImplementedError

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        ranks, counts = target_ranks(self.name, predictions, references)
        component = Component.mean(self.component_name(), [self.value(rank) for rank in ranks])
        details = [{"target_rank": rank} for rank in ranks]
        return MetricOutput([component], details=details, signature=self.signature(), counts=counts)

    def _settings(self) -> dict:
        return {"k": self.options.k}

    def signature(self) -> str:
        settings = {**self._settings(), "rank": "first-occurrence", "dups": "kept"}
        return Signature(self.name, self.version, settings).format()


class RecallAtK(_RankingMetric):
    """Recall@k with one target item: 1 if the target is among the first k items."""

    name = "recall@k"
    description = "Recall@k (= hit@k: one target item) of the next-item ranking; option k (default 10)."
    Options = CutoffOptions

    def component_name(self) -> str:
        return f"recall@{self.options.k}"

    def value(self, rank):
        return 1.0 if rank is not None and rank <= self.options.k else 0.0


class NdcgAtK(_RankingMetric):
    """NDCG@k with one target item (binary relevance): 1/log2(rank+1) within k."""

    name = "ndcg@k"
    description = "NDCG@k of the next-item ranking, one relevant item: 1/log2(rank+1) if rank <= k; option k."
    Options = CutoffOptions

    def component_name(self) -> str:
        return f"ndcg@{self.options.k}"

    def value(self, rank):
        return 1.0 / math.log2(rank + 1) if rank is not None and rank <= self.options.k else 0.0


class MeanReciprocalRank(_RankingMetric):
    """MRR of the target item over the whole returned list (or MRR@k with option k)."""

    name = "mrr"
    description = "Mean reciprocal rank of the next item over the whole returned list (option k: MRR@k)."
    Options = MrrOptions

    def component_name(self) -> str:
        return "mrr" if self.options.k is None else f"mrr@{self.options.k}"

    def value(self, rank):
        if rank is None or (self.options.k is not None and rank > self.options.k):
            return 0.0
        return 1.0 / rank

    def _settings(self) -> dict:
        return {"cutoff": "none" if self.options.k is None else self.options.k}


@hookimpl
def register_metrics(register):
    register(RecallAtK)
    register(NdcgAtK)
    register(MeanReciprocalRank)
