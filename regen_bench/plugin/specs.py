"""Build plugins from what a user or a results file names: `NAME[:ARG]` plus options.

One mechanism for the run (`--metric`, `--metric-arg`), for re-scoring saved samples,
and for `leaderboard validate`/`compare`/the leaderboard marks, which rebuild a metric
from the name and options recorded in results.json.
"""

from __future__ import annotations

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.plugin.registry import get_registry


def build_plugin(kind: str, name: str, options: dict):
    """An instance of the registered `kind` ("model", "metric", "dataset") `name` with `options`.

    The one place plugins are constructed from names and options: the run, re-scoring, and
    rebuilding a metric from what a results file recorded all come through here.
    """
    entry = get_registry().get(kind, name)
    return entry.cls(**options)


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
