#!/usr/bin/env bash
# The "AutoAttack" section of BENCHMARKS.md (issue 16): what AutoAttack costs on a CPU.
#   1. trains small-cnn on Fashion-MNIST (1 epoch, seed 1, as scripts/bench/robustness.sh)
#   2. on the first --examples test images (500), L∞ 8/255, batch 128: PGD-10 for scale, then
#      autoattack at AutoAttack's standard budgets (APGD 100 iterations, Square 5,000 queries)
#      and at the cheap ones of `rt attack`'s defaults (10 iterations, 500 queries), then
#      autoattack-rand (the rand version: APGD-CE and APGD-DLR, 20 EOT passes per iteration) at
#      100 and at 10 iterations
#   3. writes scripts/bench/results/65-autoattack.json and re-renders BENCHMARKS.md from the
#      result files (the other sections are not re-measured)
#
# Usage: scripts/bench/autoattack.sh [--threads N] [--examples N] [--no-build] [--no-compose]
# Environment: RT_BIN (default .build/release/rt), RT_BENCH_PYTHON (default python3).
# Measure on a machine without your own builds running: images/s move with the load (recorded).
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=2 EXAMPLES=500 BUILD=1 COMPOSE=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) THREADS="${2:?--threads needs a value}"; shift 2 ;;
    --examples) EXAMPLES="${2:?--examples needs a value}"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-compose) COMPOSE=0; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "autoattack.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
PY=${RT_BENCH_PYTHON:-python3}
RT=${RT_BIN:-.build/release/rt}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [[ $BUILD -eq 1 ]]; then swift build -c release >&2; fi
[[ -x "$RT" ]] || { echo "autoattack.sh: $RT not found (build first, or set RT_BIN)" >&2; exit 1; }

: >"$TMP/commands"
: >"$TMP/runs.jsonl"
run() {  # run NAME ARGS...: the command's JSON output plus the load average before it
  local name=$1; shift
  echo "== $*" >&2
  echo "$*" | sed "s|$TMP/||g" >>"$TMP/commands"
  local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
  "$@" >"$TMP/$name.json"
  "$PY" -c 'import json, sys; print(json.dumps({"name": sys.argv[1], "load": sys.argv[2], "output": json.load(open(sys.argv[3]))}))' \
    "$name" "$load" "$TMP/$name.json" >>"$TMP/runs.jsonl"
}

CKPT=$TMP/seed1.safetensors
echo "$RT train --model small-cnn --dataset fashion-mnist --epochs 1 --seed 1 --threads $THREADS --output seed1.safetensors" >>"$TMP/commands"
"$RT" train --model small-cnn --dataset fashion-mnist --epochs 1 --seed 1 --threads "$THREADS" --output "$CKPT" --json >"$TMP/train.log"
common=(--checkpoint "$CKPT" --dataset fashion-mnist --examples "$EXAMPLES" --eps 8/255 --batch-size 128 --threads "$THREADS" --json)
run pgd "$RT" attack "${common[@]}" --attack pgd --steps 10
run standard "$RT" attack "${common[@]}" --attack autoattack --steps 100 --queries 5000
run cheap "$RT" attack "${common[@]}" --attack autoattack --steps 10
run rand "$RT" attack "${common[@]}" --attack autoattack-rand --steps 100 --eot-iterations 20
run randcheap "$RT" attack "${common[@]}" --attack autoattack-rand --steps 10 --eot-iterations 20

mkdir -p scripts/bench/results
"$PY" - "$TMP/runs.jsonl" "$TMP/commands" "$THREADS" scripts/bench/results/65-autoattack.json <<'PY'
import datetime, json, os, sys
sys.path.insert(0, "scripts/bench")
sys.dont_write_bytecode = True
from benchmarks_md import machine_description
runs_path, commands_path, threads, out = sys.argv[1:]
runs = {r["name"]: r for r in map(json.loads, open(runs_path))}
def row(name, label):
    o = runs[name]["output"]
    r = o["results"][0]
    n = o["examples"]
    parts = "; ".join(f"after {c['attack']} {100 * c['robust_accuracy']:.1f}% ({c['seconds']:.0f} s)" for c in r.get("components", []))
    return [label, f"{n / r['seconds']:.2f} ({n / r['cpu_seconds']:.2f} per CPU-s)", f"{r['seconds']:.0f} s",
            f"{100 * o['clean_accuracy']:.1f}% / {100 * r['robust_accuracy']:.1f}%", parts or "", runs[name]["load"]]
m = machine_description()
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
n = runs["pgd"]["output"]["examples"]
section = {
    "kind": "table",
    "title": "AutoAttack on a CPU (rt attack --attack autoattack)",
    "description": f"One run of `scripts/bench/autoattack.sh` on {now}: `small-cnn` trained 1 epoch on Fashion-MNIST (seed 1), "
                   f"the first {n} test images, L∞ 8/255, batch 128, {threads} threads. images/s is examples over the attack's own "
                   "`seconds` (crafting and judging, not start-up or the clean pass). AutoAttack attacks only the examples still "
                   "correct, so its cost falls with the model's robustness: most of it is APGD-T's 9 target classes and Square's "
                   "queries on the examples nothing broke.",
    "columns": ["attack", "images/s", "time", "clean / robust", "components (robust accuracy after each)", "load before"],
    "rows": [row("pgd", "PGD-10 (for scale)"), row("standard", "autoattack, standard: APGD 100 iterations, Square 5,000 queries"),
             row("cheap", "autoattack, `--steps 10` (Square 500 queries)"),
             row("rand", "autoattack-rand, AutoAttack's rand version: APGD 100 iterations × 20 EOT passes"),
             row("randcheap", "autoattack-rand, `--steps 10` (× 20 EOT passes)")],
    "notes": ["FAB-T, the standard version's fourth attack, is not implemented (docs/ROBUSTNESS.md).",
              "small-cnn is deterministic in eval mode, so the rand version's 20 passes per iteration average identical "
              "gradients here: its rows measure the cost of expectation over transformation, not a gain in strength "
              "(rt warns when autoattack-rand runs on such a model)."],
    "machine": {"CPU": f"{m['cpu_model']} (`nproc` = {m['nproc']})", "OS": f"{m['os']}, kernel {m['kernel']}",
                "toolchain": f"{m['swift']}; OpenBLAS {m['openblas']}", "date": now},
    "commands": [line.rstrip("\n") for line in open(commands_path)],
}
json.dump(section, open(out, "w"), indent=1)
print(out)
PY
if [[ $COMPOSE -eq 1 ]]; then
  "$PY" scripts/bench/benchmarks_md.py compose --results scripts/bench/results --out BENCHMARKS.md
fi
