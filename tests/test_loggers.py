"""Loggers (experiment trackers) are plugins of their own hook, `register_loggers` (issue 12).

`run --log-to NAME` builds them before any work (an unknown name, a bad option or a
missing library stops the run at once) and calls them once the run folder is written: a
logger that raises loses nothing, and says so in one `warning:` line. `regen-bench log
RUN_DIR --to NAME` sends a written run again. The working logger here is the example of
docs/trackers.md, read from the page, so the page's code is what is tested.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.cli.options import logger_args_by_logger
from regen_bench.contracts.logger import FinishedRun
from regen_bench.results.loader import load_run

ROOT = Path(__file__).resolve().parents[1]
RUN = ["run", "--model", "popular", "--dataset-arg", "users=200", "--limit", "20", "--bootstrap", "20", "--quiet"]

FAILING_TRACKER = '''
from regen_bench import RunLogger, hookimpl


class Down(RunLogger):
    name = "down"
    description = "A tracker whose server is down"

    def log_run(self, run):
        raise ConnectionError("tracking server at http://127.0.0.1:9 refused the connection")


@hookimpl
def register_loggers(register):
    register(Down)
'''


def invoke(args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def error_line(result) -> str:
    assert result.exit_code == 2, result.output
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    return line


def score(results: dict, task: str, metric: str, component: str) -> dict:
    [entry] = [e for e in results["scores"] if (e["task"], e["metric"], e["component"]) == (task, metric, component)]
    return entry


@pytest.fixture
def plugins(tmp_path):
    """The failing tracker and docs/trackers.md's example (`jsonl`) as plugin files."""
    failing = tmp_path / "failing_tracker.py"
    failing.write_text(FAILING_TRACKER, encoding="utf-8")
    [code] = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "trackers.md").read_text(encoding="utf-8"), re.S)
    example = tmp_path / "regen_bench_jsonl_tracker.py"
    example.write_text(code, encoding="utf-8")
    return ["--plugins", failing, "--plugins", example]


@pytest.fixture(scope="module")
def written_run(tmp_path_factory):
    """One run folder for the tests of `regen-bench log` (its own cache)."""
    root = tmp_path_factory.mktemp("written-run")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REGEN_BENCH_CACHE_DIR", str(root / "cache"))
        result = invoke([*RUN, "--output", root / "runs"])
    assert result.exit_code == 0, result.output
    [run_dir] = (root / "runs").iterdir()
    return run_dir


def test_a_failing_logger_warns_and_the_run_is_written_and_the_next_logger_still_logs(tmp_path, plugins):
    out, lines = tmp_path / "runs", tmp_path / "all-runs.jsonl"
    result = invoke([*plugins, *RUN, "--output", out, "--log-to", "down", "--log-to", f"jsonl:{lines}"])
    assert result.exit_code == 0, result.output
    [run_dir] = out.iterdir()
    loaded = load_run(run_dir)  # written whole: results.json, and the samples it records
    assert loaded.rows
    [warning] = [line for line in result.stderr.splitlines() if "failed to log" in line]
    assert warning.startswith("warning: logger 'down' (plugin 'failing_tracker') failed to log run "
                              f"{loaded.results.run_id}: ConnectionError: tracking server at http://127.0.0.1:9 "
                              "refused the connection")
    assert f"log it again with: regen-bench log {run_dir} --to down" in warning
    assert "ConnectionError" not in (run_dir / "results.json").read_text(encoding="utf-8")  # nothing recorded

    # The logger after the failing one got the run: the scores of results.json, by name.
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    [logged] = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]
    assert logged["run_id"] == results["run_id"]
    bleu = score(results, "user_summary", "bleu", "bleu")
    assert logged["metrics"]["user_summary/bleu"] == bleu["score"]
    assert logged["metrics"]["user_summary/bleu/ci_low"] == bleu["ci_low"]
    assert logged["metrics"]["user_summary/bleu/ci_high"] == bleu["ci_high"]
    assert logged["metrics"]["user_summary/bleu/n"] == bleu["n"] == 20
    assert logged["metrics"]["next_item/recall@k/recall@10"] == score(results, "next_item", "recall@k", "recall@10")["score"]
    assert logged["params"]["dataset.split_hash"] == results["dataset"]["split_hash"]
    assert logged["signatures"]["user_summary/rouge/rouge1"] == score(results, "user_summary", "rouge", "rouge1")["signature"]
    assert f"Logged to jsonl:{lines}: {lines.resolve()}" in result.stdout


