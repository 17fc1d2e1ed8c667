"""Where a dataset keeps each task's reference narrative, its critique and its target item.

REGEN publishes only some key names (`user.long_summary`, `user.profile`); the rest
differ between releases and generators, so the map is data, set per dataset and
overridable from the command line (`--task-map purchase_reason=last_purchase.reason`).
"""

from __future__ import annotations

from typing import Callable, Literal

from pydantic import BaseModel, Field

DEFAULT_TASKS: dict[str, str] = {
    "user_summary": "user.long_summary",
    "user_profile": "user.profile",
}

# Tasks a file may hold beyond the default ones, at the paths the generator (and the
# REGEN paper's naming) use. A layout that does not map such a task gains it when the
# file has text at one of its paths (`with_discovered`); `data info` then lists it.
DISCOVERABLE_TASKS: dict[str, tuple[str, ...]] = {
    "purchase_reason": ("last_purchase.purchase_reason",),
    "endorsement": ("last_purchase.endorsement",),
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

    def with_discovered(self, has_text: Callable[[str], bool]) -> "DatasetLayout":
        """The layout plus each `DISCOVERABLE_TASKS` task it lacks whose path has text in the file."""
        mapped = set(self.tasks.values())
        found = {}
        for task, paths in DISCOVERABLE_TASKS.items():
            if task in self.tasks:
                continue
            path = next((p for p in paths if p not in mapped and has_text(p)), None)
            if path is not None:
                found[task] = path
        return self.with_overrides(found) if found else self


# The layout of the files regen-bench itself writes (the synthetic generator, `data build`):
# the default tasks and the discoverable ones at their first paths, the target item at
# `last_purchase`.
WRITTEN_LAYOUT = DatasetLayout(
    tasks={**DEFAULT_TASKS, **{task: paths[0] for task, paths in DISCOVERABLE_TASKS.items()}},
    critique_path="last_purchase.critique",
    target="last_purchase",
)
