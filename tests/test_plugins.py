"""Plugin discovery, one-off plugin files, allow/block lists, errors people can act on."""

import json
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.contracts.errors import DuplicateNameError, UnknownNameError
from regen_bench.plugin import registry

BUILTINS = {"synthetic", "regen-kaggle", "popular", "retrieval-tfidf", "bleu", "rouge"}


def write_plugin(tmp_path, name, body):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_builtins_are_found_through_entry_points():
    infos = registry.get_host().infos
    assert BUILTINS <= set(infos)
    for name in BUILTINS:
        assert infos[name].distribution == "regen-bench"
        assert infos[name].version
        assert infos[name].error is None


def test_builtins_register_models_metrics_and_datasets():
    reg = registry.get_registry()
    assert {"popular", "retrieval-tfidf"} <= set(reg.names("model"))
    assert {"bleu", "rouge"} <= set(reg.names("metric"))
    assert {"synthetic", "regen-office", "regen-clothing"} <= set(reg.names("dataset"))


def test_plugins_command_does_not_import_torch():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from regen_bench.cli.app import main\n"
        "r = CliRunner().invoke(main, ['plugins', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(main, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(main, ['list', 'models'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'datasets', 'pandas')\n"
        "         if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_plugins_json_lists_distribution_version_and_hooks():
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    by_name = {p["name"]: p for p in json.loads(result.output)}
    assert by_name["bleu"]["hooks"] == ["register_metrics"]
    assert by_name["popular"]["hooks"] == ["register_models"]
    assert by_name["synthetic"]["hooks"] == ["register_commands", "register_datasets"]  # it adds `data generate`
    assert by_name["rouge"]["distribution"] == "regen-bench"


def test_plugin_file_adds_a_model(tmp_path):
    path = write_plugin(tmp_path, "echo_plugin", """
        from regen_bench import hookimpl
        from regen_bench.contracts.model import Model

        class Echo(Model):
            name = "echo"
            description = "Repeats the history"
            def generate(self, examples, task):
                return [e.history_text() for e in examples]

        @hookimpl
        def register_models(register):
            register(Echo)
    """)
    result = CliRunner().invoke(main, ["--plugins", str(path), "list", "models"])
    assert result.exit_code == 0, result.output
    assert "echo" in result.output and "Repeats the history" in result.output


def test_plugin_that_fails_to_import_is_shown_with_its_error(tmp_path):
    path = write_plugin(tmp_path, "broken_plugin", """
        import this_module_does_not_exist
    """)
    result = CliRunner().invoke(main, ["--plugins", str(path), "plugins"])
    assert result.exit_code == 0, result.output
    line = next(l for l in result.output.splitlines() if l.startswith("broken_plugin"))
    assert "ERROR" in line and "this_module_does_not_exist" in line
    # The rest of the CLI still works, and says, in one line, what failed to load.
    result = CliRunner().invoke(main, ["--plugins", str(path), "list", "metrics"])
    assert result.exit_code == 0 and "bleu" in result.output
    assert "warning: plugin 'broken_plugin'" in result.stderr and "this_module_does_not_exist" in result.stderr


def test_misspelled_hook_is_reported_as_plugin_error(tmp_path):
    path = write_plugin(tmp_path, "typo_plugin", """
        from regen_bench import hookimpl

        @hookimpl
        def register_modles(register):
            pass
    """)
    info = registry.get_host().load_file(path)
    assert info.error is not None and "register_modles" in info.error


def test_plugin_whose_hook_raises_is_shown_not_fatal(tmp_path):
    path = write_plugin(tmp_path, "raising_plugin", """
        from regen_bench import hookimpl

        @hookimpl
        def register_models(register):
            raise RuntimeError("boom at registration")
    """)
    registry.add_plugin_files([path])
    reg = registry.get_registry()
    assert "boom at registration" in reg.host.infos["raising_plugin"].error
    assert "popular" in reg.names("model")


