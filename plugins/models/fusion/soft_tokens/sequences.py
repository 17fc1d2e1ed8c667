"""From examples to LM inputs: item features, instructions, and padded batches.

A row is one (example, task): its soft-token features (one per history item, the
last `history` items; then, optionally, one pooled token, the normalised mean of
those items' features; then the target item, without its review, for tasks about
it), the instruction's token ids and, when training, the narrative's ids followed by
EOS. A batch lays each
row out as [soft tokens][instruction][narrative][EOS], left-padded to the longest
row; position ids count only real positions (cumsum of the mask), as `generate`
does for left-padded prompts. The loss covers the narrative and EOS only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regen_bench.contracts.records import Purchase

IGNORE = -100


def instruction(task: str, critique: str | None = None) -> str:
    """The task name in words ("Write the user summary:"), with the user's critique when given."""
    words = task.replace("_", " ").replace("-", " ").strip()
    if critique:
        return f"Write the {words} (the user asked: {critique.strip()}):"
    return f"Write the {words}:"


@dataclass
class Row:
    features: np.ndarray  # (n, d_in) float32: one row per soft token
    kinds: np.ndarray  # (n,) int64: adapter.HISTORY, POOLED or TARGET per soft token
    prompt_ids: list[int]
    target_ids: list[int] | None = None  # narrative + EOS (training only)
    task: str = ""  # the task the row is about (validation loss is also reported per task)

    def __len__(self) -> int:
        return len(self.features) + len(self.prompt_ids) + len(self.target_ids or ())


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


class Whitening:
    """PCA whitening of one part, fit on the training items: x -> (x - mean) V_k / s_k.

    Sentence embeddings of one shop's items share a large common direction and most
    of their variance lies in product type, so attributes such as brand or colour are
    faint directions that gradient descent is slow to find; whitening gives each of
    the top `k` directions unit variance. Zero rows (CF of items unseen in training)
    stay zero.
    """

    def __init__(self, matrix: np.ndarray, k: int):
        matrix = np.asarray(matrix, dtype=np.float64)
        self.mean = matrix.mean(axis=0)
        _, singular, vt = np.linalg.svd(matrix - self.mean, full_matrices=False)
        k = int(min(k, len(singular), int((singular > singular[0] * 1e-6).sum()) if len(singular) else 0))
        scale = singular[:k] / np.sqrt(max(len(matrix) - 1, 1))
        self.projection = (vt[:k].T / scale).astype(np.float32)
        self.mean = self.mean.astype(np.float32)
        self.dim = k

    def __call__(self, x: np.ndarray) -> np.ndarray:
        present = np.abs(x).sum(axis=-1, keepdims=True) > 0
        return np.where(present, (x - self.mean) @ self.projection, 0.0).astype(np.float32)


