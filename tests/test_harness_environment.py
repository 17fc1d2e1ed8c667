"""The facts recorded about the harness still find the checkout after the core moved into folders."""

import subprocess
from pathlib import Path

import pytest

from regen_bench.util.environment import harness_git_sha

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="runs from a git checkout only")
def test_harness_git_sha_is_the_checkouts_commit():
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    sha = harness_git_sha()
    assert sha is not None and sha.removesuffix("-dirty") == head