def test_an_unknown_logger_fails_before_any_work_naming_the_known_ones(tmp_path, isolated_cache):
    out = tmp_path / "runs"
    line = error_line(invoke([*RUN, "--output", out, "--log-to", "mlfow"]))
    assert line == "error: unknown logger 'mlfow'. Did you mean: mlflow? Known loggers: mlflow, wandb"
    assert not out.exists()
    assert list(isolated_cache.iterdir()) == []  # no data made, nothing generated


def test_bad_logger_options_fail_before_any_work(tmp_path, isolated_cache, plugins):
    out = tmp_path / "runs"
    line = error_line(invoke([*RUN, "--output", out, "--log-to", "mlflow", "--logger-arg", "mlflow:tracking=x"]))
    assert line == ("error: invalid options for logger 'mlflow': tracking: no such option; "
                    "valid options: tracking_uri, experiment, run_name")
    line = error_line(invoke([*RUN, "--output", out, "--log-to", "mlflow", "--logger-arg", "wandb:project=x"]))
    assert line == "error: --logger-arg names loggers that are not selected: wandb"
    line = error_line(invoke([*plugins, *RUN, "--output", out, "--log-to", "down:x"]))
    assert line == "error: logger 'down' takes no argument; use --log-to down"
    result = invoke([*RUN, "--output", out, "--log-to", "mlflow", "--logger-arg", "tracking_uri=x"])
    assert result.exit_code == 2 and "expected LOGGER:KEY=VALUE" in result.stderr
    assert not out.exists() and list(isolated_cache.iterdir()) == []


def test_logger_args_take_a_colon_or_a_dot():
    parsed = logger_args_by_logger(("mlflow:tracking_uri=file:///tmp/x=y", "mlflow.experiment=e", "wandb:mode=online"))
    assert parsed == {"mlflow": {"tracking_uri": "file:///tmp/x=y", "experiment": "e"}, "wandb": {"mode": "online"}}
    for bad in (":key=1", "mlflow:=1", "nokey=1"):
        with pytest.raises(click.BadParameter):
            logger_args_by_logger((bad,))


@pytest.mark.parametrize("module,library", [("mlflow", "mlflow-skinny"), ("wandb", "wandb")])
def test_a_logger_without_its_library_names_the_tracking_extra_before_any_work(tmp_path, module, library):
    code = f"import sys\nsys.modules[{module!r}] = None\nfrom regen_bench.cli.app import main\nmain(sys.argv[1:])\n"
    out = tmp_path / "runs"
    result = subprocess.run([sys.executable, "-c", code, *RUN, "--output", str(out), "--log-to", module],
                            capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert line == (f"error: logger {module!r} needs the optional library {library!r}, which is not installed: "
                    "pip install 'regen-bench[tracking]'")
    assert not out.exists()


def test_loggers_are_listed_and_the_cli_starts_without_importing_a_tracker():
    code = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from regen_bench.cli.app import main\n"
        "for args in (['--help'], ['run', '--help'], ['log', '--help'], ['plugins', '--json'], ['list', 'loggers']):\n"
        "    r = CliRunner().invoke(main, args)\n"
        "    assert r.exit_code == 0, r.output\n"
        "loggers = json.loads(CliRunner().invoke(main, ['list', 'loggers', '--json']).stdout)\n"
        "plugins = json.loads(CliRunner().invoke(main, ['plugins', '--json']).stdout)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow', 'wandb'))\n"
        "print(json.dumps({'heavy': heavy, 'loggers': loggers, 'plugins': plugins}))\n"
    )
    out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert out["heavy"] == []
    by_name = {item["name"]: item for item in out["loggers"]}
    assert set(by_name) >= {"mlflow", "wandb"}
    for name in ("mlflow", "wandb"):
        assert by_name[name]["plugin"] == name and by_name[name]["extras"] == ["tracking"]
        assert by_name[name]["install"] == "pip install 'regen-bench[tracking]'"
    hooks = {plugin["name"]: plugin["hooks"] for plugin in out["plugins"]}
    assert hooks["mlflow"] == hooks["wandb"] == ["register_loggers"]
    listed = invoke(["list", "loggers"]).stdout
    assert re.search(r"^mlflow\s+mlflow\s+\[tracking\]\s+MLflow", listed, re.M), listed


