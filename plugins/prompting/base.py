"""The prompting base model: builds each example's conversation (history, request,
instruction, few-shot examples); subclasses turn conversations into text."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from pydantic import Field

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.examples import Example
from regen_bench.contracts.model import Model, ModelOptions
from regen_bench_plugins.prompting.prompts import TEMPLATE_SHA, PromptFormat, choose_shots, conversation

log = logging.getLogger("regen_bench.llm_prompting")


# What `generate` returns for an example whose call failed for good: the runner does not
# cache None, leaves the example out of the scores, and the next run retries it.
FAILED_OUTPUT = None


class PromptingOptions(ModelOptions):
    temperature: float = Field(0.0, ge=0.0)
    max_tokens: int = Field(256, ge=1)
    shots: int = Field(0, ge=0)  # few-shot examples from training users (0: zero-shot)
    history_items: int = Field(20, ge=1)  # the last N purchases are shown
    review_chars: int = Field(150, ge=0)  # review text clipped to N characters


class PromptingModel(Model):
    """Builds the prompts; subclasses turn them into text."""

    Options: ClassVar[type[ModelOptions]] = PromptingOptions

    def __init__(self, **options):
        super().__init__(**options)
        o = self.options
        self.format = PromptFormat(history_items=o.history_items, review_chars=o.review_chars)
        self._train: list[Example] = []
        self._seed: int | None = None
        self._shots: dict[str, list[Example]] = {}
        self.failed_examples = 0
        self.empty_answers = 0

    def fit(self, train, validation, *, tasks, seed):
        # Nothing is learned; the training users are kept for few-shot examples only.
        self._train = list(train) if self.options.shots else []
        self._seed = int(seed)
        self._shots = {}

    def shots_for(self, task: str) -> list[Example]:
        if not self.options.shots:
            return []
        if self._seed is None:
            raise RegenBenchError(f"model {self.name!r}: shots={self.options.shots} needs fit() (the training users) first")
        if task not in self._shots:
            self._shots[task] = choose_shots(self._train, task, self.options.shots, self._seed)
            if len(self._shots[task]) < self.options.shots:
                log.warning("%s: only %d training users have a %r narrative for few-shot examples (asked for %d)",
                            self.name, len(self._shots[task]), task, self.options.shots)
        return self._shots[task]

    def conversations(self, examples: list[Example], task: str) -> list[tuple]:
        shots = self.shots_for(task)
        return [conversation(e, task, self.format, shots) for e in examples]

    def prompt_info(self) -> dict[str, Any]:
        return {
            "template_sha": TEMPLATE_SHA,
            "shots": {task: [e.example_id for e in chosen] for task, chosen in sorted(self._shots.items())},
        }
