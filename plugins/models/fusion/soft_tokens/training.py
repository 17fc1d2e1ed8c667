"""Teacher-forced training of the adapter (and the LM's trainable weights) with early stopping.

AdamW (the adapter at its own learning rate, `make_optimizer`), linear warm-up then
cosine decay to 10% of the learning rate over the epoch cap, gradient clipping at 1.0.
The loss is computed at label positions only (`_label_logits`). Batches: each epoch a
seeded permutation, sorted by length within blocks of 16 batches (less padding), the
batch order shuffled again.
With `item_dropout`, each training row loses a random share of its history items
every time it is seen (`sequences.drop_history_items`). After each epoch the
token-mean validation loss decides (each task's is reported too): the best state is
kept, and training stops after `patience` epochs without improvement (or at `epochs`).
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
    label_tokens: int = 0  # positions with a label (narrative + EOS)
    positions: int = 0  # positions computed in training batches (tokens + padding)
    padding: int = 0  # of which padding
    epoch_seconds: list[float] = field(default_factory=list)
    task_validation_loss: dict[str, list[float]] = field(default_factory=dict)

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
            "train_rows_seen": self.rows_seen,
            "train_tokens": self.tokens_seen,
            "train_label_tokens": self.label_tokens,
            "train_positions": self.positions,
            "padding_share": round(self.padding / self.positions, 4) if self.positions else None,
            "epoch_seconds": [round(x, 2) for x in self.epoch_seconds],
            "task_validation_loss": {t: [round(x, 4) for x in v] for t, v in self.task_validation_loss.items()},
            "task_best_epoch": {t: int(np.argmin(v)) + 1 for t, v in self.task_validation_loss.items() if v},
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


def _label_logits(backbone, embeds, mask, positions, labels):
    """(logits, targets) at the positions that carry a label. The tiny backbone's head is
    applied to those positions only (a third of a batch's positions carry none: soft
    tokens, instruction, padding); another backbone computes every position's logits."""
    targets = labels[:, 1:]
    keep = targets != IGNORE
    model = backbone.model
    if getattr(backbone, "kind", None) == "tiny":
        hidden = model.get_decoder()(inputs_embeds=embeds, attention_mask=mask, position_ids=positions)
        return model.get_output_embeddings()(hidden.last_hidden_state[:, :-1][keep]), targets[keep], keep
    logits = model(inputs_embeds=embeds, attention_mask=mask, position_ids=positions).logits
    return logits[:, :-1][keep], targets[keep], keep


def sequence_loss(backbone, adapter, rows: list[Row], dropout: float = 0.0, per_row: bool = False):
    """(summed token cross-entropy, number of target tokens) of a batch; `dropout` on the input
    embeddings. With `per_row`, both per row (tensors of len(rows))."""
    import torch
    import torch.nn.functional as F

    from regen_bench_plugins.encoders.devices import autocast

    with autocast(getattr(backbone, "device", "cpu"), getattr(backbone, "dtype", "float32")):
        embeds, mask, positions, labels = assemble(rows, backbone, adapter, train=True)
        if dropout > 0:
            embeds = F.dropout(embeds, p=dropout, training=True)
        logits, targets, keep = _label_logits(backbone, embeds, mask, positions, labels)
    if not per_row:
        return F.cross_entropy(logits.float(), targets, reduction="sum"), int(targets.numel())
    losses = F.cross_entropy(logits.float(), targets, reduction="none")
    owner = torch.arange(len(rows), device=keep.device).unsqueeze(1).expand_as(keep)[keep]
    sums = torch.zeros(len(rows), dtype=losses.dtype, device=losses.device).index_add_(0, owner, losses)
    return sums, keep.sum(dim=1)


def batch_positions(rows: list[Row]) -> tuple[int, int]:
    """(positions computed, positions that are padding) of a training batch."""
    lengths = [len(r) for r in rows]
    return max(lengths) * len(lengths), max(lengths) * len(lengths) - sum(lengths)


def validation_loss(backbone, adapter, rows: list[Row], batch_size: int) -> tuple[float, dict[str, float]]:
    """Token-mean validation loss over all rows, and per task (rows' `task`)."""
    import torch

    if not rows:
        return float("nan"), {}
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    adapter.eval()
    backbone.model.eval()
    with torch.no_grad():
        for batch in batches(rows, batch_size, None):
            part = take_rows(rows, batch)
            sums, ns = sequence_loss(backbone, adapter, part, per_row=True)
            for row, loss, n in zip(part, sums.tolist(), ns.tolist()):
                totals[row.task] = totals.get(row.task, 0.0) + loss
                counts[row.task] = counts.get(row.task, 0) + int(n)
    overall = sum(totals.values()) / max(sum(counts.values()), 1)
    return overall, {t: totals[t] / max(counts[t], 1) for t in sorted(totals)}


def trainable_parameters(backbone, adapter) -> list:
    params = list(adapter.parameters())
    if backbone.lm_trainable:
        params += [p for p in backbone.model.parameters() if p.requires_grad]
    return params


def make_optimizer(backbone, adapter, *, lr: float, adapter_lr: float | None, weight_decay: float):
    """AdamW over the trainable weights: the adapter's at `adapter_lr` (default `lr`), the LM's
    at `lr`. The adapter is what must learn to read brand and colour from the item text
    features (faint directions, see `sequences.Whitening`); at the LM's rate it learns them
    last, and a higher rate for it alone reaches a lower validation loss in the same epochs."""
    import torch

    params = trainable_parameters(backbone, adapter)
    adapter_params = list(adapter.parameters())
    groups = [{"params": adapter_params, "lr": lr if adapter_lr is None else adapter_lr}]
    if len(params) > len(adapter_params):
        groups.append({"params": params[len(adapter_params):], "lr": lr})
    return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)


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
    adapter_lr: float | None = None,
    log=None,
) -> tuple[TrainReport, dict]:
    """Train in place; returns the report and the best state (also loaded into the modules)."""
    import torch

    from .backbones import load_lm_state

    report = TrainReport()
    params = trainable_parameters(backbone, adapter)
    optimizer = make_optimizer(backbone, adapter, lr=lr, adapter_lr=adapter_lr, weight_decay=weight_decay)
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
        epoch_started = time.perf_counter()
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
            computed, padding = batch_positions(rows)
            report.tokens_seen += computed - padding
            report.label_tokens += n
            report.positions += computed
            report.padding += padding
            running += float(loss_sum.detach())
            running_n += n
            if max_steps is not None and report.steps >= max_steps:
                break
        report.epochs = epoch
        report.train_loss.append(running / max(running_n, 1))
        report.epoch_seconds.append(time.perf_counter() - epoch_started)
        if val_rows:
            val, per_task = validation_loss(backbone, adapter, val_rows, batch_size * 2)
            for task, loss in per_task.items():
                report.task_validation_loss.setdefault(task, []).append(loss)
        else:
            val = report.train_loss[-1]
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
