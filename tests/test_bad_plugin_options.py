"""Every bad option of a built-in plugin is one line naming the plugin and the option, exit 2.

An unknown key for every registered model, metric and dataset lists the valid options;
a bad value names the option and what is allowed, and fails before anything is generated.
"""

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.plugin import registry

USERS = "200"  # enough users for a non-empty test split


def builtin_names() -> dict[str, list[str]]:
    reg = registry.get_registry()
    names = {
        kind: [n for n in reg.names(kind) if reg.host.infos[reg.get(kind, n).plugin].distribution == "regen-bench"]
        for kind in ("model", "metric", "dataset")
    }
    ranking = {n for n in names["metric"] if reg.get("metric", n).cls.kind == "ranking"}
    registry.reset()
    return {**names, "ranking": ranking}


BUILTINS = builtin_names()


@pytest.fixture(scope="module")
def data_cache(tmp_path_factory):
    """One cache for the module: the synthetic dataset is generated once."""
    return tmp_path_factory.mktemp("bad-options-cache")


def run_cli(tmp_path, monkeypatch, data_cache, *args):
    monkeypatch.setenv("REGEN_BENCH_CACHE_DIR", str(data_cache))
    argv = ["run", "--dataset-arg", f"users={USERS}", "--bootstrap", "10", "--quiet",
            "--output", str(tmp_path / "runs"), *args]
    return CliRunner().invoke(main, argv)


def assert_one_line_exit_2(result, *expected: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.count("\n") == 1, result.stderr
    line = result.stderr.strip()
    for text in expected:
        assert text in line, line
    assert not (result.stdout or "").strip(), result.stdout
    return line


def metric_argv(name: str, *options: str) -> list[str]:
    spec = "evaluate:word_overlap.py" if name == "evaluate" else name
    argv = ["--model", "popular", "--metric", spec]
    if name in BUILTINS["ranking"]:
        argv += ["--task", "next_item"]
    for option in options:
        argv += ["--metric-arg", f"{name}.{option}"]
    return argv


@pytest.mark.parametrize("name", BUILTINS["model"])
def test_unknown_model_option_lists_the_valid_ones(name, tmp_path, monkeypatch, data_cache):
    result = run_cli(tmp_path, monkeypatch, data_cache, "--model", name, "--model-arg", "nope=1")
    assert_one_line_exit_2(result, f"error: invalid options for model {name!r}: nope: no such option; valid options:")


@pytest.mark.parametrize("name", BUILTINS["metric"])
def test_unknown_metric_option_lists_the_valid_ones(name, tmp_path, monkeypatch, data_cache):
    result = run_cli(tmp_path, monkeypatch, data_cache, *metric_argv(name, "nope=1"))
    assert_one_line_exit_2(result, f"error: invalid options for metric {name!r}: nope: no such option; valid options:")


@pytest.mark.parametrize("name", BUILTINS["dataset"])
def test_unknown_dataset_option_names_the_dataset(name, tmp_path, monkeypatch, data_cache):
    monkeypatch.setenv("REGEN_BENCH_CACHE_DIR", str(data_cache))
    argv = ["run", "--model", "popular", "--dataset", name, "--dataset-arg", "nope=1", "--quiet"]
    result = CliRunner().invoke(main, argv)
    assert_one_line_exit_2(result, f"error: invalid options for dataset {name!r}: nope: no such option")


def test_the_issue_example_names_the_metric_the_option_and_the_allowed_values(tmp_path, monkeypatch, data_cache):
    result = run_cli(tmp_path, monkeypatch, data_cache, *metric_argv("bleu", "tokenize=nope"))
    assert_one_line_exit_2(result, "metric 'bleu'", "tokenize='nope'", "13a", "intl", "char")


# (plugin, option=value, what the line must contain...)
BAD_METRIC_VALUES = [
    ("bleu", "smooth_method=nope", "smooth_method='nope'", "'exp'"),
    ("bleu", "smooth_value=-1", "smooth_value='-1'", "greater than or equal to 0"),
    ("bleu", "lowercase=maybe", "lowercase='maybe'", "boolean"),
    ("rouge", "backend=nope", "backend='nope'", "'rs' or 'reference'"),
    ("recall@k", "k=0", "k='0'", "greater than or equal to 1"),
    ("ndcg@k", "k=x", "k='x'", "integer"),
    ("mrr", "k=0", "k='0'", "greater than or equal to 1"),
    ("bertscore", "device=gpu", "device='gpu'", "cuda"),
    ("bertscore", "batch_size=0", "batch_size='0'", "greater than or equal to 1"),
    ("bertscore", "rescale_with_baseline=true", "baseline_path", "metric baseline bertscore"),
    ("evaluate", "compute_kwargs=[1]", "compute_kwargs='[1]'", "JSON object"),
]


@pytest.mark.parametrize("case", BAD_METRIC_VALUES, ids=[f"{c[0]}-{c[1]}" for c in BAD_METRIC_VALUES])
def test_bad_metric_value_is_one_line(case, tmp_path, monkeypatch, data_cache):
    name, option, *expected = case
    result = run_cli(tmp_path, monkeypatch, data_cache, *metric_argv(name, option))
    assert_one_line_exit_2(result, f"error: invalid options for metric {name!r}: ", *expected)


BAD_MODEL_VALUES = [
    ("popular", "max_candidates=0", "max_candidates='0'", "greater than or equal to 1"),
    ("popular", "similarity=nope", "similarity='nope'", "'tfidf' or 'rougeL'"),
    ("retrieval-tfidf", "ngram_max=0", "ngram_max='0'", "greater than or equal to 1"),
    ("retrieval-tfidf", "max_features=0", "max_features='0'", "greater than or equal to 1"),
    ("retrieval-text", "last_n=0", "last_n='0'", "greater than or equal to 1"),
    ("retrieval-cf", "factors=0", "factors='0'", "greater than or equal to 1"),
    ("wals", "alpha=-1", "alpha='-1'", "greater than or equal to 0"),
    ("fusion-knn", "beta=-1", "beta='-1'", "greater than or equal to 0"),
    ("fusion", "hidden=130", "hidden=130 must be a multiple of heads=4", "tiny"),
    ("fusion", "adapter=nope", "adapter='nope'", "'mlp' or 'projection'"),
    ("cf-only", "dropout=1", "dropout='1'", "less than 1"),
]


@pytest.mark.parametrize("case", BAD_MODEL_VALUES, ids=[f"{c[0]}-{c[1]}" for c in BAD_MODEL_VALUES])
def test_bad_model_value_is_one_line(case, tmp_path, monkeypatch, data_cache):
    name, option, *expected = case
    result = run_cli(tmp_path, monkeypatch, data_cache, "--model", name, "--model-arg", option)
    assert_one_line_exit_2(result, f"error: invalid options for model {name!r}: ", *expected)


def test_bad_dataset_value_is_one_line(tmp_path, monkeypatch, data_cache):
    monkeypatch.setenv("REGEN_BENCH_CACHE_DIR", str(data_cache))
    result = CliRunner().invoke(main, ["run", "--model", "popular", "--dataset-arg", "users=0", "--quiet"])
    assert_one_line_exit_2(result, "error: invalid options for dataset 'synthetic': users='0'", "greater than or equal to 1")


def test_a_metric_without_options_says_so(tmp_path, monkeypatch, data_cache):
    result = run_cli(tmp_path, monkeypatch, data_cache, *metric_argv("distinct", "n=3"))
    assert_one_line_exit_2(result, "metric 'distinct': n: no such option; valid options: (none: it takes no options)")
