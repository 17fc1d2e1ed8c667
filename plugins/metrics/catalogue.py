"""Helper (registers no plugin): the catalogue, item titles and popularity a metric can see.

A metric is given the scored examples and nothing else of the dataset, so what these
metrics call the catalogue is built from them:

- `catalogue_ids`: every item id the scored examples carry, in their histories and as
  their targets (the targets are labels, but a recommended target must not count as an
  unknown id). Items that only training users bought are not in it: on a small evaluated
  set (`--limit`), a real item no scored user bought counts as outside the catalogue.
  `CatalogueOptions.catalogue` names a dataset instead (a registered name, with its
  default options, or a REGEN file path: the run's own `--dataset`): then the catalogue is
  every item id in that whole dataset, every user's history and target
  (`dataset_catalogue`, loaded once per process), and the signature says
  `catalogue:dataset@` + the first 12 hex digits of the sha256 of its sorted ids.
  `PopularityOptions.popularity` likewise counts the history purchases of every user of a
  named dataset (the training users' histories included, their targets never), which is
  closer to RecBole's training-split counts than the scored examples alone
  (`popularity:dataset-history-purchases@HASH`).
- `history_popularity`: how often each item occurs in the scored examples' histories
  (inputs only, never the targets): the popularity the beyond-accuracy metrics use in
  place of RecBole's training-set interaction counts, which a metric cannot see.
- `item_key`: an id as a string (ranking.py's rule: a model may return ints).
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter

from pydantic import Field

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.metric import MetricOptions
from regen_bench.data.loading import load_dataset_examples
from regen_bench.data.sources import resolve_dataset

CATALOGUE_DEFINITION = "examples-history+target"
POPULARITY_DEFINITION = "examples-history-purchases"


def require_examples(metric_name: str, examples: list | None) -> list:
    """The examples, or one error saying this metric reads them (scored without examples)."""
    missing = None if examples is None else sum(1 for e in examples if e is None)
    if missing != 0:
        total = "all" if examples is None else f"{missing} of {len(examples)}"
        raise RegenBenchError(f"{metric_name}: {total} predictions have no example; "
                              "this metric reads the examples' items (score a run's samples with the "
                              "dataset they were made from)")
    return examples


def item_key(value, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{where} is {type(value).__name__}, expected an item id (str or int)")
    return str(value)


def ranked_items(metric_name: str, i: int, ranking) -> list[str]:
    """A prediction as a list of id strings (None: empty); a TypeError naming it otherwise."""
    if ranking is None:
        return []
    if isinstance(ranking, (str, bytes)) or not isinstance(ranking, (list, tuple)):
        raise TypeError(f"{metric_name}: predictions[{i}] is {type(ranking).__name__}, expected a ranked list of ids")
    return [item_key(item, f"{metric_name}: predictions[{i}] item") for item in ranking]


def history_ids(example) -> set[str]:
    return {p.item.asin for p in example.history}


def catalogue_ids(examples: list) -> set[str]:
    ids: set[str] = set()
    for example in examples:
        ids.update(history_ids(example))
        if example.target is not None:
            ids.add(example.target.item.asin)
    return ids


def history_popularity(examples: list) -> Counter:
    return Counter(p.item.asin for example in examples for p in example.history)


def seen_history_ids(example) -> set[str]:
    """The history ids a next-item model was shown: none when the history is only the target
    (`Example.model_input` hides such a history for `next_item`)."""
    history = example.history
    if (example.target is not None and len(history) == 1
            and history[0].item.asin == example.target.item.asin):
        return set()
    return history_ids(example)


class CatalogueOptions(MetricOptions):
    catalogue: str = Field(default="examples",
                           description="examples (the scored examples' items) or a dataset name or REGEN file path")


@functools.lru_cache(maxsize=4)
def _dataset_items(name_or_path: str) -> tuple[frozenset[str], Counter]:
    """(every item id of a whole dataset, how often each occurs in its users' histories), once per process."""
    _, provider = resolve_dataset(name_or_path, {})
    examples = load_dataset_examples(provider).examples
    _, asins = examples.history_item_ids()
    history = asins.to_pylist()
    return frozenset(history) | {t for t in examples.target_item_ids() if t}, Counter(history)


def dataset_catalogue(name_or_path: str) -> frozenset[str]:
    """Every item id of a whole dataset (histories and targets of all its users)."""
    return _dataset_items(name_or_path)[0]


def _digest(lines) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()[:12]


def catalogue_of(options: CatalogueOptions, examples: list) -> tuple[set[str] | frozenset[str], str]:
    """(the catalogue, how the signature names it) for these options and scored examples."""
    if options.catalogue == "examples":
        return catalogue_ids(examples), CATALOGUE_DEFINITION
    ids = dataset_catalogue(options.catalogue)
    return ids, f"dataset@{_digest(ids)}"


def catalogue_setting(options: CatalogueOptions) -> str:
    """The signature's `catalogue:` before the data is seen."""
    return CATALOGUE_DEFINITION if options.catalogue == "examples" else "dataset"


class PopularityOptions(MetricOptions):
    popularity: str = Field(default="examples",
                            description="examples (the scored examples' histories) or a dataset name or REGEN file "
                                        "path (every user's history in it)")


def popularity_of(options: PopularityOptions, examples: list) -> tuple[Counter, str]:
    """(item -> history purchases, how the signature names it): from the scored examples' histories,
    or from the histories of every user of a whole dataset (training users' included; never targets)."""
    if options.popularity == "examples":
        return history_popularity(examples), POPULARITY_DEFINITION
    counts = _dataset_items(options.popularity)[1]
    return counts, f"dataset-history-purchases@{_digest(f'{i}:{c}' for i, c in counts.items())}"


def popularity_setting(options: PopularityOptions) -> str:
    return POPULARITY_DEFINITION if options.popularity == "examples" else "dataset-history-purchases"
