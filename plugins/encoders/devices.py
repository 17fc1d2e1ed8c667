"""Where torch work runs: the `device` and `dtype` options of the models, metrics and text encoder.

`device` is `auto` (CUDA when torch sees a CUDA device, else the CPU), `cpu`, `cuda` or
`cuda:N`. Asking for CUDA where there is none fails with one line naming the option,
what was asked and what exists. `dtype` is `auto` (bfloat16 autocast on CUDA for
training and generation, float32 on the CPU), `float32` or `bfloat16`.

What a run records: `compute_identity` is None for the CPU in float32 (so a CPU run's
config, and with it every cache key and config hash, is what it was before these
options existed) and `{"device": "cuda", "dtype": ...}` otherwise; it goes into the
model's config (cache keys) and the full device (`cuda:1`, the GPU's name) into `info()`.

torch is imported only when a device other than a plain CPU has to be resolved.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from regen_bench.contracts.errors import RegenBenchError

DEVICE_HELP = "auto (CUDA when available, else CPU), cpu, cuda or cuda:N"
DTYPE_HELP = "auto (bfloat16 autocast on CUDA, float32 on CPU), float32 or bfloat16"
DTYPES = ("auto", "float32", "bfloat16")
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


def check_device(value: str) -> str:
    """A pydantic validator: `value` if it is a device option, else ValueError (no torch)."""
    value = str(value).strip().lower()
    if not _DEVICE.fullmatch(value):
        raise ValueError(f"device must be {DEVICE_HELP}, not {value!r}")
    return value


def _torch():
    try:
        import torch  # deferred: seconds to import, and only a non-CPU device needs it here
    except ImportError:
        return None
    return torch


def _no_nvidia_device_nodes() -> bool:
    """True when the machine shows no NVIDIA device at all: then `auto` is the CPU without importing torch."""
    return not Path("/proc/driver/nvidia/gpus").exists() and not any(Path("/dev").glob("nvidia[0-9]*"))


def cuda_devices() -> int:
    """How many CUDA devices torch sees (0 without torch or CUDA; no torch import on a machine without NVIDIA)."""
    if _no_nvidia_device_nodes():
        return 0
    torch = _torch()
    if torch is None:
        return 0
    try:
        return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - a broken driver is no CUDA
        return 0


def resolve_device(requested: str, who: str, option: str = "device") -> str:
    """`cpu`, `cuda` or `cuda:N` for a request; a clear error when CUDA is asked for and absent."""
    requested = check_device(requested)
    if requested == "cpu":
        return "cpu"
    count = cuda_devices()
    if requested == "auto":
        return "cuda" if count else "cpu"
    index = int(requested.split(":", 1)[1]) if ":" in requested else 0
    if index >= count:
        exists = "cpu" + "".join(f", cuda:{i}" for i in range(count))
        why = "torch is not installed" if _torch() is None else (
            "torch sees no CUDA device" if count == 0 else f"torch sees {count} CUDA device(s)")
        raise RegenBenchError(f"{who}: {option}={requested} asks for a CUDA device, but {why}; "
                              f"devices here: {exists} (use {option}=auto or {option}=cpu)")
    return requested


def resolve_dtype(requested: str, device: str, who: str, option: str = "dtype") -> str:
    """`float32` or `bfloat16`: auto is bfloat16 on CUDA, float32 on the CPU."""
    if requested not in DTYPES:
        raise RegenBenchError(f"{who}: {option}={requested} is not one of {', '.join(DTYPES)}")
    if requested == "auto":
        return "bfloat16" if device.startswith("cuda") else "float32"
    return requested


def compute_identity(device: str, dtype: str = "float32") -> dict | None:
    """What of the device and dtype changes outputs, for a config: None on CPU in float32."""
    kind = device.split(":", 1)[0]
    if kind == "cpu" and dtype == "float32":
        return None
    return {"device": kind, "dtype": dtype}


def device_info(device: str, dtype: str = "float32") -> dict:
    """The full facts for `info()`: the device as resolved, its name on CUDA, the dtype."""
    out: dict = {"device": device, "dtype": dtype}
    if device.startswith("cuda"):
        torch = _torch()
        try:
            out["device_name"] = torch.cuda.get_device_name(torch.device(device))
        except Exception:  # noqa: BLE001 - a name is a nicety
            pass
    return out


def autocast(device: str, dtype: str):
    """torch.autocast in bfloat16 when `dtype` asks for it, else a no-op context."""
    if dtype != "bfloat16":
        return contextlib.nullcontext()
    import torch  # deferred: only bf16 work needs it, and that work has imported torch already

    return torch.autocast(device_type=device.split(":", 1)[0], dtype=torch.bfloat16)
