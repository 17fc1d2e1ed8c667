"""The build manifest, `OUTPUT.manifest.json` beside the output: what made the dataset.

It records the prompts (file names and sha256s), the LLM and its settings, the inputs
(file names, sizes, formats), the construction settings, the counts (users, pairs, calls,
missing artefacts and why) and the tokens and cost of the answers the file holds (cached
answers included, so a resumed build writes the same manifest as an uninterrupted one),
and the sha256 of the output. `regen-bench data info` shows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from regen_bench.data.discovery import MANIFEST_SUFFIX
from regen_bench.util.atomic import atomic_write_text

BUILDER_VERSION = "1"
LICENCE = (
    "The reviews and metadata come from the Amazon review datasets you supplied (McAuley lab, UCSD); "
    "their collectors offer them for research use only. The narratives were written by the LLM named here. "
    "Check the terms of the data and of the LLM's provider before sharing this file."
)


def manifest_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(output.name + MANIFEST_SUFFIX)


def input_info(path: str | Path | None, fmt: str | None) -> dict | None:
    if path is None:
        return None
    path = Path(path)
    return {"file": path.name, "bytes": path.stat().st_size, "format": fmt}


def write_manifest(output: str | Path, content: dict[str, Any]) -> Path:
    target = manifest_path(output)
    body = {"builder": "regen-bench data build", "builder_version": BUILDER_VERSION, **content, "licence": LICENCE}
    atomic_write_text(target, json.dumps(body, indent=2, sort_keys=False, ensure_ascii=False) + "\n")
    return target
