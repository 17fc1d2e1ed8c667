"""ROUGE-1/2/L/Lsum F1 with `rouge-score` semantics (Google's tokenizer and Porter stemmer).

Two backends with identical numbers: "rs" (`rouge-score-rs`, native and parallel; the
default) and "reference" (Google's `rouge-score`, pure Python). rougeLsum splits
sentences on newlines only (rouge-score's default `split_summaries=False`: no nltk
punkt), which the signature records as `lsum_split:newline`.

Signature, e.g. `metric:rouge|stem:yes|lsum_split:newline|backend:rouge-score-rs-0.2.1|version:1`.
The backend and its version are recorded, as sacrebleu records its own version: the two
backends are meant (and tested here) to agree exactly, but the tokenizer, the stemmer and
the LCS code that produced a number are these packages, and a release of either could
change a number on some input; the signature is the only trace of which code ran.
"""

from __future__ import annotations

from importlib import metadata
from typing import Literal

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput, Signature

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
_BACKEND_PACKAGES = {"rs": "rouge-score-rs", "reference": "rouge-score"}


class RougeOptions(MetricOptions):
    use_stemmer: bool = True
    backend: Literal["rs", "reference"] = "rs"


def _package_version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


class RougeMetric(Metric):
    """ROUGE-1/2/L/Lsum F1 (rouge-score semantics), averaged over examples."""

    name = "rouge"
    description = "ROUGE-1/2/L/Lsum F1 (rouge-score semantics, Porter stemming, Lsum split on newlines)."
    version = "1"
    higher_is_better = True
    Options = RougeOptions

    def _scorer(self):
        types = list(ROUGE_TYPES)
        if self.options.backend == "rs":
            from rouge_score_rs.rouge_scorer import RougeScorer

            return RougeScorer(types, use_stemmer=self.options.use_stemmer)
        from rouge_score.rouge_scorer import RougeScorer

        return RougeScorer(types, use_stemmer=self.options.use_stemmer, split_summaries=False)

    def _score_pairs(self, targets: list[str], predictions: list[str]) -> list[dict]:
        scorer = self._scorer()
        if self.options.backend == "rs":
            return scorer.score_batch(targets, predictions)
        return [scorer.score(t, p) for t, p in zip(targets, predictions)]

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        preds, refs = predictions, references
        scores = self._score_pairs(refs, preds) if preds else []
        components = [
            Component.mean(rouge_type, [float(s[rouge_type].fmeasure) for s in scores]) for rouge_type in ROUGE_TYPES
        ]
        details = [
            {
                key: float(value)
                for rouge_type in ROUGE_TYPES
                for key, value in (
                    (f"{rouge_type}_p", s[rouge_type].precision),
                    (f"{rouge_type}_r", s[rouge_type].recall),
                )
            }
            for s in scores
        ]
        return MetricOutput(components, details=details, signature=self.signature())

    def signature(self) -> str:
        package = _BACKEND_PACKAGES[self.options.backend]
        settings = {
            "stem": self.options.use_stemmer,
            "lsum_split": "newline",
            "backend": f"{package}-{_package_version(package)}",
        }
        return Signature(self.name, self.version, settings).format()


@hookimpl
def register_metrics(register):
    register(RougeMetric)
