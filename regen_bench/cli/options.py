"""Parsers of the repeatable KEY=VALUE options (`--model-arg`, `--metric-arg`, ...)."""

from __future__ import annotations

import click


def key_values(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=option)
        parsed[key.strip()] = value
    return parsed


def metric_args_by_metric(pairs: tuple[str, ...]) -> dict[str, dict[str, str]]:
    parsed: dict[str, dict[str, str]] = {}
    for key, value in key_values(pairs, "--metric-arg").items():
        metric, dot, option = key.partition(".")
        metric, option = metric.strip(), option.strip()
        if not dot or not metric or not option:  # `.key=1` names no metric
            raise click.BadParameter(f"expected METRIC.KEY=VALUE, got {key}={value!r}", param_hint="--metric-arg")
        parsed.setdefault(metric, {})[option] = value
    return parsed
