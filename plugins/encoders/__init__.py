"""Item and history encoders shared by the built-in models.

- `cf.CFEncoder`: WALS item factors (implicit ALS) fit on training users; `fold_in`
  for a new user's history.
- `text.TextEncoder`: sentence-transformers embeddings of item text, cached on disk.
- `history.history_features` / `history.pooled`: padded per-item features of the
  last N purchases, and their masked means ("cf", "text", "fusion").

Importing this package imports numpy only; implicit, torch and sentence-transformers
load on first use.
"""

from .cf import CFEncoder
from .history import HistoryFeatures, history_features, pooled
from .text import TextEncoder, l2_normalise

__all__ = ["CFEncoder", "HistoryFeatures", "TextEncoder", "history_features", "l2_normalise", "pooled"]
