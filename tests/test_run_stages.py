"""The stages of `regen-bench run`, each alone, and `k` as a run option (pipeline/plan.py, pipeline/stages.py)."""

import json
from types import SimpleNamespace

import pytest

from regen_bench.contracts.errors import RegenBenchError, UnknownNameError
from regen_bench.contracts.examples import Example
from regen_bench.contracts.model import Model
from regen_bench.contracts.records import Item, Purchase
from regen_bench.contracts.tasks import DEFAULT_K, RANKING, TEXT
from regen_bench.data.splits import SplitConfig
from regen_bench.pipeline.executor import Executor, FinishedBatch, LocalExecutor
from regen_bench.pipeline.generation_cache import GenerationCache
from regen_bench.pipeline.plan import cache_keys, plan_run
from regen_bench.pipeline.runner import RunConfig, run_benchmark
from regen_bench.pipeline.stages import (
    CacheLookup,
    Evaluation,
    drop_failed,
    generate_stage,
    make_batches,
    merged_outputs,
    read_cache,
    sample_rows,
    split_stage,
)
from regen_bench.plugin import registry
from regen_bench.plugin.hookspecs import hookimpl
from regen_bench.results.schema import SampleRow
from regen_bench.util.hashing import run_config_hash


def purchase(asin: str) -> Purchase:
    return Purchase(item=Item(asin=asin, title=f"title {asin}", category="c"))


def example(i: int, *, target: bool = True, references=("user_summary",)) -> Example:
    return Example(
        example_id=f"e{i:04d}", user_id=f"u{i:04d}", history=[purchase(f"h{i}"), purchase(f"g{i}")],
        target=purchase(f"t{i}") if target else None, references={task: f"ref {i}" for task in references},
    )


class Writer(Model):
    name = "writer"

    def generate(self, examples, task):
        return [f"{task} {e.example_id}" for e in examples]


class Ranker(Model):
    name = "ranker"

    def recommend(self, examples, k):
        return [[f"item{j}" for j in range(k)] for _ in examples]


class Both(Writer):
    name = "both"
    batch_size = 3
    asked_k: list[int] = []

    def recommend(self, examples, k):
        type(self).asked_k.append(k)
        # The last history item, not the target: recommend() is never shown the answer.
        return [[e.history[-1].item.asin] + [f"item{j}" for j in range(k - 1)] for e in examples]


def loaded(available=("user_summary", "endorsement"), targets=True):
    return SimpleNamespace(available_tasks=list(available), examples=[example(0, target=targets)])


# -- plan ------------------------------------------------------------------------------


def test_model_kinds_are_the_model_methods_a_class_overrides():
    assert set(Writer.task_kinds()) == {"text"}
    assert set(Ranker.task_kinds()) == {"ranking"}
    assert set(Both.task_kinds()) == {"text", "ranking"}


def test_plan_picks_every_task_the_dataset_has_that_the_model_can_do():
    assert plan_run(RunConfig(model="writer"), loaded(), Writer, "d").tasks == ["user_summary", "endorsement"]
    assert plan_run(RunConfig(model="ranker"), loaded(), Ranker, "d").tasks == ["next_item"]
    both = plan_run(RunConfig(model="both"), loaded(), Both, "d")
    assert both.tasks == ["user_summary", "endorsement", "next_item"]
    assert both.metric_names == ["bleu", "rouge", "recall@k", "ndcg@k", "mrr"]
    # No targets in the data: no ranking task by default.
    assert plan_run(RunConfig(model="both"), loaded(targets=False), Both, "d").tasks == ["user_summary", "endorsement"]


def test_plan_keeps_given_tasks_and_metrics():
    config = RunConfig(model="both", tasks=["endorsement"], metrics=["rouge"])
    plan = plan_run(config, loaded(), Both, "d")
    assert plan.tasks == ["endorsement"] and plan.metric_names == ["rouge"]


def test_plan_records_k_only_when_a_ranking_task_runs_and_hashes_it_only_when_not_default():
    text_only = plan_run(RunConfig(model="writer", k=5), loaded(), Writer, "d")
    assert text_only.k is None and text_only.hash_k is None
    default = plan_run(RunConfig(model="both"), loaded(), Both, "d")
    assert default.k == DEFAULT_K and default.hash_k is None
    five = plan_run(RunConfig(model="both", k=5), loaded(), Both, "d")
    assert five.k == 5 and five.hash_k == 5


@pytest.mark.parametrize("model_cls, task, message", [
    (Writer, "next_item", "does not recommend items"),
    (Ranker, "user_summary", "only recommends items"),
])
def test_plan_rejects_a_task_the_model_cannot_do(model_cls, task, message):
    with pytest.raises(RegenBenchError, match=message):
        plan_run(RunConfig(model=model_cls.name, tasks=[task]), loaded(), model_cls, "d")


