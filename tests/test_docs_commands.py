"""The docs' commands run, and the user guide names every built-in model and metric.

Every `regen-bench ...` line in a ```bash block of README.md and docs/*.md is either
run (made cheap and offline: a small synthetic dataset, few bootstrap resamples,
outputs in a temporary folder, placeholders such as `runs/<run-id>` filled with real
runs) and must exit 0, or skipped by a rule below that says why.
"""

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
USERS = "300"
BOOTSTRAP = "50"

# (pattern searched in the command, why it is not run here)
SKIP = [
    (r"\bdata download\b", "downloads from Kaggle"),
    (r"(^|\s)\.\.\.(\s|$)", "an elided command (`...`)"),
    (r"llm-openai|llm-gemini|llm-rater|llm-judge-pair|openai:|gemini:", "calls a paid API (tested against local HTTP servers)"),
    (r"--model llm-local", "loads SmolLM2 (slow; tested in its own module)"),
    (r"--metric (semsim|bertscore)\b|metric baseline", "loads a sentence-embedding model (slow; tested in its own modules)"),
    (r"--model (fusion|cf-only|text-only|retrieval-(cf|text|fusion)|wals|fusion-knn)\b",
     "trains or embeds (slow); tested in its own modules"),
    (r"--model hello\b|--model hello-example\b|--plugins ", "needs the hello plugin installed "
     "(test_hello_world_plugin_package.py, test_example_plugin_package.py)"),
    (r"evaluate:", "needs an evaluate module path (test_evaluate_adapter.py)"),
    (r"\banalyze soft-tokens\b", "needs a trained fusion run (test_fusion_models.py)"),
    (r"--log-to wandb|--to wandb", "starts W&B (tested offline in test_logger_wandb.py)"),
]
REAL_DATASETS = {"regen-office", "regen-clothing"}


