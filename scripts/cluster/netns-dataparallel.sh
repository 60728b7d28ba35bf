#!/usr/bin/env bash
# A data-parallel trial across hosts on shaped links (issue 18, items 3 and 4), on one machine:
# four network namespaces from netns-hosts.sh (host 0 runs the coordinator, hosts 1-3 one
# worker each) whose links are shaped to RATE with tbf, CurveZMQ on every connection (the
# coordinator's and the ring's), in a private test subnet that exists only inside them.
#
# One sweep of `train` trials (resnet20, replicas: 3, the same seed):
#   short  4 steps, compared with one process (`rt train --bn-slices 3`): after a few steps a
#          ReLU input at rounding distance from zero flips in one run and not in the other and
#          the trajectories part (one process on 1 and on 2 engine threads parts the same way);
#   fit    40 steps, uninterrupted: its images/s and network wait per step are the measurement;
#   cut    fit again, losing a host mid-step: once it has stored a checkpoint, worker host 3's
#          link is set down for DOWN seconds (longer than the liveness window), then restored;
#          the trial must be requeued and resume from that checkpoint when the host is back.
# Then, on this machine without namespaces: fit as `rt train --replicas 3` (the compute-only
# rate: the same work, no shaped link), and short as one process with `--bn-slices 3` (what the
# three replicas compute, in one process).
#
# The script checks what processes and the store say: the sweep finishes, every trial is done
# exactly once, `cut` was requeued and resumed from a stored checkpoint, and no process is left
# in any namespace (by pid). The checkpoints are left in DIR for the caller to compare
# (NetnsDataParallelTests: short vs one process, fit vs the compute-only run, cut vs fit).
#
# Usage: scripts/cluster/netns-dataparallel.sh --work DIR [--rate 1gbit] [--down 4]
#   (root; RT_BINARY overrides .build/release/rt). Writes into DIR: short.safetensors,
#   fit.safetensors, cut.safetensors, local.safetensors, single.safetensors, *.log, and result.json:
#   {"rate", "rate_gbps", "short", "fit", "cut": metrics, "compute_only": summary,
#    "single": summary, "link_down_seconds", "requeued_after_seconds"}
# Exit status: 0 pass, 1 fail (with the reason and the logs' tails), 77 skipped (not root / no `ip`).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/netns-hosts.sh"
source "$HERE/netns-sweep-lib.sh"   # wait_for, netns_sweep_keys, netns_sweep_stop (needs `fail`)
if reason=$(netns_hosts_skip_reason); then echo "netns-dataparallel: SKIP: $reason"; exit 77; fi
RT=${RT_BINARY:-$HERE/../../.build/release/rt}
[[ -x "$RT" ]] || { echo "netns-dataparallel: FAIL: no rt binary at $RT (swift build -c release first)"; exit 1; }

WORK="" RATE=1gbit DOWN=4
while [[ $# -gt 0 ]]; do
  case "$1" in
    --work) WORK=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --down) DOWN=$2; shift 2 ;;
    *) echo "netns-dataparallel: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ -n "$WORK" ]] || { echo "netns-dataparallel: --work DIR is required" >&2; exit 2; }
mkdir -p "$WORK"
PIDS=()

log() { echo "netns-dataparallel: $*"; }
fail() { log "FAIL: $*"; exit 1; }

