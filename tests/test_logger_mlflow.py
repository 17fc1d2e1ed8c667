"""`--log-to mlflow`: a real run logged to a real MLflow file store, read back with MlflowClient.

No server: the store is a folder under tmp_path (`./mlruns` by default). What is read
back must be what results.json says: every score with its CI and n, the config as
params, the signatures, and the run folder's files as artifacts.
"""

import json
import os
import time

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

ALLOW_FILE_STORE = "MLFLOW_ALLOW_FILE_STORE"
RUN = ["run", "--model", "popular", "--dataset-arg", "users=200", "--limit", "20", "--bootstrap", "20", "--quiet"]


def invoke(args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def score_name(entry: dict) -> str:
    """The name the user guide gives a score: task/metric, or task/metric/component."""
    name = f"{entry['task']}/{entry['metric']}"
    return name if entry["component"] == entry["metric"] else f"{name}/{entry['component']}"


def mlflow_name(entry: dict) -> str:
    """The score's name with MLflow's refused `@` as `_`."""
    return score_name(entry).replace("@", "_")


def only_run(uri: str, experiment: str):
    os.environ[ALLOW_FILE_STORE] = "true"  # MLflow 3 opens its file store only with it (the caller's monkeypatch)
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment!r} in {uri}"
    [tracked] = client.search_runs([found.experiment_id])
    return client, tracked


@pytest.fixture(autouse=True)
def file_store_setting(monkeypatch):
    """Unset, as on a fresh shell: the logger opts in to MLflow's file store itself, and unsets it after."""
    monkeypatch.delenv(ALLOW_FILE_STORE, raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_run_logs_config_scores_signatures_and_files_to_the_local_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke([*RUN, "--output", tmp_path / "runs", "--log-to", "mlflow"])
    assert result.exit_code == 0, result.output
    assert ALLOW_FILE_STORE not in os.environ
    [run_dir] = (tmp_path / "runs").iterdir()
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    uri = (tmp_path / "mlruns").as_uri()  # the default: ./mlruns
    client, tracked = only_run(uri, "regen-bench")
    assert f"Logged to mlflow: {uri}, experiment 'regen-bench', run {tracked.info.run_id}" in result.stdout
    assert tracked.info.status == "FINISHED" and tracked.info.run_name == results["run_id"]

    metrics = tracked.data.metrics
    assert len(results["scores"]) >= 20
    for entry in results["scores"]:
        name = mlflow_name(entry)
        assert metrics[name] == entry["score"], name
        assert (metrics[f"{name}_ci_low"], metrics[f"{name}_ci_high"]) == (entry["ci_low"], entry["ci_high"]), name
        assert metrics[f"{name}_n"] == entry["n"] == 20, name
    assert "next_item/recall_k/recall_10" in metrics and "user_summary/bleu" in metrics
    assert len(metrics) == 4 * len(results["scores"]) + len(results["timings"]) + len(results["cache"])
    assert metrics["timings/generate"] == results["timings"]["generate"]

    params = tracked.data.params
    assert params["model.name"] == "popular" and params["model.config_hash"] == results["model"]["config_hash"]
    assert params["model.config.options.similarity"] == results["model"]["config"]["options"]["similarity"]
    assert params["dataset.name"] == "synthetic" and params["dataset.sha256"] == results["dataset"]["sha256"]
    assert params["dataset.split_hash"] == results["dataset"]["split_hash"]
    assert params["seed"] == "0" and params["k"] == str(results["k"]) and json.loads(params["tasks"]) == results["tasks"]
    assert params["harness.version"] == results["harness"]["version"]
    for record in results["metrics"]:
        assert params[f"metrics.{record['spec'].replace('@', '_')}.signature"] == record["signature"]
    assert tracked.data.tags["regen_bench.run_id"] == results["run_id"]
    assert tracked.data.tags["regen_bench.synthetic"] == "true"

    run_id = tracked.info.run_id
    artifacts = {item.path for item in client.list_artifacts(run_id)}
    assert artifacts == {path.name for path in run_dir.iterdir()} | {"signatures.json"}
    assert {"results.json", "samples.jsonl"} <= artifacts
    for name in ("results.json", "samples.jsonl"):
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=name, dst_path=str(tmp_path / "dl"),
                                                    tracking_uri=uri)
        assert open(local, "rb").read() == (run_dir / name).read_bytes(), name
    signatures = json.loads(open(mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="signatures.json", dst_path=str(tmp_path / "dl"), tracking_uri=uri)).read())
    assert signatures == {score_name(e): e["signature"] for e in results["scores"]}  # names as written, `@` kept

    # The same run again, by `regen-bench log`, into another store (NAME:ARG) and experiment.
    other = (tmp_path / "other-store").as_uri()
    del os.environ[ALLOW_FILE_STORE]
    result = invoke(["log", run_dir, "--to", f"mlflow:{other}", "--logger-arg", "mlflow:experiment=again"])
    assert result.exit_code == 0, result.output
    assert ALLOW_FILE_STORE not in os.environ
    _, again = only_run(other, "again")
    assert again.data.metrics == metrics and again.data.params == params


def test_an_unreachable_tracking_server_only_warns(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    started = time.perf_counter()
    result = invoke([*RUN, "--output", tmp_path / "runs", "--log-to", "mlflow:http://127.0.0.1:9"])
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 60
    [run_dir] = (tmp_path / "runs").iterdir()
    assert (run_dir / "results.json").is_file() and (run_dir / "samples.jsonl").is_file()
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning: logger 'mlflow'")]
    assert "(plugin 'mlflow') failed to log run" in warning and "127.0.0.1:9" in warning
    assert f"log it again with: regen-bench log {run_dir} --to mlflow:http://127.0.0.1:9" in warning
    assert "Logged to" not in result.stdout


def test_mlflow_names_are_never_the_folder_of_another_name():
    from regen_bench_plugins.loggers.mlflow_tracker import mlflow_metric_names

    names = mlflow_metric_names(["t/bleu", "t/bleu/ci_low", "t/bleu/n", "t/x", "t/x/y", "t/x/y/n", "timings/n",
                                 "next_item/recall@k/recall@10", "a//b", "./c"])
    assert names == {"t/bleu": "t/bleu", "t/bleu/ci_low": "t/bleu_ci_low", "t/bleu/n": "t/bleu_n",
                     "t/x": "t/x_value", "t/x/y": "t/x/y", "t/x/y/n": "t/x/y_n", "timings/n": "timings/n",
                     "next_item/recall@k/recall@10": "next_item/recall_k/recall_10", "a//b": "a/_/b", "./c": "_/c"}
