"""When a recomputed number is the recorded one: within REL_TOL relative (or ABS_TOL near 0).

`leaderboard validate` (is this score what the samples give?), `compare` and the
leaderboard marks (is this score the mean of its per-example scores? does the rebuilt
metric reproduce the run?) all ask it here, with the same tolerance.
"""

from __future__ import annotations

import math

REL_TOL = 1e-9
ABS_TOL = 1e-12  # a score of exactly 0 recomputed as 1e-17 is the same number


def same_number(recorded: float, recomputed: float, tolerance: float = 0.0) -> bool:
    """Equal within REL_TOL, or within the metric's own absolute `tolerance` (see
    `Metric.recompute_tolerance`: float32 model embeddings differ in the last bits with
    how texts were batched). NaN is the same as NaN: an undefined score recomputed undefined."""
    if math.isnan(recorded) or math.isnan(recomputed):
        return math.isnan(recorded) and math.isnan(recomputed)
    return math.isclose(recorded, recomputed, rel_tol=REL_TOL, abs_tol=max(ABS_TOL, tolerance))
