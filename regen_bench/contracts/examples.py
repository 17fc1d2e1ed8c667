"""An Example is one user, one target, and the reference narratives; a metric scores it.

A model fits on the full `Example`s of the training and validation users. For a test
user it is shown only `Example.model_input(task)`, a `ModelInput`: the inputs of that
task and none of its answers (no reference narrative of any task; for `next_item` no
target; for the tasks about the next purchase, `tasks.takes_target_item`, the target
item but not its review). Reading a hidden field raises `HiddenAnswerError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from regen_bench.contracts.layout import DatasetLayout
from regen_bench.contracts.records import Item, Purchase, RegenRecord, resolve_path
from regen_bench.contracts.tasks import RANKING, kind_of, takes_target_item

WHAT_A_MODEL_SEES = "docs/plugin-authors.md, 'What a model sees'"


class HiddenAnswerError(AttributeError):
    """A model read a field of a test example that it may not see (an answer).

    An AttributeError, so `hasattr` is False and `getattr(x, name, default)` gives the
    default; reading it outright fails with this message. The view never holds the
    hidden values, so there is nothing else to read them from.
    """

    def __init__(self, field: str, task: str, why: str):
        super().__init__(
            f"a model may not read {field} of a test example (task {task!r}): {why}. "
            f"generate() and recommend() get the inputs only; fit() gets the training users' full "
            f"examples. See {WHAT_A_MODEL_SEES}"
        )


def _history_text(history: list[Purchase]) -> str:
    lines = []
    for purchase in history:
        parts = [purchase.item.title or "", purchase.item.category or ""]
        lines.append(" | ".join(p for p in parts if p))
    return "\n".join(lines)


@dataclass(frozen=True)
class TargetItem:
    """The next purchase as a model sees it for a task about it: the item, never its review."""

    item: Item
    task: str

    @property
    def review(self):
        raise HiddenAnswerError("the review of the next purchase", self.task,
                                "it is written after the purchase the task is about")


@dataclass(frozen=True)
class ModelInput:
    """What `generate` / `recommend` see of one test example for one task (no answers).

    `history` and `critique` (the user's request, when there is one) are inputs of every
    task; `target` is the target item (a `TargetItem`, or None when the user has none)
    for the tasks `tasks.takes_target_item` names and hidden for every other task;
    `references` is hidden always. Copies: changing them changes nothing of the run.
    """

    example_id: str
    user_id: str
    task: str
    history: list[Purchase]
    critique: str | None
    sees_target: bool  # whether `target` may be read for this task
    _target: TargetItem | None = None

    @property
    def references(self):
        raise HiddenAnswerError("the references", self.task, "they are the answers the outputs are scored against")

    @property
    def target(self) -> TargetItem | None:
        if not self.sees_target:
            if kind_of(self.task) is RANKING:
                raise HiddenAnswerError("the target", self.task, "the next item is the answer of this task")
            raise HiddenAnswerError("the target", self.task, "only the tasks about the next purchase "
                                    "(purchase_reason, endorsement) take the target item as input")
        return self._target

    @property
    def target_item_id(self) -> str | None:
        target = self.target
        return target.item.asin if target is not None else None

    def history_text(self) -> str:
        """Titles and categories of the history, one item per line (for text models)."""
        return _history_text(self.history)


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
        return _history_text(self.history)

    def reference(self, task: str) -> str | None:
        """What `task` is scored against for this example: its reference narrative, or for a
        ranking task the target item's id; None when the example is not scored on `task`."""
        if kind_of(task) is RANKING:
            return self.target_item_id
        return self.references.get(task)

    def model_input(self, task: str) -> ModelInput:
        """What a model is shown of this example for `task`: its inputs, none of its answers.

        Never a narrative: no references, no target item field whose text is a reference of
        any task, no critique that is this task's reference (a dataset may map a task onto
        such a field; for another task the critique is the user's request, an input).
        For `next_item` the target is hidden, and so is a history that is only the target
        (kept when the record had nothing else). Everything is copied.
        """
        answer = self.references.get(task)
        history = self.history
        if (kind_of(task) is RANKING and self.target is not None and len(history) == 1
                and history[0].item.asin == self.target.item.asin):
            history = []
        sees = takes_target_item(task)
        target = None
        if sees and self.target is not None:
            narratives = list(self.references.values())  # extras may be unhashable (dicts, lists)
            fields = {k: v for k, v in self.target.item.model_dump().items() if k == "asin" or v not in narratives}
            target = TargetItem(item=Item.model_validate(fields), task=task)
        return ModelInput(
            example_id=self.example_id,
            user_id=self.user_id,
            task=task,
            history=[p.model_copy(deep=True) for p in history],
            critique=self.critique if self.critique != answer else None,
            sees_target=sees,
            _target=target,
        )


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


__all__ = ["Example", "HiddenAnswerError", "Item", "ModelInput", "Purchase", "TargetItem", "build_example"]
