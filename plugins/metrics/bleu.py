"""Corpus BLEU (sacrebleu), with per-example sentence BLEU and bootstrap-able statistics.

The corpus score is sacrebleu's `corpus_bleu` with one reference per example; the
reported signature is sacrebleu's own (`nrefs:1|case:mixed|eff:no|tok:13a|...`).

`max_ngram_order` (1..4, default 4; `--metric bleu:1`) gives BLEU-1..BLEU-4, as the
explainable-recommendation papers report them (PETER, PEPLER: BLEU-1 and BLEU-4): the
geometric mean of the 1..N-gram precisions times the brevity penalty, sacrebleu's
`BLEU(max_ngram_order=N)`. sacrebleu's own signature does not record the order, so for
N < 4 `order:N` is added before its `version:` (BLEU-4 keeps sacrebleu's signature as it
is, the one every earlier run recorded), and the component is `bleu-N` (`bleu` for 4).

Each example contributes sacrebleu's sufficient statistics
`[hyp_len, ref_len, correct_1..N, total_1..N]`; summing any multiset of rows and
applying `corpus_bleu_from_stats` gives exactly the corpus BLEU of that multiset,
which is what the bootstrap needs (BLEU is not a mean of sentence BLEUs).

The statistics of one example do not depend on the others, so from PARALLEL_ABOVE
pairs on they are computed in `workers` processes, one contiguous chunk each, and
joined in order: the same rows, bit for bit, as one process gives (tested).
"""

from __future__ import annotations

import functools
import os
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput

# sacrebleu's default order (BLEU-4); `max_ngram_order` picks 1..4.
MAX_NGRAM_ORDER = 4
# sacrebleu.utils.my_log: log(0) is floored to this value.
_LOG_ZERO = -9999999999.0
# sacrebleu.metrics.bleu.BLEU.SMOOTH_DEFAULTS (copied so the aggregate needs no import).
_SMOOTH_DEFAULTS = {"none": None, "floor": 0.1, "add-k": 1, "exp": None}
# Below this many pairs one process is faster than starting workers (~0.3 s each).
PARALLEL_ABOVE = 4000


class BleuOptions(MetricOptions):
    # BLEU-N: the n-gram orders 1..N whose precisions are averaged (sacrebleu's max_ngram_order).
    max_ngram_order: int = Field(default=MAX_NGRAM_ORDER, ge=1, le=MAX_NGRAM_ORDER,
                                 description="BLEU-N: n-gram orders 1..N (1..4)")
    tokenize: str = "13a"  # one of sacrebleu's tokenizers (checked against its own list)
    lowercase: bool = False
    smooth_method: Literal["exp", "floor", "add-k", "none"] = "exp"
    # Only used by "floor" (default 0.1) and "add-k" (default 1); None = sacrebleu's default.
    smooth_value: float | None = Field(default=None, ge=0)
    # How the statistics are computed, not what they are: kept out of the signature.
    workers: int | None = Field(default=None, ge=1, exclude=True,
                                description=f"processes for the statistics from {PARALLEL_ABOVE} pairs on "
                                            "(default: one per CPU)")

    @field_validator("tokenize")
    @classmethod
    def _known_tokenizer(cls, value: str) -> str:
        from sacrebleu.metrics.bleu import BLEU  # deferred: listing plugins must not import sacrebleu

        if value not in BLEU.TOKENIZERS:
            raise ValueError(f"unknown tokenizer; sacrebleu's are: {', '.join(BLEU.TOKENIZERS)}")
        return value


def corpus_bleu_from_stats(
    sums: np.ndarray,
    n: int = 0,
    *,
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    effective_order: bool = False,
    max_ngram_order: int = MAX_NGRAM_ORDER,
) -> np.ndarray:
    """BLEU from summed sacrebleu statistics (..., 2 + 2 * order), vectorised over leading axes.

    Mirrors `sacrebleu.metrics.bleu.BLEU.compute_bleu` operation by operation (same
    smoothing, the same break on an order with no n-grams, the same floored log and
    left-to-right sum), so it equals sacrebleu's score to the last few ulps. `n` (the
    number of examples) is unused: BLEU depends only on the summed counts.
    """
    del n
    stats = np.asarray(sums, dtype=np.float64)
    order = max_ngram_order
    if stats.shape[-1] != 2 + 2 * order:
        raise ValueError(f"expected {2 + 2 * order} BLEU statistics, got {stats.shape[-1]}")
    if smooth_value is None:
        smooth_value = _SMOOTH_DEFAULTS[smooth_method]
    shape = stats.shape[:-1]
    sys_len = stats[..., 0]
    ref_len = stats[..., 1]
    correct = stats[..., 2 : 2 + order].copy()
    total = stats[..., 2 + order : 2 + 2 * order].copy()

    with np.errstate(divide="ignore", invalid="ignore"):
        # Brevity penalty: 1 unless the hypothesis is shorter; 0 for an empty hypothesis.
        short = sys_len < ref_len
        bp = np.where(short, np.where(sys_len > 0, np.exp(1.0 - ref_len / sys_len), 0.0), 1.0)
        # sacrebleu returns 0 early when nothing matched at any order (before add-k).
        any_correct = np.any(correct != 0, axis=-1)

        precisions = np.zeros(shape + (order,), dtype=np.float64)
        stopped = np.zeros(shape, dtype=bool)  # sacrebleu's `break` on total == 0
        smooth_mteval = np.ones(shape, dtype=np.float64)
        eff_order = np.full(shape, order, dtype=np.int64)
        for k in range(order):
            c = correct[..., k]
            t = total[..., k]
            if smooth_method == "add-k" and k > 0:
                c = np.where(stopped, c, c + smooth_value)
                t = np.where(stopped, t, t + smooth_value)
            stopped = stopped | (t == 0)
            active = ~stopped
            if effective_order:
                eff_order = np.where(active, k + 1, eff_order)
            zero = active & (c == 0)
            if smooth_method == "exp":
                smooth_mteval = np.where(zero, smooth_mteval * 2.0, smooth_mteval)
                zero_prec = 100.0 / (smooth_mteval * t)
            elif smooth_method == "floor":
                zero_prec = 100.0 * smooth_value / t
            else:  # "none", "add-k": an unmatched order stays at precision 0
                zero_prec = np.zeros(shape)
            prec = np.where(zero, zero_prec, 100.0 * c / t)
            precisions[..., k] = np.where(active, prec, 0.0)

        logs = np.where(precisions == 0.0, _LOG_ZERO, np.log(np.where(precisions > 0, precisions, 1.0)))
        log_sum = np.zeros(shape, dtype=np.float64)
        for k in range(order):  # left to right, like Python's sum(); x + 0.0 == x for masked orders
            log_sum = log_sum + np.where(k < eff_order, logs[..., k], 0.0)
        score = bp * np.exp(log_sum / eff_order)
    return np.where(any_correct, score, 0.0)


