#!/usr/bin/env bash
# Ring all-reduce on shaped links: k hosts (network namespaces on one switch, every link shaped
# to RATE in both directions by scripts/cluster/netns-hosts.sh), one `rt bench allreduce --hosts`
# rank per host over TCP with CurveZMQ; per size it measures the ring and, over the same links
# in the same run, a naive reduce-to-rank-0-and-broadcast. Prints one JSON object:
#   {"rate_gbps": R, "results": [{"ranks", "mib", "ring_bus_gbps", "naive_bus_gbps", ...}], ...}
# (bus bandwidth = 2(k-1)/k x bytes / time, in Gbit/s like the rate).
#
# Usage: scripts/bench/allreduce-links.sh [--rate 1gbit] [--ranks 2,3,4] [--sizes 4,64] [--seconds 2]
#                                         [--mtu 1500] [--piece-kb 512] [--no-curve] [--json]
# --no-curve (plain ZMTP) and --piece-kb are for finding where time goes; the recorded run uses CURVE.
# Environment: RT_BINARY (default .build/release/rt), NETNS_BURST / NETNS_LATENCY (tbf settings,
# see netns-hosts.sh). Exit status: 0 done, 1 failed, 77 skipped (not root / no iproute2), with the reason.
set -euo pipefail

RATE=1gbit RANKS=2,3,4 SIZES=4,64 SECONDS_EACH=2 MTU=1500 PIECE_KB=512 CURVE=1 JSON=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rate) RATE=$2; shift 2 ;;
    --ranks) RANKS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --mtu) MTU=$2; shift 2 ;;
    --piece-kb) PIECE_KB=$2; shift 2 ;;
    --no-curve) CURVE=0; shift ;;
    --json) JSON=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "allreduce-links: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$RATE" =~ ^[0-9]+(\.[0-9]+)?(k|m|g)?bit$ ]] || { echo "allreduce-links: --rate wants e.g. 1gbit or 500mbit, got '$RATE'" >&2; exit 2; }
