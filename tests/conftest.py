import os
import tempfile
from pathlib import Path

import pytest

# No test may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# `evaluate` copies metric scripts into a modules cache; keep it out of the user's home.
os.environ.setdefault("HF_MODULES_CACHE", tempfile.mkdtemp(prefix="regen-bench-hf-modules-"))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Each test gets its own regen-bench cache and a fresh plugin registry."""
    from regen_bench.plugin import registry

    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("REGEN_BENCH_CACHE_DIR", str(cache))
    monkeypatch.delenv("REGEN_BENCH_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("REGEN_BENCH_BLOCK_PLUGINS", raising=False)
    registry.reset()
    yield cache
    registry.reset()


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (a fresh clone has no ../shared)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory):
    """One regen-bench cache for the test modules that embed items (encoders, models): each
    distinct item text is embedded once per test session, not once per test."""
    path = tmp_path_factory.getbasetemp() / "regen-bench-encoder-tests-cache"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def use_shared_cache(isolated_cache, shared_cache, monkeypatch):
    monkeypatch.setenv("REGEN_BENCH_CACHE_DIR", str(shared_cache))
    return shared_cache
