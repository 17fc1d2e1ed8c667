"""Build plugins from what a user or a results file names: `NAME[:ARG]` plus options.

One mechanism for the run (`--model`, `--metric`, `--metric-arg`), for re-scoring saved
samples, and for `leaderboard validate`/`compare`/the leaderboard marks, which rebuild a
metric from the name and options recorded in results.json. Options a plugin refuses
become one `PluginOptionsError` naming the plugin, the option and what is allowed.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from regen_bench.contracts.errors import RegenBenchError
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
    """An instance of the registered `kind` ("model", "metric", "dataset") `name` with `options`.

    The one place plugins are constructed from names and options: the run, re-scoring, and
    rebuilding a metric from what a results file recorded all come through here. Options
    the plugin refuses (its pydantic Options, or a ValueError/TypeError from its
    constructor) raise `PluginOptionsError`, one line for the user; so does an option
    that needs a package which is not installed (an ImportError).
    """
    entry = get_registry().get(kind, name)
    try:
        return entry.cls(**options)
    except ValidationError as exc:
        raise PluginOptionsError(kind, name, describe_validation_error(exc, entry.cls.Options)) from exc
    except (ValueError, TypeError) as exc:
        # Plugins conventionally prefix their messages with their own name; it is said once here.
        raise PluginOptionsError(kind, name, str(exc).strip().removeprefix(f"{name}: ")) from exc
    except ImportError as exc:
        raise PluginOptionsError(kind, name, f"needs a package that is not installed: {exc}") from exc


def build_metrics(names: list[str], metric_args: dict[str, dict[str, str]]):
    """Instantiate metrics; `NAME:ARG` fills the metric's `spec_option` with ARG."""
    registry = get_registry()
    metrics = []
    for spec in names:
        name, colon, argument = spec.partition(":")
        entry = registry.get("metric", name)
        options = dict(metric_args.get(spec, metric_args.get(name, {})))
        if colon:
            option = entry.cls.spec_option
            if not option:
                raise RegenBenchError(f"metric {name!r} takes no argument; use --metric {name}")
            options[option] = argument
        metric = build_plugin("metric", name, options)
        metric.spec = spec
        metrics.append(metric)
    selected = set(names) | {spec.partition(":")[0] for spec in names}
    unknown = set(metric_args) - selected
    if unknown:
        raise RegenBenchError(f"--metric-arg names metrics that are not selected: {', '.join(sorted(unknown))}")
    return metrics
