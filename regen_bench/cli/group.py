"""The `regen-bench` click group: commands that plugins add, and errors as one line.

Plugins' `register_commands(cli)` hooks run when a command is first looked up or
listed, not at import: by then `--plugins FILE` (an eager option) and the
REGEN_BENCH_LOAD_PLUGINS/BLOCK_PLUGINS lists have decided which plugins are loaded,
so a one-off plugin file's commands work like an installed plugin's.

Before any command runs, every plugin problem (a plugin that failed to load, a hook
that raised, a name two plugins register) is one `warning:` line on stderr, so nothing
fails silently; `--debug` adds the failed plugins' tracebacks.
"""

from __future__ import annotations

import sys

import click

from regen_bench.cli.errors import one_line_report
from regen_bench.plugin.host import PluginHost
from regen_bench.plugin.registry import get_host, get_registry


def _command_tables(group: click.Group) -> dict[click.Group, dict[str, click.Command]]:
    """A copy of the commands of `group` and of every group below it."""
    tables = {group: dict(group.commands)}
    for command in group.commands.values():
        if isinstance(command, click.Group):
            tables.update(_command_tables(command))
    return tables


class HarnessGroup(click.Group):
    """Attaches plugin commands lazily; turns expected errors into one line (cli/errors.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._builtin_commands: dict[click.Group, dict[str, click.Command]] | None = None
        self._attached_for: tuple[PluginHost, tuple[str, ...]] | None = None

    def attach_plugin_commands(self) -> None:
        """Run every loaded plugin's `register_commands`, once per set of loaded plugins.

        A new set (another `--plugins FILE`, a fresh host in tests) starts again from the
        built-in commands, so a plugin that is no longer loaded leaves no command behind.
        """
        host = get_host()
        loaded = (host, tuple(host.infos))
        if self._attached_for == loaded:
            return
        if self._builtin_commands is None:
            self._builtin_commands = _command_tables(self)
        for group, commands in self._builtin_commands.items():
            group.commands.clear()
            group.commands.update(commands)
        for plugin_name, function in host.hook_implementations("register_commands"):
            try:
                function(cli=self)
            except Exception as exc:  # a broken plugin must not break the CLI: `plugins` shows it
                info = host.infos.get(plugin_name)
                if info is not None:
                    info.fail(exc, prefix="register_commands failed: ")
        self._attached_for = loaded

    def warn_about_plugins(self, debug: bool) -> None:
        """One `warning:` line per plugin problem (registry.problems()); tracebacks with --debug."""
        self.attach_plugin_commands()
        registry = get_registry()
        for line in registry.problems():
            click.echo(f"warning: {' '.join(line.split())}", err=True)
        if debug:
            for info in registry.host.failures():
                if info.traceback:
                    click.echo(f"traceback of plugin {info.name!r}:\n{info.traceback}", err=True)

    def list_commands(self, ctx):
        self.attach_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx, cmd_name):
        self.attach_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx):
        try:
            self.warn_about_plugins(bool(ctx.params.get("debug")))
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            code = one_line_report(exc, debug=bool(ctx.params.get("debug")))
            if code is None:
                raise
            sys.exit(code)
