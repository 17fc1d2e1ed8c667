"""The Metric contract: per-example scores, a corpus score, and a signature.

A metric returns a `MetricOutput` of one or more `Component`s (ROUGE has rouge1,
rouge2, rougeL, rougeLsum). A component knows how to turn per-example
*sufficient statistics* into a corpus number, so the core can bootstrap a
confidence interval for corpus metrics too (BLEU is not a mean of sentence BLEUs):
resample examples, sum their statistics, aggregate.

Minimal metric::

    class Length(Metric):
        name = "length"
        def score(self, predictions, references, examples):
            return MetricOutput([Component.mean("length", [len(p.split()) for p in predictions])])
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.model import ContractError

Aggregate = Callable[[np.ndarray, int], np.ndarray]


def _mean_aggregate(sums: np.ndarray, n: int) -> np.ndarray:
    return sums[..., 0] / n


@dataclass
class Component:
    """One reported number.

    per_example: the example-level score shown in samples.jsonl; NaN where undefined
                 (e.g. an LLM judge that never answered): shown as null, left out of n.
    stats:       (n, k) array; the corpus score is `aggregate(stats.sum(0), n)`.
    aggregate:   maps summed stats (..., k) and n to the score; vectorised over
                 leading axes so the bootstrap can pass (B, k).
    """

    name: str
    per_example: list[float]
    stats: np.ndarray
    aggregate: Aggregate = _mean_aggregate

    @classmethod
    def mean(cls, name: str, values) -> "Component":
        """Mean of per-example values; None/NaN values are undefined and left out."""
        values = [float("nan") if v is None else float(v) for v in values]
        defined = np.asarray([v for v in values if not np.isnan(v)], dtype=np.float64)
        return cls(name=name, per_example=values, stats=defined.reshape(-1, 1))

    def corpus_score(self) -> float:
        n = self.stats.shape[0]
        if n == 0:
            return float("nan")
        return float(self.aggregate(self.stats.sum(axis=0), n))


# Counts that depend on what the cache held when the run scored (a second run of the same
# command embeds nothing), so `leaderboard validate` does not compare them.
CACHE_STATE_COUNTS = frozenset({"embedded", "cache_hits"})


@dataclass
class MetricOutput:
    components: list[Component]
    # Extra per-example details for samples.jsonl (e.g. ROUGE precision/recall).
    details: list[dict[str, Any]] | None = None
    # Signatures can depend on what was seen (sacrebleu's nrefs); None = metric.signature().
    signature: str | None = None
    # What happened while scoring, e.g. {"rated": 98, "unrated": 2, "cache_hits": 50}.
    # Keys in CACHE_STATE_COUNTS say how much work the cache saved, not what was scored.
    counts: dict[str, int] = field(default_factory=dict)
    # API usage, e.g. {"input_tokens": ..., "output_tokens": ..., "cost_usd": ...}.
    usage: dict[str, Any] = field(default_factory=dict)


class MetricOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Signature:
    """`name:version|key:value|...` of every setting that changes the number."""

    def __init__(self, name: str, version: str, settings: dict[str, Any] | None = None):
        self.name = name
        self.version = version
        self.settings = settings or {}

    @staticmethod
    def _fmt(value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    def format(self) -> str:
        parts = [f"metric:{self.name}"]
        parts += [f"{key}:{self._fmt(value)}" for key, value in self.settings.items()]
        parts.append(f"version:{self.version}")
        return "|".join(parts)

    __str__ = format


def check_text_inputs(metric_name: str, predictions: list, references: list) -> None:
    """A text metric scores strings, one reference per prediction: say which input is wrong."""
    for kind, values in (("predictions", predictions), ("references", references)):
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise TypeError(f"{metric_name}: {kind}[{i}] is {type(value).__name__}, expected str")
    if len(predictions) != len(references):
        raise ValueError(f"{metric_name}: {len(predictions)} predictions but {len(references)} references")


def check_metric_output(metric_name: str, output, n: int) -> None:
    """A metric returns a MetricOutput of Components with one per-example value per prediction."""
    expected = f"expected a MetricOutput of Components with one per-example value for each of the {n} predictions"
    if not isinstance(output, MetricOutput):
        raise ContractError(f"metric {metric_name!r}: score() returned {type(output).__name__}; {expected}")
    for component in output.components:
        if not isinstance(component, Component):
            raise ContractError(f"metric {metric_name!r}: score() returned a component of type "
                                f"{type(component).__name__}; {expected}")
        if len(component.per_example) != n:
            raise ContractError(f"metric {metric_name!r}: component {component.name!r} has "
                                f"{len(component.per_example)} per-example values; {expected}")


def _with_checked_inputs(score):
    @functools.wraps(score)
    def checked(self, predictions, references, examples, *args, **kwargs):
        self.check_inputs(predictions, references)
        output = score(self, predictions, references, examples, *args, **kwargs)
        check_metric_output(self.name, output, len(predictions))
        return output

    checked.__checks_inputs__ = True
    return checked


class Metric:
    """Scores predictions against references.

    Class attributes (each has a default; the core reads only these):
      name, description  what users pass to `--metric`, and one line for `list metrics`
      version            bump when numbers change (it is in the signature)
      higher_is_better   the better direction of every component not in `context_components`
      kind               "text" (narratives) or "ranking" (next-item lists): which tasks it scores
      Options            a `MetricOptions` subclass, filled by `--metric-arg NAME.KEY=VALUE`
      spec_option        `--metric NAME:ARG` passes ARG as this option
      paid_api           True when scoring calls a paid API (an LLM judge): `leaderboard
                         validate` never re-runs it; override `calls_paid_api()` when it
                         depends on the options (semsim with an API embedding model)
      extras             the `regen-bench[...]` extras whose optional libraries it imports
                         (`regen-bench list metrics` shows them; import them through
                         `regen_bench.plugin.extras.require` so a missing one is one line)
      recompute_tolerance, context_components  see below

    Inputs are checked once, here, before every `score()` call: a text metric receives
    strings only (`check_inputs`), so no metric repeats that check.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    higher_is_better: ClassVar[bool] = True
    kind: ClassVar[str] = "text"
    Options: ClassVar[type[MetricOptions]] = MetricOptions
    # `--metric NAME:ARG` passes ARG as this option (e.g. evaluate:path/to/module).
    spec_option: ClassVar[str | None] = None
    # Components reported for context only, with no better direction (distinct's mean
    # `length`): results.json records them, and leaderboards mark no best row for them.
    context_components: ClassVar[tuple[str, ...]] = ()
    # How far a recomputed score may be from the recorded one (absolute) and still count
    # as the same when `leaderboard validate` re-runs the metric. 0: REL_TOL only. Metrics
    # that run a model in float32 set more: its outputs move in the last bits with how the
    # texts were batched.
    recompute_tolerance: ClassVar[float] = 0.0
    paid_api: ClassVar[bool] = False
    extras: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        score = cls.__dict__.get("score")
        if score is not None and not getattr(score, "__checks_inputs__", False):
            cls.score = _with_checked_inputs(score)

    def __init__(self, **options):
        self.options = self.Options(**options)
        # How the user named it (`evaluate:path`); `build_metrics` sets it, results.json records it.
        self.spec = self.name
        # The signature of the last output it scored (the scorer sets it; results.json's metric
        # record takes it): per instance, so `--metric bleu --metric bleu:1` keep their own.
        self.scored_signature: str | None = None

    def check_inputs(self, predictions: list, references: list) -> None:
        """Raise TypeError for an input this metric cannot score (text metrics: non-strings)."""
        if self.kind == "text":
            check_text_inputs(self.name, predictions, references)

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        raise NotImplementedError

    def signature(self) -> str:
        return Signature(self.name, self.version, self.options.model_dump(mode="json")).format()

    def calls_paid_api(self) -> bool:
        """Whether scoring with these options calls a paid API (never re-run by a validator)."""
        return self.paid_api

    @classmethod
    def has_baseline(cls) -> bool:
        return cls.build_baseline is not Metric.build_baseline

    def build_baseline(self, texts: list[str], output: Path, *, seed: int) -> Path:
        """Compute a rescaling baseline from a corpus (`regen-bench metric baseline`); optional."""
        raise RegenBenchError(f"metric {self.name!r} has no baseline to build")
