"""The hello-world plugin of docs/plugin-authors.md, built and pip-installed for real."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugin-authors.md"


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture
def installed_hello_package(tmp_path):
    package = tmp_path / "regen-bench-hello"
    package.mkdir()
    (package / "pyproject.toml").write_text(code_blocks("toml")[0])
    (package / "regen_bench_hello.py").write_text(code_blocks("python")[0])
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", str(package)], check=True)
    try:
        yield package
    finally:
        subprocess.run([*pip, "uninstall", "-y", "regen-bench-hello"], check=True)


def cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "regen_bench.cli.app", *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_hello_world_doc_fits_on_one_screen():
    module = code_blocks("python")[0]
    assert len(module.splitlines()) <= 60


def test_hello_world_imports_only_the_public_surface():
    """A plugin author starts from `from regen_bench import ...`, not from the core's folders."""
    import regen_bench

    tree = ast.parse(code_blocks("python")[0])
    imported = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert imported and all(isinstance(node, ast.ImportFrom) and node.module == "regen_bench" for node in imported)
    names = {alias.name for node in imported for alias in node.names}
    assert names <= set(regen_bench.__all__)
    assert {"Model", "Metric", "Component", "MetricOutput", "hookimpl"} <= names


def test_installed_plugin_package_is_listed_and_runs(installed_hello_package, tmp_path):
    env = dict(os.environ)
    listed = cli("plugins", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    hello = next(p for p in json.loads(listed.stdout) if p["name"] == "hello")
    assert hello["distribution"] == "regen-bench-hello"
    assert hello["version"] == "0.1.0"
    assert hello["hooks"] == ["register_metrics", "register_models"]
    assert hello["error"] is None

    out = tmp_path / "runs"
    ran = cli("run", "--model", "hello", "--dataset-arg", "users=200", "--task", "user_summary",
              "--metric", "bleu", "--metric", "hello-words", "--model-arg", "greeting=They buy",
              "--output", str(out), "--quiet", "--bootstrap", "100", env=env)
    assert ran.returncode == 0, ran.stderr
    results = json.loads(next(out.glob("*/results.json")).read_text())
    assert results["model"]["name"] == "hello"
    assert results["model"]["config"]["options"] == {"greeting": "They buy"}
    components = {s["component"]: s for s in results["scores"]}
    assert components["hello-words"]["higher_is_better"] is False
    assert components["hello-words"]["score"] > 2
    samples = [json.loads(l) for l in next(out.glob("*/samples.jsonl")).read_text().splitlines()]
    assert all(s["prediction"].startswith("They buy") for s in samples)
