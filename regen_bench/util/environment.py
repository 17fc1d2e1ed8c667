"""Facts about the harness and machine that made a result: version, git sha, packages."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

KEY_PACKAGES = (
    "regen-bench", "numpy", "pydantic", "pluggy", "sacrebleu", "rouge-score", "rouge-score-rs",
    "datasets", "pyarrow", "scikit-learn", "torch", "transformers", "sentence-transformers", "implicit",
)


def harness_git_sha() -> str | None:
    """The git commit of the regen-bench source tree, when it runs from a checkout."""
    root = Path(__file__).resolve().parents[2]  # regen_bench/util/environment.py -> the checkout
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    sha = out.stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True, text=True, timeout=10,
    )
    return sha + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def package_versions(names=KEY_PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def cpu_model() -> str | None:
    """The CPU's model name (Linux /proc/cpuinfo, else platform.processor()).

    Trained models' numbers repeat bit for bit on the same CPU model and thread count;
    another CPU can pick other float kernels (AVX2 vs AVX-512), so it is recorded."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def environment_info() -> dict:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "packages": package_versions(),
    }
