"""Build plugins from what a user or a results file names: `NAME[:ARG]` plus options.

One mechanism for the run (`--model`, `--metric`, `--metric-arg`, `--log-to`,
`--logger-arg`), for re-scoring saved samples, and for `leaderboard validate`/`compare`/
the leaderboard marks, which rebuild a metric from the name and options recorded in
results.json. Options a plugin refuses become one `PluginOptionsError` naming the
plugin, the option and what is allowed.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.plugin.extras import MissingExtraError
from regen_bench.plugin.registry import get_registry


class PluginOptionsError(RegenBenchError):
    """A plugin refused the options it was built with (checked before any work is done)."""

    def __init__(self, kind: str, name: str, problem: str):
        self.kind = kind
        self.name = name
        self.problem = " ".join(problem.split())  # one line, whatever the plugin's message looked like
        super().__init__(f"invalid options for {kind} {name!r}: {self.problem}")


def _option_problem(error: dict) -> tuple[str, bool]:
    """One pydantic error as `option: what is wrong`, and whether the option is unknown."""
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{where}: no such option", True
    if error["type"] == "missing":
        return f"{where}: required", False
    message = error["msg"].removeprefix("Value error, ")
    return (f"{where}={error['input']!r}: {message}" if where else message), False


def describe_validation_error(exc: ValidationError, options: type[BaseModel]) -> str:
    """What a plugin's Options refused; an unknown option also lists the valid ones."""
    problems, unknown = [], False
    for error in exc.errors():
        problem, is_unknown = _option_problem(error)
        problems.append(problem)
        unknown = unknown or is_unknown
    text = "; ".join(problems)
    if unknown:
        valid = ", ".join(options.model_fields) or "(none: it takes no options)"
        text += f"; valid options: {valid}"
    return text


def build_plugin(kind: str, name: str, options: dict):
    """An instance of the registered `kind` ("model", "metric", "dataset", "logger") `name` with `options`.

    The one place plugins are constructed from names and options: the run, re-scoring, and
    rebuilding a metric from what a results file recorded all come through here. Options
    the plugin refuses (its pydantic Options, or a ValueError/TypeError from its
    constructor) raise `PluginOptionsError`, one line for the user; so does an option
    that needs a package which is not installed (an ImportError; a `MissingExtraError`,
    which already names the extra to install, is raised as it is).
    """
    entry = get_registry().get(kind, name)
    try:
        return entry.cls(**options)
    except ValidationError as exc:
        raise PluginOptionsError(kind, name, describe_validation_error(exc, entry.cls.Options)) from exc
    except (ValueError, TypeError) as exc:
        # Plugins conventionally prefix their messages with their own name; it is said once here.
        raise PluginOptionsError(kind, name, str(exc).strip().removeprefix(f"{name}: ")) from exc
    except MissingExtraError:
        raise  # already one line naming the extra to install
    except ImportError as exc:
        raise PluginOptionsError(kind, name, f"needs a package that is not installed: {exc}") from exc


def build_specs(kind: str, specs: list[str], args: dict[str, dict[str, str]], *, flag: str, args_flag: str):
    """Instantiate plugins of `kind` from `NAME[:ARG]` specs; `:ARG` fills the class's `spec_option`.

    `args` maps a spec (or its name) to options, as `--metric-arg`/`--logger-arg` give
    them; options for a plugin that is not selected are an error, before any work.
    """
    registry = get_registry()
    built = []
    for spec in specs:
        name, colon, argument = spec.partition(":")
        entry = registry.get(kind, name)
        options = dict(args.get(spec, args.get(name, {})))
        if colon:
            option = entry.cls.spec_option
            if not option:
                raise RegenBenchError(f"{kind} {name!r} takes no argument; use {flag} {name}")
            options[option] = argument
        plugin = build_plugin(kind, name, options)
        plugin.spec = spec
        built.append(plugin)
    selected = set(specs) | {spec.partition(":")[0] for spec in specs}
    unknown = set(args) - selected
    if unknown:
        raise RegenBenchError(f"{args_flag} names {kind}s that are not selected: {', '.join(sorted(unknown))}")
    return built


def build_metrics(names: list[str], metric_args: dict[str, dict[str, str]]):
    """Instantiate metrics; `NAME:ARG` fills the metric's `spec_option` with ARG."""
    return build_specs("metric", names, metric_args, flag="--metric", args_flag="--metric-arg")


def build_loggers(specs: list[str], logger_args: dict[str, dict[str, str]]):
    """Instantiate experiment-tracker loggers; `NAME:ARG` fills the logger's `spec_option` with ARG."""
    return build_specs("logger", specs, logger_args, flag="--log-to", args_flag="--logger-arg")
