"""Stable hashes: of JSON-able configs, of files, of strings. Never Python's `hash()`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def hash_config(value: Any, length: int = 16) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()[:length]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def run_config_hash(model_config: dict, seed: int, split_hash: str, tasks: list[str], k: int | None = None) -> str:
    """The generation cache key of a run (and results.json's model.config_hash).

    The tasks are part of it: a model fitted on several tasks (the soft-token models
    train on every task run) writes different narratives than one fitted on fewer.
    `k` (items asked of recommend) is part of it only when it is not the default: runs
    made before k was an option all asked for the default, and keep their hashes.
    """
    key = {"model": model_config, "seed": seed, "split_hash": split_hash, "tasks": sorted(tasks)}
    if k is not None:
        key["k"] = k
    return hash_config(key)
