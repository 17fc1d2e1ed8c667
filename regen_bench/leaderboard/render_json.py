"""leaderboards/leaderboard.json: the whole table model, keys sorted, NaN as null."""

from __future__ import annotations

import json
import math

from regen_bench.leaderboard.table import Leaderboard


def _finite(value):
    """JSON has no NaN: an undefined number (no examples) is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def leaderboard_data(board: Leaderboard) -> dict:
    return _finite(board.to_json())


def render_json(board: Leaderboard) -> str:
    return json.dumps(leaderboard_data(board), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
