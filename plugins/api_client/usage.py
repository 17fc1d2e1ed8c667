"""Token usage and cost of a run, from a configurable price table.

Prices are USD per 1M tokens, `{"input": x, "output": y}`, looked up by
"provider:model" first, then by the bare model id. The defaults below are list
prices as published by the providers when this table was written (2025); they change,
so a run that reports cost should pass its own table (`--metric-arg
llm-rater.prices=prices.json`, a JSON object of the same shape, merged over these
defaults). A model not in the table has cost `None` (unknown), never 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regen_bench.contracts.errors import RegenBenchError

DEFAULT_PRICES: dict[str, dict[str, float]] = {
    # OpenAI chat
    "gpt-4o": {"input": 2.50, "output": 10.00},
    "gpt-4o-mini": {"input": 0.15, "output": 0.60},
    "gpt-4.1": {"input": 2.00, "output": 8.00},
    "gpt-4.1-mini": {"input": 0.40, "output": 1.60},
    "gpt-4.1-nano": {"input": 0.10, "output": 0.40},
    # OpenAI embeddings
    "text-embedding-3-small": {"input": 0.02, "output": 0.0},
    "text-embedding-3-large": {"input": 0.13, "output": 0.0},
    # Gemini
    "gemini-2.0-flash": {"input": 0.10, "output": 0.40},
    "gemini-2.0-flash-lite": {"input": 0.075, "output": 0.30},
    "gemini-2.5-flash": {"input": 0.30, "output": 2.50},
    "gemini-2.5-pro": {"input": 1.25, "output": 10.00},
    "gemini-embedding-001": {"input": 0.15, "output": 0.0},
}


@dataclass(frozen=True)
class Price:
    input: float  # USD per 1M input tokens
    output: float  # USD per 1M output tokens

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


def _parse_prices(data: Any, source: str) -> dict[str, Price]:
    if not isinstance(data, dict):
        raise RegenBenchError(f"{source}: a price table is a JSON object of model id -> {{\"input\": USD, \"output\": USD}}")
    prices = {}
    for model, entry in data.items():
        if not isinstance(entry, dict) or not {"input", "output"} <= set(entry):
            raise RegenBenchError(f"{source}: price of {model!r} needs \"input\" and \"output\" (USD per 1M tokens)")
        try:
            prices[str(model)] = Price(float(entry["input"]), float(entry["output"]))
        except (TypeError, ValueError):
            raise RegenBenchError(f"{source}: price of {model!r} is not a number") from None
    return prices


class PriceTable:
    def __init__(self, prices: dict[str, Any] | None = None, *, defaults: bool = True):
        self.prices: dict[str, Price] = _parse_prices(DEFAULT_PRICES, "default prices") if defaults else {}
        if prices:
            self.prices.update(_parse_prices(prices, "prices"))

    @classmethod
    def load(cls, path: str | Path | None = None) -> "PriceTable":
        """Defaults, overridden by the JSON file at `path` when given."""
        if path is None or str(path) == "":
            return cls()
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RegenBenchError(f"price table not found: {path}") from None
        except json.JSONDecodeError as exc:
            raise RegenBenchError(f"{path}: not valid JSON ({exc})") from None
        table = cls()
        table.prices.update(_parse_prices(data, str(path)))
        return table

    def lookup(self, provider: str | None, model: str) -> Price | None:
        model = model.removeprefix("models/")
        if provider and f"{provider}:{model}" in self.prices:
            return self.prices[f"{provider}:{model}"]
        return self.prices.get(model)

    def cost(self, provider: str | None, model: str, input_tokens: int | None, output_tokens: int | None) -> float | None:
        price = self.lookup(provider, model)
        if price is None or input_tokens is None or output_tokens is None:
            return None
        return price.cost(input_tokens, output_tokens)


@dataclass
class UsageMeter:
    """Tokens and requests of fresh (not cached) calls to one provider model in one run.

    requests counts HTTP requests sent, retries included. Token counts come from the
    provider's answers; when a provider did not report them (Gemini embeddings), the
    token count and the cost are None (unknown).
    """

    provider: str
    model: str
    prices: PriceTable
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    tokens_known: bool = True

    def add(self, input_tokens: int | None, output_tokens: int | None, requests: int = 0) -> None:
        self.requests += requests
        if input_tokens is None or output_tokens is None:
            self.tokens_known = False
        self.input_tokens += input_tokens or 0
        self.output_tokens += output_tokens or 0

    def cost_usd(self) -> float | None:
        if not self.tokens_known:
            return None
        return self.prices.cost(self.provider, self.model, self.input_tokens, self.output_tokens)

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens if self.tokens_known else None,
            "output_tokens": self.output_tokens if self.tokens_known else None,
            "requests": self.requests,
            "cost_usd": self.cost_usd(),
        }