def test_plan_with_no_possible_task_names_dataset_and_model():
    with pytest.raises(RegenBenchError, match="dataset 'd' has no task that model 'ranker' can do"):
        plan_run(RunConfig(model="ranker"), loaded(targets=False), Ranker, "d")


def test_cache_keys_keep_the_hash_of_runs_made_before_k_was_an_option():
    config = {"name": "both", "version": "1"}
    default = plan_run(RunConfig(model="both"), loaded(), Both, "d")
    keys = cache_keys(default, config, 3, "splithash", "datasha")
    assert keys.config_hash == run_config_hash(config, 3, "splithash", default.tasks)
    assert keys.run_key == f"{keys.config_hash}:datasha"
    five = plan_run(RunConfig(model="both", k=5), loaded(), Both, "d")
    assert cache_keys(five, config, 3, "splithash", "datasha").config_hash == run_config_hash(
        config, 3, "splithash", five.tasks, k=5) != keys.config_hash


# -- split -----------------------------------------------------------------------------


def test_split_stage_sorts_limits_and_selects_examples_per_task():
    examples = [example(i, target=i % 2 == 0, references=("user_summary",) if i % 3 else ()) for i in range(400)]
    evaluation = split_stage(examples[::-1], ["user_summary", "next_item"], split_config=SplitConfig(),
                             split="test", limit=20, dataset_name="d")
    ids = [e.example_id for e in evaluation.examples]
    assert ids == sorted(ids) and len(ids) == 20
    assert {e.example_id for e in evaluation.examples} <= {e.example_id for e in evaluation.splits.test}
    assert evaluation.per_task["user_summary"] == [e for e in evaluation.examples if "user_summary" in e.references]
    assert evaluation.per_task["next_item"] == [e for e in evaluation.examples if e.target is not None]


def test_split_stage_refuses_an_empty_split():
    with pytest.raises(RegenBenchError, match="the test split of 'tiny' is empty"):
        split_stage([], ["user_summary"], split_config=SplitConfig(), split="test", limit=None, dataset_name="tiny")


def test_sample_rows_take_the_reference_the_task_kind_names():
    e = example(1)
    rows = sample_rows({"user_summary": [e], "next_item": [e]}, {"user_summary": {e.example_id: "text"},
                                                                  "next_item": {e.example_id: ["t1"]}})
    assert rows == [
        SampleRow(task="user_summary", example_id="e0001", user_id="u0001", prediction="text", reference="ref 1"),
        SampleRow(task="next_item", example_id="e0001", user_id="u0001", prediction=["t1"], reference="t1"),
    ]


# -- cache, executor, generate ---------------------------------------------------------


@pytest.fixture
def cache(tmp_path):
    cache = GenerationCache(tmp_path / "generations.sqlite")
    yield cache
    cache.close()


def test_make_batches_cuts_each_task_and_gives_k_to_ranking_batches_only():
    missing = {"user_summary": [example(i) for i in range(7)], "next_item": [example(i) for i in range(4)]}
    batches = make_batches(missing, 3, 5)
    assert [(b.task, len(b.examples), b.k) for b in batches] == [
        ("user_summary", 3, None), ("user_summary", 3, None), ("user_summary", 1, None),
        ("next_item", 3, 5), ("next_item", 1, 5),
    ]
    assert batches[0].kind is TEXT and batches[-1].kind is RANKING
    assert [e for b in batches[:3] for e in b.examples] == missing["user_summary"]


def test_local_executor_yields_every_batch_once_in_order():
    batches = make_batches({"user_summary": [example(i) for i in range(5)], "next_item": [example(9)]}, 2, 4)
    finished = list(LocalExecutor().run(Both(), batches))
    assert [f.batch for f in finished] == batches
    assert finished[0].outputs == ["user_summary e0000", "user_summary e0001"]
    assert finished[-1].outputs == [["g9", "item0", "item1", "item2"]]


def test_generate_stage_caches_each_batch_and_leaves_failures_out(cache):
    class HalfFails(Writer):
        def generate(self, examples, task):
            return [None if e.example_id.endswith(("1", "3")) else "ok" for e in examples]

    batches = make_batches({"user_summary": [example(i) for i in range(5)]}, 2, DEFAULT_K)
    generated = generate_stage(HalfFails(), LocalExecutor(), batches, cache, "key")
    assert generated.failed == {"user_summary": ["e0001", "e0003"]} and generated.n_failed == 2
    assert generated.outputs == {"user_summary": {"e0000": "ok", "e0002": "ok", "e0004": "ok"}}
    ids = [f"e{i:04d}" for i in range(5)]
    assert cache.get_many("key", "user_summary", ids) == generated.outputs["user_summary"]


