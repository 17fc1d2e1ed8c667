"""Wall time, peak memory and throughput of `regen-bench run --model fusion` with defaults.

    .venv/bin/python bench/run_bench.py                      # fusion, defaults, embedded dataset
    .venv/bin/python bench/run_bench.py --model cf-only --model-arg epochs=2

Each measured run is a separate `regen-bench run` process; wall time is measured around
it and peak RSS is the child's `ru_maxrss` (resource.getrusage). Three runs, side by side:

  cold      a fresh cache folder: the synthetic file is generated, every item text is
            embedded, the model is trained, every narrative generated
  weights   the same cache, generations dropped: item embeddings and trained weights
            come from the caches, generation runs again (what a re-run with new
            metrics or a new --limit costs)
  resumed   the same command again: every generation is in the cache, so nothing is
            fitted (what a killed-and-restarted or re-scored run costs)

Goals (issue 4): the cold run at most 3 minutes and 3 GB peak RSS on 2 cores. It also
prints training examples/s, training tokens/s and generation tokens/s from results.json,
and the ratios cold / weights and cold / resumed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 180
GOAL_RSS_GB = 3.0


def measure(command: list[str], env: dict) -> tuple[float, float, int]:
    """(wall seconds, largest child peak RSS so far in GB, exit code).

    RUSAGE_CHILDREN's ru_maxrss is the largest of all children so far, so only the first
    (cold) run's figure is its own; the later runs' peaks are not reported."""
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        print(proc.stdout[-3000:], file=sys.stderr)
    return wall, peak_kb / 1024**2, proc.returncode


def newest_results(output: Path) -> dict:
    paths = sorted(output.glob("*/results.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(paths[-1].read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fusion")
    parser.add_argument("--model-arg", action="append", default=[])
    parser.add_argument("--keep", action="store_true", help="keep the temporary cache and runs folder")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="regen-bench-run-bench-"))
    env = dict(os.environ, REGEN_BENCH_CACHE_DIR=str(root / "cache"), HF_HUB_OFFLINE="1",
               HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    exe = Path(sys.executable).with_name("regen-bench")
    command = [str(exe), "run", "--model", args.model, "--quiet", "--output", str(root / "runs")]
    for pair in args.model_arg:
        command += ["--model-arg", pair]
    print(f"run bench: {' '.join(['regen-bench', *command[1:]])}")
    print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}, load average before "
          f"{os.getloadavg()[0]:.2f}")

    rows = []
    wall, rss, code = measure(command, env)
    if code != 0:
        print("cold run failed", file=sys.stderr)
        return 1
    cold = newest_results(root / "runs")
    rows.append(("cold", wall, rss, cold))
    (root / "cache" / "generations.sqlite").unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(root / "cache" / "generations.sqlite") + suffix).unlink(missing_ok=True)
    for label in ("weights", "resumed"):
        wall, _, code = measure(command, env)
        if code != 0:
            print(f"{label} run failed", file=sys.stderr)
            return 1
        rows.append((label, wall, None, newest_results(root / "runs")))

    for label, seconds, peak, results in rows:
        timings = results["timings"]
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
        cache = results["cache"]
        print(f"{label:8s} wall {seconds:7.1f} s"
              + (f"  peak RSS {peak:.2f} GB" if peak is not None else "")
              + f"  ({stages}; generated {cache['generated']}, cached {cache['cached']})")
    info = cold["model"]["info"]
    training = info.get("training", {})
    print(f"training: {training.get('train_examples_per_s')} examples/s, {training.get('train_tokens_per_s')} "
          f"tokens/s, {training.get('epochs')} epochs ({training.get('steps')} steps, best epoch "
          f"{training.get('best_epoch')}), {training.get('train_seconds')} s")
    print(f"generation: {info.get('generation_tokens_per_s')} tokens/s ({info.get('generated_tokens')} tokens)")
    params = info.get("parameters", {})
    print(f"model: {params.get('total')} parameters ({params.get('trainable')} trainable), backbone "
          f"{info.get('backbone', {}).get('lm')}")
    cold_s = rows[0][1]
    print(f"ratio cold/weights: {cold_s / rows[1][1]:.1f}x   ratio cold/resumed: {cold_s / rows[2][1]:.1f}x")
    verdict_t = "meets" if cold_s <= GOAL_SECONDS else "MISSES"
    verdict_m = "meets" if rows[0][2] <= GOAL_RSS_GB else "MISSES"
    print(f"goal: cold wall <= {GOAL_SECONDS} s: {verdict_t} ({cold_s:.0f} s); peak RSS <= {GOAL_RSS_GB} GB: "
          f"{verdict_m} ({rows[0][2]:.2f} GB)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.keep:
        print(f"kept: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