cleanup() {
  local status=$?
  netns_sweep_stop $status "$WORK"
  exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The trial: small enough for CI on 2 cores (2 epochs of 20 steps of 48 16x16 images, 16 per
# replica), 256 KiB buckets so that resnet20's 1.1 MB of gradients go out in several while
# backward still runs, a checkpoint every 10 steps.
DATASET="synthetic:classes=4,channels=3,size=16,train=960,test=96,seed=3"
SHORT_DATASET="synthetic:classes=4,channels=3,size=16,train=192,test=96,seed=3"   # 4 steps
EPOCHS=2 BATCH=48 BUCKET_KB=256 CHECKPOINT_EVERY=10 SEED=0
HEARTBEAT=(--heartbeat-ms 250 --liveness 4)   # a silent peer is dead after 1 s

STARTED=$(date -u +"%Y-%m-%d %H:%M UTC") LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
netns_hosts_up 4 "$RATE"
NS_C=${NETNS_HOST[0]} C_ADDR=${NETNS_ADDR[0]} CUT_PORT=${NETNS_PORT[3]}
log "hosts ${NETNS_HOST[*]} on switch $NETNS_SWITCH, links shaped to $RATE"

# Keys, as across real hosts: the coordinator admits exactly the three workers, and the
# replicas' ring connections use the workers' own keys.
KEYS=$WORK/keys
netns_sweep_keys "$RT" "$KEYS" w1 w2 w3

PARAMETERS="{model: resnet20, dataset: \"$DATASET\", epochs: $EPOCHS, batch_size: $BATCH, threads: 1, bucket_kb: $BUCKET_KB, checkpoint_every: $CHECKPOINT_EVERY}"
cat > "$WORK/dp.yaml" <<YAML
name: dp
retries: 3
stages:
  - {name: short, job: train, replicas: 3, parameters: {model: resnet20, dataset: "$SHORT_DATASET", epochs: 1, batch_size: $BATCH, threads: 1, bucket_kb: $BUCKET_KB}}
  - {name: fit, job: train, replicas: 3, parameters: $PARAMETERS}
  - {name: cut, job: train, replicas: 3, parameters: $PARAMETERS}
YAML

ip netns exec "$NS_C" "$RT" coordinator "$WORK/dp.yaml" --bind "tcp://0.0.0.0:5555" --keys "$KEYS/coordinator" \
  --allow "$KEYS/allow" --runs "$WORK/runs" "${HEARTBEAT[@]}" >"$WORK/coordinator.log" 2>&1 &
COORDINATOR=$!; PIDS+=($COORDINATOR)
WORKERS=()
for i in 1 2 3; do
  ip netns exec "${NETNS_HOST[$i]}" "$RT" worker --connect "tcp://$C_ADDR:5555" --keys "$KEYS/w$i" --name "w$i" \
    --ring-host "${NETNS_ADDR[$i]}" --max-backoff-ms 800 "${HEARTBEAT[@]}" >"$WORK/w$i.log" 2>&1 &
  WORKERS+=($!); PIDS+=($!)
done

RUN=$WORK/runs/dp
NETNS_POLL=0.5   # each poll starts an `rt report`: keep it from taking the CPUs being measured
events() { "$RT" report "$RUN" --events 2>/dev/null; }
has_event() { events | awk -F'\t' -v k="$1" -v t="$2" '$2 == k && $3 == t' | grep -q .; }

wait_for 300 "the uninterrupted trial (fit-0000) to finish" has_event done fit-0000
wait_for 120 "a checkpoint of cut-0000" has_event checkpoint cut-0000
log "cutting w3's link (host ${NETNS_HOST[3]}) mid-step, for ${DOWN}s"
ip -n "$NETNS_SWITCH" link set "$CUT_PORT" down
CUT_AT=$(date +%s.%N)
wait_for 30 "the coordinator to requeue cut-0000" has_event requeued cut-0000
REQUEUED_AFTER=$(events | awk -F'\t' -v c="$CUT_AT" '$2 == "requeued" && $3 == "cut-0000" && $1 > c {print $1 - c; exit}')
sleep "$(awk -v d="$DOWN" -v c="$CUT_AT" -v n="$(date +%s.%N)" 'BEGIN { r = d - (n - c); print (r > 0 ? r : 0) }')"
ip -n "$NETNS_SWITCH" link set "$CUT_PORT" up
DOWN_SECONDS=$(awk -v c="$CUT_AT" -v n="$(date +%s.%N)" 'BEGIN { printf "%.2f", n - c }')
log "restored w3's link after ${DOWN_SECONDS}s (requeued ${REQUEUED_AFTER:-?}s after the cut)"

for _ in $(seq 1 3000); do kill -0 "$COORDINATOR" 2>/dev/null || break; sleep 0.1; done
kill -0 "$COORDINATOR" 2>/dev/null && fail "the sweep did not finish within 300 s of the link's return"
wait "$COORDINATOR" || fail "coordinator exited with status $?"
# The coordinator told every worker the sweep is over: each must exit by itself, and nothing
# may be left in any namespace (a replica, a child) when the hosts go away.
for pid in "${WORKERS[@]}"; do
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "worker pid $pid still running 30 s after the sweep ended"
  wait "$pid" || fail "worker pid $pid exited with status $?"
done
for ns in "${NETNS_HOST[@]}"; do
  left=$(ip netns pids "$ns" | tr '\n' ' ')
  [[ -z "$left" ]] || fail "processes left in $ns: $left"
done

# The store: both trials done, each exactly once; cut requeued and resumed from a checkpoint.
REPORT=$("$RT" report "$RUN" --format trials-json)
echo "$REPORT" >"$WORK/trials.json"
python3 - "$WORK/trials.json" "$RUN" "$WORK" <<'PY' || fail "the store's trials are not as expected (above)"
import json, os, shutil, sys
trials = {t["id"]: t for t in json.load(open(sys.argv[1]))["trials"]}
run, work = sys.argv[2], sys.argv[3]
assert set(trials) == {"short-0000", "fit-0000", "cut-0000"}, f"trials {sorted(trials)}"
for name, t in trials.items():
    assert t["state"] == "done", f"{name} is {t['state']}"
    assert t["metrics"]["replicas"] == 3, f"{name}: replicas {t['metrics'].get('replicas')}"
    found = [os.path.join(d, f) for d, _, files in os.walk(run) for f in files if f == t["artifact"]]
    assert found, f"{name}: artifact {t['artifact']} not in {run}"
    shutil.copyfile(found[0], os.path.join(work, name.split("-")[0] + ".safetensors"))
assert trials["fit-0000"]["attempts"] == 1 and trials["fit-0000"]["metrics"]["resumed_from_step"] == 0, trials["fit-0000"]
cut = trials["cut-0000"]
assert cut["attempts"] >= 2, f"cut-0000 ran {cut['attempts']} attempt(s): it was not requeued"
step = cut["metrics"]["resumed_from_step"]
assert step > 0 and step % 10 == 0, f"cut-0000 resumed from step {step}, not from a stored checkpoint"
PY
DONE_TWICE=$(events | awk -F'\t' '$2 == "done" {print $3}' | sort | uniq -d | wc -l)
[[ "$DONE_TWICE" -eq 0 ]] || fail "$DONE_TWICE trials were done more than once"
[[ $(events | awk -F'\t' '$2 == "done"' | wc -l) -eq 3 ]] || fail "expected 3 done events: $(events | awk -F'\t' '$2 == "done"')"
grep -q "not allow-listed" "$WORK/coordinator.log" && fail "an allow-listed worker was denied"

# The same trial on this machine, without namespaces: 3 replicas over ipc:// (compute only), and
# one process normalizing the same three slices of each batch.
TRAIN=(train --model resnet20 --dataset "$DATASET" --epochs "$EPOCHS" --batch-size "$BATCH" --seed "$SEED" --json)
"$RT" "${TRAIN[@]}" --threads 1 --replicas 3 --bucket-kb "$BUCKET_KB" --output "$WORK/local.safetensors" >"$WORK/local.log" 2>&1 \
  || fail "rt train --replicas 3 failed"
"$RT" train --model resnet20 --dataset "$SHORT_DATASET" --epochs 1 --batch-size "$BATCH" --seed "$SEED" --json \
  --threads 1 --bn-slices 3 --output "$WORK/single.safetensors" >"$WORK/single.log" 2>&1 \
  || fail "rt train --bn-slices 3 failed"

DATASET=$DATASET EPOCHS=$EPOCHS BATCH=$BATCH BUCKET_KB=$BUCKET_KB python3 - "$WORK" "$RATE" "$DOWN_SECONDS" "${REQUEUED_AFTER:-null}" "$STARTED" "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  <<'PY' || fail "could not write result.json"
import json, os, re, sys
work, rate, down, requeued, started, load_before, load_after = sys.argv[1:8]
trials = {t["id"].split("-")[0]: t["metrics"] for t in json.load(open(f"{work}/trials.json"))["trials"]}
def summary(name):
    lines = [l for l in open(f"{work}/{name}.log") if l.startswith("{") and '"checkpoint"' in l]
    return json.loads(lines[-1])
number, unit = re.fullmatch(r"([0-9.]+)([kmg]?)bit", rate).groups()
gbps = float(number) * {"": 1e-9, "k": 1e-6, "m": 1e-3, "g": 1}[unit]
result = {"rate": rate, "rate_gbps": gbps, "short": trials["short"], "fit": trials["fit"], "cut": trials["cut"],
          "compute_only": summary("local"), "single": summary("single"),
          "link_down_seconds": float(down), "requeued_after_seconds": None if requeued == "null" else float(requeued),
          "date": started, "load_average": {"before": load_before, "after": load_after},
          "trial": {"model": "resnet20", "replicas": 3, "threads": 1, "dataset": os.environ["DATASET"],
                    "epochs": int(os.environ["EPOCHS"]), "batch_size": int(os.environ["BATCH"]), "bucket_kb": int(os.environ["BUCKET_KB"])}}
json.dump(result, open(f"{work}/result.json", "w"), indent=1, sort_keys=True)
fit, local = trials["fit"], result["compute_only"]
print(f"netns-dataparallel: fit {fit['images_per_second']:.0f} images/s at {rate} vs compute-only {local['images_per_second']:.0f}; "
      f"network wait {fit['network_wait_ms_per_step']:.1f} ms/step, all-reduce {fit['allreduce_ms_per_step']:.1f} ms/step "
      f"(compute-only: {local['network_wait_ms_per_step']:.1f}, {local['allreduce_ms_per_step']:.1f}); "
      f"cut resumed from step {trials['cut']['resumed_from_step']}")
PY
log "PASS: 3 trials done once each; link down ${DOWN_SECONDS}s, cut-0000 requeued and resumed; no process left"
