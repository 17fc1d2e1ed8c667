"""`--executor ray`: generation and the heavy metrics on a Ray cluster (`pip install 'regen-bench[ray]'`).

Ray is imported here only, inside the functions that need it (never at import time:
`regen-bench --help` and `--executor local` runs do not load it).

- The cluster: `--ray-address` joins an existing one (`ray://host:10001` or `auto`);
  otherwise a local one is started for the run (`ray.init(num_cpus=...)` on 127.0.0.1,
  no dashboard, no usage report, quiet logs) and stopped at the end. When this process
  is already connected (a test's `ray.init`), that connection is used and left open.
- Generation: the batches still missing from the cache become a Ray Dataset, one row
  per batch (its pickled `Batch` and its index), mapped with `map_batches` through an
  actor pool (`ActorPoolStrategy`, one CPU each, as many actors as the cluster has CPUs,
  at most one per batch). The fitted model goes into the object store once
  (`ray.put`); each actor reads it once in its constructor and calls `produce` on it
  for every batch it is given, so the model is never refitted or re-sent per task.
  Each actor checks a batch's outputs against the model's contract
  (`stages.check_outputs`) and writes them into its own SQLite shard
  (`generation_cache.shard_dir`) before returning them; the runner merges the shards
  into the main cache before reading it and before scoring, so a killed run resumes
  from everything its actors had finished, received by the driver or not.
- Rate limits: one `LimitService` actor per run holds one `RateLimiter` per (rpm, tpm);
  every generation actor calls `share_limits` with a handle to it before it reads the
  model, so all actors' API calls book their slots with that one limiter.
- Scoring: `metric_scorer()` scores the heavy metrics (`REMOTE_METRICS`: semsim and
  bertscore) as Ray tasks, one per (task, metric), in parallel; the cheap ones run in
  this process meanwhile. The same metric object scores the same rows, so the numbers
  are the local ones.
- On a cluster, every node must see the cache folder (`REGEN_BENCH_CACHE_DIR` on a
  shared file system): shards are written there and ExampleSets re-open their Arrow
  file from there. A node that cannot see it still generates; only the driver's copy of
  its outputs is kept.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import sys
import uuid
import warnings
from contextlib import closing
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.model import Model
from regen_bench.pipeline.executor import Batch, Executor, FinishedBatch, produce, share_limits
from regen_bench.pipeline.generation_cache import GenerationCache, shard_dir
from regen_bench.pipeline.stages import check_outputs
from regen_bench.plugin.extras import require
from regen_bench.results.scoring import score_locally

REMOTE_METRICS = frozenset({"semsim", "bertscore"})  # scored on the cluster; the rest here


def import_ray():
    """The `ray` module, or the one-line error naming the extra that installs it."""
    ray = require("ray", "ray", "--executor ray")
    require("ray.data", "ray", "--executor ray", library="ray[data]")
    return ray


class GenerateOnActor:
    """One actor of the generation pool: holds the fitted model, runs the batches it is given."""

    def __init__(self, model_ref: list, limits: list, shard_folder: str, run_key: str):
        import ray

        share_limits(RayLimits(limits[0]))  # before the model's clients (and limiters) exist
        self.model: Model = ray.get(model_ref[0])  # once per actor, from the object store
        self.run_key = run_key
        self.shard_path = Path(shard_folder) / f"shard-{uuid.uuid4().hex}.sqlite"  # this actor's alone

    def __call__(self, rows: dict) -> dict:
        indices, outputs = [], []
        for index, payload in zip(rows["index"], rows["batch"]):
            batch: Batch = pickle.loads(payload)
            produced = check_outputs(self.model, batch, produce(self.model, batch))
            # Opened per call: Ray may call from another thread each time, and SQLite ties a
            # connection to its thread; one open per batch costs a millisecond.
            with closing(GenerationCache(self.shard_path)) as shard:
                shard.put_many(self.run_key, batch.task, {
                    e.example_id: out for e, out in zip(batch.examples, produced) if out is not None})
            indices.append(int(index))
            outputs.append(json.dumps(produced, ensure_ascii=False))
        return {"index": indices, "outputs": outputs}


class RayLimits:
    """The client side of the run's one limit service (`LimitService`, an actor)."""

    def __init__(self, handle):
        self.handle = handle

    def reserve(self, limiter, tokens: int) -> float:
        import ray

        return ray.get(self.handle.reserve.remote(limiter, tokens))

    async def areserve(self, limiter, tokens: int) -> float:
        return await self.handle.reserve.remote(limiter, tokens)

    def settle(self, limiter, estimated: int, actual: int | None) -> None:
        self.handle.settle.remote(limiter, estimated, actual)  # nothing waits on a correction


class LimitService:
    """The actor behind `RayLimits`: one limiter per (rpm, tpm), whoever asks.

    A worker's limiter sends a private, unshared copy of itself with each request; the
    first copy of each (rpm, tpm) becomes the one that books every worker's slots.
    """

    def __init__(self):
        self.limiters: dict = {}

    def _limiter(self, limiter):
        return self.limiters.setdefault((limiter.rpm, limiter.tpm), limiter)

    def reserve(self, limiter, tokens: int) -> float:
        return self._limiter(limiter).reserve(tokens)

    def settle(self, limiter, estimated: int, actual: int | None) -> None:
        self._limiter(limiter).settle(estimated, actual)


def start_limit_service():
    """A fresh limit service actor (no CPU reserved: it only does arithmetic)."""
    ray = import_ray()
    return ray.remote(num_cpus=0)(LimitService).remote()


def _score_remotely(metric, predictions, references, examples):
    return metric.score(predictions, references, examples)


