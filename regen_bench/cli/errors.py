"""How the CLI reports an error: one line for people, a traceback only for a bug.

- A `RegenBenchError` (bad input, options, data; `PluginOptionsError` included) is one
  `error: ...` line and exit code 2; a `ContractError` (a model's outputs of the wrong
  type or count) is one line too, but exit code 1: the plugin is at fault, not the input.
- A pydantic ValidationError of a plugin's Options that did not come through
  `build_plugin` is worded the same way, naming the plugin; also exit code 2.
- Any other exception raised in a plugin's code is a bug in that plugin: one line naming
  it and exit code 1, or its traceback with `--debug`. An exception in regen-bench's own
  code keeps its traceback.
"""

from __future__ import annotations

import click
from pydantic import ValidationError

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.model import ContractError
from regen_bench.plugin.failures import PluginAtFault, plugin_at_fault
from regen_bench.plugin.host import short_error
from regen_bench.plugin.registry import get_host, loaded_registry
from regen_bench.plugin.specs import describe_validation_error

USAGE_EXIT = 2  # the user can fix it: input, options, data
PLUGIN_BUG_EXIT = 1


def _at_fault(exc: BaseException) -> PluginAtFault | None:
    return plugin_at_fault(exc, get_host(), loaded_registry())


def _validation_message(exc: ValidationError, at_fault: PluginAtFault | None) -> str:
    entry = at_fault.entry if at_fault is not None else None
    if entry is not None and exc.title == entry.cls.Options.__name__:
        return f"invalid options for {at_fault.kind} {entry.name!r}: {describe_validation_error(exc, entry.cls.Options)}"
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}" for err in exc.errors()
    )
    return f"invalid options for {exc.title}: {problems}"


def _contract_report(exc: ContractError) -> int:
    """A plugin broke its contract: one line, naming its plugin when the traceback shows it; exit 1."""
    text = " ".join(str(exc).split())
    at_fault = _at_fault(exc)
    if at_fault is not None and "(plugin " not in text:
        text += f" (plugin {at_fault.plugin!r})"
    click.echo(f"error: {text}", err=True)
    return PLUGIN_BUG_EXIT


def one_line_report(exc: Exception, *, debug: bool) -> int | None:
    """Print `exc` as one line on stderr and return the exit code; None: let it raise."""
    if isinstance(exc, ContractError):
        return _contract_report(exc)
    if isinstance(exc, RegenBenchError):
        click.echo(f"error: {' '.join(str(exc).split())}", err=True)
        return USAGE_EXIT
    at_fault = _at_fault(exc)
    if isinstance(exc, ValidationError):
        click.echo(f"error: {_validation_message(exc, at_fault)}", err=True)
        return USAGE_EXIT
    if at_fault is None or debug:
        return None
    failure = " ".join(short_error(exc).split())  # one line, whatever the message looked like
    click.echo(f"error: {at_fault.describe()} failed: {failure}; run with --debug for the traceback", err=True)
    return PLUGIN_BUG_EXIT
