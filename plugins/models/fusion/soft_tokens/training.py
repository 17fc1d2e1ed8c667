"""Teacher-forced training of the adapter (and the LM's trainable weights) with early stopping.

AdamW, linear warm-up then cosine decay to 10% of the learning rate over the epoch
cap, gradient clipping at 1.0. Batches: each epoch a seeded permutation, sorted by
length within blocks of 16 batches (less padding), the batch order shuffled again.
With `item_dropout`, each training row loses a random share of its history items
every time it is seen (`sequences.drop_history_items`). After each epoch the
token-mean validation loss decides: the best state is kept, and
training stops after `patience` epochs without improvement (or at `epochs`).
Deterministic for a seed on CPU with a fixed thread count.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .sequences import IGNORE, Row, assemble, drop_history_items, drop_part, row_lengths, take_rows


@dataclass
class TrainReport:
    epochs: int = 0
    steps: int = 0
    best_epoch: int = 0
    best_validation_loss: float | None = None
    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    stopped_early: bool = False
    seconds: float = 0.0
    rows_seen: int = 0
    tokens_seen: int = 0

    def as_dict(self) -> dict:
        per_s = self.seconds if self.seconds > 0 else float("nan")
        return {
            "epochs": self.epochs,
            "steps": self.steps,
            "best_epoch": self.best_epoch,
            "best_validation_loss": self.best_validation_loss,
            "train_loss": [round(x, 4) for x in self.train_loss],
            "validation_loss": [round(x, 4) for x in self.validation_loss],
            "stopped_early": self.stopped_early,
            "train_seconds": round(self.seconds, 3),
            "train_examples_per_s": round(self.rows_seen / per_s, 2) if self.seconds > 0 else None,
            "train_tokens_per_s": round(self.tokens_seen / per_s, 1) if self.seconds > 0 else None,
        }


def batches(rows: list[Row], batch_size: int, rng: np.random.Generator | None) -> list[list[int]]:
    """Row indices per batch; with `rng`, a shuffled, length-sorted-in-blocks order."""
    order = np.arange(len(rows)) if rng is None else rng.permutation(len(rows))
    lengths = row_lengths(rows)
    block = batch_size * 16
    out = []
    for start in range(0, len(order), block):
        chunk = sorted(order[start : start + block].tolist(), key=lambda i: (int(lengths[i]), i))
        out += [chunk[s : s + batch_size] for s in range(0, len(chunk), batch_size)]
    if rng is not None:
        out = [out[i] for i in rng.permutation(len(out))]
    return out


def sequence_loss(backbone, adapter, rows: list[Row], dropout: float = 0.0):
    """(summed token cross-entropy, number of target tokens) of a batch; `dropout` on the input embeddings."""
    import torch.nn.functional as F

    from regen_bench_plugins.encoders.devices import autocast

    with autocast(getattr(backbone, "device", "cpu"), getattr(backbone, "dtype", "float32")):
        embeds, mask, positions, labels = assemble(rows, backbone, adapter, train=True)
        if dropout > 0:
            embeds = F.dropout(embeds, p=dropout, training=True)
        logits = backbone.model(inputs_embeds=embeds, attention_mask=mask, position_ids=positions).logits
    shifted = logits[:, :-1].reshape(-1, logits.shape[-1]).float()
    targets = labels[:, 1:].reshape(-1)
    loss = F.cross_entropy(shifted, targets, ignore_index=IGNORE, reduction="sum")
    return loss, int((targets != IGNORE).sum())


def validation_loss(backbone, adapter, rows: list[Row], batch_size: int) -> float:
    import torch

    if not rows:
        return float("nan")
    total, count = 0.0, 0
    adapter.eval()
    backbone.model.eval()
    with torch.no_grad():
        for batch in batches(rows, batch_size, None):
            loss, n = sequence_loss(backbone, adapter, take_rows(rows, batch))
            total += float(loss)
            count += n
    return total / max(count, 1)


def trainable_parameters(backbone, adapter) -> list:
    params = list(adapter.parameters())
    if backbone.lm_trainable:
        params += [p for p in backbone.model.parameters() if p.requires_grad]
    return params


def _snapshot(backbone, adapter) -> dict:
    from .backbones import trainable_lm_state

    return {
        "adapter": {k: v.detach().to("cpu", copy=True) for k, v in adapter.state_dict().items()},
        "lm": trainable_lm_state(backbone),
    }


def train(
    backbone,
    adapter,
    train_rows: list[Row],
    val_rows: list[Row],
    *,
    epochs: int,
    patience: int,
    lr: float,
    batch_size: int,
    weight_decay: float,
    seed: int,
    max_steps: int | None = None,
    item_dropout: float = 0.0,
    dropout: float = 0.0,
    part_dropout: float = 0.0,
    log=None,
) -> tuple[TrainReport, dict]:
    """Train in place; returns the report and the best state (also loaded into the modules)."""
    import torch

    from .backbones import load_lm_state

    report = TrainReport()
    params = trainable_parameters(backbone, adapter)
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    steps_per_epoch = math.ceil(len(train_rows) / batch_size)
    total = max(1, steps_per_epoch * epochs if max_steps is None else min(max_steps, steps_per_epoch * epochs))
    warmup = max(1, min(100, total // 20))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    part_slices = list(adapter.part_slices().values())
    best = None
    best_loss = math.inf
    bad_epochs = 0
    started = time.perf_counter()
    generator = np.random.default_rng(np.random.SeedSequence([seed, 7919]))
    for epoch in range(1, epochs + 1):
        adapter.train()
        if backbone.lm_trainable:
            backbone.model.train()
        running, running_n = 0.0, 0
        for batch in batches(train_rows, batch_size, generator):
            rows = [drop_history_items(row, generator, item_dropout) for row in take_rows(train_rows, batch)]
            rows = [drop_part(row, generator, part_dropout, part_slices) for row in rows]
            loss_sum, n = sequence_loss(backbone, adapter, rows, dropout)
            loss = loss_sum / max(n, 1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            report.steps += 1
            report.rows_seen += len(rows)
            report.tokens_seen += sum(len(r) for r in rows)
            running += float(loss_sum.detach())
            running_n += n
            if max_steps is not None and report.steps >= max_steps:
                break
        report.epochs = epoch
        report.train_loss.append(running / max(running_n, 1))
        val = validation_loss(backbone, adapter, val_rows, batch_size * 2) if val_rows else report.train_loss[-1]
        report.validation_loss.append(val)
        if log is not None:
            log(f"epoch {epoch}: train loss {report.train_loss[-1]:.4f}, validation loss {val:.4f}, "
                f"{time.perf_counter() - started:.1f}s")
        if val < best_loss - 1e-4:
            best_loss, best, bad_epochs = val, _snapshot(backbone, adapter), 0
            report.best_epoch = epoch
        else:
            bad_epochs += 1
            if bad_epochs >= patience:
                report.stopped_early = True
                break
        if max_steps is not None and report.steps >= max_steps:
            break
    report.seconds = time.perf_counter() - started
    if best is None:
        best = _snapshot(backbone, adapter)
    adapter.load_state_dict(best["adapter"])
    load_lm_state(backbone, best["lm"])
    report.best_validation_loss = None if math.isinf(best_loss) or math.isnan(best_loss) else best_loss
    adapter.eval()
    backbone.model.eval()
    return report, best