def bash_commands(path: Path):
    """(line number, command) of each regen-bench command in the ```bash blocks of `path`."""
    text = path.read_text(encoding="utf-8")
    for block in re.finditer(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        first_line = text[: block.start()].count("\n") + 2
        lines = block.group(1).split("\n")
        i = 0
        while i < len(lines):
            start, command = i, lines[i]
            while command.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                command = command.rstrip()[:-1] + " " + lines[i].strip()
            i += 1
            if command.strip().startswith("regen-bench"):
                yield first_line + start, command.strip()


COMMANDS = [(doc, line, command) for doc in DOCUMENTS for line, command in bash_commands(doc)]


def skip_reason(command: str) -> str | None:
    for pattern, reason in SKIP:
        if re.search(pattern, command):
            return reason
    return None


def _set_option(argv: list[str], option: str, value: str) -> list[str]:
    out, i = [], 0
    while i < len(argv):
        if argv[i] == option:
            i += 2
            continue
        if argv[i].startswith(option + "="):
            i += 1
            continue
        out.append(argv[i])
        i += 1
    return [*out, option, value]


def _path_like(arg: str) -> bool:
    return arg.endswith((".jsonl", ".jsonl.gz")) or arg.startswith("path/to/")


def rewrite(argv: list[str], ws: dict) -> list[str]:
    """Make a documented command cheap, offline and confined to the workspace."""
    argv = [arg.replace("<run-id>", ws["run_a"]).replace("<run-a>", ws["run_a"]).replace("<run-b>", ws["run_b"])
            .replace("RUN_DIR", f"runs/{ws['run_a']}") for arg in argv]
    if argv[:1] == ["run"]:
        dataset = argv[argv.index("--dataset") + 1] if "--dataset" in argv else "synthetic"
        if _path_like(dataset):
            argv = _set_option(argv, "--dataset", ws["data_file"])
            argv = [a for a in argv if a != "--dataset-arg"]  # a file takes no dataset options
        else:
            if dataset in REAL_DATASETS:
                argv = _set_option(argv, "--dataset", "synthetic")
            kept, i = [], 0
            while i < len(argv):
                if argv[i] == "--dataset-arg" and argv[i + 1].startswith("users="):
                    i += 2
                    continue
                kept.append(argv[i])
                i += 1
            argv = [*kept, "--dataset-arg", f"users={USERS}"]
        argv = _set_option(argv, "--output", str(ws["root"] / "runs"))
        argv = _set_option(argv, "--bootstrap", BOOTSTRAP)
        return [*argv, "--quiet"]
    if argv[:2] == ["data", "generate"]:
        argv = _set_option(argv, "--users", USERS)
        return _set_option(argv, "--output", str(ws["root"] / "generated.jsonl"))
    if argv[:1] == ["score"] or argv[:1] == ["compare"]:
        return _set_option(argv, "--bootstrap", BOOTSTRAP)
    if argv[:2] == ["leaderboard", "build"]:
        return [*_set_option(argv, "--bootstrap", BOOTSTRAP), "--no-plots"]
    return [ws["data_file"] if _path_like(arg) else arg for arg in argv]


def command_path(argv: list[str]) -> tuple[str, ...]:
    """The (sub)command names at the start of argv, as far as the CLI resolves them."""
    names, group = [], main
    for arg in argv:
        if arg.startswith("-") or not hasattr(group, "commands"):
            break
        group = group.commands.get(arg)
        if group is None:
            break
        names.append(arg)
    return tuple(names)


def invoke(*args):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, f"regen-bench {shlex.join(args)}\n{result.output}"
    return result


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder with two real runs, a REGEN-format file, and a leaderboard submission."""
    root = tmp_path_factory.mktemp("docs-workspace")
    cache = tmp_path_factory.mktemp("docs-cache")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REGEN_BENCH_CACHE_DIR", str(cache))
        env.chdir(root)
        invoke("data", "generate", "--users", USERS, "--seed", "0", "--output", "synthetic.jsonl")
        runs = {}
        for model in ("popular", "retrieval-tfidf"):
            out = root / "runs"
            before = set(out.iterdir()) if out.exists() else set()
            invoke("run", "--model", model, "--dataset-arg", f"users={USERS}", "--bootstrap", BOOTSTRAP,
                   "--quiet", "--output", str(out))
            (run_dir,) = set(out.iterdir()) - before
            runs[model] = run_dir
    submission = root / "leaderboards" / "results" / "synthetic" / "popular"
    submission.mkdir(parents=True)
    for name in ("results.json", "samples.jsonl"):
        shutil.copy(runs["popular"] / name, submission / name)
    return {"root": root, "cache": cache, "data_file": str(root / "synthetic.jsonl"),
            "run_a": runs["popular"].name, "run_b": runs["retrieval-tfidf"].name}


@pytest.mark.parametrize("doc,line,command", COMMANDS,
                         ids=[f"{doc.name}:{line}" for doc, line, _ in COMMANDS])
def test_documented_command_runs(doc, line, command, workspace, monkeypatch):
    reason = skip_reason(command)
    if reason:
        pytest.skip(reason)
    argv = shlex.split(command, comments=True)[1:]
    monkeypatch.setenv("REGEN_BENCH_CACHE_DIR", str(workspace["cache"]))
    monkeypatch.chdir(workspace["root"])
    argv = rewrite(argv, workspace)
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, (
        f"{doc.name}:{line}: {command}\nran as: regen-bench {shlex.join(argv)}\n{result.output}"
    )


def test_enough_documented_commands_run():
    runnable = [c for _, _, c in COMMANDS if not skip_reason(c)]
    assert len(runnable) >= 15, runnable


def builtin_names() -> dict[str, list[str]]:
    from regen_bench.plugin.registry import get_registry

    registry = get_registry()
    names = {}
    for kind in ("model", "metric", "dataset", "logger"):
        names[kind] = [
            name for name in registry.names(kind)
            if registry.host.infos[registry.get(kind, name).plugin].distribution == "regen-bench"
        ]
    return names


def test_user_guide_names_every_builtin_model_metric_dataset_and_logger():
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    names = builtin_names()
    assert len(names["model"]) >= 5 and len(names["metric"]) >= 5 and len(names["logger"]) >= 2
    missing = [f"{kind} {name}" for kind, found in names.items() for name in found if f"`{name}`" not in guide]
    assert not missing, f"docs/user-guide.md does not document: {', '.join(missing)} (add them with their options)"


def test_user_guide_documents_every_option_of_every_builtin():
    """Each option of a built-in model, metric, dataset or logger appears (as `option`) in the user guide."""
    from regen_bench.plugin.registry import get_registry

    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    registry = get_registry()
    missing = []
    for kind in ("model", "metric", "dataset", "logger"):
        for name in builtin_names()[kind]:
            options = getattr(registry.get(kind, name).cls, "Options", None)
            for option in getattr(options, "model_fields", {}):
                if f"`{option}`" not in guide:
                    missing.append(f"{kind} {name}: {option}")
    assert not missing, f"docs/user-guide.md does not document these options: {', '.join(missing)}"
