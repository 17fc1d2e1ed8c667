"""Per-user history features: the last N purchases as CF and text vectors, and pooling.

`history_features` gives, for a batch of examples, (B, L, d) arrays of the last
`last_n` history items, right-aligned (padding on the left, so position L-1 is the
most recent purchase), with a (B, L) mask. Each item vector is L2-normalised; an
item the CF model never saw in training has a zero CF vector (its mask stays True:
the item is present, CF just knows nothing about it).

`pooled` averages over the present items; "fusion" concatenates the normalised CF
and text means and normalises the result, so both halves weigh the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from .text import l2_normalise

if TYPE_CHECKING:  # pragma: no cover
    from regen_bench.contracts.examples import Example

    from .cf import CFEncoder
    from .text import TextEncoder

PARTS = ("cf", "text", "fusion")


@dataclass
class HistoryFeatures:
    """Padded per-item features of a batch of histories.

    cf:   (B, L, dcf) float32, each row L2-normalised (zeros stay zero), or None
    text: (B, L, dt) float32, L2-normalised, or None
    mask: (B, L) bool, True where an item is present; the LAST L history items,
          right-aligned (padding on the left)
    """

    cf: np.ndarray | None
    text: np.ndarray | None
    mask: np.ndarray


def history_features(
    examples: list["Example"],
    cf: "CFEncoder | None",
    text: "TextEncoder | None",
    last_n: int = 20,
) -> HistoryFeatures:
    """CF and/or text features of the last `last_n` purchases of each example's history."""
    if last_n < 1:
        raise ValueError("last_n must be at least 1")
    tails = [list(e.history[-last_n:]) for e in examples]
    rows, cols, flat_purchases = [], [], []
    for b, tail in enumerate(tails):
        offset = last_n - len(tail)
        for j, purchase in enumerate(tail):
            rows.append(b)
            cols.append(offset + j)
            flat_purchases.append(purchase)
    return _placed(
        len(examples), last_n, np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64),
        [p.item.asin for p in flat_purchases], lambda: [text.purchase_text(p) for p in flat_purchases], cf, text,
    )


def _placed(batch: int, width: int, rows: np.ndarray, cols: np.ndarray, asins: list[str], texts,
            cf: "CFEncoder | None", text: "TextEncoder | None") -> HistoryFeatures:
    """The (batch, width) features of the chosen purchases, purchase i at (rows[i], cols[i]):
    CF vectors of `asins`, text vectors of `texts()` (called only for a text encoder)."""
    mask = np.zeros((batch, width), dtype=bool)
    mask[rows, cols] = True
    cf_out = None
    if cf is not None:
        cf_out = np.zeros((batch, width, cf.dim), dtype=np.float32)
        if asins:
            cf_out[rows, cols] = l2_normalise(cf.item_matrix(asins))
    text_out = None
    if text is not None:
        if asins:
            vectors = l2_normalise(text.encode_texts(texts()))
            text_out = np.zeros((batch, width, vectors.shape[1]), dtype=np.float32)
            text_out[rows, cols] = vectors
        else:
            text_out = np.zeros((batch, width, text.dim), dtype=np.float32)
    return HistoryFeatures(cf=cf_out, text=text_out, mask=mask)


def history_features_of(examples, cf: "CFEncoder | None", text: "TextEncoder | None", last_n: int = 20) -> HistoryFeatures:
    """`history_features` of an ExampleSet read from its history columns (asins, titles and
    categories of its rows: no record is parsed, so a pass over a million users never reads
    their JSON), the same arrays; from the Examples when the set has no such columns or the
    text includes reviews."""
    columns = getattr(examples, "history_columns", None)
    columns = columns() if columns is not None and not (text is not None and text.include_review) else None
    if columns is None:
        return history_features(list(examples), cf, text, last_n)
    return history_features_from_columns(*columns, cf=cf, text=text, last_n=last_n)


def history_features_from_columns(offsets: np.ndarray, asins, titles, categories, *, cf: "CFEncoder | None",
                                  text: "TextEncoder | None", last_n: int = 20) -> HistoryFeatures:
    """`history_features` from CSR history columns (`ExampleSet.history_columns`): the last
    `last_n` purchases of each row, right-aligned, the same arrays as from Examples."""
    from .text import item_text

    if last_n < 1:
        raise ValueError("last_n must be at least 1")
    offsets = np.asarray(offsets, dtype=np.int64)
    batch, width = len(offsets) - 1, last_n
    lengths = np.minimum(np.diff(offsets), width)
    total = int(lengths.sum())
    first = np.zeros(batch, dtype=np.int64)
    np.cumsum(lengths[:-1], out=first[1:])
    within = np.arange(total, dtype=np.int64) - np.repeat(first, lengths)
    picked = np.repeat(offsets[1:] - lengths, lengths) + within  # the tail, oldest first
    rows = np.repeat(np.arange(batch, dtype=np.int64), lengths)
    cols = width - np.repeat(lengths, lengths) + within
    index = pa.array(picked, pa.int64())
    tail_asins = asins.take(index).to_pylist() if total else []

    def texts():
        return [item_text(t, c) or a for t, c, a in
                zip(titles.take(index).to_pylist(), categories.take(index).to_pylist(), tail_asins)]

    return _placed(batch, width, rows, cols, tail_asins, texts, cf, text)


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask.astype(np.float32)[:, :, None]
    total = (values * weights).sum(axis=1)
    count = np.maximum(weights.sum(axis=1), 1.0)
    return (total / count).astype(np.float32)


def pooled(features: HistoryFeatures, part: str) -> np.ndarray:
    """(B, d) masked mean over the items of `part` in {"cf", "text", "fusion"}.

    "cf" / "text": the plain masked mean (not normalised; an empty history gives zeros).
    "fusion": concat(normalise(cf mean), normalise(text mean)), normalised again.
    """
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    if part in ("cf", "fusion") and features.cf is None:
        raise ValueError(f"pooled(..., {part!r}) needs CF features")
    if part in ("text", "fusion") and features.text is None:
        raise ValueError(f"pooled(..., {part!r}) needs text features")
    if part == "cf":
        return _masked_mean(features.cf, features.mask)
    if part == "text":
        return _masked_mean(features.text, features.mask)
    cf_mean = l2_normalise(_masked_mean(features.cf, features.mask))
    text_mean = l2_normalise(_masked_mean(features.text, features.mask))
    return l2_normalise(np.concatenate([cf_mean, text_mean], axis=1))