def _last_line(exc: BaseException) -> str:
    """The last line of a Ray error (its message ends with the worker's exception)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def _user_error(exc: BaseException) -> BaseException | None:
    """The RegenBenchError (a model's or contract's) a Ray error carries, if any: the worker's
    own exception (Ray's `cause`), not Ray's copy whose message is the whole remote traceback."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        cause = getattr(exc, "cause", None)
        if isinstance(cause, BaseException):
            exc = cause
            continue
        if isinstance(exc, RegenBenchError):
            text = str(exc).split("Failed to apply UDF transform")[0].strip()  # Ray Data appends its advice
            if text and text != str(exc):
                exc.args = (text,)
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _raise_as_ours(exc: BaseException, stage: str):
    """Re-raise a Ray error as the worker's own RegenBenchError when it carries one, else as one line."""
    error = _user_error(exc)
    if error is not None:
        raise error from None
    raise RegenBenchError(f"--executor ray: {stage} failed on the cluster: {_last_line(exc)}") from exc


class RayExecutor(Executor):
    """Batches through a Ray Data actor pool; heavy metrics as Ray tasks (see the module docstring)."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None, actors: int | None = None):
        self.address = address
        self.num_cpus = num_cpus
        self.actors = actors
        self.workers = 0
        self.remote_metrics: set[str] = set()  # the metrics this run scored on the cluster
        self._started_cluster = False
        self._shards: tuple[Path, str] | None = None

    # -- the cluster -------------------------------------------------------------------

    def connect(self):
        ray = import_ray()
        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no report sent home
            quiet = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                         configure_logging=True)
            if self.address:
                ray.init(address=self.address, **quiet)
            else:
                ray.init(num_cpus=self.num_cpus or os.cpu_count() or 1, _node_ip_address="127.0.0.1", **quiet)
            self._started_cluster = True
        logging.getLogger("ray.data").setLevel(logging.CRITICAL)  # no banners; errors come back as ours
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        context.raise_original_map_exception = True  # a model's own error, not Ray's wrapper
        return ray

    def start(self, cache_path: Path, run_key: str) -> None:
        self._shards = (shard_dir(cache_path, run_key), run_key)

    def info(self) -> dict[str, Any]:
        if "ray" not in sys.modules or not sys.modules["ray"].is_initialized():
            # Nothing to generate and no metric for the cluster: none was started, none is described.
            return {"name": self.name, "nodes": 1, "cpus": 0.0, "gpus": 0.0, "workers": 0, "remote_metrics": []}
        ray = self.connect()
        resources = ray.cluster_resources()
        nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
        return {"name": self.name, "nodes": max(1, nodes), "cpus": float(resources.get("CPU", 0)),
                "gpus": float(resources.get("GPU", 0)), "workers": self.workers,
                "remote_metrics": sorted(self.remote_metrics)}

    def close(self) -> None:
        if self._started_cluster:
            import ray

            ray.shutdown()
            self._started_cluster = False

    # -- generation --------------------------------------------------------------------

    def run(self, model: Model, batches: Iterable[Batch]) -> Iterator[FinishedBatch]:
        batches = list(batches)
        if not batches:
            return
        if self._shards is None:
            raise RegenBenchError("the ray executor was not started (Executor.start) before run")
        ray = self.connect()
        folder, run_key = self._shards
        cpus = int(ray.cluster_resources().get("CPU", 1)) or 1
        self.workers = max(1, min(self.actors or cpus, len(batches)))
        rows = [{"index": i, "batch": pickle.dumps(b, protocol=pickle.HIGHEST_PROTOCOL)} for i, b in enumerate(batches)]
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
        limits = start_limit_service()
        with warnings.catch_warnings():  # max_restarts=0 (a dead actor fails the run; the next resumes)
            warnings.simplefilter("ignore")  # passes through Ray's deprecated ray_remote_args
            mapped = dataset.map_batches(
                GenerateOnActor, batch_size=1, num_cpus=1, max_restarts=0,
                compute=ray.data.ActorPoolStrategy(size=self.workers),
                fn_constructor_kwargs={"model_ref": [ray.put(model)], "limits": [limits],
                                       "shard_folder": str(folder), "run_key": run_key})
        try:
            for row in mapped.iter_rows():
                yield FinishedBatch(batches[int(row["index"])], json.loads(row["outputs"]))
        except Exception as exc:  # noqa: BLE001 - a worker's error, wrapped by Ray
            _raise_as_ours(exc, "generation")
        finally:
            ray.kill(limits)

    # -- scoring -----------------------------------------------------------------------

    def metric_scorer(self) -> Callable:
        return self.score_jobs

    def score_jobs(self, jobs: list[tuple]) -> list:
        """The heavy metrics' outputs as Ray tasks, in parallel; the others here meanwhile."""
        remote = [i for i, job in enumerate(jobs) if job[0].name in REMOTE_METRICS]
        if not remote:
            return list(score_locally(jobs))
        ray = self.connect()
        self.remote_metrics.update(jobs[i][0].name for i in remote)
        task = ray.remote(num_cpus=1)(_score_remotely)
        pending = {i: task.remote(*jobs[i]) for i in remote}
        here = [i for i in range(len(jobs)) if i not in pending]
        outputs: list = [None] * len(jobs)
        for i, output in zip(here, score_locally([jobs[i] for i in here]), strict=True):
            outputs[i] = output
        try:
            for i, ref in pending.items():
                outputs[i] = ray.get(ref)
        except Exception as exc:  # noqa: BLE001 - a worker's error, wrapped by Ray
            _raise_as_ours(exc, "scoring")
        return outputs

