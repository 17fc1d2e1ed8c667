"""Rebuild a run's metrics from what its results file records, to score its samples again.

`leaderboard validate` re-runs every metric; `compare` and the leaderboard marks re-score
corpus metrics on the examples two runs share. Each metric is rebuilt from
`results.metrics` (name and options, as the runner recorded them), or, for a file
written before that list existed (or when the caller asks for them), from its default
options. A metric that calls a paid API (`Metric.calls_paid_api()`) is never rebuilt to
be re-run: the reason says so instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regen_bench.contracts.metric import Metric
from regen_bench.plugin.registry import get_registry
from regen_bench.plugin.specs import PluginOptionsError, build_plugin
from regen_bench.results.schema import RunResults

PAID_API_REASON = "the metric calls a network API (a paid one: never re-run to check a results file)"


@dataclass
class RebuildSpec:
    """How to rebuild one metric: its registered name and options (None: the defaults)."""

    name: str
    options: dict[str, Any] | None = None
    signature: str | None = None

    @property
    def recorded(self) -> bool:
        return self.options is not None


def rebuild_specs(results: RunResults) -> list[RebuildSpec]:
    """The metrics to rebuild: `results.metrics` when the file records them, else defaults by name."""
    if results.metrics:
        return [RebuildSpec(name=m.name, options=dict(m.options), signature=m.signature) for m in results.metrics]
    return [RebuildSpec(name=name) for name in dict.fromkeys(s.metric for s in results.scores)]


def build_metric(spec: RebuildSpec) -> tuple[Metric | None, str | None]:
    """(metric, None), or (None, why it can't be rebuilt to re-run here)."""
    if spec.name not in get_registry().names("metric"):
        return None, f"metric plugin {spec.name!r} is not installed here"
    try:
        metric = build_plugin("metric", spec.name, spec.options or {})
    except Exception as exc:  # noqa: BLE001 - whatever stops the build, say it and leave the score unchecked
        how = "the recorded options" if spec.recorded else "its default options"
        problem = exc.problem if isinstance(exc, PluginOptionsError) else exc
        return None, f"metric {spec.name!r} cannot be built with {how}: {problem}"
    if metric.calls_paid_api():
        return None, PAID_API_REASON
    return metric, None
