"""The Model contract. A plugin subclasses `Model` and registers the class.

Minimal model::

    class Echo(Model):
        name = "echo"
        def generate(self, examples, task):
            return [e.history_text() for e in examples]
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.examples import Example, ModelInput
from regen_bench.contracts.tasks import KINDS
from regen_bench.util.hashing import hash_config


class ContractError(RegenBenchError):
    """A plugin broke its contract (outputs of the wrong type or count): a bug in the plugin, not bad input."""


class ModelOptions(BaseModel):
    """Base for a model's options; unknown keys are an error, strings are coerced."""

    model_config = ConfigDict(extra="forbid")


class Model:
    """A narrative generator (and optionally a next-item recommender).

    Class attributes:
      name        the name users pass to `--model`
      description one line for `regen-bench list models`
      version     bump when a change alters outputs: it is part of the cache key
      Options     a `ModelOptions` subclass; `--model-arg key=value` fills it
      batch_size  how many examples `generate` receives at once; each finished
                  batch is written to the cache, so a killed run loses at most one
      paid_api    True when generating calls a paid API (needs a key; `make leaderboard`
                  re-runs only the models that don't)
      extras      the `regen-bench[...]` extras whose optional libraries it imports
                  (`regen-bench list models` shows them; import them through
                  `regen_bench.plugin.extras.require` so a missing one is one line)

    Lifecycle, driven by the runner: `Model(**options)`, then `fit(train, validation,
    tasks=..., seed=...)` once, then `generate(batch, task)` per batch. `fit` is
    skipped when every generation is already cached.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    Options: ClassVar[type[ModelOptions]] = ModelOptions
    batch_size: ClassVar[int] = 32
    paid_api: ClassVar[bool] = False
    extras: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def task_kinds(cls) -> list[str]:
        """The task kinds this model does: those whose method (`generate`, `recommend`) it overrides."""
        return [kind.name for kind in KINDS.values()
                if getattr(cls, kind.model_method, None) is not getattr(Model, kind.model_method)]

    def __init__(self, **options):
        self.options = self.Options(**options)

    def fit(self, train: list[Example], validation: list[Example], *, tasks: list[str], seed: int) -> None:
        """Learn from training users (and validation users for early stopping)."""

    def generate(self, examples: list[ModelInput], task: str) -> list[str]:
        """Return one narrative per example, in order.

        Each example is a `ModelInput`: the user's inputs for `task`, never its reference
        narratives (nor, except for tasks about the next item, its target): see
        docs/plugin-authors.md, "What a model sees".
        """
        raise NotImplementedError(f"model {self.name!r} does not generate narratives")

    def recommend(self, examples: list[ModelInput], k: int) -> list[list[str]]:
        """Return the top-k item ids per example (the next-item task; the target is hidden); optional."""
        raise NotImplementedError(f"model {self.name!r} does not recommend items")

    def config(self) -> dict:
        """Everything that determines the outputs; feeds cache keys and results.json."""
        return {
            "name": self.name,
            "version": self.version,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "options": self.options.model_dump(mode="json"),
        }

    def config_hash(self) -> str:
        return hash_config(self.config())

    def usage(self) -> dict:
        """API token usage and cost of this run's generations (API models)."""
        return {}

    def info(self) -> dict:
        """Facts about the fitted model for results.json (parameters, backbone...)."""
        return {}
