"""bench/data_bench.py: a small run in the default suite (no timing thresholds), and the
100k case of its memory check as a slow test (peak RSS asserted with a generous bound,
time printed only). Peak RSS is each child's own, from /usr/bin/time -v.

REGEN_BENCH_SCALE_DIR names a folder holding (or to hold) the generated `users-N.jsonl`
files, so a machine that already made them does not make them again; without it the
test generates into its own temporary folder. The 1.1M case runs only with
REGEN_BENCH_SCALE_1M=1 (about 30 minutes and a 5.5 GB file)."""

import os
import shutil
from pathlib import Path

import pytest
from bench_scripts import load_bench

needs_time = pytest.mark.skipif(not Path("/usr/bin/time").exists(), reason="needs /usr/bin/time (GNU time)")
# A regression alarm, not the goal. Issue 10's 100k goals (popular <= 1 GB, retrieval-fusion
# <= 2 GB) were met by bench/data_bench.py on 2026-12-03: 0.97 and 1.89 GB (docs/performance.md);
# the row-by-row loader took 2.86 and 4.16 GB. The bounds are twice the goals, so the machine's
# noise does not fail the test and a return to materialising every record does.
BOUND_100K_GB = {"popular": 2.0, "retrieval-fusion": 4.0}
BOUND_1M_GB = 8.0


def test_growth_exponent_is_the_log_log_slope():
    bench = load_bench("data_bench")
    assert bench.growth_exponent([1000, 10_000, 100_000], [1.0, 10.0, 100.0]) == pytest.approx(1.0)
    assert bench.growth_exponent([1000, 10_000], [2.0, 2.0]) == pytest.approx(0.0)
    assert bench.growth_exponent([1000], [1.0]) is None


@needs_time
def test_bench_runs_on_small_files_and_prints_figures_and_exponents(tmp_path, capsys):
    bench = load_bench("data_bench")
    summary = bench.main(["--dir", str(tmp_path), "--sizes", "150,300", "--steps", "cold load,warm load,data info"])
    out = capsys.readouterr().out
    assert "growth exponents with users" in out and "peak RSS" in out
    assert (tmp_path / "users-150.jsonl").is_file() and (tmp_path / "data_bench.png").is_file()
    for result in summary["results"]:
        for step, figure in result["steps"].items():
            assert figure["rc"] == 0, (step, Path(figure["log"]).read_text()[-2000:])
            assert figure["peak_rss_gb"] > 0
    # The cold load wrote the Arrow cache into the bench's own cache folder, not the user's.
    assert any((tmp_path / "cache-150").rglob("*")), "the cold load left no cache in the bench's folder"


def _scale_dir(tmp_path) -> Path:
    named = os.environ.get("REGEN_BENCH_SCALE_DIR")
    return Path(named) if named else tmp_path


def _check(summary, users: int, bounds: dict[str, float]) -> None:
    (result,) = summary["results"]
    for step, figure in result["steps"].items():
        print(f"{users:,} users {step}: {figure['seconds']:.1f} s, peak RSS {figure['peak_rss_gb']:.2f} GB")
    for step, bound in bounds.items():
        figure = result["steps"][step]
        assert figure["rc"] == 0, (step, Path(figure["log"]).read_text()[-3000:])
        assert figure["peak_rss_gb"] <= bound, f"{step} at {users:,} users: {figure['peak_rss_gb']:.2f} GB > {bound} GB"


@pytest.mark.slow
@needs_time
def test_100k_users_popular_and_retrieval_fusion_stay_within_memory(tmp_path):
    bench = load_bench("data_bench")
    folder = _scale_dir(tmp_path)
    summary = bench.main(["--dir", str(folder), "--sizes", "100000", "--no-plot",
                          "--steps", "cold load,warm load,popular,retrieval-fusion"])
    _check(summary, 100_000, BOUND_100K_GB)
    shutil.rmtree(folder / "cache-100000", ignore_errors=True)


@pytest.mark.slow
@needs_time
@pytest.mark.skipif(os.environ.get("REGEN_BENCH_SCALE_1M") != "1", reason="1.1M users: set REGEN_BENCH_SCALE_1M=1")
def test_1_1m_users_complete_within_memory(tmp_path):
    bench = load_bench("data_bench")
    folder = _scale_dir(tmp_path)
    summary = bench.main(["--dir", str(folder), "--sizes", "1100000", "--no-plot",
                          "--steps", "data info,popular,retrieval-fusion"])
    _check(summary, 1_100_000, {step: BOUND_1M_GB for step in ("data info", "popular", "retrieval-fusion")})
    shutil.rmtree(folder / "cache-1100000", ignore_errors=True)
