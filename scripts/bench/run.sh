#!/usr/bin/env bash
# Regenerates BENCHMARKS.md at the repository root from one run on this machine:
#   1. swift build -c release
#   2. rt bench sgemm  --threads T --json      (the BLAS peak the engine is measured against), per T
#   3. rt bench engine --threads T --json      (the six engine workloads)
#   4. scripts/bench/pytorch_engine.py --threads T --json   (the same workloads in PyTorch, if installed,
#                                                in both memory layouts: NCHW and channels_last;
#                                                3 and 4 take turns --passes times, each pass at every
#                                                T of --engine-threads)
#   4b. rt bench loader --json                  (loader throughput against the engine's consumption)
#   4c. rt bench cluster --json                 (dispatch rate, scheduling overhead, failure detection)
#   4d. rt bench allreduce --json               (ring all-reduce bus bandwidth vs ZeroMQ point-to-point)
#   4e. rt bench dataparallel --json            (resnet20 images/s with replicas and threads)
#   4f. scripts/bench/robustness.sh             (rt attack vs the engine, UAP and CKA on 10,000 images;
#                                                alone it re-measures and re-renders just that section)
#   4g. scripts/bench/autoattack.sh             (AutoAttack's images/s on small-cnn; the same, alone)
#   5. folds them into scripts/bench/results/10-engine.json and renders every
#      scripts/bench/results/* section into BENCHMARKS.md (scripts/bench/benchmarks_md.py).
#
# Usage: scripts/bench/run.sh [--threads N] [--engine-threads T,T] [--passes P] [--no-build] [--compose-only]
#                             [--only engine|cluster|data-parallel]
#   --threads N     threads of every benchmark but the engine's (default 2)
#   --engine-threads T,T  thread counts of the engine section, one table each (default 2,1: sweeps
#                   run 1-thread trials side by side, so the 1-thread figures matter as much)
#   --passes P      rt and PyTorch take turns P times on the engine workloads (default 3); the
#                   tables show the median of the passes and every pass's ratio
#   --no-build      use the existing release binary
#   --compose-only  run nothing; re-render BENCHMARKS.md from scripts/bench/results/
#   --only engine          run only 2-4b (the engine, PyTorch and loader sections; the others keep
#                          their recorded results)
#   --only cluster         run only 4c (three runs of rt bench cluster; the others keep theirs)
#   --only data-parallel   run only 4d and 4e (the other sections keep their recorded results)
# Environment: RT_BIN (default .build/release/rt), RT_TORCH_PYTHON (python with torch),
#              RT_BENCH_PYTHON (python for JSON/Markdown; default python3).
# Other benchmark producers add a section by writing scripts/bench/results/NN-name.json
# (see benchmarks_md.py) and running this script with --compose-only.
set -euo pipefail

