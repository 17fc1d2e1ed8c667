"""Stable text for numbers: the same value always prints the same way, on any machine."""

from __future__ import annotations

import math


def decimals_for(values: list[float]) -> int:
    """One number of decimals per column, from its largest magnitude (BLEU 12.87, ROUGE 0.2817)."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    top = max(finite, default=0.0)
    if top >= 100:
        return 1
    if top >= 10:
        return 2
    if top >= 1:
        return 3
    return 4


def fmt_number(value: float | None, decimals: int) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    text = f"{value:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text  # never "-0.0000"


def fmt_cell(score: float, low: float, high: float, decimals: int) -> str:
    return f"{fmt_number(score, decimals)} [{fmt_number(low, decimals)}, {fmt_number(high, decimals)}]"


def fmt_seconds(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if value < 10:
        return f"{value:.2f} s"
    if value < 600:
        return f"{value:.1f} s"
    if value < 36000:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def fmt_parameters(value) -> str:
    if value is None:
        return "-"
    try:
        count = float(value)
    except (TypeError, ValueError):
        return str(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if count >= limit:
            return f"{count / limit:.1f}{suffix}"
    return f"{int(count)}"


def fmt_cost(cost: dict) -> str:
    """'-' when the run reported no cost, 'unknown' when it did not know a price."""
    if not cost.get("reported"):
        return "-"
    if cost.get("total_usd") is None:
        return "unknown"
    return f"${cost['total_usd']:.4f}"


def fmt_p(value: float | None) -> str:
    if value is None:
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"
