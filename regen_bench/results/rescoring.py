"""Find the examples behind a saved run, so metrics that read histories (an LLM judge)
can re-score samples.jsonl without the model."""

from __future__ import annotations

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.data.loading import load_dataset_examples
from regen_bench.data.sources import resolve_dataset
from regen_bench.results.schema import RunResults


def examples_for_results(results: RunResults) -> tuple[dict | None, str | None]:
    """(example_id -> Example, None), or (None, why not) when the data can't be had as it was."""
    dataset = results.dataset
    try:
        try:
            _, provider = resolve_dataset(dataset.name, {k: str(v) for k, v in dataset.options.items()})
        except RegenBenchError:
            _, provider = resolve_dataset(dataset.source, {})
        loaded = load_dataset_examples(provider, task_overrides=dataset.layout.get("tasks", {}))
    except RegenBenchError as exc:
        return None, f"dataset of the run not available ({exc}); metrics see no histories"
    if loaded.sha256 != dataset.sha256:
        return None, (
            f"dataset {dataset.name!r} has changed since the run (sha256 {loaded.sha256[:12]} != "
            f"{dataset.sha256[:12]}); metrics see no histories"
        )
    return {e.example_id: e for e in loaded.examples}, None
