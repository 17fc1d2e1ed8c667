"""pydantic models of one REGEN record (one user, one JSON line).

Only what REGEN is known to hold is named; every other key is kept (`extra="allow"`),
because the real files carry keys whose names are not published (critiques,
purchase reasons, endorsements) and the loader must discover them, not drop them.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_PRICE = re.compile(r"^\s*\$?\s*(-?\d+(?:,\d{3})*(?:\.\d+)?)\s*$")


class Item(BaseModel):
    # No NaN or Infinity: the reader rejects them as JSON literals, and a price string
    # of 400 digits would otherwise become `inf` here.
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    asin: str = Field(min_length=1)
    title: str | None = None
    category: str | None = None
    price: float | None = None

    @field_validator("price", mode="before")
    @classmethod
    def _price_from_text(cls, value: Any):
        # Amazon metadata sometimes writes prices as "$6.35"; keep the number.
        if isinstance(value, str):
            if not value.strip():
                return None
            match = _PRICE.match(value)
            if match is None:
                raise ValueError("a number or a price like '$6.35'")
            return float(match.group(1).replace(",", ""))
        return value


class Review(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    summary: str | None = None
    rating: float | None = None
    text: str | None = None
    unix_time: int | None = None


class Purchase(BaseModel):
    model_config = ConfigDict(extra="allow")

    item: Item
    review: Review | None = None


# The key that labels a record as made by a generator, not by people (`data generate`
# writes it in every record, so any `head -n`, shuffle or gzip of the file keeps it).
SYNTHETIC_MARKER = "regen_bench_synthetic"


class SyntheticMarker(BaseModel):
    """`{"generator": "regen-bench synthetic", "version": "1", "seed": 0}`: who made the record."""

    model_config = ConfigDict(extra="allow")

    generator: str = Field(min_length=1)
    version: str | None = None
    seed: int | None = None


class RegenRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    reviewer_id: str = Field(min_length=1)
    purchase_history: list[Purchase] = Field(min_length=1)
    user: dict[str, Any] = Field(default_factory=dict)
    last_purchase: dict[str, Any] | None = None
    regen_bench_synthetic: SyntheticMarker | None = None  # SYNTHETIC_MARKER: set on generated records

    @property
    def synthetic(self) -> bool:
        return self.regen_bench_synthetic is not None


def resolve_path(data: Any, path: str) -> Any:
    """Follow a dotted path (`user.long_summary`) through dicts; None where it stops."""
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node
