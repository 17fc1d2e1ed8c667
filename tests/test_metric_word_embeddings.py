"""embedding-average, vector-extrema, greedy-match (Liu et al. 2016) by hand on a two-dimensional
model folder, and on the bundled MiniLM's input word-piece embeddings."""

import math

import numpy as np
import pytest

from regen_bench_plugins.metrics import word_embeddings
from regen_bench_plugins.metrics.word_embeddings import EmbeddingAverage, GreedyMatch, VectorExtrema

VECTORS = {"[UNK]": [0, 0], "[CLS]": [5, 5], "[SEP]": [5, 5], "good": [1, 0], "pen": [0, 1], "bad": [-1, 0],
           "ink": [1, 2], "!": [9, 9]}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A folder with a word-level tokenizer.json and a 2-d embedding matrix, as a BERT folder has them."""
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    folder = tmp_path_factory.mktemp("tiny-model")
    vocab = {token: i for i, token in enumerate(VECTORS)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(folder / "tokenizer.json"))
    matrix = np.asarray(list(VECTORS.values()), dtype=np.float32)
    save_file({"embeddings.word_embeddings.weight": matrix}, str(folder / "model.safetensors"))
    return str(folder)


def _value(cls, pred, ref, model=None):
    [component] = cls(model=model).score([pred], [ref], [None]).components
    return component.per_example[0]


def test_the_three_scores_by_hand(tiny_model):
    # pred: good [1,0], pen [0,1]; ref: bad [-1,0], ink [1,2]; "!" is punctuation and dropped
    assert _value(EmbeddingAverage, "good pen!", "bad ink", tiny_model) == pytest.approx(1 / math.sqrt(2))
    # extrema: pred [1, 1]; ref: dim 0 max 1 vs min -1 -> 1 (ties go to the max), dim 1 -> 2
    assert _value(VectorExtrema, "Good pen", "bad ink", tiny_model) == pytest.approx(3 / math.sqrt(10))
    # greedy: pred->ref best cosines 1/sqrt5, 2/sqrt5; ref->pred 0, 2/sqrt5
    by_hand = ((1 / math.sqrt(5) + 2 / math.sqrt(5)) / 2 + (0 + 2 / math.sqrt(5)) / 2) / 2
    assert _value(GreedyMatch, "good pen", "bad ink", tiny_model) == pytest.approx(by_hand)


def test_extrema_keeps_the_value_of_largest_magnitude():
    vectors = np.array([[1.0, -3.0, 0.5], [-2.0, 1.0, 0.2]])
    assert word_embeddings.extrema(vectors).tolist() == [-2.0, -3.0, 0.5]


def test_an_empty_prediction_scores_zero_and_is_counted(tiny_model):
    output = GreedyMatch(model=tiny_model).score(["", "good"], ["bad ink", "good"], [None, None])
    assert output.components[0].per_example == [0.0, pytest.approx(1.0)]
    assert output.counts == {"empty_predictions": 1}


def test_minilm_word_pieces_by_the_papers_formulas():
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    metric = GreedyMatch()
    folder = metric._model.path
    matrix = load_file(str(folder / "model.safetensors"))["embeddings.word_embeddings.weight"].astype(np.float64)
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    pred, ref = "They love sturdy staplers.", "A customer who buys durable office staplers"

    def vectors(text):
        encoding = tokenizer.encode(text, add_special_tokens=False)
        return matrix[[i for i, t in zip(encoding.ids, encoding.tokens) if t != "."]]

    p, r = vectors(pred), vectors(ref)
    def unit(v):
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    cos = unit(p) @ unit(r).T
    greedy = (cos.max(1).mean() + cos.max(0).mean()) / 2
    average = p.mean(0) @ r.mean(0) / np.linalg.norm(p.mean(0)) / np.linalg.norm(r.mean(0))
    assert _value(GreedyMatch, pred, ref) == pytest.approx(greedy, abs=1e-9)
    assert _value(EmbeddingAverage, pred, ref) == pytest.approx(average, abs=1e-9)
    for cls in (EmbeddingAverage, VectorExtrema, GreedyMatch):
        assert _value(cls, pred, pred) == pytest.approx(1.0)


def test_the_matrix_is_loaded_once_per_process():
    word_embeddings.load_word_vectors.cache_clear()
    metric = EmbeddingAverage()
    metric.score(["a b", "c"], ["d", "e f"], [None, None])
    VectorExtrema().score(["a b"], ["d"], [None])
    info = word_embeddings.load_word_vectors.cache_info()
    assert info.misses == 1 and info.hits >= 5
    _, matrix, _ = word_embeddings.load_word_vectors(str(metric._model.path))
    assert matrix.shape == (30522, 384)


def test_signature_names_the_weights_and_which_vectors():
    signature = GreedyMatch().signature()
    assert signature.startswith("metric:greedy-match|emb:all-MiniLM-L6-v2@")
    assert signature.endswith("|vectors:input-wordpiece|tok:model-no-special-no-punct|version:1")
