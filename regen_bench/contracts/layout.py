"""Where a dataset keeps each task's reference narrative, its critique and its target item.

REGEN publishes only some key names (`user.long_summary`, `user.profile`); the rest
differ between releases and generators, so the map is data, set per dataset and
overridable from the command line (`--task-map purchase_reason=last_purchase.reason`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DEFAULT_TASKS: dict[str, str] = {
    "user_summary": "user.long_summary",
    "user_profile": "user.profile",
}


class DatasetLayout(BaseModel):
    """Task -> field path, plus where the critique and the target item live."""

    tasks: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_TASKS))
    critique_path: str | None = "last_purchase.critique"
    # auto: `last_purchase.item` when it has an asin, else the last history entry.
    target: Literal["auto", "last_purchase", "last_of_history"] = "auto"

    def with_overrides(self, overrides: dict[str, str]) -> "DatasetLayout":
        tasks = dict(self.tasks)
        tasks.update(overrides)
        return self.model_copy(update={"tasks": tasks})
