"""Trained soft-token weights on disk, keyed by everything that determines them.

A key is the hash of (model config, seed, tasks, a fingerprint of the training and
validation users, torch and transformers versions). Under `<cache>/soft-tokens/<key>/`:

  state.pt        the adapter's state and the LM weights training changed (torch.save)
  report.json     the training report (epochs, losses, throughput) of the run that trained it
  tokenizer.json  the tiny backbone's BPE tokenizer (absent for pretrained backbones)

An entry is written into a temporary folder and renamed into place, so a killed run
never leaves half an entry; a damaged entry is ignored (and retrained over).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from regen_bench.util.hashing import canonical_json
from regen_bench.util.paths import cache_dir


def data_fingerprint(train: list, validation: list, tasks: list[str]) -> str:
    """sha256 of what training reads of each user: history items, target, critique, references."""
    digest = hashlib.sha256()
    for name, examples in (("train", train), ("validation", validation)):
        digest.update(name.encode())
        for e in sorted(examples, key=lambda x: x.example_id):
            digest.update(canonical_json({
                "id": e.example_id,
                "history": [[p.item.asin, p.item.title, p.item.category] for p in e.history],
                "target": e.target_item_id,
                "critique": e.critique,
                "references": {t: e.references.get(t) for t in tasks},
            }).encode("utf-8"))
    return digest.hexdigest()


@dataclass
class CachedWeights:
    state: dict
    report: dict
    tokenizer_path: Path | None
    path: Path


class WeightsCache:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else cache_dir("soft-tokens")

    def entry(self, key: str) -> Path:
        return self.root / key

    def load(self, key: str) -> CachedWeights | None:
        import torch

        folder = self.entry(key)
        try:
            state = torch.load(folder / "state.pt", map_location="cpu", weights_only=True)
            report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RuntimeError, EOFError):
            return None
        tokenizer = folder / "tokenizer.json"
        return CachedWeights(state, report, tokenizer if tokenizer.is_file() else None, folder)

    def save(self, key: str, state: dict, report: dict, tokenizer=None) -> Path:
        import torch

        final = self.entry(key)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=self.root))
        try:
            torch.save(state, tmp / "state.pt")
            (tmp / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
            if tokenizer is not None:
                tokenizer.save(str(tmp / "tokenizer.json"))
            if final.exists():  # a damaged or concurrent entry: replace it
                shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final
