"""The committed leaderboard (leaderboards/): complete, genuine, and showing the known answer.

`make leaderboard` (leaderboards/reproduce.py) re-runs every built-in model that needs no
API key on the embedded synthetic dataset with default settings. These tests read what
it committed:

- every such model has exactly one results file, made on the same data and split;
- the known answer holds in it, with the harness's own paired bootstrap: on
  `user_summary`, `fusion` beats `cf-only` and `text-only` on BLEU, ROUGE-L and semsim
  with p < 0.05, and scores above every retrieval baseline there; on every task it
  scores above every retrieval baseline on BLEU and ROUGE-L;
- the built tables are what `leaderboard build` makes of those files (byte for byte);
- (slow) every results file passes `leaderboard validate --strict --with-dataset`: each
  score recomputed from its samples.jsonl, the dataset's sha256 and split hash confirmed
  (this is the CI step that validates the committed leaderboard: `make test-slow`).
"""

import sys
from pathlib import Path

import pytest

from regen_bench.results.compare import compare_runs
from regen_bench.results.schema import load_results

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "leaderboards" / "results" / "synthetic"
CHECKED = [("bleu", "bleu"), ("rouge", "rougeL"), ("semsim", "semsim")]
BUILT = ["README.md", "leaderboard.csv", "leaderboard.json", "index.html"]


def run_dirs() -> dict[str, Path]:
    found = {}
    for path in sorted(RESULTS.glob("*/*/results.json")):
        found.setdefault(path.parent.parent.name, []).append(path.parent)
    return found


def run_of(model: str) -> Path:
    (run_dir,) = run_dirs()[model]
    return run_dir


def test_every_builtin_offline_model_has_one_committed_run():
    sys.path.insert(0, str(ROOT / "leaderboards"))
    try:
        import reproduce
    finally:
        sys.path.pop(0)
    expected = {name for name, _, _ in reproduce.builtin_offline_models()}
    dirs = run_dirs()
    assert set(dirs) == expected, "run `make leaderboard` to refresh leaderboards/results"
    assert all(len(v) == 1 for v in dirs.values()), {k: len(v) for k, v in dirs.items() if len(v) != 1}
    results = [load_results(d[0] / "results.json") for d in dirs.values()]
    assert len({(r.dataset.sha256, r.dataset.split, r.dataset.split_hash) for r in results}) == 1
    assert all(r.dataset.synthetic and r.seed == 0 for r in results)


def user_summary_rows(baseline: str):
    comparison = compare_runs(run_of(baseline), run_of("fusion"), seed=0, resamples=1000)
    return {(r.metric, r.component): r for r in comparison.rows if r.task == "user_summary"}


@pytest.mark.parametrize("single", ["cf-only", "text-only"])
def test_fusion_beats_each_single_embedding_model_significantly(single):
    rows = user_summary_rows(single)
    for key in CHECKED:
        row = rows[key]
        assert row.diff > 0 and row.p_value < 0.05, (single, key, row.diff, row.p_value)


@pytest.mark.parametrize("baseline", ["retrieval-cf", "retrieval-text", "retrieval-fusion", "retrieval-tfidf", "popular"])
def test_fusion_scores_above_every_retrieval_baseline(baseline):
    rows = user_summary_rows(baseline)
    for key in CHECKED:
        assert rows[key].diff > 0, (baseline, key, rows[key].mean_a, rows[key].mean_b)


@pytest.mark.parametrize("baseline", ["retrieval-cf", "retrieval-text", "retrieval-fusion", "retrieval-tfidf", "popular"])
def test_fusion_scores_above_every_retrieval_baseline_on_every_task(baseline):
    comparison = compare_runs(run_of(baseline), run_of("fusion"), seed=0, resamples=1000)
    rows = {(r.task, r.metric, r.component): r for r in comparison.rows}
    tasks = {task for task, _, _ in rows}
    assert tasks == {"user_summary", "user_profile", "purchase_reason", "endorsement"}
    for task in sorted(tasks):
        for key in [("bleu", "bleu"), ("rouge", "rougeL")]:
            row = rows[(task, *key)]
            assert row.diff > 0, (baseline, task, key, row.mean_a, row.mean_b)


def test_built_tables_are_what_build_makes_of_the_committed_results(tmp_path):
    import shutil

    from regen_bench.leaderboard.build import build

    out = tmp_path / "leaderboards"  # the same layout, so the README's relative links match
    shutil.copytree(ROOT / "leaderboards" / "results", out / "results")
    build(out / "results", out, seed=0, resamples=1000, plots=True)
    for name in BUILT:
        assert (out / name).read_bytes() == (ROOT / "leaderboards" / name).read_bytes(), (
            f"leaderboards/{name} is stale: run `regen-bench leaderboard build`")
    for plot in sorted((out / "plots").glob("*.png")):
        assert plot.read_bytes() == (ROOT / "leaderboards" / "plots" / plot.name).read_bytes(), plot.name


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(run_dirs()))
def test_committed_results_pass_validation(model):
    """The strict form, as CI runs it (`make test-slow`): `leaderboard validate --strict
    --with-dataset`, every score recomputed, the dataset's sha256 and split hash confirmed."""
    from click.testing import CliRunner

    from regen_bench.cli.app import main

    path = run_of(model) / "results.json"
    result = CliRunner().invoke(main, ["leaderboard", "validate", "--strict", "--with-dataset", str(path)])
    assert result.exit_code == 0, result.output
    (verdict,) = [line for line in result.output.splitlines() if f"{path}: " in line]  # after any progress bars
    assert "OK: all" in verdict, result.output
    assert "dataset.sha256 confirmed" in verdict and "split_hash confirmed" in verdict, verdict
