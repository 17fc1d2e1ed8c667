"""A model is shown a test user's inputs, never the answers it is scored on (issue 9, defect 8).

Before, the runner handed `generate()` / `recommend()` whole `Example`s: a ten-line plugin
returning `e.references[task]` and `[e.target.item.asin]` scored BLEU 100 and recall 1.0,
and `leaderboard validate` accepted the run. Now `produce()` passes each example's
`model_input(task)`: no references; no target for `next_item`; for the tasks about the next
purchase the target item, never its review. These tests run that plugin through the real
runner and the real CLI, and check the view of each kind of task.
"""

from __future__ import annotations

import pickle
import textwrap
from typing import ClassVar

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.contracts.examples import Example, HiddenAnswerError, ModelInput, TargetItem
from regen_bench.contracts.model import Model
from regen_bench.contracts.records import Item, Purchase, Review
from regen_bench.contracts.tasks import RANKING, TARGET_ITEM_TASKS, TEXT, takes_target_item
from regen_bench.pipeline.executor import Batch, LocalExecutor, produce
from regen_bench.pipeline.runner import RunConfig, run_benchmark
from regen_bench.plugin import registry
from regen_bench.plugin.hookspecs import hookimpl

REVIEW = "SECRET-TARGET-REVIEW written after the purchase"
REFERENCES = {
    "user_summary": "SECRET-SUMMARY: a shopper who loves green pens.",
    "purchase_reason": "SECRET-REASON: they wanted a lamp for late reading.",
    "endorsement": "SECRET-ENDORSEMENT: you will love this lamp.",
}


def make_example(*, history=None, critique="Do you have it in green?", references=REFERENCES, target=True,
                 target_extra=None) -> Example:
    history = history if history is not None else [
        Purchase(item=Item(asin="H1", title="Inkwell Gel Pens", category="Pens", price=7.49),
                 review=Review(summary="Smooth", rating=5, text="these pens glide")),
        Purchase(item=Item(asin="H2", title="Meridian Binder", category="Binders")),
    ]
    item = {"asin": "TGT9", "title": "Fairhaven Desk Lamp", "category": "Desk Lamps", "price": 36.99,
            **(target_extra or {})}
    return Example(
        example_id="E1", user_id="U1", history=history, critique=critique, references=dict(references),
        target=Purchase(item=Item.model_validate(item), review=Review(summary=REVIEW, rating=4, text=REVIEW))
        if target else None,
    )


def leaks(view: ModelInput, *secrets: str) -> list[str]:
    """The secrets found anywhere in the view (pickled: every attribute, however reached)."""
    data = pickle.dumps(view)
    return [s for s in secrets if s.encode() in data]


# -- the view, per kind of task ----------------------------------------------------------


def test_tasks_about_the_next_purchase_are_declared_as_data():
    assert TARGET_ITEM_TASKS == {"purchase_reason", "endorsement"}
    assert [takes_target_item(t) for t in ("purchase_reason", "endorsement")] == [True, True]
    assert [takes_target_item(t) for t in ("user_summary", "user_profile", "next_item", "other")] == [False] * 4


@pytest.mark.parametrize("task", ["user_summary", "user_profile", "some_new_narrative"])
def test_text_task_without_target_input_sees_history_and_request_only(task):
    example = make_example()
    view = example.model_input(task)
    assert isinstance(view, ModelInput) and view.task == task and view.example_id == "E1" and view.user_id == "U1"
    assert [p.item.asin for p in view.history] == ["H1", "H2"] and view.history[0].review.text == "these pens glide"
    assert view.critique == "Do you have it in green?"
    assert view.history_text() == example.history_text()
    for name in ("references", "target", "target_item_id"):
        with pytest.raises(HiddenAnswerError, match=rf"a model may not read .* \(task '{task}'\)"):
            getattr(view, name)
        assert not hasattr(view, name)
    assert leaks(view, *REFERENCES.values(), REVIEW, "TGT9", "Fairhaven") == []


@pytest.mark.parametrize("task", ["purchase_reason", "endorsement"])
def test_text_task_about_the_next_purchase_sees_the_target_item_not_its_review(task):
    view = make_example(target_extra={"brand": "Fairhaven", "description": "A lamp"}).model_input(task)
    assert isinstance(view.target, TargetItem)
    item = view.target.item
    assert (item.asin, item.title, item.category, item.price) == ("TGT9", "Fairhaven Desk Lamp", "Desk Lamps", 36.99)
    assert item.model_extra == {"brand": "Fairhaven", "description": "A lamp"}  # the item's metadata is input
    assert view.target_item_id == "TGT9" and view.critique == "Do you have it in green?"
    with pytest.raises(HiddenAnswerError, match="the review of the next purchase"):
        _ = view.target.review
    with pytest.raises(HiddenAnswerError, match="may not read the references"):
        _ = view.references
    assert leaks(view, *REFERENCES.values(), REVIEW) == []