class FeatureBuilder:
    """Concatenated, normalised item features of the enabled parts.

    Each part's per-item vector is L2-normalised (and, after `fit_whitening`, whitened
    and normalised again); the parts are concatenated and the result normalised.
    `cf` needs `.dim` and `.item_matrix(asins)`; `text` needs `.encode_purchases`.
    """

    def __init__(self, parts: tuple[str, ...], cf, text, history: int, pooled: bool = False):
        self.parts = tuple(parts)
        self.pooled = bool(pooled)
        self.cf = cf if "cf" in parts else None
        self.text = text if "text" in parts else None
        self.history = history
        self.whitening: dict[str, Whitening] = {}

    def fit_whitening(self, examples: list, components: dict[str, int]) -> None:
        """Fit the whitening of each part with components[part] > 0 on the training users' items."""
        seen: dict[str, object] = {}
        for e in examples:
            for p in list(e.history) + ([e.target] if e.target is not None else []):
                seen.setdefault(p.item.asin, p)
        purchases = [seen[a] for a in sorted(seen)]
        self.whitening = {}
        if not purchases:
            return
        if self.cf is not None and components.get("cf", 0) > 0:
            cf = normalise_rows(self.cf.item_matrix([p.item.asin for p in purchases]))
            self.whitening["cf"] = Whitening(cf[np.abs(cf).sum(axis=1) > 0], components["cf"])
        if self.text is not None and components.get("text", 0) > 0:
            text = normalise_rows(self.text.encode_purchases(purchases))
            self.whitening["text"] = Whitening(text, components["text"])

    def part_dims(self) -> dict[str, int]:
        dims = {}
        for part in self.parts:
            if part in self.whitening:
                dims[part] = self.whitening[part].dim
            else:
                dims[part] = int(self.cf.dim) if part == "cf" else int(self.text.dim)
        return dims

    def _combine(self, cf: np.ndarray | None, text: np.ndarray | None) -> np.ndarray:
        blocks = []
        for part in self.parts:
            block = normalise_rows(cf if part == "cf" else text)
            if part in self.whitening:
                block = normalise_rows(self.whitening[part](block))
            blocks.append(block)
        return normalise_rows(np.concatenate(blocks, axis=-1))

    def purchases(self, purchases: list) -> np.ndarray:
        """(n, d_in) features of arbitrary purchases."""
        if not purchases:
            return np.zeros((0, sum(self.part_dims().values())), dtype=np.float32)
        cf = self.cf.item_matrix([p.item.asin for p in purchases]) if self.cf is not None else None
        text = self.text.encode_purchases(purchases) if self.text is not None else None
        return self._combine(cf, text)

    def target_features(self, examples: list) -> list[np.ndarray | None]:
        """Per example its target item's (1, d_in) features (None without a target), from one
        call over every target: the whitening product over a different number of rows can
        differ in the last bits, so a build that streams still takes these from one call."""
        targets = [Purchase(item=e.target.item) for e in examples if e.target is not None]
        features = self.purchases(targets)
        out, t = [], 0
        for example in examples:
            if example.target is None:
                out.append(None)
            else:
                out.append(features[t : t + 1])
                t += 1
        return out

    def examples(self, examples: list, with_target: bool,
                 target_features: list[np.ndarray | None] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per example: (features (n, d_in), kinds (n,)): history items oldest first, then the
        pooled token (when enabled), then the target (when `with_target` and there is one;
        `target_features` as `target_features` gives them, else computed here). The history
        tokens of an example do not depend on the others in the call."""
        from regen_bench_plugins.encoders.history import history_features

        from .adapter import HISTORY, POOLED, TARGET

        if not examples:
            return []
        hist = history_features(examples, self.cf, self.text, last_n=self.history)
        combined = self._combine(hist.cf, hist.text)  # (B, L, d_in)
        # The target token is the item alone, never its review: the review is written after
        # the purchase the task is about, and a test example does not show it (ModelInput).
        if with_target and target_features is None:
            target_features = self.target_features(examples)
        out = []
        for b, example in enumerate(examples):
            rows = combined[b][hist.mask[b]]
            kinds = np.full(len(rows), HISTORY, dtype=np.int64)
            if self.pooled and len(rows):
                rows = np.concatenate([rows, normalise_rows(rows.mean(axis=0, keepdims=True))], axis=0)
                kinds = np.append(kinds, POOLED)
            if with_target and target_features[b] is not None:
                rows = np.concatenate([rows, target_features[b]], axis=0)
                kinds = np.append(kinds, TARGET)
            out.append((rows.astype(np.float32, copy=False), kinds))
        return out


class StreamedRows:
    """Training rows built a batch at a time (`take`), each the Row an up-front build gives.

    Holds per row only its example, task, length and target-token features (see
    `FeatureBuilder.target_features`); the history tokens and token ids are built when a
    batch asks for them, so a training set's rows cost a few hundred bytes each instead of
    their whole feature matrices. `build(entries)` turns (example, task, target features)
    entries into Rows."""

    def __init__(self, entries: list[tuple], lengths: np.ndarray, build):
        self._entries = entries
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self._build = build

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> Row:
        return self._build([self._entries[index]])[0]

    def take(self, indices) -> list[Row]:
        return self._build([self._entries[int(i)] for i in indices])


def take_rows(rows, indices) -> list[Row]:
    """`rows[i]` for each index: one build for a `StreamedRows`, a lookup for a list."""
    return rows.take(indices) if isinstance(rows, StreamedRows) else [rows[i] for i in indices]


def row_lengths(rows) -> np.ndarray | list[int]:
    return rows.lengths if isinstance(rows, StreamedRows) else [len(r) for r in rows]


def drop_history_items(row: Row, rng: np.random.Generator, p: float) -> Row:
    """A copy of a training row without a random share `p` of its history items (at least
    one kept), the pooled token recomputed from those kept. Seen afresh each epoch, a user's
    history never looks the same twice, so the LM cannot memorise users by their exact items
    and has to read what the items have in common."""
    from .adapter import HISTORY, POOLED

    history = np.flatnonzero(row.kinds == HISTORY)
    if p <= 0 or len(history) < 2:
        return row
    keep = history[rng.random(len(history)) >= p]
    if len(keep) == 0:
        keep = history[[int(rng.integers(0, len(history)))]]
    others = np.flatnonzero(row.kinds != HISTORY)
    features = row.features.copy()
    pooled = others[row.kinds[others] == POOLED]
    if len(pooled):
        features[pooled] = normalise_rows(features[keep].mean(axis=0, keepdims=True))
    order = np.concatenate([keep, others])
    return Row(features[order], row.kinds[order], row.prompt_ids, row.target_ids, row.task)


def drop_part(row: Row, rng: np.random.Generator, p: float, slices: list[slice]) -> Row:
    """With probability `p`, a copy of the row with one part (chosen at random) zeroed in
    every soft token and the tokens renormalised. A model that sees CF alone or text
    alone now and then cannot lean on one part (CF, which identifies users' items
    sharply, is the one it would memorise with) and must learn what each part says."""
    if p <= 0 or len(slices) < 2 or rng.random() >= p:
        return row
    features = row.features.copy()
    features[:, slices[int(rng.integers(0, len(slices)))]] = 0.0
    return Row(normalise_rows(features), row.kinds, row.prompt_ids, row.target_ids, row.task)


def assemble(rows: list[Row], backbone, adapter, *, train: bool):
    """Padded LM inputs for `rows`: (inputs_embeds, attention_mask, position_ids, labels or None)."""
    import torch

    lengths = [len(r) if train else len(r.features) + len(r.prompt_ids) for r in rows]
    width = max(lengths)
    batch = len(rows)
    pad = backbone.codec.pad_id
    ids = torch.full((batch, width), pad, dtype=torch.long)
    soft = torch.zeros((batch, width), dtype=torch.bool)
    mask = torch.zeros((batch, width), dtype=torch.long)
    labels = torch.full((batch, width), IGNORE, dtype=torch.long) if train else None
    for b, row in enumerate(rows):
        start = width - lengths[b]
        n = len(row.features)
        soft[b, start : start + n] = True
        tokens = list(row.prompt_ids) + (list(row.target_ids) if train else [])
        ids[b, start + n : width] = torch.tensor(tokens, dtype=torch.long)
        mask[b, start:] = 1
        if train:
            labels[b, width - len(row.target_ids) :] = torch.tensor(row.target_ids, dtype=torch.long)
    device = getattr(backbone, "device", "cpu")
    if device != "cpu":  # built on the CPU, moved once per batch
        ids, soft, mask = ids.to(device), soft.to(device), mask.to(device)
        labels = labels.to(device) if labels is not None else None
    features = torch.from_numpy(np.concatenate([r.features for r in rows], axis=0)).to(device)
    kinds = torch.from_numpy(np.concatenate([r.kinds for r in rows], axis=0)).to(device)
    embeds = backbone.embed(ids)
    soft_tokens = adapter(features.to(embeds.dtype), kinds).to(embeds.dtype)
    embeds = embeds.masked_scatter(soft.unsqueeze(-1), soft_tokens)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return embeds, mask, positions, labels
