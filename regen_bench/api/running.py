"""`regen_bench.run(...)`: the run `regen-bench run` makes, from Python.

The same stages, cache, resume, results folder and signatures as the command line
(`pipeline/runner.py`); what Python adds is that the model may be a `Model` instance (a class
defined in a notebook, never registered), the dataset an already loaded one
(`regen_bench.load_dataset`), and the metrics `Metric` instances beside names.

    import regen_bench as rb
    r = rb.run(model="popular", limit=20)
    r.scores_frame()
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from regen_bench.api.dataset import LoadedDataset
from regen_bench.api.results import Results
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.metric import Metric
from regen_bench.contracts.model import Model
from regen_bench.contracts.tasks import DEFAULT_K
from regen_bench.data.splits import SplitConfig
from regen_bench.pipeline.runner import RunConfig, run_benchmark
from regen_bench.plugin.specs import build_metrics
from regen_bench.results.report import failed_lines
from regen_bench.stats.bootstrap import DEFAULT_RESAMPLES


def _strings(options: dict | None) -> dict[str, str]:
    """Options as the command line gives them (the plugins' Options coerce them back)."""
    return {str(k): v if isinstance(v, str) else _text(v) for k, v in (options or {}).items()}


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def _metric_objects(metrics: Sequence, metric_args: dict[str, dict]) -> list[Metric] | None:
    """Metric instances for a mix of names and instances; None when only names were given
    (the runner builds them, and the defaults when there are none)."""
    if not any(isinstance(m, Metric) for m in metrics):
        return None
    names = [m for m in metrics if not isinstance(m, Metric)]
    for m in names:
        if not isinstance(m, str):
            raise RegenBenchError(f"a metric is a name or a Metric instance, not {type(m).__name__}")
    built = iter(build_metrics(names, metric_args))
    return [m if isinstance(m, Metric) else next(built) for m in metrics]


def run(model: str | Model = "fusion", *, dataset: str | Path | LoadedDataset = "synthetic",
        tasks: Sequence[str] = (), metrics: Sequence[str | Metric] = (), limit: int | None = None,
        seed: int = 0, output: str | Path = "runs", model_args: dict | None = None,
        metric_args: dict[str, dict] | None = None, dataset_args: dict | None = None,
        task_map: dict[str, str] | None = None, split: str = "test", split_config: SplitConfig | None = None,
        on_bad_record: str = "error", resamples: int = DEFAULT_RESAMPLES, k: int = DEFAULT_K,
        executor: str = "local", ray_address: str | None = None, samples_format: str = "jsonl",
        log_to: Sequence[str] = (), logger_args: dict[str, dict] | None = None, progress: bool = True,
        raise_on_failed_metric: bool = False) -> Results:
    """Run `model` on `dataset` and return its `Results` (written to a new folder under `output`).

    `model`: a registered name or a Model instance (then its options are its own: pass
    none in `model_args`). `dataset`: a registered name, a REGEN file path or a
    `LoadedDataset`. `metrics`: names (`"bleu"`, `"semsim:MODEL"`) and/or Metric instances;
    empty: the defaults of the tasks. `metric_args`: metric name -> options.
    `log_to`: trackers to log the finished run to (`"mlflow"`, `"wandb"`; `logger_args`:
    tracker name -> options). `samples_format="parquet"` also writes samples.parquet.
    `progress=False` silences the progress bars. A metric that scored nothing is recorded as
    failed (its entries' `status`), as on the command line; `raise_on_failed_metric=True`
    raises instead, after the run is written.
    """
    instance = model if isinstance(model, Model) else None
    if instance is None and not isinstance(model, str):
        raise RegenBenchError(f"model is a registered name or a Model instance, not {type(model).__name__}")
    loaded = dataset if isinstance(dataset, LoadedDataset) else None
    if loaded is not None and (dataset_args or task_map):
        raise RegenBenchError("dataset_args and task_map apply when loading; give them to load_dataset")
    metric_args = {name: _strings(options) for name, options in (metric_args or {}).items()}
    objects = _metric_objects(list(metrics), metric_args)
    config = RunConfig(
        model=instance.name if instance is not None else model,
        dataset=loaded.name if loaded is not None else str(dataset),
        tasks=list(tasks), metrics=[m.spec if isinstance(m, Metric) else m for m in metrics], limit=limit,
        seed=seed, output=Path(output), model_args=_strings(model_args), metric_args=metric_args,
        dataset_args=_strings(dataset_args), task_map=dict(task_map or {}), split=split,
        split_config=split_config or (loaded.split_config if loaded is not None else SplitConfig()),
        on_bad_record=on_bad_record, resamples=resamples, k=k, executor=executor, ray_address=ray_address,
        samples_format=samples_format, log_to=list(log_to),
        logger_args={name: _strings(options) for name, options in (logger_args or {}).items()},
        progress=progress, command=["regen_bench.pipeline", f"model={model!s}"],
    )
    outcome = run_benchmark(config, model=instance, source=loaded.source if loaded is not None else None,
                            metrics=objects)
    results = Results(outcome.run_dir, outcome.results, outcome.generated, outcome.cached, list(outcome.logged))
    failed = failed_lines(outcome.results.scores)
    if failed and raise_on_failed_metric:
        raise RegenBenchError("; ".join(failed) + f" (the run is written: {outcome.run_dir})")
    return results
