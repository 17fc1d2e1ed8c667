"""An Example is what a model sees and what a metric scores: one user, one target."""

from __future__ import annotations

from pydantic import BaseModel, Field

from regen_bench.contracts.layout import DatasetLayout
from regen_bench.contracts.records import Item, Purchase, RegenRecord, resolve_path


class Example(BaseModel):
    """One test case: the user's history (inputs), the target item, and references.

    `references` maps task name -> reference narrative; a task missing here has no
    reference for this user and the example is left out of that task.
    """

    example_id: str
    user_id: str
    history: list[Purchase]
    target: Purchase | None = None
    critique: str | None = None
    references: dict[str, str] = Field(default_factory=dict)

    @property
    def target_item_id(self) -> str | None:
        return self.target.item.asin if self.target is not None else None

    def history_text(self) -> str:
        """Titles and categories of the history, one item per line (for text models)."""
        lines = []
        for purchase in self.history:
            parts = [purchase.item.title or "", purchase.item.category or ""]
            lines.append(" | ".join(p for p in parts if p))
        return "\n".join(lines)


def _target_from(record: RegenRecord, layout: DatasetLayout) -> tuple[list[Purchase], Purchase | None]:
    history = list(record.purchase_history)
    last = record.last_purchase or {}
    item = last.get("item") if isinstance(last, dict) else None
    has_last_item = isinstance(item, dict) and bool(item.get("asin"))
    if layout.target in ("auto", "last_purchase") and has_last_item:
        target = Purchase.model_validate({"item": item, "review": last.get("review")})
        if history and history[-1].item.asin == target.item.asin and len(history) > 1:
            history = history[:-1]
        return history, target
    if layout.target == "last_purchase":
        return history, None
    if len(history) < 2:
        return history, None
    return history[:-1], history[-1]


def build_example(record: RegenRecord, layout: DatasetLayout) -> Example:
    raw = record.model_dump()
    references: dict[str, str] = {}
    for task, path in layout.tasks.items():
        value = resolve_path(raw, path)
        if isinstance(value, str) and value.strip():
            references[task] = value
    critique = resolve_path(raw, layout.critique_path) if layout.critique_path else None
    history, target = _target_from(record, layout)
    return Example(
        example_id=record.reviewer_id,
        user_id=record.reviewer_id,
        history=history,
        target=target,
        critique=critique if isinstance(critique, str) and critique.strip() else None,
        references=references,
    )


__all__ = ["Example", "Item", "Purchase", "build_example"]
