"""Commands a one-off plugin file registers, and how a plugin's failures reach the user."""

import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from regen_bench.cli.app import main

REGEN_BENCH = Path(sys.executable).parent / "regen-bench"

CMD_PLUGIN = """
    import click
    from regen_bench import hookimpl

    @click.command("hello")
    @click.option("--name", default="world")
    def hello(name):
        '''Say hello (a command from a one-off plugin file).'''
        click.echo(f"hello, {name}")

    @click.command("explode")
    def explode():
        '''A command with a bug.'''
        raise ZeroDivisionError("the plugin divided by zero")

    @hookimpl
    def register_commands(cli):
        cli.add_command(hello)
        cli.add_command(explode)
"""

CRASHING_METRIC = """
    from regen_bench import Metric, hookimpl

    class Crash(Metric):
        name = "crash"
        description = "raises while scoring"

        def score(self, predictions, references, examples):
            return 1 / 0

    @hookimpl
    def register_metrics(register):
        register(Crash)
"""


def write_plugin(tmp_path, name, body):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_the_real_entry_point_runs_a_command_a_plugin_file_registers(tmp_path):
    path = write_plugin(tmp_path, "cmd_plugin", CMD_PLUGIN)
    out = subprocess.run([str(REGEN_BENCH), "--plugins", str(path), "hello", "--name", "REGEN"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "hello, REGEN\n"


def test_a_plugin_files_command_is_listed_in_help_and_shows_as_ok(tmp_path):
    path = write_plugin(tmp_path, "cmd_plugin", CMD_PLUGIN)
    result = CliRunner().invoke(main, ["--plugins", str(path), "--help"])
    assert result.exit_code == 0, result.output
    assert "hello" in result.output and "Say hello" in result.output
    result = CliRunner().invoke(main, ["--plugins", str(path), "plugins"])
    line = next(l for l in result.output.splitlines() if l.startswith("cmd_plugin"))
    assert line.endswith("ok") and "register_commands" in line


def test_without_the_file_the_command_does_not_exist_and_builtins_stay():
    result = CliRunner().invoke(main, ["hello"])
    assert result.exit_code == 2 and "No such command 'hello'" in result.output
    result = CliRunner().invoke(main, ["data", "--help"])  # added by the dataset plugins' register_commands
    assert result.exit_code == 0 and "generate" in result.output and "download" in result.output


def test_a_bug_in_a_plugin_command_is_one_line_naming_the_plugin(tmp_path):
    path = write_plugin(tmp_path, "cmd_plugin", CMD_PLUGIN)
    result = CliRunner().invoke(main, ["--plugins", str(path), "explode"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("error: plugin 'cmd_plugin' failed: ZeroDivisionError: the plugin divided by zero")
    assert "run with --debug for the traceback" in result.stderr


def test_debug_shows_the_traceback_of_a_plugin_bug(tmp_path):
    path = write_plugin(tmp_path, "cmd_plugin", CMD_PLUGIN)
    out = subprocess.run([str(REGEN_BENCH), "--debug", "--plugins", str(path), "explode"],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert "Traceback (most recent call last)" in out.stderr and "the plugin divided by zero" in out.stderr


def test_a_metric_that_fails_while_scoring_is_named_in_one_line(tmp_path):
    path = write_plugin(tmp_path, "crash_plugin", CRASHING_METRIC)
    argv = ["--plugins", str(path), "run", "--model", "popular", "--metric", "crash", "--dataset-arg", "users=60",
            "--bootstrap", "10", "--quiet", "--output", str(tmp_path / "runs")]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    # Warnings (e.g. a small test split) may come first; the error is one line, the last.
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.stderr.rstrip().splitlines()[-1] == error
    assert error.startswith("error: metric 'crash' (plugin 'crash_plugin') failed: ZeroDivisionError")
    assert error.endswith("run with --debug for the traceback")
    result = CliRunner().invoke(main, ["--debug", *argv])
    assert isinstance(result.exception, ZeroDivisionError)  # raised on, so Python prints its traceback
