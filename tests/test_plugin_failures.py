"""Plugins that break are reported, never silent and never a traceback (issue 9, defect 4).

- a plugin that fails to import (an entry point of a real installed distribution, or a
  `--plugins` file) is a warning line on every command, and `run --model` of a model it
  would register says that plugin failed (not "unknown model ... Did you mean");
- a `--plugins` path that does not exist is a usage error;
- a model that raises, returns non-strings, the wrong number of outputs or a ranking
  that is not a list of ids fails the run in one line naming it, and nothing bad is
  cached (the next run of a fixed model scores cleanly; finished batches stay cached);
- a metric that raises fails the run in one line naming its plugin;
- two distributions registering one name: unrelated commands still work, the name says
  which two claim it and how to block either, and blocking by distribution works.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.plugin import registry

RUN = ["--dataset-arg", "users=120", "--task", "user_summary", "--metric", "bleu", "--bootstrap", "20", "--quiet"]

CONTRACT_MODELS = textwrap.dedent('''
    import os
    from regen_bench import hookimpl
    from regen_bench.contracts.model import Model

    def _log(examples):
        with open(os.environ["ASKED"], "a") as log:
            log.writelines(e.example_id + "\\n" for e in examples)

    class NonStr(Model):
        """Returns an int for the first example of its second batch while $BAD is set."""
        name = "nonstr"
        batch_size = 4
        calls = 0
        def generate(self, examples, task):
            _log(examples)
            NonStr.calls += 1
            bad = bool(os.environ.get("BAD")) and NonStr.calls == 2
            return [123 if bad and i == 0 else "a narrative" for i, e in enumerate(examples)]

    class Raises(Model):
        name = "raises"
        batch_size = 4
        calls = 0
        def generate(self, examples, task):
            _log(examples)
            Raises.calls += 1
            if os.environ.get("BAD") and Raises.calls == 2:
                raise ValueError("broke inside generate")
            return ["a narrative" for e in examples]

    class Short(Model):
        name = "short"
        def generate(self, examples, task):
            return ["only one"]

    class BadRanking(Model):
        name = "bad-ranking"
        def recommend(self, examples, k):
            return ["B000000001" for e in examples]  # a str per example, not a list of ids

    @hookimpl
    def register_models(register):
        for cls in (NonStr, Raises, Short, BadRanking):
            register(cls)
''')

RAISING_METRIC = textwrap.dedent('''
    from regen_bench import hookimpl
    from regen_bench.contracts.metric import Component, Metric, MetricOutput

    class Boom(Metric):
        name = "boom"
        def score(self, predictions, references, examples):
            raise ZeroDivisionError("metric went boom")

    class Number(Metric):
        name = "number"
        def score(self, predictions, references, examples):
            return 0.5

    class Few(Metric):
        name = "few"
        def score(self, predictions, references, examples):
            return MetricOutput([Component.mean("few", [1.0])])

    @hookimpl
    def register_metrics(register):
        for cls in (Boom, Number, Few):
            register(cls)
''')


def _plugin(tmp_path, name, body) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(body)
    return path


def _invoke(args):
    registry.reset()
    return CliRunner().invoke(main, args)


def _one_error_line(result) -> str:
    assert "Traceback" not in result.output, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    return errors[0]


# -- import failures -------------------------------------------------------------------


def test_a_plugin_file_that_raises_at_import_is_reported_on_every_command(tmp_path):
    path = _plugin(tmp_path, "mymodel", "raise RuntimeError('kaboom at import')\n")
    for command in (["list", "models"], ["list", "metrics", "--json"], ["plugins"]):
        result = _invoke(["--plugins", str(path), *command])
        assert result.exit_code == 0, result.output
        assert "warning: plugin 'mymodel'" in result.stderr and "kaboom at import" in result.stderr, command
        assert "Traceback" not in result.output
    json.loads(_invoke(["--plugins", str(path), "list", "metrics", "--json"]).stdout)  # stdout stays JSON
    result = _invoke(["--plugins", str(path), "run", "--model", "mymodel", *RUN, "--output", str(tmp_path / "o")])
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert "model 'mymodel' is unavailable: plugin 'mymodel'" in line and "kaboom at import" in line
    assert "Did you mean" not in line
    # --debug adds the traceback of the failed plugin
    result = _invoke(["--debug", "--plugins", str(path), "list", "models"])
    assert result.exit_code == 0 and "traceback of plugin 'mymodel'" in result.stderr
    assert "RuntimeError: kaboom at import" in result.stderr


def test_an_unknown_model_names_the_plugins_that_failed(tmp_path):
    path = _plugin(tmp_path, "broken", "import this_module_does_not_exist\n")
    result = _invoke(["--plugins", str(path), "run", "--model", "waltz", *RUN])
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert "unknown model 'waltz'" in line and "plugin 'broken'" in line and "this_module_does_not_exist" in line


def test_a_plugins_path_that_does_not_exist_is_a_usage_error(tmp_path):
    result = _invoke(["--plugins", str(tmp_path / "nothere.py"), "list", "models"])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output


# -- a model that breaks its contract ----------------------------------------------------


def test_a_model_returning_non_strings_fails_in_one_line_and_caches_nothing_bad(tmp_path, monkeypatch):
    path = _plugin(tmp_path, "contract_models", CONTRACT_MODELS)
    args = ["--plugins", str(path), "run", "--model", "nonstr", *RUN, "--limit", "12"]
    monkeypatch.setenv("ASKED", str(tmp_path / "first.txt"))
    monkeypatch.setenv("BAD", "1")
    first = _invoke([*args, "--output", str(tmp_path / "a")])
    assert first.exit_code == 1, first.output
    line = _one_error_line(first)
    assert "model 'nonstr' (plugin 'contract_models')" in line and "is int (123)" in line
    assert "expected a narrative (str)" in line and "Nothing of this batch was cached" in line
    assert not (tmp_path / "a").exists() or not list((tmp_path / "a").glob("*/results.json"))
    asked_first = (tmp_path / "first.txt").read_text().split()
    assert len(asked_first) == 8  # two batches of 4: the first was fine, the second broke

    # The same model, fixed: the first batch comes from the cache, the bad one is generated
    # again, and bleu scores strings only (no TypeError from a cached int).
    monkeypatch.delenv("BAD")
    monkeypatch.setenv("ASKED", str(tmp_path / "second.txt"))
    second = _invoke([*args, "--output", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    asked_second = (tmp_path / "second.txt").read_text().split()
    assert set(asked_second).isdisjoint(asked_first[:4]) and set(asked_first[4:]) <= set(asked_second)
    results = json.loads(next((tmp_path / "b").glob("*/results.json")).read_text())
    assert results["cache"]["cached"] == 4 and results["cache"]["generated"] == 8
    samples = next((tmp_path / "b").glob("*/samples.jsonl")).read_text().splitlines()
    assert all(isinstance(json.loads(row)["prediction"], str) for row in samples)


def test_an_exception_in_generate_names_the_plugin_and_keeps_finished_batches(tmp_path, monkeypatch):
    path = _plugin(tmp_path, "contract_models", CONTRACT_MODELS)
    args = ["--plugins", str(path), "run", "--model", "raises", *RUN, "--limit", "12"]
    monkeypatch.setenv("ASKED", str(tmp_path / "first.txt"))
    monkeypatch.setenv("BAD", "1")
    first = _invoke([*args, "--output", str(tmp_path / "a")])
    assert first.exit_code == 1
    line = _one_error_line(first)
    assert "model 'raises' (plugin 'contract_models') failed: ValueError: broke inside generate" in line
    monkeypatch.delenv("BAD")
    monkeypatch.setenv("ASKED", str(tmp_path / "second.txt"))
    second = _invoke([*args, "--output", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    results = json.loads(next((tmp_path / "b").glob("*/results.json")).read_text())
    assert results["cache"]["cached"] == 4 and results["cache"]["generated"] == 8


def test_wrong_count_and_a_ranking_that_is_not_a_list_are_one_line_each(tmp_path):
    path = _plugin(tmp_path, "contract_models", CONTRACT_MODELS)
    result = _invoke(["--plugins", str(path), "run", "--model", "short", *RUN, "--limit", "5"])
    assert result.exit_code == 1
    line = _one_error_line(result)
    assert "model 'short' (plugin 'contract_models') returned 1 outputs for a batch of 5" in line
    result = _invoke(["--plugins", str(path), "run", "--model", "bad-ranking", "--dataset-arg", "users=120",
                      "--task", "next_item", "--bootstrap", "20", "--quiet", "--limit", "5"])
    assert result.exit_code == 1
    line = _one_error_line(result)
    assert "model 'bad-ranking' (plugin 'contract_models'): recommend() output 0" in line
    assert "is str; expected the item ids of a ranking (a list of str)" in line


def test_a_metric_that_raises_names_its_plugin(tmp_path):
    path = _plugin(tmp_path, "boom_metric", RAISING_METRIC)
    result = _invoke(["--plugins", str(path), "run", "--model", "popular", "--dataset-arg", "users=120",
                      "--task", "user_summary", "--metric", "boom", "--bootstrap", "20", "--quiet", "--limit", "5",
                      "--output", str(tmp_path / "o")])
    assert result.exit_code == 1
    line = _one_error_line(result)
    assert "metric 'boom' (plugin 'boom_metric') failed: ZeroDivisionError: metric went boom" in line


def test_a_metric_returning_the_wrong_thing_is_one_line_naming_it(tmp_path):
    path = _plugin(tmp_path, "boom_metric", RAISING_METRIC)
    for metric, problem in (("number", "score() returned float"), ("few", "component 'few' has 1 per-example")):
        result = _invoke(["--plugins", str(path), "run", "--model", "popular", "--dataset-arg", "users=120",
                          "--task", "user_summary", "--metric", metric, "--bootstrap", "20", "--quiet", "--limit",
                          "5", "--output", str(tmp_path / metric)])
        assert result.exit_code == 1, result.output
        line = _one_error_line(result)
        assert f"metric {metric!r}: {problem}" in line and "(plugin 'boom_metric')" in line
        assert "expected a MetricOutput of Components with one per-example value for each of the 5" in line


# -- two distributions, one name -------------------------------------------------------


def _install_distribution(site: Path, dist: str, module: str, entry_points: dict[str, str], body: str) -> None:
    """A real installed distribution: a module plus its .dist-info, found through sys.path."""
    (site / f"{module}.py").write_text(textwrap.dedent(body))
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[regen_bench]\n{lines}")


CLASHING_BLEU = '''
    from regen_bench import hookimpl
    from regen_bench.contracts.metric import Component, Metric, MetricOutput

    class TheirBleu(Metric):
        name = "bleu"
        description = "A third party's bleu"
        def score(self, predictions, references, examples):
            return MetricOutput([Component.mean("bleu", [1.0 for p in predictions])])

    @hookimpl
    def register_metrics(register):
        register(TheirBleu)
'''


def _cli(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(site), **env}
    environment.pop("REGEN_BENCH_BLOCK_PLUGINS", None)
    environment.update(env)
    code = "import sys; from regen_bench.cli.app import main; main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=environment)


def test_a_name_two_distributions_claim_says_which_and_how_to_block_either(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    # The same entry-point name as the built-in, in another distribution.
    _install_distribution(site, "their-metrics", "their_metrics", {"bleu": "their_metrics"}, CLASHING_BLEU)

    unrelated = _cli(site, "list", "models")
    assert unrelated.returncode == 0, unrelated.stderr
    assert "popular" in unrelated.stdout
    [warning] = [line for line in unrelated.stderr.splitlines() if line.startswith("warning:")]
    assert "metric 'bleu' is registered by two plugins" in warning
    assert "distribution regen-bench" in warning and "distribution their-metrics" in warning

    needed = _cli(site, "run", "--model", "popular", "--metric", "bleu", "--limit", "3")
    assert needed.returncode == 2 and "Traceback" not in needed.stderr
    [error] = [line for line in needed.stderr.splitlines() if line.startswith("error:")]
    assert "REGEN_BENCH_BLOCK_PLUGINS=regen-bench:bleu" in error
    assert "REGEN_BENCH_BLOCK_PLUGINS=their-metrics:bleu" in error
    assert "REGEN_BENCH_BLOCK_PLUGINS=their-metrics to block every plugin" in error

    def bleu_plugin(**env):
        listed = _cli(site, "list", "metrics", "--json", **env)
        assert listed.returncode == 0 and "warning" not in listed.stderr, listed.stderr
        return {m["name"]: m for m in json.loads(listed.stdout)}["bleu"]["plugin"]

    # Block the third party's by its distribution (any spelling pip accepts), or exactly one by DIST:NAME.
    assert bleu_plugin(REGEN_BENCH_BLOCK_PLUGINS="Their_Metrics") == "bleu"
    assert bleu_plugin(REGEN_BENCH_BLOCK_PLUGINS="their-metrics:bleu") == "bleu"
    assert bleu_plugin(REGEN_BENCH_BLOCK_PLUGINS="regen-bench:bleu") == "their-metrics:bleu"
    typo = _cli(site, "list", "models", REGEN_BENCH_BLOCK_PLUGINS="their-metrcs")
    assert "warning: REGEN_BENCH_BLOCK_PLUGINS names 'their-metrcs', which no installed plugin" in typo.stderr
    kept = _cli(site, "run", "--model", "popular", "--dataset-arg", "users=120", "--task", "user_summary",
                "--metric", "bleu", "--bootstrap", "20", "--quiet", "--limit", "5",
                "--output", str(tmp_path / "o"), REGEN_BENCH_BLOCK_PLUGINS="their-metrics")
    assert kept.returncode == 0, kept.stderr


def test_an_entry_point_that_fails_to_import_is_reported(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _install_distribution(site, "broken-models", "broken_models", {"broken-models": "broken_models"},
                          "raise ImportError('needs libfoo')\n")
    listed = _cli(site, "list", "models")
    assert listed.returncode == 0
    assert ("warning: plugin 'broken-models' (distribution broken-models, entry point broken-models = "
            "broken_models) failed to load: ImportError: needs libfoo") in listed.stderr
    run = _cli(site, "run", "--model", "broken-models", "--limit", "3")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "error: model 'broken-models' is unavailable: plugin 'broken-models'" in run.stderr
