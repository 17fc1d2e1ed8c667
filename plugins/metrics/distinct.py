"""Distinct-1 / distinct-2 over the corpus of predictions, and mean length in tokens.

Tokens: the prediction lowercased, then every maximal run of word characters (Unicode
`\\w`, keeping inner apostrophes: "don't" is one token); whitespace and punctuation only
separate tokens and are not tokens themselves. The signature records this as
`tok:lc-words`. References are not used.

distinct-n = (number of different n-grams in all predictions) / (number of n-gram
occurrences in all predictions). A model that writes the same generic narrative for
everyone scores near 0, one whose narratives share no n-grams scores 1.

Confidence interval
-------------------
Corpus distinct-n is not a mean of per-example values, and the plain bootstrap of it
is wrong: a resample with replacement repeats about 37% of the examples, and a repeat
adds n-grams but no new ones, so a corpus of all-different narratives (distinct 1.0)
resamples to about 0.63 and the interval would not even contain the score.

So each example gets an exact share of the corpus's distinct n-grams: every occurrence
of an n-gram g is credited 1 / N(g), where N(g) is how often g occurs in all predictions.
The credits over the whole corpus sum to the number of distinct n-grams, so

    distinct-n = sum_i credit_i / sum_i ngrams_i

exactly (to floating-point rounding), and the component's statistics are the per-example
rows [credit_i, ngrams_i] with aggregate sum(credit) / sum(ngrams): a ratio estimator the
core bootstrap resamples as it resamples corpus BLEU. The interval it gives is the
sampling uncertainty of *which examples* make up the corpus, with the n-gram
frequencies N(g) of the full corpus held fixed (it does not re-estimate them within a
resample). It contains the score, and is a point for a corpus of identical copies.

Per example (`per_example`, shown in samples.jsonl): credit_i / ngrams_i, the example's
"corpus novelty" -- 1 when none of its n-grams occurs anywhere else (or twice in it), 1/100
for one of 100 identical narratives; the corpus score is the n-gram-weighted mean of these.
An example with no n-grams (empty, or one token for distinct-2) is undefined (null) and
left out of n. Details: `tokens` (its length) and `distinct1_within` / `distinct2_within`
(distinct-n inside that one prediction: repetition within a narrative).

`length` is the mean number of tokens per prediction (a plain mean). It is reported for
context; neither direction is better (`context_components`), and the metric's
`higher_is_better` (True) applies to distinct-1/2.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOutput, Signature

ORDERS = (1, 2)
TOKENIZER_NAME = "lc-words"
_TOKEN = re.compile(r"\w+(?:['\u2019]\w+)*")


def tokenize(text: str) -> list[str]:
    """Lowercased words: runs of \\w with inner apostrophes; punctuation and space separate."""
    return _TOKEN.findall(text.lower())


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def ratio_aggregate(sums: np.ndarray, n: int) -> np.ndarray:
    """sum(credit) / sum(ngrams) over (..., 2) summed statistics; NaN where nothing was counted."""
    del n
    sums = np.asarray(sums, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sums[..., 1] > 0, sums[..., 0] / sums[..., 1], np.nan)


def distinct_component(name: str, grams_per_example: list[list[tuple[str, ...]]]) -> Component:
    """Corpus distinct-n as a Component with exact per-example credits (see module docstring)."""
    frequency = Counter(gram for grams in grams_per_example for gram in grams)
    per_example: list[float] = []
    rows: list[tuple[float, float]] = []
    for grams in grams_per_example:
        if not grams:
            per_example.append(float("nan"))
            continue
        credit = float(sum(1.0 / frequency[gram] for gram in grams))
        per_example.append(credit / len(grams))
        rows.append((credit, float(len(grams))))
    stats = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
    return Component(name=name, per_example=per_example, stats=stats, aggregate=ratio_aggregate)


def _within(grams: list) -> float | None:
    return len(set(grams)) / len(grams) if grams else None


class DistinctMetric(Metric):
    """Corpus distinct-1 and distinct-2 of the predictions, and their mean length in tokens."""

    name = "distinct"
    description = (
        "Corpus distinct-1/2 (different n-grams / all n-grams, lowercased words) of the predictions, higher is "
        "better (fewer texts score higher: compare runs of equal n); mean length in tokens, context only (no better direction)."
    )
    version = "1"
    higher_is_better = True
    context_components = ("length",)

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        token_lists = []
        for prediction in predictions:
            token_lists.append(tokenize(prediction))
        grams = {n: [ngrams(tokens, n) for tokens in token_lists] for n in ORDERS}
        components = [distinct_component(f"distinct-{n}", grams[n]) for n in ORDERS]
        components.append(Component.mean("length", [len(tokens) for tokens in token_lists]))
        details = [
            {
                "tokens": len(tokens),
                **{f"distinct{n}_within": _within(grams[n][i]) for n in ORDERS},
            }
            for i, tokens in enumerate(token_lists)
        ]
        return MetricOutput(components, details=details, signature=self.signature())

    def signature(self) -> str:
        settings = {"n": "1,2", "tok": TOKENIZER_NAME, "ci": "fixed-freq-credit"}
        return Signature(self.name, self.version, settings).format()


@hookimpl
def register_metrics(register):
    register(DistinctMetric)