class BleuMetric(Metric):
    """Corpus BLEU (sacrebleu) with one reference per example; per example: sentence BLEU."""

    name = "bleu"
    description = ("Corpus BLEU via sacrebleu (1 reference; max_ngram_order 1..4 for BLEU-1..4); "
                   "per-example sentence BLEU with effective order.")
    version = "1"
    higher_is_better = True
    Options = BleuOptions
    spec_option = "max_ngram_order"  # `--metric bleu:1` is BLEU-1

    def __init__(self, **options):
        super().__init__(**options)
        self._sacrebleu(effective_order=False)  # fail early on a tokenizer that cannot load (e.g. no MeCab)

    def _sacrebleu(self, effective_order: bool):
        from sacrebleu.metrics.bleu import BLEU

        return BLEU(**self._settings(), effective_order=effective_order)

    def _settings(self) -> dict:
        """sacrebleu's BLEU arguments: every option but `workers` (how, not what, is computed)."""
        return self.options.model_dump(exclude={"workers"})

    def aggregate(self):
        return functools.partial(
            corpus_bleu_from_stats,
            smooth_method=self.options.smooth_method,
            smooth_value=self.options.smooth_value,
            max_ngram_order=self.options.max_ngram_order,
        )

    def component_name(self) -> str:
        """`bleu` for BLEU-4 (as every earlier run named it), `bleu-N` for BLEU-N, N < 4."""
        order = self.options.max_ngram_order
        return "bleu" if order == MAX_NGRAM_ORDER else f"bleu-{order}"

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        hyps, refs = predictions, references
        width = 2 + 2 * self.options.max_ngram_order
        if not hyps:
            stats = np.zeros((0, width), dtype=np.float64)
            component = Component(self.component_name(), [], stats, self.aggregate())
            return MetricOutput([component], signature=self.signature())

        rows, per_example = self._statistics(hyps, refs)
        stats = np.asarray(rows, dtype=np.float64).reshape(len(hyps), width)
        component = Component(self.component_name(), per_example, stats, self.aggregate())
        return MetricOutput([component], signature=self.signature())

    def _statistics(self, hyps: list[str], refs: list[str]) -> tuple[list, list[float]]:
        """Per pair: sacrebleu's statistics row and sentence BLEU, in chunks across processes when large."""
        workers = self.options.workers or os.cpu_count() or 1
        settings = self._settings()
        if len(hyps) < PARALLEL_ABOVE or workers < 2:
            return _segment_statistics(settings, hyps, refs)
        import concurrent.futures
        import multiprocessing

        bounds = np.linspace(0, len(hyps), workers + 1).astype(int)
        chunks = [(settings, hyps[a:b], refs[a:b]) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        # spawn: a fresh interpreter per worker, never a fork of a process holding torch's threads
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(len(chunks), mp_context=context) as pool:
            parts = list(pool.map(_segment_statistics_of, chunks))
        return [r for rows, _ in parts for r in rows], [x for _, per in parts for x in per]

    def signature(self) -> str:
        """sacrebleu's signature (every example here has exactly one reference), plus
        `order:N` before `version:` for BLEU-N, N < 4, which sacrebleu's does not record."""
        bleu = self._sacrebleu(effective_order=False)
        text = bleu._SIGNATURE_TYPE({**vars(bleu), "num_refs": 1}).format()
        order = self.options.max_ngram_order
        if order == MAX_NGRAM_ORDER:
            return text
        head, sep, version = text.rpartition("|version:")
        return f"{head}|order:{order}{sep}{version}" if sep else f"{text}|order:{order}"


def _segment_statistics(settings: dict, hyps: list[str], refs: list[str]) -> tuple[list, list[float]]:
    """sacrebleu's per-segment statistics (the call corpus_score makes) and each segment's
    sentence BLEU: its score from its own row with effective order, which is what
    BLEU(effective_order=True).sentence_score computes, without tokenising again."""
    from sacrebleu.metrics.bleu import BLEU

    corpus = BLEU(**settings, effective_order=False)
    rows = corpus._extract_corpus_statistics(hyps, [refs])
    sentence = BLEU(**settings, effective_order=True)
    return rows, [float(sentence._compute_score_from_stats(list(row)).score) for row in rows]


def _segment_statistics_of(chunk: tuple) -> tuple[list, list[float]]:
    return _segment_statistics(*chunk)


@hookimpl
def register_metrics(register):
    register(BleuMetric)
