"""The `regen-bench` click group: commands that plugins add, and errors as one line.

Plugins' `register_commands(cli)` hooks run when a command is first looked up or
listed, not at import: by then `--plugins FILE` (an eager option) and the
REGEN_BENCH_LOAD_PLUGINS/BLOCK_PLUGINS lists have decided which plugins are loaded,
so a one-off plugin file's commands work like an installed plugin's.
"""

from __future__ import annotations

import sys

import click

from regen_bench.cli.errors import one_line_report
from regen_bench.plugin.host import PluginHost, short_error
from regen_bench.plugin.registry import get_host


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
                if info is not None and info.error is None:
                    info.error = f"register_commands failed: {short_error(exc)}"
        self._attached_for = loaded

    def list_commands(self, ctx):
        self.attach_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx, cmd_name):
        self.attach_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            code = one_line_report(exc, debug=bool(ctx.params.get("debug")))
            if code is None:
                raise
            sys.exit(code)
