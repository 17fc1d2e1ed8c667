"""The raw Amazon review formats as users download them, one JSON object per line.

- **2014/2018** (McAuley et al.; Ni et al.): reviews `reviewerID, asin, overall, reviewText,
  summary, unixReviewTime` (5-core files such as `AMAZON_FASHION_5.json` included); metadata
  `meta_*.json[.gz]` with `asin, title, categories` (2014: a list of category paths) or
  `category` (2018: one path), `price`, `brand`. The 2014 metadata is written as Python
  literals (single quotes), which the reader also accepts for metadata lines.
- **2023** (Hou et al.): reviews `user_id, parent_asin, rating, title, text, timestamp`
  (milliseconds); metadata `meta_*.jsonl[.gz]` with `parent_asin, title, main_category,
  categories, price, store`.

Each line is validated here into one normalised `Interaction` or `ItemMeta`; a wrong type
or a missing key is a `file:line: field: expected ...` error (`regen_bench.data.reader`'s
wording). Keys not named are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

Format = Literal["2014", "2023"]
FORMATS = ("auto", "2014", "2023")


@dataclass(frozen=True, slots=True)
class Interaction:
    """One review: who, what, when (unix seconds), and what they wrote."""

    user: str
    asin: str
    time: int
    rating: float | None = None
    summary: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class ItemMeta:
    asin: str
    title: str | None = None
    category: tuple[str, ...] = ()  # the category path, root first
    price: float | None = None
    brand: str | None = None


class _Line(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class Review2014(_Line):
    reviewerID: StrictStr = Field(min_length=1)  # noqa: N815 - the dump's key
    asin: StrictStr = Field(min_length=1)
    unixReviewTime: StrictInt = Field(ge=0)  # noqa: N815
    overall: float | None = Field(None, ge=0, le=5)
    reviewText: StrictStr | None = None  # noqa: N815
    summary: StrictStr | None = None

    def normalised(self) -> Interaction:
        return Interaction(self.reviewerID, self.asin, self.unixReviewTime, self.overall,
                           _blank_to_none(self.summary), _blank_to_none(self.reviewText))


class Review2023(_Line):
    user_id: StrictStr = Field(min_length=1)
    parent_asin: StrictStr = Field(min_length=1)
    timestamp: StrictInt = Field(ge=0)  # milliseconds
    rating: float | None = Field(None, ge=0, le=5)
    title: StrictStr | None = None
    text: StrictStr | None = None

    def normalised(self) -> Interaction:
        return Interaction(self.user_id, self.parent_asin, self.timestamp // 1000, self.rating,
                           _blank_to_none(self.title), _blank_to_none(self.text))


def _price(value: Any) -> float | None:
    """2018 writes "$6.35" (or "" or a sentence of HTML); 2023 a number, null or "None"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if 0 <= value < 1e7 else None
    if isinstance(value, str):
        text = value.strip().lstrip("$").replace(",", "")
        try:
            number = float(text)
        except ValueError:
            return None  # "$10.00 - $20.00", "None": no single price
        return number if 0 <= number < 1e7 else None
    return None


def _path(value: Any) -> tuple[str, ...]:
    """A category path from a list of strings, or the first of a list of lists (2014)."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        value = value[0]
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if isinstance(v, str) and v.strip() and len(v) < 200)
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    return ()


class _Meta(_Line):
    title: StrictStr | None = None
    price: Any = None
    brand: Any = None

    @field_validator("title", mode="before")
    @classmethod
    def _no_blank_title(cls, value):
        return _blank_to_none(value)


class Meta2014(_Meta):
    asin: StrictStr = Field(min_length=1)
    categories: list | None = None  # 2014: [["Office Products", "..."], ...]
    category: list | None = None  # 2018: ["Office Products", "..."]

    def normalised(self) -> ItemMeta:
        path = _path(self.category) or _path(self.categories)
        brand = self.brand if isinstance(self.brand, str) and self.brand.strip() else None
        return ItemMeta(self.asin, self.title, path, _price(self.price), brand)


class Meta2023(_Meta):
    parent_asin: StrictStr = Field(min_length=1)
    main_category: StrictStr | None = None
    categories: list | None = None
    store: Any = None

    def normalised(self) -> ItemMeta:
        path = _path(self.categories)
        if self.main_category and (not path or path[0] != self.main_category):
            path = (self.main_category, *path)
        store = self.store if isinstance(self.store, str) and self.store.strip() else None
        return ItemMeta(self.parent_asin, self.title, path, _price(self.price), store)


REVIEW_MODELS = {"2014": Review2014, "2023": Review2023}
META_MODELS = {"2014": Meta2014, "2023": Meta2023}
REVIEW_KEYS = {"2014": ("reviewerID", "asin"), "2023": ("user_id", "parent_asin")}
META_KEYS = {"2014": ("asin",), "2023": ("parent_asin",)}


def detect(obj: dict, keys: dict[str, tuple[str, ...]]) -> Format | None:
    """Which format's keys a line has (2023 first: its reviews also carry `asin`)."""
    for name in ("2023", "2014"):
        if all(key in obj for key in keys[name]):
            return name  # type: ignore[return-value]
    return None