def test_two_plugins_registering_the_same_name_is_an_error_naming_both(tmp_path):
    path = write_plugin(tmp_path, "second_bleu", """
        from regen_bench import hookimpl
        from regen_bench.contracts.metric import Metric

        class OtherBleu(Metric):
            name = "bleu"

        @hookimpl
        def register_metrics(register):
            register(OtherBleu)
    """)
    registry.add_plugin_files([path])
    # Issue 9 changed this: a clash no longer breaks the registry (and so every command);
    # only looking the clashed name up fails, and every command warns about it.
    reg = registry.get_registry()
    assert "rouge" in reg.names("metric") and "bleu" not in reg.names("metric")
    with pytest.raises(DuplicateNameError) as info:
        reg.get("metric", "bleu")
    assert "'bleu'" in str(info.value) and "second_bleu" in str(info.value) and "'bleu' (" in str(info.value)
    result = CliRunner().invoke(main, ["--plugins", str(path), "list", "metrics"])
    assert result.exit_code == 0, result.output
    assert "warning: metric 'bleu' is registered by two plugins" in result.stderr
    assert "second_bleu" in result.stderr and "rouge" in result.stdout
    result = CliRunner().invoke(main, ["--plugins", str(path), "run", "--model", "popular", "--metric", "bleu"])
    assert result.exit_code == 2
    assert "error: metric 'bleu' is registered by two plugins" in result.output
    assert "REGEN_BENCH_BLOCK_PLUGINS=bleu" in result.output and f"drop --plugins {path}" in result.output


def test_unknown_model_lists_close_matches():
    with pytest.raises(UnknownNameError) as info:
        registry.get_registry().get("model", "retreival-text")
    assert "Did you mean: retrieval-text" in str(info.value)
    result = CliRunner().invoke(main, ["run", "--model", "populr"])
    assert result.exit_code == 2
    assert "unknown model 'populr'" in result.output and "popular" in result.output


def test_unknown_metric_and_dataset_list_close_matches():
    result = CliRunner().invoke(main, ["run", "--model", "popular", "--metric", "rogue"])
    assert result.exit_code == 2 and "Did you mean: rouge" in result.output
    result = CliRunner().invoke(main, ["run", "--model", "popular", "--dataset", "synthetc"])
    assert result.exit_code == 2 and "Did you mean: synthetic" in result.output


def test_block_plugins_env_blocks_named_plugins(monkeypatch):
    monkeypatch.setenv("REGEN_BENCH_BLOCK_PLUGINS", "rouge,popular")
    reg = registry.get_registry()
    assert "rouge" not in reg.names("metric")
    assert "popular" not in reg.names("model")
    assert reg.host.infos["rouge"].blocked
    assert reg.host.pm.is_blocked("rouge")
    assert "bleu" in reg.names("metric")


def test_load_plugins_env_loads_only_those(monkeypatch):
    monkeypatch.setenv("REGEN_BENCH_LOAD_PLUGINS", "bleu,synthetic")
    reg = registry.get_registry()
    assert set(reg.host.infos) == {"bleu", "synthetic"}
    assert reg.names("metric") == ["bleu"]
    assert reg.names("model") == []


def test_in_memory_plugin_registered_and_removed():
    from regen_bench.contracts.metric import Component, Metric, MetricOutput

    class Length(Metric):
        name = "length"

        def score(self, predictions, references, examples):
            return MetricOutput([Component.mean("length", [len(p.split()) for p in predictions])])

    class Plugin:
        @staticmethod
        def register_metrics(register):
            register(Length)

    from regen_bench.plugin.hookspecs import hookimpl

    Plugin.register_metrics = hookimpl(Plugin.register_metrics)
    host = registry.get_host()
    host.register_object(Plugin, "length-plugin")
    reg = registry.Registry.build(host)
    assert "length" in reg.names("metric")
    host.unregister("length-plugin")
    assert "length" not in registry.Registry.build(host).names("metric")
