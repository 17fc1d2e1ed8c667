"""Re-run every built-in model that needs no API key on the embedded dataset, then rebuild.

    .venv/bin/python leaderboards/reproduce.py                 # all of them (`make leaderboard`)
    .venv/bin/python leaderboards/reproduce.py --model fusion  # just one (repeatable)
    .venv/bin/python leaderboards/reproduce.py --rescore       # no model re-run: add new metrics

The models come from the plugin registry, not from a list kept here: every model whose
plugin is registered by the regen-bench distribution itself, less those that call a paid
API (their options name an API key variable). Each runs with its default settings on the
default `synthetic` dataset, seed 0; narrative models are scored with `TEXT_METRICS`,
next-item recommenders with `RANKING_METRICS` (the list metrics' catalogue and popularity
are the whole dataset's: `METRIC_ARGS`). `--rescore` re-scores each committed run's saved
samples with the metrics of those lists it lacks (`regen-bench score --output`: the model
is not run again, the scores it has are kept) and puts the re-scored run in its place. A model's previous
results folder (`leaderboards/results/synthetic/<model>/`) is replaced only after its new
run has finished, so an interrupted reproduction loses nothing. Then
`regen-bench leaderboard build` rewrites the tables.

Generations are cached (see the user guide), so a second reproduction on the same machine
regenerates nothing; pass `--fresh-cache` to train and generate everything again in a new
cache folder, which is how the committed results were checked to be reproducible.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "leaderboards" / "results" / "synthetic"
TEXT_METRICS = ("bleu", "bleu:1", "rouge", "semsim", "distinct", "usr", "fmr", "fcr", "div", "embedding-average",
                "vector-extrema", "greedy-match", "item-grounding")
# Run options other than the model's (which stay at their defaults). SmolLM2 prompting
# writes about one narrative per 4-5 s on 2 CPU cores: its row covers the first 40 test
# users (160 narratives, under 15 minutes) instead of all of them; the table shows its n,
# and its significance tests use the examples it shares with the best row.
RUN_ARGS = {"llm-local": ["--limit", "40"]}
# Slowest last, so the quick rows are there early.
LAST = ("llm-local",)
RANKING_METRICS = ("recall@k", "ndcg@k", "mrr", "list-errors", "item-coverage", "average-popularity", "gini-index",
                   "shannon-entropy", "tail-percentage")
METRIC_ARGS = ("list-errors.catalogue=synthetic", "item-coverage.catalogue=synthetic", "gini-index.catalogue=synthetic",
               "average-popularity.popularity=synthetic", "tail-percentage.popularity=synthetic")


def builtin_offline_models() -> list[tuple[str, bool, bool]]:
    """(name, generates narratives, recommends items) of each built-in model needing no API key."""
    from regen_bench.contracts.model import Model
    from regen_bench.plugin.registry import get_registry

    registry = get_registry()
    out = []
    for name in registry.names("model"):
        entry = registry.get("model", name)
        info = registry.host.infos.get(entry.plugin)
        if info is None or info.distribution != "regen-bench":
            continue
        if entry.cls.paid_api:
            continue
        out.append((name, entry.cls.generate is not Model.generate, entry.cls.recommend is not Model.recommend))
    return out


def run_model(name: str, generates: bool, env: dict) -> float:
    exe = Path(sys.executable).with_name("regen-bench")
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=RESULTS))
    command = [str(exe), "run", "--model", name, "--seed", "0", "--quiet", "--output", str(staging),
               *RUN_ARGS.get(name, [])]
    if generates:
        for metric in TEXT_METRICS:
            command += ["--metric", metric]
    for metric in RANKING_METRICS:  # only used for next_item, which a narrative-only model doesn't run
        command += ["--metric", metric]
    for argument in METRIC_ARGS:
        command += ["--metric-arg", argument]
    started = time.perf_counter()
    print(f"$ regen-bench {' '.join(command[1:])}", flush=True)
    result = subprocess.run(command, env=env, cwd=ROOT)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise SystemExit(f"{name}: regen-bench run failed (exit {result.returncode}); its old results are kept")
    target = RESULTS / name
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return time.perf_counter() - started


def rescore_committed(env: dict) -> None:
    """Each committed run re-scored from its samples with the metrics it lacks, in its place."""
    exe = Path(sys.executable).with_name("regen-bench")
    for results in sorted(RESULTS.glob("*/*/results.json")):
        run_dir = results.parent
        data = json.loads(results.read_text(encoding="utf-8"))
        recorded = {m["spec"] for m in data["metrics"]}
        wanted = [*(TEXT_METRICS if any(t != "next_item" for t in data["tasks"]) else ()),
                  *(RANKING_METRICS if "next_item" in data["tasks"] else ())]
        missing = [m for m in wanted if m not in recorded]
        if not missing:
            continue
        staging = Path(tempfile.mkdtemp(prefix=".rescore-", dir=RESULTS))
        command = [str(exe), "score", str(run_dir / "samples.jsonl"), "--output", str(staging)]
        for metric in missing:
            command += ["--metric", metric]
        for argument in METRIC_ARGS:
            if argument.split(".")[0] in missing:
                command += ["--metric-arg", argument]
        print(f"$ regen-bench {' '.join(command[1:])}", flush=True)
        done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise SystemExit(f"{run_dir}: re-scoring failed (exit {done.returncode}); the run is kept as it was")
        [new_run] = list(staging.iterdir())
        new_run.rename(run_dir.parent / new_run.name)
        shutil.rmtree(run_dir)
        staging.rmdir()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="only these models (default: all built-in offline models)")
    parser.add_argument("--fresh-cache", action="store_true", help="use a new, empty cache folder")
    parser.add_argument("--no-build", action="store_true", help="only run, do not rebuild the tables")
    parser.add_argument("--rescore", action="store_true",
                        help="re-score the committed runs with the metrics they lack, run no model")
    args = parser.parse_args()
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    if args.rescore:
        rescore_committed(env)
        subprocess.run([str(Path(sys.executable).with_name("regen-bench")), "leaderboard", "build"], env=env,
                       cwd=ROOT, check=True)
        return 0
    if args.fresh_cache:
        env["REGEN_BENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="regen-bench-reproduce-cache-")
    models = builtin_offline_models()
    if args.model:
        unknown = set(args.model) - {m for m, _, _ in models}
        if unknown:
            raise SystemExit(f"not built-in offline models: {', '.join(sorted(unknown))}; "
                             f"choose from {', '.join(m for m, _, _ in models)}")
        models = [m for m in models if m[0] in args.model]
    RESULTS.mkdir(parents=True, exist_ok=True)
    models.sort(key=lambda m: (m[0] in LAST, m[0]))
    for name, generates, _ in models:
        seconds = run_model(name, generates, env)
        print(f"{name}: {seconds:.0f} s", flush=True)
    if not args.no_build:
        exe = Path(sys.executable).with_name("regen-bench")
        subprocess.run([str(exe), "leaderboard", "build"], env=env, cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
