"""Load time and peak memory of the data layer, from 1,000 to 1.1M synthetic users.

    .venv/bin/python bench/data_bench.py --dir /tmp/scale                 # 1k, 10k, 100k, 1.1M
    .venv/bin/python bench/data_bench.py --dir /tmp/scale --sizes 1000,10000,100000

Files: `regen-bench data generate --users N` into `--dir` as `users-N.jsonl` (kept and
reused when already there; the catalogue grows with N as REGEN's does). Every step is a
separate process run under `/usr/bin/time -v`, so each peak RSS ("Maximum resident set
size") is that process's own; each size gets a fresh cache folder (REGEN_BENCH_CACHE_DIR),
so nothing is shared with the user's caches or between sizes:

  cold load   validate the file and write the Arrow cache (the cache folder is empty)
  warm load   the same load again, from the Arrow cache
  data info   `regen-bench data info FILE`
  popular     `regen-bench run --dataset FILE --model popular --limit 500`
  retrieval-fusion   the same with `--model retrieval-fusion`

Goals (issue 10), printed beside each figure: 100k users: cold load <= 60 s, warm load
<= 5 s, popular peak RSS <= 1 GB, retrieval-fusion <= 2 GB; 1.1M users: data info,
popular and retrieval-fusion complete with peak RSS <= 4 GB. Then the growth exponents
of load time and peak RSS with users (least squares on log-log), and a PNG plot.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_100_000)
STEPS = ("cold load", "warm load", "data info", "popular", "retrieval-fusion")
# (users, step) -> (goal on wall seconds or None, goal on peak RSS in GB or None)
GOALS = {
    (100_000, "cold load"): (60.0, None),
    (100_000, "warm load"): (5.0, None),
    (100_000, "popular"): (None, 1.0),
    (100_000, "retrieval-fusion"): (None, 2.0),
    (1_100_000, "data info"): (None, 4.0),
    (1_100_000, "popular"): (None, 4.0),
    (1_100_000, "retrieval-fusion"): (None, 4.0),
}
TIME = "/usr/bin/time"
# What a load is, in one child process: the dataset file through a provider to Examples,
# as `regen-bench run`'s load stage does.
LOAD_SCRIPT = (
    "import sys\n"
    "from regen_bench.data.sources import resolve_dataset\n"
    "from regen_bench.data.loading import load_dataset_examples\n"
    "_, provider = resolve_dataset(sys.argv[1], {})\n"
    "loaded = load_dataset_examples(provider)\n"
    "print('examples', len(loaded.examples), 'from_arrow_cache', loaded.from_arrow_cache)\n"
)


def regen_bench_command() -> list[str]:
    exe = Path(sys.executable).with_name("regen-bench")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "regen_bench.cli.app"]


def measure(command: list[str], env: dict, log: Path) -> dict:
    """Run `command` under /usr/bin/time -v: wall seconds, peak RSS (GB), exit code."""
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.run([TIME, "-v", *command], env=env, stdout=out, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - started
    text = log.read_text(errors="replace")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    peak_gb = int(match.group(1)) / 1024**2 if match else float("nan")
    return {"seconds": round(wall, 2), "peak_rss_gb": round(peak_gb, 3), "rc": proc.returncode, "log": str(log)}


def ensure_file(folder: Path, users: int, env: dict) -> tuple[Path, dict | None]:
    path = folder / f"users-{users}.jsonl"
    if path.is_file():
        return path, None
    log = folder / f"generate-{users}.log"
    jobs = str(os.cpu_count() or 1)  # the same bytes for any number of processes
    figure = measure([*regen_bench_command(), "data", "generate", "--users", str(users), "--jobs", jobs, "-o", str(path)],
                     env, log)
    if figure["rc"] != 0:
        raise SystemExit(f"data generate --users {users} failed; see {log}")
    return path, figure


def step_commands(path: Path, limit: int, runs: Path) -> dict[str, list[str]]:
    cli = regen_bench_command()
    run = [*cli, "run", "--dataset", str(path), "--limit", str(limit), "--output", str(runs)]
    return {
        "cold load": [sys.executable, "-c", LOAD_SCRIPT, str(path)],
        "warm load": [sys.executable, "-c", LOAD_SCRIPT, str(path)],
        "data info": [*cli, "data", "info", str(path)],
        "popular": [*run, "--model", "popular"],
        "retrieval-fusion": [*run, "--model", "retrieval-fusion"],
    }


def bench_size(folder: Path, users: int, limit: int, steps: tuple[str, ...]) -> dict:
    cache = folder / f"cache-{users}"
    shutil.rmtree(cache, ignore_errors=True)  # a cold load needs an empty cache
    env = {**os.environ, "REGEN_BENCH_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    path, generated = ensure_file(folder, users, env)
    figures = {"users": users, "file_mb": round(path.stat().st_size / 1e6, 1), "steps": {}}
    if generated:
        figures["generate"] = generated
    commands = step_commands(path, limit, folder / f"runs-{users}")
    for step in STEPS:
        if step not in steps:
            continue
        log = folder / f"{step.replace(' ', '-')}-{users}.log"
        figures["steps"][step] = figure = measure(commands[step], env, log)
        print(f"  {users:>9,} users  {step:<17} {describe(users, step, figure)}", flush=True)
    return figures


def verdict(users: int, step: str, figure: dict) -> str:
    goal_s, goal_gb = GOALS.get((users, step), (None, None))
    if figure["rc"] != 0:
        return "FAILED" + (" (goal: complete)" if (users, step) in GOALS else "")
    parts = []
    if goal_s is not None:
        parts.append(f"goal <= {goal_s:g} s: {'met' if figure['seconds'] <= goal_s else 'NOT met'}")
    if goal_gb is not None:
        parts.append(f"goal <= {goal_gb:g} GB: {'met' if figure['peak_rss_gb'] <= goal_gb else 'NOT met'}")
    return "; ".join(parts)


def describe(users: int, step: str, figure: dict) -> str:
    text = f"{figure['seconds']:>8.1f} s  peak RSS {figure['peak_rss_gb']:>6.2f} GB"
    judged = verdict(users, step, figure)
    return f"{text}  {judged}" if judged else text


def growth_exponent(users: list[int], values: list[float]) -> float | None:
    """Slope of log(value) against log(users), least squares; None with < 2 usable points."""
    points = [(math.log(u), math.log(v)) for u, v in zip(users, values) if v and v > 0 and math.isfinite(v)]
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else None


def exponents(results: list[dict]) -> dict[str, dict[str, float | None]]:
    out = {}
    for step in STEPS:
        rows = [(r["users"], r["steps"][step]) for r in results if step in r["steps"] and r["steps"][step]["rc"] == 0]
        users = [u for u, _ in rows]
        out[step] = {
            "time": growth_exponent(users, [f["seconds"] for _, f in rows]),
            "rss": growth_exponent(users, [f["peak_rss_gb"] for _, f in rows]),
        }
    return out


def plot(results: list[dict], target: Path) -> None:
    # matplotlib only here: the bench's figures do not need it. Agg and a fixed size, as
    # the leaderboard's plots (regen_bench/leaderboard/plots.py).
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 8}):
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), dpi=110)
        for step in STEPS:
            rows = [(r["users"], r["steps"][step]) for r in results if step in r["steps"]]
            rows = [(u, f) for u, f in rows if f["rc"] == 0]
            if not rows:
                continue
            users = [u for u, _ in rows]
            left.plot(users, [f["seconds"] for _, f in rows], marker="o", label=step)
            right.plot(users, [f["peak_rss_gb"] for _, f in rows], marker="o", label=step)
        for axis, label in ((left, "wall time (s)"), (right, "peak RSS (GB)")):
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.set_xlabel("synthetic users")
            axis.set_ylabel(label)
            axis.grid(True, which="both", alpha=0.3)
        right.axhline(4.0, color="grey", linestyle="--", linewidth=0.8)
        left.legend(fontsize=7)
        fig.suptitle("regen-bench data layer: time and memory by users (synthetic)")
        fig.tight_layout()
        fig.savefig(target, metadata={"Software": None})
        plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, required=True, help="folder for the files, caches, logs and the plot")
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES), help="comma-separated user counts")
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated, of: {', '.join(STEPS)}")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    if not Path(TIME).exists():
        raise SystemExit(f"{TIME} is needed for peak RSS (apt-get install time)")
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    steps = tuple(s.strip() for s in args.steps.split(",") if s.strip())
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise SystemExit(f"unknown step(s) {unknown}; choose from {list(STEPS)}")
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"data bench: sizes {', '.join(f'{s:,}' for s in sizes)}; --limit {args.limit}; files in {args.dir}")
    results = [bench_size(args.dir, users, args.limit, steps) for users in sizes]
    growth = exponents(results)
    print("growth exponents with users (log-log slope; 1 = linear):")
    for step, pair in growth.items():
        if pair["time"] is None and pair["rss"] is None:
            continue
        fmt = lambda v: "  n/a" if v is None else f"{v:5.2f}"  # noqa: E731
        print(f"  {step:<17} time {fmt(pair['time'])}   peak RSS {fmt(pair['rss'])}")
    judged = [(u, s) for (u, s) in GOALS if any(r["users"] == u and s in r["steps"] for r in results)]
    missed = [f"{u:,} {s}" for u, s in judged
              if "NOT" in verdict(u, s, next(r for r in results if r["users"] == u)["steps"][s])
              or "FAILED" in verdict(u, s, next(r for r in results if r["users"] == u)["steps"][s])]
    print(f"goals: {len(judged) - len(missed)} of {len(judged)} measured met" + (f"; not met: {', '.join(missed)}" if missed else ""))
    summary = {"results": results, "growth": growth, "goals_measured": len(judged), "goals_missed": missed}
    (args.dir / "data_bench.json").write_text(json.dumps(summary, indent=2) + "\n")
    if not args.no_plot and len(results) >= 1:
        plot(results, args.dir / "data_bench.png")
        print(f"plot: {args.dir / 'data_bench.png'}")
    return summary


if __name__ == "__main__":
    main()
