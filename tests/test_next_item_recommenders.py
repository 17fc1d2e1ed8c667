"""popularity / wals / fusion-knn on the synthetic next-item task.

WALS and the fused-embedding kNN must beat popularity, and the critique must help:
fusion-knn with each example's critique ranks the target higher than the same model
on the same examples with the critique removed.
"""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench_plugins.metrics.ranking import target_ranks
from regen_bench_plugins.models.recommenders import FusionKnnModel, PopularityModel, WalsModel

USERS = 1500




@pytest.fixture(scope="module")
def splits():
    from regen_bench.data.loading import load_dataset_examples
    from regen_bench.data.splits import split_users_by_hash
    from regen_bench_plugins.datasets.synthetic import SyntheticDataset

    return split_users_by_hash(load_dataset_examples(SyntheticDataset(users=USERS, seed=0)).examples)


@pytest.fixture(scope="module")
def models(splits, shared_cache):
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGEN_BENCH_CACHE_DIR", str(shared_cache))
        for cls in (PopularityModel, WalsModel, FusionKnnModel):
            model = cls()
            model.fit(splits.train, splits.validation, tasks=["next_item"], seed=0)
            out[cls.name] = model
    return out


def held_out(splits):
    return [e for e in splits.test if e.target is not None]


def ranking_scores(rankings, examples, k=10):
    ranks, _ = target_ranks("test", rankings, [e.target_item_id for e in examples])
    recall = float(np.mean([r is not None and r <= k for r in ranks]))
    mrr = float(np.mean([1.0 / r if r else 0.0 for r in ranks]))
    return recall, mrr


def test_rankings_are_well_formed(splits, models, use_shared_cache):
    examples = held_out(splits)[:30]
    catalogue = set(models["wals"].cf.item_ids)
    for model in models.values():
        rankings = model.recommend(examples, 100)
        assert len(rankings) == len(examples)
        for example, ranking in zip(examples, rankings):
            assert len(ranking) == 100 and len(set(ranking)) == 100
            assert set(ranking) <= catalogue
            assert not set(ranking) & {p.item.asin for p in example.history}
        assert rankings == model.recommend(examples, 100)
        assert [r[:5] for r in rankings] == model.recommend(examples, 5)
        with pytest.raises(NotImplementedError):
            model.generate(examples, "user_summary")


def test_wals_and_fusion_knn_beat_popularity(splits, models, use_shared_cache):
    examples = held_out(splits)
    recall = {name: ranking_scores(model.recommend(examples, 100), examples)[0] for name, model in models.items()}
    assert recall["wals"] > recall["popularity"], recall
    assert recall["fusion-knn"] > recall["popularity"], recall
    assert recall["fusion-knn"] > recall["wals"], recall


def test_the_critique_helps(splits, models, use_shared_cache):
    model = models["fusion-knn"]
    with_critique = [e for e in held_out(splits) if e.critique]
    assert len(with_critique) >= 40
    without = [e.model_copy(update={"critique": None}) for e in with_critique]
    recall_with, mrr_with = ranking_scores(model.recommend(with_critique, 100), with_critique)
    recall_without, mrr_without = ranking_scores(model.recommend(without, 100), without)
    assert recall_with > recall_without + 0.1, (recall_with, recall_without)
    assert mrr_with > mrr_without + 0.05, (mrr_with, mrr_without)
    # Paired: per example, the critique moves the target up far more often than down.
    ranks_with, _ = target_ranks("w", model.recommend(with_critique, 1000), [e.target_item_id for e in with_critique])
    ranks_without, _ = target_ranks("wo", model.recommend(without, 1000), [e.target_item_id for e in without])
    big = 10**6
    up = sum((a or big) < (b or big) for a, b in zip(ranks_with, ranks_without))
    down = sum((a or big) > (b or big) for a, b in zip(ranks_with, ranks_without))
    assert up > 2 * down, (up, down)


def test_use_critique_option_switches_it_off(splits, models, use_shared_cache):
    examples = [e for e in held_out(splits) if e.critique][:10]
    off = FusionKnnModel(use_critique=False)
    fitted = models["fusion-knn"]
    off.__dict__.update({k: v for k, v in fitted.__dict__.items() if k != "options"})
    stripped = [e.model_copy(update={"critique": None}) for e in examples]
    assert off.recommend(examples, 20) == fitted.recommend(stripped, 20)


def test_wals_falls_back_to_popularity_for_unknown_users(splits, models):
    from regen_bench.contracts.examples import Example
    from regen_bench.contracts.records import Item, Purchase

    stranger = Example(example_id="s", user_id="s", history=[Purchase(item=Item(asin="NEVER-SEEN"))])
    assert models["wals"].recommend([stranger], 10) == models["popularity"].recommend([stranger], 10)


def test_popularity_ranks_by_training_counts(splits, models):
    from regen_bench_plugins.models.recommenders import training_counts

    counts = training_counts(splits.train)
    top = models["popularity"].popular_items[:20]
    assert [counts[a] for a in top] == sorted((counts[a] for a in top), reverse=True)


def test_cli_runs_wals_on_next_item(tmp_path):
    args = ["run", "--model", "wals", "--task", "next_item", "--metric", "recall@k", "--metric", "ndcg@k",
            "--metric", "mrr", "--dataset-arg", "users=600", "--bootstrap", "100", "--quiet", "--output", str(tmp_path)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    results = json.loads(next(tmp_path.glob("*/results.json")).read_text())
    assert results["model"]["name"] == "wals"
    assert results["model"]["config"]["options"]["factors"] == 64
    scores = json.dumps(results["scores"])
    assert "recall@10" in scores and "mrr" in scores


def test_a_recommender_run_with_no_task_runs_next_item_only(tmp_path):
    args = ["run", "--model", "popularity", "--dataset-arg", "users=300", "--bootstrap", "50", "--quiet",
            "--output", str(tmp_path)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    results = json.loads(next(tmp_path.glob("*/results.json")).read_text())
    assert results["tasks"] == ["next_item"]
    assert {s["metric"] for s in results["scores"]} == {"recall@k", "ndcg@k", "mrr"}
