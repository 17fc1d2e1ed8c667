"""OpenAIEmbedder and GeminiEmbedder against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import numpy as np
import pytest
from api_servers import EMBED_DIM, fake_embedding, gemini_server, openai_server  # noqa: F401  (fixtures)

from regen_bench_plugins.api_client import EmbeddingError, MissingApiKeyError
from regen_bench_plugins.providers import GeminiEmbedder, OpenAIEmbedder, embedder

# google-genai's own aiohttp session subclass warns on import; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning")

OPENAI_KEY = "sk-embed-secret-1"
GEMINI_KEY = "gm-embed-secret-2"


@pytest.fixture(autouse=True)
def _keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)


def expected(texts):
    return np.stack([fake_embedding(t if t.strip() else " ") for t in texts])


def test_openai_embedder_batches_dedupes_and_decodes(openai_server):
    emb = OpenAIEmbedder("text-embedding-3-small", base_url=openai_server.base_url, batch_size=2)
    assert emb.id == "openai:text-embedding-3-small"
    texts = ["red pen", "blue pen", "red pen", "lamp", "", "binder"]
    vectors = emb.embed(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (6, EMBED_DIM)
    np.testing.assert_allclose(vectors, expected(texts), rtol=1e-6)
    # 5 distinct texts in batches of 2 -> 3 requests
    assert [r.path for r in openai_server.requests] == ["/v1/embeddings"] * 3
    assert sorted(len(r.body["input"]) for r in openai_server.requests) == [1, 2, 2]
    assert openai_server.requests[0].headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert emb.usage == {"input_tokens": 6, "output_tokens": 0, "requests": 3,
                         "cost_usd": pytest.approx(6 * 0.02 / 1e6)}


def test_embeddings_are_cached(openai_server, isolated_cache):
    texts = ["a", "b", "c"]
    first = OpenAIEmbedder("m", base_url=openai_server.base_url).embed(texts)
    again = OpenAIEmbedder("m", base_url=openai_server.base_url)
    np.testing.assert_array_equal(again.embed(texts[::-1]), first[::-1])
    assert len(openai_server.requests) == 1 and again.cache_hits == 3 and again.usage["requests"] == 0
    # another model or dimension count is another cache entry
    OpenAIEmbedder("m", base_url=openai_server.base_url, dimensions=4).embed(["a"])
    assert openai_server.requests[-1].body["dimensions"] == 4 and len(openai_server.requests) == 2
    for path in isolated_cache.rglob("*"):
        if path.is_file():
            assert OPENAI_KEY.encode() not in path.read_bytes()


def test_retries_then_a_clear_error_and_partial_progress_kept(openai_server):
    openai_server.add_fault("status", 429, {"retry_after": 0.1})
    openai_server.add_fault("status", 500, times=None, match="bad text")
    emb = OpenAIEmbedder("m", base_url=openai_server.base_url, batch_size=1, concurrency=1, retries=2, backoff=0.01)
    with pytest.raises(EmbeddingError, match=r"openai:m: 1 of 2 embedding request\(s\) failed.*HTTP 500"):
        emb.embed(["good text", "bad text"])
    assert openai_server.count("bad text") == 3  # 1 + 2 retries
    assert openai_server.count("good text") == 2  # 429 then ok
    openai_server.reset()
    vectors = OpenAIEmbedder("m", base_url=openai_server.base_url).embed(["good text", "bad text"])
    assert len(openai_server.requests) == 1 and openai_server.requests[0].body["input"] == ["bad text"]
    np.testing.assert_allclose(vectors, expected(["good text", "bad text"]), rtol=1e-6)


def test_gemini_embedder(gemini_server):
    emb = GeminiEmbedder("text-embedding-004", base_url=gemini_server.base_url, batch_size=3)
    assert emb.id == "gemini:text-embedding-004"
    texts = [f"text {i}" for i in range(5)]
    vectors = emb.embed(texts)
    assert vectors.shape == (5, EMBED_DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, expected(texts), rtol=1e-6)
    paths = [r.path for r in gemini_server.requests]
    assert len(paths) == 2 and all(p.endswith("/models/text-embedding-004:batchEmbedContents") for p in paths)
    assert gemini_server.requests[0].headers["x-goog-api-key"] == GEMINI_KEY
    # batches go out concurrently, so the server may see the 2-text batch first
    assert sorted(len(r.body["requests"]) for r in gemini_server.requests) == [2, 3]
    # the Gemini API reports no tokens for embeddings: unknown, not 0
    assert emb.usage == {"input_tokens": None, "output_tokens": None, "requests": 2, "cost_usd": None}


def test_gemini_embedder_retries(gemini_server):
    gemini_server.add_fault("status", 503)
    emb = embedder("gemini", "gemini-embedding-001", base_url=gemini_server.base_url, backoff=0.01,
                   dimensions=8, task_type="SEMANTIC_SIMILARITY")
    assert emb.id == "gemini:gemini-embedding-001/d8/SEMANTIC_SIMILARITY"
    assert emb.embed(["x"]).shape == (1, EMBED_DIM)
    assert [r.status for r in gemini_server.requests] == [503, 200]
    config = gemini_server.requests[-1].body["requests"][0]
    assert config["outputDimensionality"] == 8 and config["taskType"] == "SEMANTIC_SIMILARITY"


def test_missing_keys(openai_server, gemini_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(MissingApiKeyError, match="OPENAI_API_KEY"):
        OpenAIEmbedder("m", base_url=openai_server.base_url).embed(["a"])
    with pytest.raises(MissingApiKeyError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        GeminiEmbedder("m", base_url=gemini_server.base_url).embed(["a"])
    assert not openai_server.requests and not gemini_server.requests


def test_empty_input():
    emb = OpenAIEmbedder("m", base_url="http://127.0.0.1:9/v1")
    assert emb.embed([]).shape == (0, 0)