def test_a_task_about_the_next_purchase_without_a_target_says_none():
    view = make_example(target=False).model_input("endorsement")
    assert view.target is None and view.target_item_id is None


def test_ranking_task_never_sees_the_next_item():
    view = make_example().model_input("next_item")
    with pytest.raises(HiddenAnswerError, match=r"may not read the target .*'next_item'.*the next item is the answer"):
        _ = view.target
    with pytest.raises(HiddenAnswerError):
        _ = view.target_item_id
    assert [p.item.asin for p in view.history] == ["H1", "H2"]
    assert leaks(view, *REFERENCES.values(), REVIEW, "TGT9", "Fairhaven") == []


def test_a_history_that_is_only_the_target_is_not_shown_for_next_item():
    target = Purchase(item=Item(asin="TGT9", title="Fairhaven Desk Lamp"))
    example = make_example(history=[target])  # what the loader keeps when the record had nothing else
    assert example.model_input("next_item").history == []
    assert [p.item.asin for p in example.model_input("user_summary").history] == ["TGT9"]


def test_no_field_of_the_view_carries_the_task_reference():
    # A dataset may map a task onto the critique or a field of the target item (--task-map).
    reason = REFERENCES["purchase_reason"]
    example = make_example(critique=reason, target_extra={"blurb": reason, "pitch": REFERENCES["endorsement"],
                                                          "specs": {"watts": 9}, "tags": ["lamp"]})
    view = example.model_input("purchase_reason")
    assert view.critique is None and view.target.item.model_extra == {"specs": {"watts": 9}, "tags": ["lamp"]}
    assert leaks(view, *REFERENCES.values()) == []
    assert example.model_input("next_item").critique == reason  # for another task it is the request


def test_the_view_is_a_copy():
    example = make_example()
    view = example.model_input("user_summary")
    view.history[0].item.title = "changed"
    view.history.pop()
    assert [p.item.title for p in example.history] == ["Inkwell Gel Pens", "Meridian Binder"]


def test_produce_calls_the_model_with_views_and_the_batch_keeps_full_examples():
    seen = []

    class Recorder(Model):
        name = "recorder"

        def generate(self, examples, task):
            seen.extend(examples)
            return ["x"] * len(examples)

        def recommend(self, examples, k):
            seen.extend(examples)
            return [["H1"]] * len(examples)

    example = make_example()
    assert produce(Recorder(), Batch("endorsement", TEXT, [example])) == ["x"]
    (finished,) = LocalExecutor().run(Recorder(), [Batch("next_item", RANKING, [example], k=5)])
    assert finished.outputs == [["H1"]] and finished.batch.examples == [example]
    assert [type(v) for v in seen] == [ModelInput, ModelInput] and [v.task for v in seen] == ["endorsement", "next_item"]
    assert example.references == REFERENCES and example.target.review.summary == REVIEW


def test_built_in_prompts_show_the_target_item_only_for_tasks_about_it():
    from regen_bench_plugins.prompting.prompts import PromptFormat, conversation

    example = make_example()
    for task in ("user_summary", "user_profile", "purchase_reason", "endorsement", "other_task"):
        (role, prompt), = conversation(example.model_input(task), task, PromptFormat())
        assert role == "user" and "Do you have it in green?" in prompt
        assert ("Fairhaven Desk Lamp" in prompt) == (task in TARGET_ITEM_TASKS), task
        assert REVIEW not in prompt and not any(ref in prompt for ref in REFERENCES.values())


# -- the cheating plugin, through the real runner -----------------------------------------


class Cheat(Model):
    """The plugin of the issue: copies the answers."""

    name = "cheat"
    batch_size = 64
    fit_saw: ClassVar[dict] = {}

    def fit(self, train, validation, *, tasks, seed):
        # fit keeps the training users' full examples: their narratives and targets are labels
        type(self).fit_saw = {
            "types": {type(e) for e in train + validation},
            "references": sum(1 for e in train if e.references),
            "targets": sum(1 for e in train if e.target is not None),
        }

    def generate(self, examples, task):
        return [e.references[task] for e in examples]

    def recommend(self, examples, k):
        return [[e.target.item.asin] for e in examples]


class Sneaky(Model):
    """Looks for the answers without failing, and falls back to an honest guess."""

    name = "sneaky"
    batch_size = 64

    def generate(self, examples, task):
        return [getattr(e, "references", {}).get(task) or e.history_text() or "nothing" for e in examples]

    def recommend(self, examples, k):
        out = []
        for e in examples:
            target = getattr(e, "target", None)
            answer = [target.item.asin] if target is not None else []
            out.append((answer + [p.item.asin for p in e.history])[:k] or ["none"])
        return out


class Honest(Sneaky):
    """The same guesses, without looking for answers."""

    name = "honest"

    def generate(self, examples, task):
        return [e.history_text() or "nothing" for e in examples]

    def recommend(self, examples, k):
        return [[p.item.asin for p in e.history][:k] or ["none"] for e in examples]


