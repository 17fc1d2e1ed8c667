"""The `evaluate` adapter with a real evaluate.Metric script written to a temp dir."""

import hashlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.plugin.specs import build_metrics
from regen_bench.results.schema import SampleRow
from regen_bench.results.scoring import score_rows
from regen_bench.stats.bootstrap import bootstrap_interval
from regen_bench_plugins.metrics.evaluate_adapter import EvaluateMetric

SCRIPT = textwrap.dedent(
    '''
    import datasets
    import evaluate

    VARIANT = "{variant}"


    class WordOverlap(evaluate.Metric):
        def _info(self):
            return evaluate.MetricInfo(
                description="exact match and word overlap (test metric)",
                citation="",
                inputs_description="predictions and references: lists of strings",
                features=datasets.Features(
                    {{"predictions": datasets.Value("string"), "references": datasets.Value("string")}}
                ),
            )

        def _compute(self, predictions, references, ignore_case=False):
            norm = (lambda s: s.lower()) if ignore_case else (lambda s: s)
            pairs = [(set(norm(p).split()), set(norm(r).split())) for p, r in zip(predictions, references)]
            pair_overlap = [len(a & b) / max(1, len(a | b)) for a, b in pairs]
            return {{
                "exact_match": sum(norm(p) == norm(r) for p, r in zip(predictions, references)) / len(predictions),
                "micro_overlap": sum(len(a & b) for a, b in pairs) / max(1, sum(len(a | b) for a, b in pairs)),
                "pair_overlap": pair_overlap,
                "label": "word-overlap",
                "is_test": True,
            }}
    '''
)

PREDICTIONS = ["the cat sat", "A red stapler", "blue pen", "one two three four five six"]
REFERENCES = ["the cat sat", "a red stapler", "black pen", "one two"]
# word sets: {the,cat,sat} == ; {A,red,stapler} vs {a,red,stapler}: 2/4 ; {blue,pen} vs {black,pen}: 1/3 ; 2/6
PAIR_OVERLAP = [1.0, 2 / 4, 1 / 3, 2 / 6]


def _write_script(folder, name="word_overlap", variant="a", as_folder=False):
    target = folder / name if as_folder else folder
    target.mkdir(parents=True, exist_ok=True)
    script = target / f"{name}.py"
    script.write_text(SCRIPT.format(variant=variant), encoding="utf-8")
    return target if as_folder else script


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    return _write_script(tmp_path_factory.mktemp("evalmod"))


def _components(output):
    return {c.name: c for c in output.components}


def test_local_script_mean_of_per_example_values(script):
    metric = EvaluateMetric(module=str(script))
    output = metric.score(PREDICTIONS, REFERENCES, [None] * 4)
    c = _components(output)
    assert sorted(c) == ["word_overlap.exact_match", "word_overlap.micro_overlap", "word_overlap.pair_overlap"]
    assert c["word_overlap.exact_match"].per_example == [1.0, 0.0, 0.0, 0.0]
    assert c["word_overlap.exact_match"].corpus_score() == pytest.approx(0.25)
    assert c["word_overlap.pair_overlap"].per_example == pytest.approx(PAIR_OVERLAP)
    # per example, micro overlap is the pair overlap; the score is their mean, NOT the module's corpus number
    assert c["word_overlap.micro_overlap"].corpus_score() == pytest.approx(np.mean(PAIR_OVERLAP))
    assert output.counts == {"computes": 4}
    sig = output.signature
    assert sig.startswith(f"metric:evaluate|module:{script}|sha256:")
    assert "|agg:mean-per-example|" in sig and "evaluate:0.4" in sig
    assert "keys:exact_match,micro_overlap,pair_overlap" in sig


def test_signature_hash_is_of_the_script(tmp_path, script):
    text = script.read_bytes()
    expected = hashlib.sha256(script.name.encode() + b"\0" + text + b"\0").hexdigest()[:16]
    assert f"sha256:{expected}|" in EvaluateMetric(module=str(script)).signature()
    changed = _write_script(tmp_path, variant="b")
    assert f"sha256:{expected}|" not in EvaluateMetric(module=str(changed)).signature()