def test_log_command_sends_a_written_run_and_exits_1_when_a_logger_fails(tmp_path, plugins, written_run):
    lines = tmp_path / "again.jsonl"
    result = invoke([*plugins, "log", written_run, "--to", "jsonl", "--logger-arg", f"jsonl:path={lines}"])
    assert result.exit_code == 0, result.output
    run = FinishedRun(written_run, json.loads((written_run / "results.json").read_text(encoding="utf-8")))
    [logged] = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]
    assert logged["metrics"] == run.metrics() and logged["params"] == run.params()
    assert f"Logged {run.run_id} to jsonl: {lines.resolve()}" in result.stdout

    result = invoke([*plugins, "log", written_run / "results.json", "--to", "down", "--to", "jsonl",
                     "--logger-arg", f"jsonl:path={lines}"])
    assert result.exit_code == 1, result.output
    assert "warning: logger 'down' (plugin 'failing_tracker') failed to log run" in result.stderr
    assert len(lines.read_text(encoding="utf-8").splitlines()) == 2  # the next logger still logged


def test_log_command_refuses_a_run_whose_samples_changed(tmp_path, plugins, written_run):
    copy = tmp_path / written_run.name
    copy.mkdir()
    (copy / "results.json").write_bytes((written_run / "results.json").read_bytes())
    (copy / "samples.jsonl").write_text("", encoding="utf-8")
    line = error_line(invoke([*plugins, "log", copy, "--to", "jsonl", "--logger-arg", f"jsonl:path={tmp_path / 'x'}"]))
    assert "does not match" in line and not (tmp_path / "x").exists()


def test_finished_run_names_every_score_with_its_interval(written_run):
    results = json.loads((written_run / "results.json").read_text(encoding="utf-8"))
    run = FinishedRun(written_run, results)
    metrics = run.metrics()
    for entry in results["scores"]:
        name = entry["task"] + "/" + entry["metric"] + ("" if entry["component"] == entry["metric"]
                                                         else "/" + entry["component"])
        assert (metrics[name], metrics[f"{name}/ci_low"], metrics[f"{name}/ci_high"], metrics[f"{name}/n"]) == (
            entry["score"], entry["ci_low"], entry["ci_high"], entry["n"])
        assert run.signatures()[name] == entry["signature"]
    assert metrics["timings/score"] == results["timings"]["score"]
    params = run.params()
    assert params["model.name"] == "popular" and params["seed"] == "0" and params["k"] == str(results["k"])
    assert json.loads(params["tasks"]) == results["tasks"]
    assert params["model.config.options.similarity"] == results["model"]["config"]["options"]["similarity"]
    assert params["harness.version"] == results["harness"]["version"]
    assert params["metrics.bleu.signature"] == next(m["signature"] for m in results["metrics"] if m["name"] == "bleu")
    assert {path.name for path in run.files()} >= {"results.json", "samples.jsonl"}


def test_a_failed_score_logs_only_its_n_and_its_reason(written_run):
    results = json.loads((written_run / "results.json").read_text(encoding="utf-8"))
    entry = score(results, "user_summary", "bleu", "bleu")
    entry.update(status="failed", reason="unrated: 20 of 20", score=None, ci_low=None, ci_high=None, n=0)
    run = FinishedRun(written_run, results)
    metrics = run.metrics()
    assert metrics["user_summary/bleu/n"] == 0
    assert not {"user_summary/bleu", "user_summary/bleu/ci_low", "user_summary/bleu/ci_high"} & set(metrics)
    assert run.failed_scores() == {"user_summary/bleu": "unrated: 20 of 20"}
