"""bench/metrics_bench.py runs end to end on a few pairs (no timing thresholds)."""

from bench_scripts import load_bench


def test_pairs_are_deterministic_and_narrative_length():
    bench = load_bench("metrics_bench")
    a = bench.make_pairs(50)
    assert a == bench.make_pairs(50)
    assert a != bench.make_pairs(50, seed=1)
    for text in a[0] + a[1]:
        assert 60 <= len(text.split()) <= 120


def test_bench_runs_and_prints_the_ratio(capsys):
    bench = load_bench("metrics_bench")
    result = bench.main(["--pairs", "200", "--no-semsim", "--resamples", "200"])
    out = capsys.readouterr().out
    assert "ratio naive/harness: " in out
    assert "semsim" not in out
    assert "max |diff| sentence BLEU 0.00e+00, ROUGE F1 0.00e+00" in out
    assert result["pairs"] == 200 and result["ratio"] > 0
