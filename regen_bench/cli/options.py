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


def logger_args_by_logger(pairs: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """`--logger-arg LOGGER:KEY=VALUE` (or `LOGGER.KEY=VALUE`, as `--metric-arg` writes it)."""
    parsed: dict[str, dict[str, str]] = {}
    for key, value in key_values(pairs, "--logger-arg").items():
        cut = min((i for i in (key.find(":"), key.find(".")) if i >= 0), default=-1)
        logger, option = (key[:cut].strip(), key[cut + 1:].strip()) if cut >= 0 else ("", "")
        if not logger or not option:
            raise click.BadParameter(f"expected LOGGER:KEY=VALUE, got {key}={value!r}", param_hint="--logger-arg")
        parsed.setdefault(logger, {})[option] = value
    return parsed