@pytest.fixture
def plugins():
    class Plugin:
        @staticmethod
        @hookimpl
        def register_models(register):
            for model in (Cheat, Sneaky, Honest):
                register(model)

    registry.get_host().register_object(Plugin, "cheat-plugin")
    Cheat.fit_saw = {}


def small_run(tmp_path, model, tasks=("user_summary", "endorsement", "next_item")):
    return run_benchmark(RunConfig(
        model=model, tasks=list(tasks), metrics=["bleu", "recall@k"], dataset_args={"users": "300"},
        resamples=20, progress=False, output=tmp_path / model,
    ))


@pytest.mark.parametrize("task, message", [
    ("user_summary", r"may not read the references of a test example \(task 'user_summary'\)"),
    ("endorsement", r"may not read the references of a test example \(task 'endorsement'\)"),
    ("next_item", r"may not read the target of a test example \(task 'next_item'\)"),
])
def test_the_cheating_plugin_cannot_read_the_answers(tmp_path, plugins, task, message):
    with pytest.raises(HiddenAnswerError, match=message):
        small_run(tmp_path, "cheat", tasks=[task])
    assert Cheat.fit_saw["types"] == {Example}
    assert Cheat.fit_saw["references"] > 0 and Cheat.fit_saw["targets"] > 0
    assert not list((tmp_path / "cheat").glob("*/results.json"))


def test_a_model_that_looks_for_the_answers_scores_what_it_scores_without_them(tmp_path, plugins):
    sneaky, honest = small_run(tmp_path, "sneaky"), small_run(tmp_path, "honest")
    scores = {(s.task, s.metric, s.component): s.score for s in sneaky.results.scores}
    assert scores == {(s.task, s.metric, s.component): s.score for s in honest.results.scores}
    (recall,) = [v for (task, metric, _), v in scores.items() if (task, metric) == ("next_item", "recall@k")]
    assert scores[("user_summary", "bleu", "bleu")] < 50 and recall == 0.0  # it recommends the history only


def test_the_cheating_plugin_file_fails_the_run_with_one_line_naming_it(tmp_path):
    plugin = tmp_path / "cheat_plugin.py"
    plugin.write_text(textwrap.dedent("""
        from regen_bench import Model, hookimpl

        class Cheat(Model):
            name = "cheat"

            def generate(self, examples, task):
                return [e.references[task] for e in examples]

            def recommend(self, examples, k):
                return [[e.target.item.asin] for e in examples]

        @hookimpl
        def register_models(register):
            register(Cheat)
    """))
    for task in ("user_summary", "next_item"):
        result = CliRunner().invoke(main, [
            "--plugins", str(plugin), "run", "--model", "cheat", "--task", task, "--dataset-arg", "users=300",
            "--bootstrap", "20", "--quiet", "--output", str(tmp_path / "runs"),
        ])
        assert result.exit_code != 0, result.output
        lines = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and "Traceback" not in result.output, result.output
        assert "model 'cheat'" in lines[0] and "may not read the" in lines[0] and "What a model sees" in lines[0]
        registry.reset()
    assert not list((tmp_path / "runs").glob("*/results.json"))


# -- built-in models read inputs only ------------------------------------------------------


def test_fusion_with_reviews_embeds_the_next_purchase_without_its_review(use_shared_cache):
    """`fusion --model-arg include_review=true` used to embed the target purchase's review
    (written after it) into the target soft token, in training and at generation."""
    import numpy as np

    from regen_bench.data.loading import load_dataset_examples
    from regen_bench.data.splits import split_users_by_hash
    from regen_bench_plugins.datasets.synthetic import SyntheticDataset
    from regen_bench_plugins.models.fusion import SoftTokenModel
    from regen_bench_plugins.models.fusion.soft_tokens.adapter import TARGET

    splits = split_users_by_hash(load_dataset_examples(SyntheticDataset(users=300, seed=0)).examples)
    fast = {"hidden": "32", "layers": "1", "heads": "2", "vocab_size": "256", "epochs": "1", "max_steps": "2",
            "max_train_users": "20", "max_validation_rows": "8", "max_new_tokens": "6", "batch_size": "8"}
    model = SoftTokenModel(**fast, include_review="true", whiten_text="0", reuse_weights="false")
    model.fit(splits.train, splits.validation, tasks=["user_summary", "endorsement"], seed=0)
    example = next(e for e in splits.test if e.target is not None and e.target.review is not None)
    view = example.model_input("endorsement")
    (trained, kinds), = model._row_features([example], "endorsement")  # what training rows are made of
    (shown, shown_kinds), = model._row_features([view], "endorsement")
    assert list(kinds) == list(shown_kinds) and kinds[-1] == TARGET
    np.testing.assert_array_equal(trained, shown)
    item_only = model.features.purchases([Purchase(item=example.target.item)])
    np.testing.assert_array_equal(shown[-1:], item_only)
    (text,) = model.generate([view], "endorsement")
    assert isinstance(text, str)