def test_folder_module_and_key_and_compute_kwargs(tmp_path):
    folder = _write_script(tmp_path, as_folder=True)
    metric = EvaluateMetric(module=str(folder), key="exact_match", compute_kwargs='{"ignore_case": true}')
    output = metric.score(PREDICTIONS, REFERENCES, [None] * 4)
    [component] = output.components
    assert component.name == "word_overlap.exact_match"
    assert component.per_example == [1.0, 1.0, 0.0, 0.0]  # "A red stapler" matches ignoring case
    assert 'compute_kwargs:{"ignore_case":true}' in output.signature
    assert "keys:exact_match" in output.signature


def test_corpus_mode_reports_the_module_number(script):
    metric = EvaluateMetric(module=str(script), per_example=False)
    output = metric.score(PREDICTIONS, REFERENCES, [None] * 4)
    c = _components(output)
    micro = c["word_overlap.micro_overlap"]
    assert micro.corpus_score() == pytest.approx((3 + 2 + 1 + 2) / (3 + 4 + 3 + 6))  # the module's corpus value
    assert micro.corpus_score() != pytest.approx(np.mean(PAIR_OVERLAP))
    assert micro.stats.shape == (1, 1)  # no per-example values: one row, no real CI
    interval = bootstrap_interval(micro, seed=0, resamples=50)
    assert interval.n == 1 and interval.low == interval.high == interval.score
    # a key that returns one number per pair is a mean with a real CI
    pair = c["word_overlap.pair_overlap"]
    assert pair.per_example == pytest.approx(PAIR_OVERLAP)
    assert "agg:mean-of-module-list+module-corpus" in output.signature and "ci:none" in output.signature
    assert output.counts == {"computes": 1}


def test_cli_spec_builds_and_scores_through_score_rows(script):
    [metric] = build_metrics(["evaluate:" + str(script)], {"evaluate": {"key": "pair_overlap"}})
    assert isinstance(metric, EvaluateMetric) and metric.options.module == str(script)
    rng = np.random.default_rng(0)
    words = "red blue pen cat sat stapler paper ink desk lamp".split()
    rows = [
        SampleRow(
            task="purchase_reason", example_id=f"e{i:03d}", user_id=f"u{i}",
            prediction=" ".join(rng.choice(words, size=5)), reference=" ".join(rng.choice(words, size=5)),
        )
        for i in range(60)
    ]
    [entry] = score_rows(rows, [metric], seed=0, resamples=300)
    values = [row.scores["word_overlap.pair_overlap"] for row in rows]
    assert entry.metric == "evaluate" and entry.component == "word_overlap.pair_overlap"
    assert entry.score == pytest.approx(np.mean(values))
    assert entry.ci_low < entry.score < entry.ci_high and entry.n == 60
    assert "keys:pair_overlap" in entry.signature


def test_bad_paths_and_keys_give_clear_errors(tmp_path, script):
    with pytest.raises(RegenBenchError, match="no metric script at .*nope.py"):
        build_metrics(["evaluate:" + str(tmp_path / "nope.py")], {})
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(RegenBenchError, match="has no empty_folder.py"):
        EvaluateMetric(module=str(tmp_path / "empty_folder"))
    with pytest.raises(RegenBenchError, match="say which module"):
        build_metrics(["evaluate"], {})
    with pytest.raises(RegenBenchError, match="could not load module 'surely_not_a_metric_xyz'.*local path"):
        EvaluateMetric(module="surely_not_a_metric_xyz")
    broken = tmp_path / "broken.py"
    broken.write_text("this is not python(\n", encoding="utf-8")
    with pytest.raises(RegenBenchError, match="could not load module"):
        EvaluateMetric(module=str(broken))
    with pytest.raises(RegenBenchError, match="no key 'bleu'.*exact_match"):
        EvaluateMetric(module=str(script), key="bleu").score(["a"], ["a"], [None])
    with pytest.raises(RegenBenchError, match="'label' .* is not numeric"):
        EvaluateMetric(module=str(script), key="label").score(["a"], ["a"], [None])
    with pytest.raises(ValueError, match="JSON object"):
        EvaluateMetric(module=str(script), compute_kwargs="[1, 2]")


def test_empty_input_and_higher_is_better_option(script):
    metric = EvaluateMetric(module=str(script), key="exact_match", higher_is_better=False)
    assert metric.higher_is_better is False and EvaluateMetric.higher_is_better is True
    [component] = metric.score([], [], []).components
    assert component.per_example == []


def test_evaluate_is_imported_lazily():
    code = "import sys, regen_bench_plugins.metrics.evaluate_adapter; print('evaluate' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
