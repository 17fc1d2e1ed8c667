"""What a fusion fit measures about its own training, and the loss computed on label positions only.

The training report carries what `bench/run_bench.py` prints: the share of padding among
the positions computed, seconds per epoch, each task's validation loss per epoch and the
epoch where it was lowest. The tiny backbone applies its LM head only where a label is
(`training._label_logits`): the loss must be the one full logits give.
"""

import math

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("use_shared_cache")  # conftest: embed items once

FAST = {"hidden": 32, "layers": 1, "heads": 2, "vocab_size": 256, "epochs": 2, "max_train_users": 40,
        "max_validation_rows": 24, "max_new_tokens": 12, "batch_size": 8}
TASKS = ["user_summary", "endorsement"]


@pytest.fixture(scope="module")
def model():
    from regen_bench.data.loading import load_dataset_examples
    from regen_bench.data.splits import split_users_by_hash
    from regen_bench_plugins.datasets.synthetic import SyntheticDataset
    from regen_bench_plugins.models.fusion import SoftTokenModel

    splits = split_users_by_hash(load_dataset_examples(SyntheticDataset(users=600, seed=0)).examples)
    fitted = SoftTokenModel(**FAST, reuse_weights=False)
    fitted.fit(splits.train, splits.validation, tasks=TASKS, seed=0)
    fitted.splits = splits
    return fitted


def test_report_has_padding_share_epoch_seconds_and_per_task_validation_loss(model):
    report = model.train_report
    assert report["epochs"] == 2 and len(report["epoch_seconds"]) == 2
    assert all(s > 0 for s in report["epoch_seconds"])
    assert 0 <= report["padding_share"] < 1
    assert report["train_positions"] >= report["train_tokens"] > report["train_label_tokens"] > 0
    assert report["padding_share"] == round(1 - report["train_tokens"] / report["train_positions"], 4)
    per_task = report["task_validation_loss"]
    assert set(per_task) == set(TASKS) and all(len(v) == 2 for v in per_task.values())
    assert report["task_best_epoch"] == {t: int(np.argmin(v)) + 1 for t, v in per_task.items()}


def test_overall_validation_loss_is_the_token_weighted_mean_of_the_tasks(model):
    from regen_bench_plugins.models.fusion.soft_tokens.training import validation_loss

    users = sorted(model.splits.validation, key=lambda e: e.example_id)[:20]
    rows = model._rows(users, with_targets=True)
    overall, per_task = validation_loss(model.backbone, model.adapter, rows, 8)
    tokens = {t: sum(len(r.target_ids) for r in rows if r.task == t) for t in TASKS}
    weighted = sum(per_task[t] * tokens[t] for t in TASKS) / sum(tokens.values())
    assert set(per_task) == set(TASKS)
    assert overall == pytest.approx(weighted, rel=1e-6)


def test_label_position_head_gives_the_full_logits_loss(model):
    import torch
    import torch.nn.functional as F

    from regen_bench_plugins.models.fusion.soft_tokens.sequences import IGNORE, assemble
    from regen_bench_plugins.models.fusion.soft_tokens.training import sequence_loss

    users = sorted(model.splits.train, key=lambda e: e.example_id)[:6]
    rows = model._rows(users, with_targets=True)
    with torch.no_grad():
        loss, n = sequence_loss(model.backbone, model.adapter, rows)
        sums, counts = sequence_loss(model.backbone, model.adapter, rows, per_row=True)
        embeds, mask, positions, labels = assemble(rows, model.backbone, model.adapter, train=True)
        logits = model.backbone.model(inputs_embeds=embeds, attention_mask=mask, position_ids=positions).logits
        full = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
                               ignore_index=IGNORE, reduction="sum")
    assert n == sum(len(r.target_ids) for r in rows) == int(counts.sum())
    assert float(loss) == pytest.approx(float(full), rel=1e-5)
    assert float(sums.sum()) == pytest.approx(float(full), rel=1e-5)
    assert [int(c) for c in counts] == [len(r.target_ids) for r in rows]
    assert not math.isnan(float(loss))


def test_adapter_learning_rate_is_its_own_parameter_group(model):
    from regen_bench_plugins.models.fusion.soft_tokens.training import make_optimizer

    optimizer = make_optimizer(model.backbone, model.adapter, lr=0.003, adapter_lr=0.02, weight_decay=0.01)
    adapter_group, lm_group = optimizer.param_groups
    assert (adapter_group["lr"], lm_group["lr"]) == (0.02, 0.003)
    assert {id(p) for p in adapter_group["params"]} == {id(p) for p in model.adapter.parameters()}
    assert {id(p) for p in lm_group["params"]} == {id(p) for p in model.backbone.model.parameters()}
    same = make_optimizer(model.backbone, model.adapter, lr=0.003, adapter_lr=None, weight_decay=0.01)
    assert [g["lr"] for g in same.param_groups] == [0.003, 0.003]
