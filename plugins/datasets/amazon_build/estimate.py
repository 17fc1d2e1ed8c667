"""`data build --dry-run`: the calls, tokens and cost a build would make, before any call.

Input tokens are estimated from the prompts themselves (about 4 characters a token, the
API client's estimate; the reason and endorsement prompts hold a critique of typical
length where one will be). Output tokens are given twice: `typical` (the lengths the
prompts ask for, in tokens: `TYPICAL_OUTPUT`) and `at most` (each artefact's token
budget). Repair calls, which only a malformed answer causes, are not counted. Calls
whose answers are already in the call cache are counted and priced like the rest;
`cached_critiques` says how many critiques are (the narrative prompts hold the critiques'
text, so they can be looked up only once the critiques exist).
"""

from __future__ import annotations

from regen_bench_plugins.api_client import CallCache, estimate_tokens
from regen_bench_plugins.datasets.amazon_build.backends import Backend
from regen_bench_plugins.datasets.amazon_build.calls import Job, request
from regen_bench_plugins.datasets.amazon_build.prompts import ARTEFACTS, critique_prompt, narrative_prompt, template

# Tokens of a typical answer, JSON wrapping included: the lengths the prompts ask for
# (25 words, 2-3 sentences, ...), at about 1.3 tokens a word.
TYPICAL_OUTPUT = {"critique": 35, "purchase_reason": 90, "endorsement": 60, "profile": 30, "long_summary": 140}
TYPICAL_CRITIQUE = "Do you have something like this but in a darker colour, a bit larger and from a brand I know?"


def estimate(plan, backend: Backend, cache: CallCache | None) -> dict:
    system = estimate_tokens(template("system").text)
    rows = {name: {"calls": 0, "input_tokens": 0, "typical_output_tokens": 0, "max_output_tokens": 0}
            for name in ARTEFACTS}
    critique_requests = []

    def add(name: str, prompt: str) -> None:
        row = rows[name]
        row["calls"] += 1
        row["input_tokens"] += system + estimate_tokens(prompt)
        row["typical_output_tokens"] += TYPICAL_OUTPUT[name]
        row["max_output_tokens"] += request(Job(name, prompt, ""), backend.options).max_tokens or 0

    for user in plan.users:
        purchases = plan.purchases[user]
        for i in plan.pairs[user]:
            prompt = critique_prompt(purchases[i - 1], purchases[i])
            add("critique", prompt)
            critique_requests.append(request(Job("critique", prompt, ""), backend.options))
        *hist, last = purchases
        critique = TYPICAL_CRITIQUE if plan.pairs[user] and plan.pairs[user][-1] == len(purchases) - 1 else None
        for name in ("purchase_reason", "endorsement", "profile", "long_summary"):
            add(name, narrative_prompt(name, hist, last, critique))
    cached = 0
    if cache is not None and critique_requests:
        runner = backend.runner(cache)
        keys = [runner.key(r) for r in critique_requests]
        cached = len(cache.get_many(keys))
    total = {key: sum(row[key] for row in rows.values()) for key in next(iter(rows.values()))}
    prices = backend.prices()
    price = prices.lookup(backend.provider, backend.model)
    return {
        "users": len(plan.users), "by_artefact": rows, "total": total, "cached_critiques": cached,
        "price_per_million": None if price is None else {"input": price.input, "output": price.output},
        "cost_usd_typical": prices.cost(backend.provider, backend.model, total["input_tokens"],
                                        total["typical_output_tokens"]),
        "cost_usd_at_most": prices.cost(backend.provider, backend.model, total["input_tokens"],
                                        total["max_output_tokens"]),
    }


def format_estimate(result: dict, spec: str) -> str:
    lines = [f"dry run: {result['users']:,} users, {result['total']['calls']:,} calls to {spec} (before repairs)", ""]
    header = f"{'artefact':<16} {'calls':>8} {'input tok':>11} {'output tok (typical)':>21} {'(at most)':>10}"
    lines += [header, "-" * len(header)]
    for name, row in [*result["by_artefact"].items(), ("total", result["total"])]:
        lines.append(f"{name:<16} {row['calls']:>8,} {row['input_tokens']:>11,} {row['typical_output_tokens']:>21,} "
                     f"{row['max_output_tokens']:>10,}")
    lines.append("")
    price = result["price_per_million"]
    if price is None:
        lines.append("cost: unknown (no price for this model; pass --llm-arg prices=FILE, a JSON table of "
                     "USD per 1M tokens)")
    else:
        lines.append(f"cost at ${price['input']:g} / ${price['output']:g} per 1M input / output tokens: "
                     f"${result['cost_usd_typical']:,.4f} typical, ${result['cost_usd_at_most']:,.4f} at most")
    if result["cached_critiques"]:
        lines.append(f"{result['cached_critiques']:,} critique calls are already in the call cache (no cost)")
    lines.append("tokens are estimates (about 4 characters a token); nothing was called")
    return "\n".join(lines)
