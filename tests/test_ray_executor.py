"""`--executor ray` gives what `--executor local` gives, resumes after a SIGKILL, and keeps rate limits global.

One local Ray cluster (`ray.init(num_cpus=2)` on 127.0.0.1, no dashboard, no usage
report) serves the whole module; the runs in this process use it, the killed run in a
subprocess joins it with `--ray-address`.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the [ray] extra (make install installs it)")

from killed_runs import COUNTING_MODEL, cached_rows, lines, start_run  # noqa: E402

from regen_bench.pipeline.runner import RunConfig, run_benchmark  # noqa: E402

FUSION_FAST = {
    "lm": "tiny", "hidden": "32", "layers": "1", "heads": "2", "vocab_size": "256", "epochs": "2", "max_steps": "4",
    "max_train_users": "40", "max_validation_rows": "16", "max_new_tokens": "12", "batch_size": "8",
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A 2-CPU local Ray cluster whose workers see this module's cache folder."""
    cache = tmp_path_factory.mktemp("ray-cache")
    saved = os.environ.get("REGEN_BENCH_CACHE_DIR")
    os.environ["REGEN_BENCH_CACHE_DIR"] = str(cache)  # the workers inherit it from ray.init
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # tests/ is not on the workers' path
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                       _node_ip_address="127.0.0.1")
    yield {"cache": cache, "address": context.address_info["address"]}
    ray.shutdown()
    if saved is None:
        os.environ.pop("REGEN_BENCH_CACHE_DIR", None)
    else:
        os.environ["REGEN_BENCH_CACHE_DIR"] = saved


@pytest.fixture
def ray_cache(cluster, monkeypatch):
    monkeypatch.setenv("REGEN_BENCH_CACHE_DIR", str(cluster["cache"]))
    return cluster["cache"]


