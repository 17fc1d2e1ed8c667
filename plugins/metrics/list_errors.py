"""`list-errors`: errors in next-item lists (RecLM-eval): unknown, repeated and already-bought ids.

Per example, over the list as returned (or its first `k` items, option `k`), each a share
of the list's positions:

- `candidate-error-rate`: ids that are not in the catalogue;
- `duplicate-rate`: positions that repeat an id already earlier in the list;
- `history-rate`: ids the user already bought (in the history the model was shown).

The catalogue is, by default, every item id the scored examples carry, in their histories
and as their targets (`catalogue.py`): a metric is given nothing else of the dataset. So
an id counts as a candidate error when no scored user has it; on a small evaluated set
(`--limit`) a real item that only other users bought counts too. Pass the run's dataset
(`--metric-arg list-errors.catalogue=synthetic`, or a REGEN file path) to take the
catalogue from the whole dataset instead; the signature's `catalogue:` says which was
used (`dataset@` + a hash of its ids). Ids are compared as strings, as ranking.py does.

The corpus scores are means of the per-example shares (the core bootstrap of a mean); an
empty list is undefined (null, left out of n; `counts` report `empty_rankings`). Lower is
better for all three. Signature, e.g.
`metric:list-errors|cutoff:none|catalogue:examples-history+target|version:1`.
"""

from __future__ import annotations

from pydantic import Field

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOutput, Signature
from regen_bench_plugins.metrics.catalogue import (
    CatalogueOptions,
    catalogue_of,
    catalogue_setting,
    ranked_items,
    require_examples,
    seen_history_ids,
)


class ListErrorOptions(CatalogueOptions):
    k: int | None = Field(default=None, ge=1, description="only the first k items; None = the whole list")


class ListErrors(Metric):
    """Shares of a next-item list that are unknown ids, repeats, or items already bought."""

    name = "list-errors"
    description = "Next-item list errors: ids not in the catalogue, repeated ids, already-bought items (shares)."
    version = "1"
    kind = "ranking"
    higher_is_better = False
    Options = ListErrorOptions
    spec_option = "k"

    def check_inputs(self, predictions: list, references: list) -> None:
        if len(predictions) != len(references):
            raise ValueError(f"{self.name}: {len(predictions)} predictions but {len(references)} references")

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        examples = require_examples(self.name, examples)
        catalogue, source = catalogue_of(self.options, examples)
        unknown, repeated, bought = [], [], []
        counts = {"empty_rankings": 0, "catalogue_items": len(catalogue)}
        for i, (ranking, example) in enumerate(zip(predictions, examples)):
            items = ranked_items(self.name, i, ranking)[: self.options.k]
            if not items:
                counts["empty_rankings"] += 1
                for values in (unknown, repeated, bought):
                    values.append(None)
                continue
            history = seen_history_ids(example)
            seen: set[str] = set()
            dups = 0
            for item in items:
                dups += item in seen
                seen.add(item)
            unknown.append(sum(item not in catalogue for item in items) / len(items))
            repeated.append(dups / len(items))
            bought.append(sum(item in history for item in items) / len(items))
        components = [Component.mean("candidate-error-rate", unknown), Component.mean("duplicate-rate", repeated),
                      Component.mean("history-rate", bought)]
        return MetricOutput(components, signature=self.signature(source), counts=counts)

    def signature(self, catalogue: str | None = None) -> str:
        cutoff = "none" if self.options.k is None else self.options.k
        settings = {"cutoff": cutoff, "catalogue": catalogue or catalogue_setting(self.options)}
        return Signature(self.name, self.version, settings).format()


@hookimpl
def register_metrics(register):
    register(ListErrors)
