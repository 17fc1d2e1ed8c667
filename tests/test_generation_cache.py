"""The SQLite generation cache: keyed by what determines an output, durable per batch."""

import sqlite3

from regen_bench.pipeline.generation_cache import GenerationCache


def test_put_and_get_round_trip_strings_and_lists(tmp_path):
    cache = GenerationCache(tmp_path / "g.sqlite")
    key = cache.run_key("cfg", "sha")
    cache.put_many(key, "user_summary", {"u1": "Loves gel pens.", "u2": "Ünïcode ✓"})
    cache.put_many(key, "next_item", {"u1": ["B01", "B02"]})
    assert cache.get_many(key, "user_summary", ["u1", "u2", "u3"]) == {"u1": "Loves gel pens.", "u2": "Ünïcode ✓"}
    assert cache.get_many(key, "next_item", ["u1"]) == {"u1": ["B01", "B02"]}
    assert cache.get_many(cache.run_key("other", "sha"), "user_summary", ["u1"]) == {}


def test_cache_uses_wal_and_survives_reopen(tmp_path):
    path = tmp_path / "g.sqlite"
    cache = GenerationCache(path)
    cache.put_many("k", "t", {f"u{i}": str(i) for i in range(1200)})
    cache.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened = GenerationCache(path)
    assert len(reopened.get_many("k", "t", [f"u{i}" for i in range(1200)])) == 1200
    assert reopened.count("k") == 1200


def test_run_key_has_no_unstable_parts():
    assert GenerationCache.run_key("abc", "def") == GenerationCache.run_key("abc", "def") == "abc:def"