def forget_generations(cache: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{cache / 'generations.sqlite'}{suffix}").unlink(missing_ok=True)


def samples(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]


def entry(score) -> dict:
    fields = score.model_dump()
    fields["counts"] = {k: v for k, v in fields["counts"].items() if k not in ("embedded", "cache_hits")}
    return fields


CASES = {
    "popular": dict(model="popular", metrics=["bleu", "semsim", "recall@k"], tasks=["user_summary", "next_item"]),
    "retrieval-fusion": dict(model="retrieval-fusion", metrics=["bleu", "rouge"], tasks=["user_summary"]),
    "fusion": dict(model="fusion", metrics=["bleu"], tasks=["user_summary"], model_args=FUSION_FAST),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_ray_run_gives_the_local_run_s_predictions_and_scores(case, ray_cache, tmp_path):
    options = dict(dataset_args={"users": "300"}, limit=24, resamples=50, progress=False, **CASES[case])
    forget_generations(ray_cache)
    local = run_benchmark(RunConfig(executor="local", output=tmp_path / "local", **options))
    forget_generations(ray_cache)  # the ray run generates everything again
    remote = run_benchmark(RunConfig(executor="ray", output=tmp_path / "ray", **options))

    assert remote.generated == local.generated > 0 and remote.cached == 0
    assert samples(remote.run_dir) == samples(local.run_dir)  # predictions and per-example scores
    # Every field of every score; `counts` less the embedding cache's hits (the second run finds
    # semsim's embeddings cached by the first, wherever it scores).
    assert [entry(s) for s in remote.results.scores] == [entry(s) for s in local.results.scores]
    assert remote.results.model.config_hash == local.results.model.config_hash
    executor = remote.results.executor
    assert executor.name == "ray" and executor.nodes == 1 and executor.cpus == 2 and executor.workers >= 1
    assert executor.remote_metrics == (["semsim"] if case == "popular" else [])
    assert local.results.executor.name == "local"
    assert not list((ray_cache / "generation-shards").rglob("*.sqlite")), "shards are merged, then removed"


def test_one_limit_service_books_every_worker_s_requests(cluster):
    from regen_bench.pipeline.ray_executor import RayLimits, start_limit_service

    @ray.remote(num_cpus=0)
    class Worker:
        def __init__(self, service):
            from regen_bench.pipeline.executor import share_limits

            share_limits(RayLimits(service))

        def reserve(self, n):
            from regen_bench_plugins.api_client.rate_limit import RateLimiter

            limiter = RateLimiter(rpm=60, clock=lambda: 0.0)  # a frozen clock: waits are exact
            return [limiter.reserve() for _ in range(n)]

    service = start_limit_service()
    workers = [Worker.remote(service) for _ in range(2)]
    waits = sorted(w for batch in ray.get([w.reserve.remote(3) for w in workers]) for w in batch)
    # 60 rpm for both together: one slot a second across the workers, not one each.
    assert waits == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_a_sigkilled_ray_run_resumes_from_the_main_and_shard_caches_and_matches(cluster, tmp_path):
    plugin = tmp_path / "counting_model.py"
    plugin.write_text(COUNTING_MODEL)
    cache = tmp_path / "cache"
    db = cache / "generations.sqlite"
    env = dict(os.environ, REGEN_BENCH_CACHE_DIR=str(cache), COUNT_FILE=str(tmp_path / "first.txt"),
               BATCH_SLEEP="0.3")
    on_ray = ("--executor", "ray", "--ray-address", cluster["address"])

    first = start_run(plugin, tmp_path / "runs", env, *on_ray)
    deadline = time.monotonic() + 300
    while len(cached_rows(db)) < 12:
        assert first.poll() is None, f"run ended before it could be killed: {first.communicate()}"
        assert time.monotonic() < deadline, "no batch reached the cache in time"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not list((tmp_path / "runs").glob("*/results.json")), "a killed run must not leave results"
    in_main_at_kill = cached_rows(db)

    second_env = dict(env, COUNT_FILE=str(tmp_path / "second.txt"), BATCH_SLEEP="0")
    second = start_run(plugin, tmp_path / "runs", second_env, *on_ray)
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err
    results = json.loads(next((tmp_path / "runs").glob("*/results.json")).read_text())
    total = sum(results["dataset"]["n_examples_by_task"].values())
    regenerated = lines(tmp_path / "second.txt")
    # Resumed: what the main cache and the shards held was not made again, the rest exactly once.
    assert results["cache"]["cached"] >= len(in_main_at_kill)
    assert results["cache"] == {"cached": total - len(regenerated), "generated": len(regenerated), "failed": 0}
    assert len(set(regenerated)) == len(regenerated) and set(regenerated).isdisjoint(in_main_at_kill)
    assert len(cached_rows(db)) == total
    assert results["executor"]["name"] == "ray"

    # The same run, uninterrupted and local, in a fresh cache: the same samples and scores.
    local_env = dict(second_env, REGEN_BENCH_CACHE_DIR=str(tmp_path / "cache-local"),
                     COUNT_FILE=str(tmp_path / "local.txt"))
    local = start_run(plugin, tmp_path / "runs-local", local_env)
    _, err = local.communicate(timeout=600)
    assert local.returncode == 0, err
    local_dir = next((tmp_path / "runs-local").glob("*/results.json")).parent
    resumed_dir = next((tmp_path / "runs").glob("*/results.json")).parent
    assert samples(resumed_dir) == samples(local_dir)
    local_results = json.loads((local_dir / "results.json").read_text())
    assert [s["score"] for s in results["scores"]] == [s["score"] for s in local_results["scores"]]


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_the_cli_and_local_runs_never_import_ray():
    done = run_python("import sys, regen_bench.cli.app, regen_bench.pipeline.runner; print('ray' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_without_ray_the_executor_says_which_extra_to_install():
    done = run_python(textwrap.dedent("""
        import sys
        sys.modules["ray"] = None  # as if the [ray] extra were not installed
        from regen_bench.pipeline.ray_executor import import_ray
        try:
            import_ray()
        except Exception as exc:
            print(type(exc).__name__, exc)
    """))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("MissingExtraError --executor ray needs the optional library 'ray', which is not "
                                   "installed: pip install 'regen-bench[ray]'")


BAD_MODEL = textwrap.dedent('''
    from regen_bench import hookimpl
    from regen_bench.contracts.model import Model

    class Short(Model):
        name = "short"
        batch_size = 4

        def generate(self, examples, task):
            return ["x"] * (len(examples) - 1)

    @hookimpl
    def register_models(register):
        register(Short)
''')


def test_a_model_breaking_its_contract_on_a_worker_fails_with_the_local_message(cluster, tmp_path):
    plugin = tmp_path / "short_model.py"
    plugin.write_text(BAD_MODEL)
    args = [sys.executable, "-m", "regen_bench.cli.app", "--plugins", str(plugin), "run", "--model", "short",
            "--dataset-arg", "users=200", "--task", "user_summary", "--limit", "8", "--quiet",
            "--output", str(tmp_path / "runs"), "--executor", "ray", "--ray-address", cluster["address"]]
    done = subprocess.run(args, env=dict(os.environ, REGEN_BENCH_CACHE_DIR=str(tmp_path / "cache")),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        "error: model 'short' returned 3 outputs for a batch of 4 (user_summary) from generate(); expected one "
        "output per example (a narrative (str), or None for one that failed)")
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").glob("*/results.json"))
