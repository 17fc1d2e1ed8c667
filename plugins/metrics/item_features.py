"""Helper (registers no plugin): item features for `fmr`, `fcr` and `div` (PETER/PEPLER).

PETER and PEPLER (Li et al. 2021, 2022) score explanations by the item *features* they
name. There, a feature is an aspect word extracted from reviews (Sentires); REGEN has no
such extraction, so a feature here is a word of an item's own catalogue attributes, from a
declared source:

- `category`: the words of the category path without its root (REGEN writes paths as
  `Office Products - Office & School Supplies - ... - Postal Scales`; the root, the
  department every item of a dataset shares, is left out; `>`, `|` and `/` also separate
  levels);
- `brand`: the words of a `brand` attribute, when the item carries one (Amazon metadata
  does; REGEN's reconstructed and the synthetic records name the brand in the title);
- `title`: the words of the title.

The default source is all three (`category,brand,title`). Words: the text NFKC-normalised
and lowercased, every maximal run of letters (digits and punctuation separate words and
are not words), at least 3 letters long, not one of the English stop words below, with a
plural `-s`/`-ies` reduced (`pens` -> `pen`, `batteries` -> `battery`; `glass`, `bus`
and `analysis` are kept). The same normalisation is applied to the narratives, so a
feature "appears" in a narrative when one of the narrative's words is that feature. The
signature names this tokenisation `tok:lc-alpha3-nostop-plural`.

The feature *vocabulary* (the F of FCR) is either the features of every item the scored
examples carry (each history purchase's item and the target item: catalogue attributes
only, never a review or a reference) or, with `vocabulary_file`, a UTF-8 file of one
feature per line (normalised as above); then an item's features are its words that are in
the file. The signature records the source and the vocabulary's hash (`vocab:examples@`
or `vocab:file@` + the first 12 hex digits of the sha256 of the sorted features, one per
line), so two scores agree only when they used the same features.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator

from regen_bench.contracts.metric import MetricOptions

SOURCES = ("category", "brand", "title")
DEFAULT_SOURCES = "category,brand,title"
TOKENIZER_NAME = "lc-alpha3-nostop-plural"
_WORD = re.compile(r"[^\W\d_]+")
_CATEGORY_LEVELS = re.compile(r"\s+-\s+|\s*[>|/]\s*")
MIN_LETTERS = 3
# A short English stop list (function words and the commonest review filler); fixed: the
# tokenizer name in the signature stands for it, so changing it means a new version.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off
on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves one two three new use used using
get got make made like well really much many may might must shall via per set item items product products
""".split())


def normalise_word(word: str) -> str:
    """A lowercased word with a plural `-s` / `-ies` reduced (same on both sides of a match)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str | None) -> list[str]:
    """The feature words of `text`, in order (see the module docstring)."""
    if not text:
        return []
    found = _WORD.findall(unicodedata.normalize("NFKC", text).lower())
    return [normalise_word(w) for w in found if len(w) >= MIN_LETTERS and w not in STOPWORDS]


def category_words(category: str | None) -> list[str]:
    """Words of a category path without its root level."""
    if not category:
        return []
    levels = [level for level in _CATEGORY_LEVELS.split(category) if level.strip()]
    if len(levels) > 1:
        levels = levels[1:]
    return [w for level in levels for w in words(level)]


def parse_sources(value: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [n for n in names if n not in SOURCES]
    if not names or unknown:
        raise ValueError(f"features must be a comma-separated list of {', '.join(SOURCES)}; got {value!r}")
    return names


def item_words(item, sources: tuple[str, ...]) -> frozenset[str]:
    """The candidate features of one item (an `Item`) from the declared sources."""
    if item is None:
        return frozenset()
    brand = (item.model_extra or {}).get("brand")
    return _attribute_words(item.category, brand if isinstance(brand, str) else None, item.title, sources)


@functools.lru_cache(maxsize=1 << 18)
def _attribute_words(category: str | None, brand: str | None, title: str | None,
                     sources: tuple[str, ...]) -> frozenset[str]:
    # cached: a dataset's purchases repeat the same catalogue items many times over
    found: set[str] = set()
    if "category" in sources:
        found.update(category_words(category))
    if "brand" in sources and brand:
        found.update(words(brand))
    if "title" in sources:
        found.update(words(title))
    return frozenset(found)


class FeatureOptions(MetricOptions):
    features: str = Field(default=DEFAULT_SOURCES,
                          description="comma-separated feature sources: category, brand, title")
    vocabulary_file: str | None = Field(default=None,
                                        description="a file of one feature per line; None = the examples' items")

    @field_validator("features")
    @classmethod
    def _known_sources(cls, value: str) -> str:
        return ",".join(parse_sources(value))

    @field_validator("vocabulary_file")
    @classmethod
    def _file_exists(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).expanduser().is_file():
            raise ValueError(f"no such file: {value}")
        return value


@dataclass(frozen=True)
class Vocabulary:
    """The feature vocabulary F, where it came from, and its hash."""

    features: frozenset[str]
    source: str  # "examples" or "file"
    sources: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256("\n".join(sorted(self.features)).encode("utf-8")).hexdigest()

    def item_features(self, item) -> frozenset[str]:
        return frozenset(item_words(item, self.sources) & self.features)

    def text_features(self, text: str) -> frozenset[str]:
        """The vocabulary's features that are words of `text`."""
        return frozenset(set(words(text)) & self.features)

    def signature_settings(self) -> dict[str, str]:
        return {"features": ",".join(self.sources), "tok": TOKENIZER_NAME,
                "vocab": f"{self.source}@{self.sha256[:12]}"}


def example_items(example) -> Iterable:
    """The items an example carries: each history purchase's item, then the target's (never reviews)."""
    for purchase in example.history:
        yield purchase.item
    if example.target is not None:
        yield example.target.item


def build_vocabulary(options: FeatureOptions, examples: list) -> Vocabulary:
    sources = parse_sources(options.features)
    if options.vocabulary_file is not None:
        text = Path(options.vocabulary_file).expanduser().read_text(encoding="utf-8")
        features = frozenset(w for line in text.splitlines() for w in words(line))
        return Vocabulary(features, "file", sources)
    features = set()
    for example in examples:
        for item in example_items(example):
            features.update(item_words(item, sources))
    return Vocabulary(frozenset(features), "examples", sources)


def default_signature_settings(options: FeatureOptions) -> dict[str, str]:
    """What `signature()` says before any examples are seen (the hash comes with the scores)."""
    source = "examples" if options.vocabulary_file is None else "file"
    return {"features": options.features, "tok": TOKENIZER_NAME, "vocab": source}