def test_generate_stage_writes_a_batch_before_the_next_is_asked_for(cache):
    class Watching(Writer):
        seen: list[int] = []

        def generate(self, examples, task):
            type(self).seen.append(cache.count("key"))
            return super().generate(examples, task)

    generate_stage(Watching(), LocalExecutor(), make_batches({"user_summary": [example(i) for i in range(5)]}, 2, 1),
                   cache, "key")
    assert Watching.seen == [0, 2, 4]


def test_generate_stage_refuses_a_wrong_number_of_outputs(cache):
    class Short(Writer):
        def generate(self, examples, task):
            return ["one"]

    batches = make_batches({"endorsement": [example(i) for i in range(3)]}, 3, 1)
    with pytest.raises(RegenBenchError, match=r"model 'writer' returned 1 outputs for a batch of 3 \(endorsement\)"):
        generate_stage(Short(), LocalExecutor(), batches, cache, "key")


class Repeating(Executor):
    name = "repeating"

    def run(self, model, batches):
        for batch in batches:
            yield FinishedBatch(batch, model.generate(batch.examples, batch.task))
        yield FinishedBatch(batches[0], model.generate(batches[0].examples, batches[0].task))


class Dropping(Executor):
    name = "dropping"

    def run(self, model, batches):
        yield FinishedBatch(batches[0], model.generate(batches[0].examples, batches[0].task))


@pytest.mark.parametrize("executor, message", [(Repeating(), "one twice"), (Dropping(), "did not return 1 of 2")])
def test_generate_stage_holds_executors_to_every_batch_exactly_once(cache, executor, message):
    batches = make_batches({"user_summary": [example(i) for i in range(4)]}, 2, 1)
    with pytest.raises(RegenBenchError, match=message):
        generate_stage(Writer(), executor, batches, cache, "key")


def test_read_cache_and_drop_failed(cache, capsys):
    examples = [example(i) for i in range(3)]
    cache.put_many("key", "user_summary", {"e0001": "cached"})
    lookup = read_cache(cache, "key", {"user_summary": examples})
    assert lookup == CacheLookup(outputs={"user_summary": {"e0001": "cached"}},
                                 missing={"user_summary": [examples[0], examples[2]]})
    assert lookup.n_cached == 1 and lookup.n_missing == 2
    assert merged_outputs(lookup.outputs, {"user_summary": {"e0000": "new"}}) == {
        "user_summary": {"e0001": "cached", "e0000": "new"}}

    evaluation = Evaluation(splits=None, examples=examples, per_task={"user_summary": examples})
    assert drop_failed(evaluation, {}) is evaluation and capsys.readouterr().err == ""
    kept = drop_failed(evaluation, {"user_summary": ["e0002"]})
    assert kept.per_task == {"user_summary": examples[:2]} and kept.examples == examples
    assert "warning: 1 generations failed" in capsys.readouterr().err


# -- the whole run, with an in-memory model --------------------------------------------


@pytest.fixture
def both_model():
    class Plugin:
        @staticmethod
        @hookimpl
        def register_models(register):
            register(Both)

    registry.get_host().register_object(Plugin, "both-plugin")
    Both.asked_k = []
    yield Both


def small_run(tmp_path, name, **options):
    options = {"tasks": ["user_summary", "next_item"], "metrics": ["bleu", "recall@k"], **options}
    config = RunConfig(model="both", dataset_args={"users": "200"}, resamples=20, progress=False,
                       output=tmp_path / name, **options)
    return run_benchmark(config)


def test_run_with_k_records_it_passes_it_to_recommend_and_keys_the_cache_by_it(tmp_path, both_model):
    five = small_run(tmp_path, "five", k=5)
    assert five.results.k == 5 and set(both_model.asked_k) == {5}
    assert five.generated > 0 and five.cached == 0
    assert all(len(row) == 5 for row in _predictions(five.run_dir, "next_item"))

    both_model.asked_k = []
    default = small_run(tmp_path, "default")
    assert default.results.k == DEFAULT_K and set(both_model.asked_k) == {DEFAULT_K}
    assert default.cached == 0, "k=5 outputs are not reused for k=100"
    assert default.results.model.config_hash == run_config_hash(
        default.results.model.config, 0, default.results.dataset.split_hash, ["user_summary", "next_item"])
    assert five.results.model.config_hash != default.results.model.config_hash


def test_text_only_run_records_no_k(tmp_path, both_model):
    outcome = small_run(tmp_path, "text", tasks=["user_summary"], metrics=["bleu"], k=5)
    assert outcome.results.k is None and both_model.asked_k == []


def test_unknown_executor_is_a_clear_error_before_any_work(tmp_path, both_model):
    with pytest.raises(UnknownNameError, match="unknown executor 'dask'") as info:
        small_run(tmp_path, "dask", executor="dask")
    assert info.value.known == ["local", "ray"]
    assert not (tmp_path / "dask").exists()


def _predictions(run_dir, task):
    rows = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    return [r["prediction"] for r in rows if r["task"] == task]
