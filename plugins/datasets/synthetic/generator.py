"""The embedded synthetic REGEN dataset: the benchmark's default, with a known answer.

A seeded generator writes REGEN-format records (one user per JSON line) for an
office-products catalogue. Each user belongs to a latent co-purchase community (a
persona that shapes the narratives' wording, visible to a model only through which
items are bought together) and has a content taste (favourite category group, brand
and colour, visible in the item text). Narratives depend on both, so a model that
fuses collaborative filtering with text should beat either alone. See
docs/synthetic-dataset.md. Every number measured on it is labelled "synthetic".
"""

from __future__ import annotations

from regen_bench.contracts.layout import WRITTEN_LAYOUT
from regen_bench_plugins.datasets.synthetic.writer import generate_records, write_dataset

# Bump whenever the bytes written for a given (users, seed) change.
GENERATOR_VERSION = "1"

# 3,000 users: ~300 in the default 10% test split; see docs/synthetic-dataset.md.
DEFAULT_USERS = 3000

SYNTHETIC_LAYOUT = WRITTEN_LAYOUT  # every task, the target at last_purchase

__all__ = ["DEFAULT_USERS", "GENERATOR_VERSION", "SYNTHETIC_LAYOUT", "generate_records", "write_dataset"]
