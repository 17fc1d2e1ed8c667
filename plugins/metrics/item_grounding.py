"""`item-grounding`: do narratives name real items of the user, or others (RecLM-eval's errors)?

A narrative *names* an item when the item's title, normalised, occurs in the normalised
narrative as a run of whole words. Normalisation: NFKC, lowercase, then words (maximal
runs of letters and digits; everything else separates words). By default only the title's
head counts (`title=head`): the title up to its first `,`, `(`, `[`, ` - `, ` | ` or
` – ` (REGEN's "Markal 96006 Silver-Streak Metal Marker Round, Silver" is named by
"markal 96006 silver streak metal marker round"), since narratives rarely repeat a colour
or pack size; `title=full` needs the whole title. Heads shorter than `min_words` words
(default 3) are not matched, so a one-word title such as "Pens" never counts.

The titles come from the catalogue a metric can see: every item of the scored examples
(their histories and targets). Items sharing a title (the same design in two packs) share
it: a title is the user's own when any item carrying it is in the user's history or is
the target. Per example, each 1 or 0:

- `hallucinated`: the narrative names a catalogue item that is neither in the user's
  history nor the target;
- `copied`: it names at least one item, and every item it names is from the history
  (it restates the history's titles and names nothing else);
- `names-item`: it names any catalogue item (context: no better direction).

The corpus scores are means (the core bootstrap of a mean); lower is better for
`hallucinated` and `copied`. Limitation: only titles of items in the scored examples are
recognised, so an invented product, or a real one only training users bought, is not
caught: the hallucination share is a lower bound, and it grows with the evaluated set.
Details per example: `named_titles` (how many titles it names). Signature, e.g.
`metric:item-grounding|title:head|min_words:3|norm:nfkc-lc-alnum|catalogue:examples-history+target|version:1`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from typing import Literal

from pydantic import Field

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput, Signature
from regen_bench_plugins.metrics.catalogue import CATALOGUE_DEFINITION, history_ids, require_examples

NORMALISATION = "nfkc-lc-alnum"
_WORD = re.compile(r"[^\W_]+")
_HEAD_END = re.compile(r",|\(|\[| - | \| | – ")


class GroundingOptions(MetricOptions):
    title: Literal["head", "full"] = "head"
    min_words: int = Field(default=3, ge=1, description="shortest title (in words) that counts as naming an item")


def title_words(text: str | None) -> tuple[str, ...]:
    return tuple(_WORD.findall(unicodedata.normalize("NFKC", text or "").lower()))


def title_key(title: str | None, how: str) -> tuple[str, ...]:
    if not title:
        return ()
    if how == "head":
        title = _HEAD_END.split(title, maxsplit=1)[0]
    return title_words(title)


def title_index(examples: list, how: str, min_words: int) -> dict[tuple[str, ...], set[str]]:
    """Normalised title (as a word tuple) -> the ids of the catalogue items that carry it."""
    index: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for example in examples:
        items = [p.item for p in example.history] + ([example.target.item] if example.target is not None else [])
        for item in items:
            key = title_key(item.title, how)
            if len(key) >= min_words:
                index[key].add(item.asin)
    return dict(index)


def lengths_by_first_word(index: dict) -> dict[str, list[int]]:
    """First word of a title -> the lengths of the titles starting with it (to look up only those)."""
    lengths: dict[str, set[int]] = defaultdict(set)
    for key in index:
        lengths[key[0]].add(len(key))
    return {word: sorted(found) for word, found in lengths.items()}


def named_titles(text: str, index: dict, lengths: dict[str, list[int]]) -> set[tuple[str, ...]]:
    """The catalogue titles that occur in `text` as runs of whole words."""
    tokens = title_words(text)
    found = set()
    for start, word in enumerate(tokens):
        for length in lengths.get(word, ()):
            key = tokens[start : start + length]
            if len(key) == length and key in index:
                found.add(key)
    return found


class ItemGrounding(Metric):
    """Share of narratives naming an item the user never had (hallucinated) or only history items (copied)."""

    name = "item-grounding"
    description = ("Narratives that name catalogue items by title: hallucinated (not the user's history or target), "
                   "copied (history titles only), names-item (context).")
    version = "1"
    higher_is_better = False
    Options = GroundingOptions
    context_components = ("names-item",)

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        examples = require_examples(self.name, examples)
        index = title_index(examples, self.options.title, self.options.min_words)
        lengths = lengths_by_first_word(index)
        hallucinated, copied, names, details = [], [], [], []
        for prediction, example in zip(predictions, examples):
            history = history_ids(example)
            target = {example.target.item.asin} if example.target is not None else set()
            found = named_titles(prediction, index, lengths)
            in_history = [bool(index[key] & history) for key in found]
            other = [not (index[key] & (history | target)) for key in found]
            hallucinated.append(float(any(other)))
            copied.append(float(bool(found) and all(in_history)))
            names.append(float(bool(found)))
            details.append({"named_titles": len(found)})
        components = [Component.mean("hallucinated", hallucinated), Component.mean("copied", copied),
                      Component.mean("names-item", names)]
        return MetricOutput(components, details=details, signature=self.signature(),
                            counts={"catalogue_titles": len(index)})

    def signature(self) -> str:
        settings = {"title": self.options.title, "min_words": self.options.min_words, "norm": NORMALISATION,
                    "catalogue": CATALOGUE_DEFINITION}
        return Signature(self.name, self.version, settings).format()


@hookimpl
def register_metrics(register):
    register(ItemGrounding)
