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

The cold run is made `--cold-runs` times (default 3), each in its own fresh cache, one
after the other; the median is the figure set beside the goal.

Goals (issues 4 and 11): the cold run at most 3 minutes and 3 GB peak RSS on 2 cores. It
also prints, from the first cold run's results.json: training examples/s and tokens/s,
the share of padding among the positions computed, seconds per epoch, the epoch at which
each task's validation loss was lowest, generation tokens/s, the ratios cold / weights
and cold / resumed, and the fraction of this machine's compute limit the training step
reached: the step's FLOPs (forward x 3: the decoder's matmuls at every position, the
attention scores at the batch's width, the LM head at label positions) per second of
training, against the fp32 matmul rate measured here, in this process, at the model's
own matrix shapes and thread count (`matmul_rate`).
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


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def tiny_shapes(config: dict) -> dict:
    """hidden, intermediate, layers and vocabulary of the tiny backbone from a run's model config."""
    options = config.get("options", config)
    hidden = int(options.get("hidden", 128))
    return {"hidden": hidden, "intermediate": 3 * hidden, "layers": int(options.get("layers", 2)),
            "vocab": int(options.get("vocab_size", 1024))}


def training_flops(training: dict, shapes: dict) -> float:
    """FLOPs of every training step of a run, forward x 3 (backward costs two forwards)."""
    h, f, layers, vocab = shapes["hidden"], shapes["intermediate"], shapes["layers"], shapes["vocab"]
    positions = training["train_positions"]
    width = positions / max(training["train_rows_seen"], 1)  # the mean batch width
    linear = 2 * (4 * h * h + 3 * h * f)  # q, k, v, o and the gated MLP, per position per layer
    attention = 2 * 2 * width * h  # scores and the weighted sum, per position per layer
    head = 2 * h * vocab  # per label position
    return 3.0 * (positions * layers * (linear + attention) + training["train_label_tokens"] * head)


def matmul_rate(shapes: dict, tokens: int, threads: int, seconds: float = 2.0) -> float:
    """fp32 GFLOP/s of this machine at the model's matmul shapes (tokens x in -> out), weighted by FLOPs."""
    import torch

    torch.set_num_threads(threads)
    h, f, vocab = shapes["hidden"], shapes["intermediate"], shapes["vocab"]
    layer_shapes = [(h, h)] * 4 + [(h, f), (h, f), (f, h)]
    total_flops, total_s = 0.0, 0.0
    for n_in, n_out in layer_shapes + [(h, vocab)]:
        a, b = torch.randn(tokens, n_in), torch.randn(n_in, n_out)
        for _ in range(3):
            a @ b
        reps, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds / (len(layer_shapes) + 1):
            a @ b
            reps += 1
        total_s += time.perf_counter() - started
        total_flops += 2.0 * tokens * n_in * n_out * reps
    return total_flops / total_s / 1e9


def newest_results(output: Path) -> dict:
    paths = sorted(output.glob("*/results.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(paths[-1].read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fusion")
    parser.add_argument("--model-arg", action="append", default=[])
    parser.add_argument("--cold-runs", type=int, default=3, help="cold runs, each with a fresh cache (median)")
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
    cold_walls = []
    for i in range(args.cold_runs):
        # Each cold run gets its own cache; the last one's is kept for the warm runs below.
        run_env = dict(env, REGEN_BENCH_CACHE_DIR=str(root / f"cache-{i}"))
        wall, rss, code = measure(command, run_env)
        if code != 0:
            print("cold run failed", file=sys.stderr)
            return 1
        cold_walls.append(wall)  # rss is the largest child so far: after the loop, the cold runs' peak
        print(f"cold run {i + 1}: wall {wall:.1f} s")
        if i < args.cold_runs - 1:
            shutil.rmtree(root / f"cache-{i}", ignore_errors=True)
    env["REGEN_BENCH_CACHE_DIR"] = str(root / f"cache-{args.cold_runs - 1}")
    cold = newest_results(root / "runs")
    rows.append(("cold", median(cold_walls), rss, cold))
    cache_dir = Path(env["REGEN_BENCH_CACHE_DIR"])
    (cache_dir / "generations.sqlite").unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(cache_dir / "generations.sqlite") + suffix).unlink(missing_ok=True)
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
    if training.get("padding_share") is not None:
        epochs = ", ".join(f"{x:.1f}" for x in training.get("epoch_seconds", []))
        print(f"padding: {100 * training['padding_share']:.1f}% of computed positions; seconds per epoch: {epochs}")
        best = training.get("task_best_epoch", {})
        print("validation loss lowest at epoch: " + ", ".join(f"{t} {e}" for t, e in best.items())
              + f" (of {training.get('epochs')}; overall {training.get('best_epoch')})")
        if info.get("backbone", {}).get("lm") == "tiny" and training.get("train_seconds"):
            shapes = tiny_shapes(cold["model"].get("config", {}))
            achieved = training_flops(training, shapes) / training["train_seconds"] / 1e9
            batch_tokens = round(training["train_positions"] / max(training.get("steps", 1), 1))
            limit = matmul_rate(shapes, batch_tokens, int(info.get("torch_threads", os.cpu_count() or 1)))
            print(f"compute: training step {achieved:.1f} GFLOP/s against a measured fp32 matmul rate of "
                  f"{limit:.1f} GFLOP/s at the model's shapes ({batch_tokens} positions per batch): "
                  f"{100 * achieved / limit:.0f}% of the compute limit")
    print(f"generation: {info.get('generation_tokens_per_s')} tokens/s ({info.get('generated_tokens')} tokens)")
    params = info.get("parameters", {})
    print(f"model: {params.get('total')} parameters ({params.get('trainable')} trainable), backbone "
          f"{info.get('backbone', {}).get('lm')}")
    cold_s = rows[0][1]
    print("cold runs: " + ", ".join(f"{w:.1f} s" for w in cold_walls) + f"; median {cold_s:.1f} s")
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
