"""The papers' headline, trained live: fusion beats CF-only and text-only.

The synthetic narratives depend on a user's co-purchase community (visible only to CF)
and content taste (visible only in item text), so a model that reads both should write
better user summaries than one that reads either. This test trains `fusion`, `cf-only`
and `text-only` in their default configuration on the default synthetic dataset (every
task is trained, since the profile, endorsement and purchase-reason narratives are what
teach the model to read brand and colour from item text) and checks with the harness's own
paired bootstrap (`regen-bench compare`) that on `user_summary` fusion is better than
each single-embedding model on BLEU, ROUGE-L and semsim, each with p < 0.05.

The defaults are 5 epochs with the adapter at its own learning rate (issue 11; 16 epochs
at one rate before). At the old defaults one fresh-clone CI run found fusion ahead of
cf-only by only +1.6 BLEU (p = 0.056) where the committed run had +4.1: the margin moves
by a point or two between machines (float order in training), so the test asserts what
the harness ships at its defaults, not a reduced budget. At the new defaults the
development machine gives +2.2 BLEU [1.0, 3.6] over cf-only and +8.3 over text-only on
user_summary, p < 0.002 for BLEU and ROUGE-L.

Beating the retrieval baselines: tests/test_committed_leaderboard.py checks that on the
committed default runs.

Slow (several minutes on 2 cores), and run in CI.
"""

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.results.compare import compare_runs

pytestmark = pytest.mark.slow

TASKS = ["user_summary", "user_profile", "purchase_reason", "endorsement"]
REDUCED: dict[str, str] = {}  # the default configuration (see the module docstring)
METRICS = ["bleu", "rouge", "semsim"]
CHECKED = [("bleu", "bleu"), ("rouge", "rougeL"), ("semsim", "semsim")]
SHARED_CACHE = "regen-bench-known-answer-cache"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    cache = tmp_path_factory.getbasetemp() / SHARED_CACHE
    out = tmp_path_factory.mktemp("known-answer-runs")
    dirs = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGEN_BENCH_CACHE_DIR", str(cache))
        for model in ("fusion", "cf-only", "text-only"):
            argv = ["run", "--model", model, "--quiet", "--bootstrap", "1000", "--output", str(out / model)]
            for task in TASKS:
                argv += ["--task", task]
            for metric in METRICS:
                argv += ["--metric", metric]
            for key, value in REDUCED.items():
                argv += ["--model-arg", f"{key}={value}"]
            result = CliRunner().invoke(main, argv, catch_exceptions=False)
            assert result.exit_code == 0, result.output
            (run_dir,) = [p.parent for p in (out / model).glob("*/results.json")]
            dirs[model] = run_dir
    return dirs


def user_summary_rows(comparison):
    return {(r.metric, r.component): r for r in comparison.rows if r.task == "user_summary"}


@pytest.mark.parametrize("single", ["cf-only", "text-only"])
def test_fusion_beats_each_single_embedding_model_significantly(runs, single):
    rows = user_summary_rows(compare_runs(runs[single], runs["fusion"], seed=0, resamples=1000))
    for key in CHECKED:
        row = rows[key]
        assert row.diff > 0 and row.p_value < 0.05, (
            f"fusion vs {single} on user_summary {key[1]}: {row.mean_b:.4f} vs {row.mean_a:.4f}, "
            f"diff {row.diff:+.4f} [{row.ci_low:+.4f}, {row.ci_high:+.4f}], p={row.p_value:.4f}")