[[ "$RANKS" =~ ^[0-9]+(,[0-9]+)*$ && "$SIZES" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "allreduce-links: --ranks and --sizes want comma-separated integers" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../cluster/netns-hosts.sh"
if reason=$(netns_hosts_skip_reason); then echo "allreduce-links: SKIP: $reason"; exit 77; fi
RT=${RT_BINARY:-$HERE/../../.build/release/rt}
[[ -x "$RT" ]] || { echo "allreduce-links: FAIL: no rt binary at $RT (swift build -c release first)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/rt-links.XXXXXX)
PIDS=()
cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  netns_hosts_down
  if [[ $status -ne 0 ]]; then
    for f in "$WORK"/*.log; do [[ -s "$f" ]] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  fi
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM

MAX=$(tr , '\n' <<<"$RANKS" | sort -n | tail -1)
(( MAX >= 2 )) || { echo "allreduce-links: --ranks needs a value of at least 2" >&2; exit 2; }
netns_hosts_up "$MAX" "$RATE"
for ((i = 0; i < MAX; i++)); do
  ip -n "${NETNS_HOST[$i]}" link set eth0 mtu "$MTU"
  ip -n "$NETNS_SWITCH" link set "${NETNS_PORT[$i]}" mtu "$MTU"
  "$RT" keys generate --output "$WORK/keys/$i" >/dev/null
done

# Cores busy machine-wide (all processes, kernel included) since the last sample: the ranks, the
# links' kernel work (TCP, veth, bridge, tbf) and whatever else runs share this machine's CPUs.
cpu_sample() { local _ user nice system idle iowait irq softirq steal; read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
  echo "$((user + nice + system + irq + softirq + steal)) $((idle + iowait))"; }
cores_busy() { local b0 i0 b1 i1; read -r b0 i0 <<<"$1"; read -r b1 i1 <<<"$2"
  awk -v b=$((b1 - b0)) -v i=$((i1 - i0)) -v n="$(nproc)" 'BEGIN { printf "%.2f", (b + i > 0) ? n * b / (b + i) : 0 }'; }

# One ring per k on hosts 0..k-1; every rank bounded in time, so a lost peer fails the run.
for k in ${RANKS//,/ }; do
  (( k >= 2 )) || continue
  ADDRS=$(IFS=,; echo "${NETNS_ADDR[*]:0:$k}")
  ARGS=(bench allreduce --hosts "$ADDRS" --port $((6200 + 10 * k)) --piece-kb "$PIECE_KB" --sizes "$SIZES" --seconds "$SECONDS_EACH" --json)
  [[ $CURVE -eq 1 ]] && ARGS+=(--keys "$WORK/keys")
  PIDS=()
  START=$(cpu_sample)
  for ((r = 1; r < k; r++)); do
    ip netns exec "${NETNS_HOST[$r]}" timeout 600 "$RT" "${ARGS[@]}" --rank "$r" >"$WORK/k$k-r$r.log" 2>&1 &
    PIDS+=($!)
  done
  echo "allreduce-links: k=$k on ${ADDRS//,/ } at $RATE" >&2
  ip netns exec "${NETNS_HOST[0]}" timeout 600 "$RT" "${ARGS[@]}" --rank 0 >"$WORK/k$k.json" 2>"$WORK/k$k-r0.log" \
    || { echo "allreduce-links: FAIL: rank 0 of k=$k exited with $?" >&2; exit 1; }
  for pid in "${PIDS[@]}"; do wait "$pid" || { echo "allreduce-links: FAIL: a rank of k=$k exited with $?" >&2; exit 1; }; done
  PIDS=()
  cores_busy "$START" "$(cpu_sample)" >"$WORK/k$k.cores"
done

python3 - "$RATE" "$MTU" "$NETNS_BURST" "$NETNS_LATENCY" "$JSON" "$WORK"/k*.json <<'PY'
import json, re, sys
rate, mtu, burst, latency, as_json, files = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] == "1", sys.argv[6:]
number, unit = re.fullmatch(r"([0-9.]+)([kmg]?)bit", rate).groups()
rate_gbps = float(number) * {"": 1e-9, "k": 1e-6, "m": 1e-3, "g": 1.0}[unit]
results, loads = [], []
for path in files:
    run = json.load(open(path))
    cores = float(open(path[:-len(".json")] + ".cores").read())
    loads.append({"ranks": run["ranks"], "before": run["load_average_before"], "after": run["load_average_after"], "cores_busy": cores})
    for row in run["rows"]:
        results.append({"ranks": run["ranks"], "mib": row["megabytes"],
                        "ring_bus_gbps": round(row["ring_bus_gbitps"], 4), "naive_bus_gbps": round(row["naive_bus_gbitps"], 4),
                        "ring_of_rate": round(row["ring_bus_gbitps"] / rate_gbps, 4),
                        "ring_over_naive": round(row["ring_bus_gbitps"] / row["naive_bus_gbitps"], 3),
                        "ring_seconds": row["ring_seconds"], "ring_repetitions": row["ring_repetitions"],
                        "naive_seconds": row["naive_seconds"], "naive_repetitions": row["naive_repetitions"],
                        # cores busy during each timed series: the k ranks' own, and machine-wide
                        "ring_cores": {"ranks": round(row["ring_ranks_cores"], 2), "machine": round(row["ring_machine_cores"], 2)},
                        "naive_cores": {"ranks": round(row["naive_ranks_cores"], 2), "machine": round(row["naive_machine_cores"], 2)}})
results.sort(key=lambda r: (r["ranks"], r["mib"]))
out = {"rate_gbps": rate_gbps, "results": results, "date": __import__("datetime").datetime.now(__import__("datetime").timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "piece_bytes": run["piece_bytes"], "curve": run["curve"],
       "tbf": {"burst": burst, "latency": latency}, "mtu": mtu, "load_average": loads}
if as_json:
    print(json.dumps(out, indent=1))
else:
    print(f"rate {rate_gbps:g} Gbit/s, MTU {mtu}, tbf burst {burst} latency {latency}")
    for r in results:
        print(f"k={r['ranks']} {r['mib']:3d} MiB: ring {r['ring_bus_gbps']:.3f} Gbit/s ({r['ring_of_rate']:.0%} of rate), "
              f"naive {r['naive_bus_gbps']:.3f} Gbit/s, ring/naive {r['ring_over_naive']:.2f}x; cores (ranks/machine) "
              f"ring {r['ring_cores']['ranks']}/{r['ring_cores']['machine']}, naive {r['naive_cores']['ranks']}/{r['naive_cores']['machine']}")
    for l in loads:
        print(f"k={l['ranks']}: load average {l['before']} before, {l['after']} after; {l['cores_busy']} cores busy on average")
PY
