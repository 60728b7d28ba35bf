#!/usr/bin/env bash
# The "Robustness" section of BENCHMARKS.md (issue 6): is `rt attack` as fast as the engine it
# drives, and do universal perturbations and CKA on 10,000 images take minutes, not hours?
#   1. trains two small-cnn checkpoints on Fashion-MNIST (1 epoch, seeds 1 and 2)
#   2. optionally waits for a quiet machine (--wait-quiet)
#   3. alternates `rt bench engine --workloads small-cnn/pgd10` and `rt attack --attack pgd`
#      (PGD-10 L∞ 8/255, 2,560 test images, batch 128) --rounds times (5); both are the same
#      ProjectedGradientAttack.run, so the gap is what rt attack adds around the engine
#   4. times `rt attack --attack uap` and `rt analyze cka` on the 10,000 test images
#   5. writes scripts/bench/results/60-robustness.json and re-renders BENCHMARKS.md
#
# Usage: scripts/bench/robustness.sh [--threads N] [--rounds N] [--wait-quiet MINUTES] [--no-build] [--no-compose]
#   --wait-quiet M  before measuring, wait up to M minutes for a 1-minute load average below 1.0
#                   (default 0: measure at once; the load is recorded either way)
#   --no-compose    only write the JSON (run.sh composes BENCHMARKS.md itself)
# Environment: RT_BIN (default .build/release/rt), RT_BENCH_PYTHON (default python3).
set -euo pipefail

cd "$(dirname "$0")/../.."
THREADS=2
ROUNDS=5
WAIT_MINUTES=0
BUILD=1
COMPOSE=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) THREADS="${2:?--threads needs a value}"; shift 2 ;;
    --rounds) ROUNDS="${2:?--rounds needs a value}"; shift 2 ;;
    --wait-quiet) WAIT_MINUTES="${2:?--wait-quiet needs minutes}"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-compose) COMPOSE=0; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "robustness.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in "$THREADS" "$ROUNDS"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "robustness.sh: --threads and --rounds want positive integers, got '$v'" >&2; exit 2; }
done
[[ "$WAIT_MINUTES" =~ ^[0-9]+$ ]] || { echo "robustness.sh: --wait-quiet wants whole minutes, got '$WAIT_MINUTES'" >&2; exit 2; }

PY=${RT_BENCH_PYTHON:-python3}
RT=${RT_BIN:-.build/release/rt}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if [[ $BUILD -eq 1 ]]; then
  echo "== swift build -c release" >&2
  swift build -c release >&2
fi
[[ -x "$RT" ]] || { echo "robustness.sh: $RT not found or not executable (build first, or set RT_BIN)" >&2; exit 1; }

# Busy CPU-seconds of the whole machine so far (/proc/stat: user nice system idle iowait irq softirq steal).
busy_seconds() { awk -v hz="$(getconf CLK_TCK)" '/^cpu /{print ($2+$3+$4+$7+$8+$9)/hz; exit}' /proc/stat; }

# measure NAME COMMAND...: stdout to $TMP/NAME.out; one JSON line per run appended to $TMP/runs.jsonl
# with the wall and CPU seconds of the process, the load average before it, and the CPU-seconds
# other processes used meanwhile (machine busy time minus ours): the contention the numbers saw.
measure() {
  local name=$1; shift
  echo "== $*" >&2
  echo "$*" >>"$TMP/commands"
  local load busy0 busy1
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  busy0=$(busy_seconds)
  local TIMEFORMAT='%R %U %S'
  if ! { time "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"; } 2>"$TMP/$name.time"; then
    cat "$TMP/$name.err" >&2; echo "robustness.sh: '$*' failed" >&2; exit 1
  fi
  busy1=$(busy_seconds)
  read -r wall user sys <"$TMP/$name.time"
  "$PY" - "$name" "$wall" "$user" "$sys" "$busy0" "$busy1" "$load" "$TMP/$name.out" >>"$TMP/runs.jsonl" <<'PY'
import json, sys
name, wall, user, sys_, busy0, busy1, load, out = sys.argv[1:]
lines = [l for l in open(out) if l.lstrip().startswith("{")]
cpu = float(user) + float(sys_)
print(json.dumps({"name": name, "wall_seconds": float(wall), "cpu_seconds": cpu, "load_average_before": load,
                  "other_cpu_seconds": max(0.0, float(busy1) - float(busy0) - cpu),
                  "output": json.loads(lines[-1]) if lines else None}))
PY
}

mkdir -p "$TMP/ckpt"
: >"$TMP/commands"
: >"$TMP/runs.jsonl"
# Two checkpoints: the attacks need a trained model (an untrained one is broken at once, which
# does not change PGD's cost but makes UAP and the accuracies meaningless), CKA needs two.
for seed in 1 2; do
  echo "== $RT train --model small-cnn --dataset fashion-mnist --epochs 1 --seed $seed" >&2
  echo "$RT train --model small-cnn --dataset fashion-mnist --epochs 1 --seed $seed --threads $THREADS --output $TMP/ckpt/seed$seed.safetensors" >>"$TMP/commands"
  "$RT" train --model small-cnn --dataset fashion-mnist --epochs 1 --seed "$seed" --threads "$THREADS" \
    --output "$TMP/ckpt/seed$seed.safetensors" --json >"$TMP/train$seed.log"
done

# Training just loaded the CPUs itself; the 1-minute average forgets it within a minute or two.
deadline=$(( $(date +%s) + 60 * WAIT_MINUTES ))
WAITED=0
while [[ $WAIT_MINUTES -gt 0 ]] && awk '{exit !($1 >= 1.0)}' /proc/loadavg; do
  if [[ $(date +%s) -ge $deadline ]]; then
    echo "robustness.sh: load still $(cut -d' ' -f1 /proc/loadavg) after $WAIT_MINUTES min; measuring anyway" >&2
    break
  fi
  echo "robustness.sh: waiting for a quiet machine (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  sleep 30
  WAITED=$((WAITED + 30))
done
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

CKPT="$TMP/ckpt/seed1.safetensors"
for round in $(seq "$ROUNDS"); do
  measure "bench$round" "$RT" bench engine --workloads small-cnn/pgd10 --threads "$THREADS" --json
  measure "pgd$round" "$RT" attack --checkpoint "$CKPT" --dataset fashion-mnist --attack pgd --eps 8/255 --steps 10 \
    --examples 2560 --batch-size 128 --threads "$THREADS" --json
done
measure uap "$RT" attack --checkpoint "$CKPT" --dataset fashion-mnist --attack uap --eps 8/255 \
  --batch-size 128 --threads "$THREADS" --json
measure cka "$RT" analyze cka --a "$CKPT" --b "$TMP/ckpt/seed2.safetensors" --dataset fashion-mnist \
  --threads "$THREADS" --json

mkdir -p scripts/bench/results
"$PY" scripts/bench/robustness_json.py --runs "$TMP/runs.jsonl" --commands "$TMP/commands" --threads "$THREADS" --tmp "$TMP" \
  --load-at-start "$LOAD_AT_START" --waited-seconds "$WAITED" --out scripts/bench/results/60-robustness.json
if [[ $COMPOSE -eq 1 ]]; then
  "$PY" scripts/bench/benchmarks_md.py compose --results scripts/bench/results --out BENCHMARKS.md
fi
