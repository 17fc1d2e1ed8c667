"""docs/examples/regen-bench-hello: pip-installed for real, found, run, and its results validated."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "regen-bench-hello"
DISTRIBUTION = "regen-bench-hello-example"


@pytest.fixture
def installed_example(tmp_path):
    # Build from a copy: setuptools writes build/ and *.egg-info beside the sources.
    package = tmp_path / "regen-bench-hello"
    shutil.copytree(EXAMPLE, package, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", str(package)], check=True)
    try:
        yield package
    finally:
        subprocess.run([*pip, "uninstall", "-y", DISTRIBUTION], check=True)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "regen_bench.cli.app", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=300)


def test_example_is_the_plugin_authors_hello_world():
    """Same code as the guide's, with the names changed so both can be installed together."""
    import re

    guide = (EXAMPLE.parents[1] / "plugin-authors.md").read_text()
    guide_module = re.findall(r"```python\n(.*?)```", guide, flags=re.S)[0]
    renamed = guide_module.replace('"hello-words"', '"hello-example-words"').replace('"hello"', '"hello-example"')
    assert (EXAMPLE / "regen_bench_hello_example.py").read_text() == renamed


def test_installed_example_is_listed_runs_and_validates(installed_example, tmp_path):
    listed = cli("plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    plugin = next(p for p in json.loads(listed.stdout) if p["name"] == "hello-example")
    assert plugin["distribution"] == DISTRIBUTION
    assert plugin["version"] == "0.1.0"
    assert plugin["hooks"] == ["register_metrics", "register_models"]
    assert plugin["error"] is None

    out = tmp_path / "runs"
    ran = cli("run", "--model", "hello-example", "--dataset-arg", "users=300", "--task", "user_summary",
              "--metric", "bleu", "--metric", "hello-example-words", "--model-arg", "greeting=They buy",
              "--bootstrap", "100", "--quiet", "--output", str(out))
    assert ran.returncode == 0, ran.stderr
    (run_dir,) = out.iterdir()
    results = json.loads((run_dir / "results.json").read_text())
    assert results["model"]["name"] == "hello-example"
    words = next(s for s in results["scores"] if s["component"] == "hello-example-words")
    assert words["higher_is_better"] is False and words["score"] > 2 and words["signature"]

    checked = subprocess.run(
        [sys.executable, "-c", "import sys; from regen_bench.cli.validate import validate; validate(sys.argv[1:])",
         str(run_dir / "results.json")],
        capture_output=True, text=True, env=dict(os.environ), timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK: all 2 scores recomputed" in checked.stdout