cd "$(dirname "$0")/../.."
THREADS=2
BUILD=1
RUN=1
ONLY=
PASSES=3
ENGINE_THREADS=2,1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) THREADS="${2:?--threads needs a value}"; shift 2 ;;
    --threads=*) THREADS="${1#*=}"; shift ;;
    --no-build) BUILD=0; shift ;;
    --compose-only) RUN=0; shift ;;
    --only) ONLY="${2:?--only needs a value}"; shift 2 ;;
    --passes) PASSES="${2:?--passes needs a value}"; shift 2 ;;
    --engine-threads) ENGINE_THREADS="${2:?--engine-threads needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -z "$ONLY" || "$ONLY" == engine || "$ONLY" == cluster || "$ONLY" == data-parallel ]] || { echo "run.sh: --only knows engine, cluster and data-parallel, got '$ONLY'" >&2; exit 2; }
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --threads wants a positive integer, got '$THREADS'" >&2; exit 2; }
[[ "$PASSES" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --passes wants a positive integer, got '$PASSES'" >&2; exit 2; }
[[ "$ENGINE_THREADS" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "run.sh: --engine-threads wants positive integers separated by commas, got '$ENGINE_THREADS'" >&2; exit 2; }
IFS=, read -r -a ENGINE_THREAD_LIST <<<"$ENGINE_THREADS"

PY=${RT_BENCH_PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  PY=$(ls .venv-torch/bin/python 2>/dev/null || true)
  [[ -n "$PY" ]] || { echo "run.sh: needs python3 (or RT_BENCH_PYTHON) for JSON and Markdown" >&2; exit 1; }
fi
RESULTS=scripts/bench/results

if [[ $RUN -eq 1 ]]; then
  RT=${RT_BIN:-.build/release/rt}
  LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  : >"$TMP/commands"
  record() { echo "$*" >>"$TMP/commands"; }

  if [[ $BUILD -eq 1 ]]; then
    echo "== swift build -c release" >&2
    record "swift build -c release"
    swift build -c release >&2
  fi
  [[ -x "$RT" ]] || { echo "run.sh: $RT not found or not executable (build first, or set RT_BIN)" >&2; exit 1; }
  mkdir -p "$RESULTS"
fi

if [[ $RUN -eq 1 && ( -z "$ONLY" || "$ONLY" == engine ) ]]; then
  ENGINE_DIR="$TMP/engine"
  mkdir -p "$ENGINE_DIR"
  for T in "${ENGINE_THREAD_LIST[@]}"; do
    echo "== $RT bench sgemm --threads $T --json" >&2
    record "$RT bench sgemm --threads $T --json"
    "$RT" bench sgemm --threads "$T" --json >"$ENGINE_DIR/sgemm-$T.json"
  done

  # rt and PyTorch take turns PASSES times, each pass at every thread count, so a change in the
  # machine's load over the minutes of the run falls on both sides rather than on one.
  TORCH_PY=$("$PY" scripts/reference/torch_python.py 2>/dev/null || true)
  for T in "${ENGINE_THREAD_LIST[@]}"; do
    record "$RT bench engine --threads $T --json"
    if [[ -n "$TORCH_PY" ]]; then record "$TORCH_PY scripts/bench/pytorch_engine.py --threads $T --json"; fi
  done
  if [[ $PASSES -gt 1 ]]; then record "(the engine and PyTorch commands above, $PASSES times, taking turns)"; fi
  RT_FILES=()
  for pass in $(seq 1 "$PASSES"); do
    for T in "${ENGINE_THREAD_LIST[@]}"; do
      echo "== pass $pass/$PASSES: $RT bench engine --threads $T --json" >&2
      "$RT" bench engine --threads "$T" --json >"$ENGINE_DIR/rt-$T-$pass.json"
      # The loader's consumer rates are those at the other benchmarks' thread count.
      if [[ "$T" == "$THREADS" ]]; then RT_FILES+=("$ENGINE_DIR/rt-$T-$pass.json"); fi
      if [[ -n "$TORCH_PY" ]]; then
        echo "== pass $pass/$PASSES: $TORCH_PY scripts/bench/pytorch_engine.py --threads $T --json" >&2
        "$TORCH_PY" scripts/bench/pytorch_engine.py --threads "$T" --json >"$ENGINE_DIR/pytorch-$T-$pass.json"
      fi
    done
  done
  if [[ ${#RT_FILES[@]} -eq 0 ]]; then RT_FILES=("$ENGINE_DIR"/rt-"${ENGINE_THREAD_LIST[0]}"-*.json); fi
  PYTORCH_ARG=()
  if [[ -z "$TORCH_PY" ]]; then
    REASON="PyTorch is not importable here (run scripts/reference/setup_torch.sh, or set RT_TORCH_PYTHON)"
    echo "run.sh: $REASON; the PyTorch columns stay empty" >&2
    PYTORCH_ARG=(--pytorch-skipped "$REASON")
  fi

  echo "== $RT bench loader --json" >&2
  record "$RT bench loader --json"
  "$RT" bench loader --json >"$TMP/loader.json"

  mkdir -p "$RESULTS"
  # The loader must outpace the fastest consumer: small-cnn training.
  # The consumer rates are the engine's medians over the passes, as in the engine table.
  "$PY" - "$TMP/loader.json" "$RESULTS/30-loader.json" "${RT_FILES[@]}" <<'PY'
import json, statistics, sys
loader = json.load(open(sys.argv[1]))
passes = [{w["name"]: w["images_per_second"] for w in json.load(open(path))["workloads"]} for path in sys.argv[3:]]
rows = [["data loader (Fashion-MNIST shape, shuffle + crop + flip, prefetch 2)", f'{loader["images_per_second"]:,.0f}', ""]]
for name in ("small-cnn/train", "resnet20/train"):
    if all(name in run for run in passes):
        consumed = statistics.median(run[name] for run in passes)
        rows.append([f"engine {name} (consumer)", f"{consumed:,.0f}", f'{loader["images_per_second"] / consumed:,.0f}x'])
json.dump({"kind": "table", "title": "Data loader against the engine",
           "description": "Images per second the loader builds (one background thread) and the engine consumes; "
                          "the last column is how many times faster the loader is.",
           "columns": ["measure", "images/s", "loader headroom"], "rows": rows,
           "commands": ["rt bench loader --json"]}, open(sys.argv[2], "w"), indent=1)
PY

  if [[ -z "$ONLY" ]]; then

  # Trains its own checkpoints on Fashion-MNIST and writes 60-robustness.json.
  RT_BIN="$RT" RT_BENCH_PYTHON="$PY" scripts/bench/robustness.sh --threads "$THREADS" --no-build --no-compose
  # Trains its own checkpoint and writes 65-autoattack.json (about 10 minutes on 2 cores).
  RT_BIN="$RT" RT_BENCH_PYTHON="$PY" scripts/bench/autoattack.sh --threads "$THREADS" --no-build --no-compose
  fi

  "$PY" scripts/bench/benchmarks_md.py record-engine --runs "$ENGINE_DIR" \
    ${PYTORCH_ARG[@]+"${PYTORCH_ARG[@]}"} --commands "$TMP/commands" --load-average "$LOAD_AT_START" --out "$RESULTS/10-engine.json"
fi

if [[ $RUN -eq 1 && ( -z "$ONLY" || "$ONLY" == cluster ) ]]; then
  # Three runs: the dispatch rate of one run varies by tens of percent on a shared 2-core machine.
  for pass in 1 2 3; do
    echo "== $RT bench cluster --json (run $pass of 3)" >&2
    "$RT" bench cluster --json >"$TMP/cluster-$pass.json"
  done
  record "$RT bench cluster --json   # 3 runs"
  "$PY" - "$RESULTS/20-cluster.json" "$TMP"/cluster-{1,2,3}.json <<'PY'
import json, statistics, sys
runs = [json.load(open(path)) for path in sys.argv[2:]]
def median(values): return statistics.median(values)
rates = [r["dispatch"]["trials_per_second"] for r in runs]
rows = [["dispatch rate, no-op trials, 2 workers (median of 3 runs: " + ", ".join(f"{x:,.0f}" for x in rates) + ")",
         f"{median(rates):,.0f} trials/s", ">= 2,500 trials/s (issue 19)"]]
for i, o in enumerate(runs[0]["overhead"]):
    seconds = median([r["overhead"][i]["seconds"] for r in runs])
    ideal = o["ideal_seconds"]
    rows.append([f'200 x 0.1 s trials on 2 workers, prefetch {o["prefetch"]}: overhead over ideal (median of 3)',
                 f'{(seconds / ideal - 1) * 100:+.1f}% ({seconds:.2f} s vs {ideal:.1f} s)', "<= 5%"])
detections = [r["failure_detection"] for r in runs]
rows.append(["failure detection, worker SIGKILLed (connection drops)", f'{median([d["killed_worker_seconds"] for d in detections]):.2f} s', "<= 3.5 s"])
rows.append(["failure detection, worker SIGSTOPped (silent), 1 s heartbeat x 3", f'{median([d["silent_worker_seconds"] for d in detections]):.2f} s', "<= 3.5 s"])
json.dump({"kind": "table", "title": "Cluster: coordinator and workers over ZeroMQ",
           "description": "Real `rt coordinator` and `rt worker` processes over ipc://, the SQLite store in WAL mode; "
                          "the coordinator commits each burst of messages and each round of leases as one transaction (group commit).",
           "columns": ["measure", "measured", "target"], "rows": rows,
           "commands": ["rt bench cluster --json   # 3 runs"]}, open(sys.argv[1], "w"), indent=1)
PY
fi

if [[ $RUN -eq 1 && ( -z "$ONLY" || "$ONLY" == data-parallel ) ]]; then
  echo "== $RT bench allreduce --json" >&2
  "$RT" bench allreduce --json >"$TMP/allreduce.json"
  "$PY" scripts/bench/benchmarks_md.py record-allreduce --json "$TMP/allreduce.json" --out "$RESULTS/40-allreduce.json"
  echo "== $RT bench dataparallel --json" >&2
  "$RT" bench dataparallel --json >"$TMP/dataparallel.json"
  "$PY" scripts/bench/benchmarks_md.py record-dataparallel --json "$TMP/dataparallel.json" --out "$RESULTS/50-dataparallel.json"
fi

"$PY" scripts/bench/benchmarks_md.py compose --results "$RESULTS" --out BENCHMARKS.md
