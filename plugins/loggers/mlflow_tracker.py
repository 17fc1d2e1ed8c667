"""`mlflow`: log a finished run to MLflow (`pip install 'regen-bench[tracking]'`, mlflow-skinny).

No server is needed: by default the run goes to a local file store, `./mlruns`
(`$MLFLOW_TRACKING_URI` when it is set). MLflow 3 keeps the file store in maintenance
mode and opens one only with `MLFLOW_ALLOW_FILE_STORE=true`, which the logger sets while
it logs to one; reading the store back (`MlflowClient`, `mlflow ui --backend-store-uri
./mlruns`) needs the variable too. Any other tracking URI (`http://HOST:5000`,
`sqlite:///mlflow.db` with the full `mlflow`) is used as it is. One MLflow run per
regen-bench run, in the experiment `regen-bench`, named by the run id:

- params: what the run was, flattened (`model.name`, `model.config.options.similarity`,
  `dataset.sha256`, `dataset.split_hash`, `seed`, `tasks`, `k`, `harness.version`, each
  metric's `metrics.<spec>.options.*`, `.version` and `.signature`, ...);
- metrics: every score with its interval and n (`user_summary/bleu`,
  `user_summary/bleu_ci_low`, `_ci_high`, `_n`: MLflow's file store keeps each metric in a
  file named by it, so `user_summary/bleu` cannot also be the folder of
  `user_summary/bleu/ci_low`; `user_summary/rouge/rouge1`...), stage timings
  (`timings/fit`) and cache counts;
- tags: `regen_bench.run_id`, `.model`, `.dataset`, `.synthetic`, and the scores that failed;
- artifacts: every file of the run folder (results.json, samples.jsonl, ...) and
  `signatures.json` (score name -> signature).

MLflow accepts letters, digits, `_ - . : /` and spaces in names: any other character
(`@` of `recall@10`) becomes `_`. Param values longer than MLflow takes are cut (the
whole value is in results.json, an artifact).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from regen_bench import hookimpl
from regen_bench.contracts.logger import FinishedRun, LoggerOptions, RunLogger
from regen_bench.plugin.extras import check_installed, require

EXTRA = "tracking"
WHO = "logger 'mlflow'"
LIBRARY = "mlflow-skinny"
MAX_KEY = 250  # MLflow's limits on a param or metric name, a param value and a tag value
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 5000
_NOT_ALLOWED = re.compile(r"[^\w\-. :/]")
ALLOW_FILE_STORE = "MLFLOW_ALLOW_FILE_STORE"
SCORE_SUFFIXES = ("ci_low", "ci_high", "n")


def mlflow_name(name: str) -> str:
    """`name` as MLflow takes a param or metric name: allowed characters only, no empty or `.` path part."""
    parts = [_NOT_ALLOWED.sub("_", part) for part in name.split("/")]
    parts = [part if part.strip(".") else part.replace(".", "_") or "_" for part in parts]
    return "/".join(parts)[:MAX_KEY]


def mlflow_metric_names(names) -> dict[str, str]:
    """Each FinishedRun metric name -> its MLflow name.

    MLflow's file store keeps a metric in a file named by it, so no name may be the folder
    of another: a score's interval and size join its name with `_` (`user_summary/bleu_ci_low`,
    `user_summary/bleu_n`), and a name still the folder of another (a metric `x` with the
    components `x` and `y`) gets `_value`.
    """
    names = set(names)
    mapped = {}
    for name in names:
        head, _, last = name.rpartition("/")
        mapped[name] = mlflow_name(f"{head}_{last}" if last in SCORE_SUFFIXES and head in names else name)
    folders = {"/".join(parts[:i]) for parts in (value.split("/") for value in mapped.values())
               for i in range(1, len(parts))}
    return {name: f"{value}_value" if value in folders else value for name, value in mapped.items()}


def default_tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or Path("mlruns").resolve().as_uri()


@contextmanager
def file_store_allowed(uri: str):
    """MLflow 3 keeps its file store (`./mlruns`) in maintenance mode and refuses to open one
    unless `MLFLOW_ALLOW_FILE_STORE=true`: the logger opts in while it logs to a file store
    (a user's own setting of the variable is left as it is)."""
    if urlparse(uri).scheme not in ("", "file") or ALLOW_FILE_STORE in os.environ:
        yield
        return
    os.environ[ALLOW_FILE_STORE] = "true"
    try:
        yield
    finally:
        os.environ.pop(ALLOW_FILE_STORE, None)


class MlflowOptions(LoggerOptions):
    tracking_uri: str | None = None  # default: $MLFLOW_TRACKING_URI, else the file store ./mlruns
    experiment: str = "regen-bench"
    run_name: str | None = None  # default: the regen-bench run id


class MlflowLogger(RunLogger):
    """Logs each run's config, scores with CIs, signatures and files to MLflow (a local ./mlruns by default)."""

    name = "mlflow"
    description = "MLflow: config as params, every score and CI as metrics, the run's files as artifacts"
    Options = MlflowOptions
    spec_option = "tracking_uri"  # --log-to mlflow:http://localhost:5000
    extras = (EXTRA,)

    def __init__(self, **options):
        super().__init__(**options)
        check_installed("mlflow", EXTRA, WHO, library=LIBRARY)  # before the run does any work

    def tracking_uri(self) -> str:
        return self.options.tracking_uri or default_tracking_uri()

    def log_run(self, run: FinishedRun) -> str:
        uri = self.tracking_uri()
        with file_store_allowed(uri):
            return self._log(run, uri)

    def _log(self, run: FinishedRun, uri: str) -> str:
        tracking = require("mlflow.tracking", EXTRA, WHO, library=LIBRARY)
        entities = require("mlflow.entities", EXTRA, WHO, library=LIBRARY)
        client = tracking.MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name(self.options.experiment)
        experiment_id = (experiment.experiment_id if experiment is not None
                         else client.create_experiment(self.options.experiment))
        created = client.create_run(experiment_id, run_name=self.options.run_name or run.run_id, tags=run_tags(run))
        run_id = created.info.run_id
        try:
            now, metrics = int(time.time() * 1000), run.metrics()
            names = mlflow_metric_names(metrics)
            client.log_batch(
                run_id,
                metrics=[entities.Metric(names[k], v, now, 0) for k, v in metrics.items()],
                params=[entities.Param(mlflow_name(k), v[:MAX_PARAM_VALUE]) for k, v in run.params().items()],
            )
            with tempfile.TemporaryDirectory(prefix="regen-bench-mlflow-") as folder:
                signatures = Path(folder) / "signatures.json"
                signatures.write_text(json.dumps(run.signatures(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
                client.log_artifact(run_id, str(signatures))
            for path in run.files():
                parent = path.parent.relative_to(run.run_dir).as_posix()
                client.log_artifact(run_id, str(path), artifact_path=None if parent == "." else parent)
        except BaseException:
            client.set_terminated(run_id, "FAILED")
            raise
        client.set_terminated(run_id, "FINISHED")
        return f"{uri}, experiment {self.options.experiment!r}, run {run_id}"


def run_tags(run: FinishedRun) -> dict[str, str]:
    results = run.results
    tags = {
        "regen_bench.run_id": run.run_id,
        "regen_bench.model": str(results.get("model", {}).get("name", "")),
        "regen_bench.dataset": str(results.get("dataset", {}).get("name", "")),
        "regen_bench.synthetic": json.dumps(bool(results.get("dataset", {}).get("synthetic", False))),
        "regen_bench.harness_version": str(results.get("harness", {}).get("version", "")),
    }
    failed = run.failed_scores()
    if failed:
        tags["regen_bench.failed_scores"] = json.dumps(failed, sort_keys=True)[:MAX_TAG_VALUE]
    return tags


@hookimpl
def register_loggers(register):
    register(MlflowLogger)
