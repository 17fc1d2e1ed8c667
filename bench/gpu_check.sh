#!/usr/bin/env bash
# GPU check (issue 10): fusion with the `tiny` backbone and with `lm=smollm2-135m`, trained for a
# bounded number of steps on 10k synthetic users, then semsim and bertscore, each on the GPU and
# on the CPU, printing throughput and the GPU/CPU ratio. Meant to finish in under 8 minutes on one
# GPU (the device lease is 15 minutes in all); the CPU side runs fewer steps, since only rates are
# compared.
#
#   bash bench/gpu_check.sh                  # cuda against cpu
#   DEVICES=cpu bash bench/gpu_check.sh      # the CPU side alone (what a machine without CUDA can check)
#
# Environment: PY (default .venv/bin/python), USERS (10000), LIMIT / CPU_LIMIT (64 / 8 generated
# examples per run: SmolLM2 generates ~10-20 tokens/s on a CPU),
# GPU_STEPS / CPU_STEPS (300 / 20 optimiser steps for tiny; a third of that for smollm2),
# PAIRS (2000 metric pairs on the GPU; a tenth on the CPU). Every run gets a fresh cache folder.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BIN=$(dirname "$PY")/regen-bench
DEVICES=${DEVICES:-"cuda cpu"}
USERS=${USERS:-10000}
LIMIT=${LIMIT:-64}
CPU_LIMIT=${CPU_LIMIT:-8}
GPU_STEPS=${GPU_STEPS:-300}
CPU_STEPS=${CPU_STEPS:-20}
PAIRS=${PAIRS:-2000}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 OPENBLAS_NUM_THREADS=1
WORK=$(mktemp -d -t regen-bench-gpu-check-XXXX)
trap 'rm -rf "$WORK"' EXIT
export REGEN_BENCH_CACHE_DIR="$WORK/cache"

"$PY" - <<'EOF'
import torch
print(f"torch {torch.__version__}; CUDA available: {torch.cuda.is_available()}"
      + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else ""))
EOF
echo "generating $USERS synthetic users"
"$BIN" data generate --users "$USERS" -o "$WORK/users.jsonl" >/dev/null

fusion_run() {  # label device lm steps limit
  local label=$1 device=$2 lm=$3 steps=$4 limit=$5 out="$WORK/runs-$1-$2"
  local started=$SECONDS
  "$BIN" run --model fusion --dataset "$WORK/users.jsonl" --task purchase_reason --limit "$limit" --quiet \
    --output "$out" --bootstrap 10 --model-arg "lm=$lm" --model-arg "device=$device" \
    --model-arg "max_steps=$steps" --model-arg "max_new_tokens=64" --model-arg "reuse_weights=false" \
    >"$WORK/$label-$device.log" 2>&1 || { tail -20 "$WORK/$label-$device.log"; return 1; }
  "$PY" - "$out" "$label" "$device" "$((SECONDS - started))" <<'EOF'
import json, sys
from pathlib import Path
out, label, device, wall = sys.argv[1:]
info = json.loads(next(Path(out).glob("*/results.json")).read_text())["model"]["info"]
t = info.get("training", {})
print(f"RESULT {label} {device} train_examples_per_s={t.get('train_examples_per_s')} "
      f"train_tokens_per_s={t.get('train_tokens_per_s')} steps={t.get('steps')} "
      f"generation_tokens_per_s={info.get('generation_tokens_per_s')} dtype={info.get('dtype')} "
      f"device={info.get('device')} gpu={info.get('device_name', '-')} wall_s={wall}")
EOF
}

metric_run() {  # device pairs
  "$PY" - "$1" "$2" <<'EOF'
import random, sys, time
from regen_bench.plugin.registry import get_registry
device, pairs = sys.argv[1], int(sys.argv[2])
rng = random.Random(0)
words = "the user buys office chairs paper pens blue red stapler desk lamp notebook printer ink".split()
texts = [" ".join(rng.choice(words) for _ in range(60)) for _ in range(2 * pairs)]
for name, options in (("semsim", {"cache": False}), ("bertscore", {})):
    metric = get_registry().get("metric", name).cls(device=device, **options)
    metric.score(texts[:8], texts[8:16], [None] * 8)  # load the model outside the timing
    started = time.perf_counter()
    metric.score(texts[:pairs], texts[pairs:], [None] * pairs)
    seconds = time.perf_counter() - started
    print(f"RESULT {name} {device} pairs_per_s={pairs / seconds:.1f} pairs={pairs}")
EOF
}

for device in $DEVICES; do
  if [ "$device" = cpu ]; then steps=$CPU_STEPS limit=$CPU_LIMIT pairs=$((PAIRS / 10))
  else steps=$GPU_STEPS limit=$LIMIT pairs=$PAIRS; fi
  fusion_run tiny "$device" tiny "$steps" "$limit" | tee -a "$WORK/results.txt"
  fusion_run smollm2 "$device" smollm2-135m "$((steps / 3 > 0 ? steps / 3 : 1))" "$limit" | tee -a "$WORK/results.txt"
  metric_run "$device" "$pairs" | tee -a "$WORK/results.txt"
done

"$PY" - "$WORK/results.txt" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    _, what, device, *pairs = line.split()
    rows[(what, device)] = dict(p.split("=", 1) for p in pairs)
print("\nGPU / CPU throughput")
for what in ("tiny", "smollm2", "semsim", "bertscore"):
    gpu, cpu = rows.get((what, "cuda")), rows.get((what, "cpu"))
    for key in ("train_examples_per_s", "generation_tokens_per_s", "pairs_per_s"):
        if gpu and cpu and gpu.get(key) not in (None, "None") and cpu.get(key) not in (None, "None"):
            print(f"{what:10s} {key:24s} cuda {float(gpu[key]):10.1f}  cpu {float(cpu[key]):10.1f}  "
                  f"ratio {float(gpu[key]) / float(cpu[key]):6.1f}x")
EOF
