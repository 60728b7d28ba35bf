#!/usr/bin/env bash
# Multi-host test on one machine: three network namespaces (a coordinator host and two
# worker hosts) on one switch namespace, built by netns-hosts.sh in a private test subnet
# (10.213.0.0/24) that exists only inside them. A real sweep runs across them over TCP with CurveZMQ; worker
# host 1's link is cut mid-sweep (its leases must be requeued and finish on host 2) and
# restored (host 1 must register again and run trials again). Nothing is routed outside the
# namespaces: they have no default route and no link to the host's network.
#
# Usage: scripts/cluster/netns-test.sh [--keep]      (root; RT_BINARY overrides .build/release/rt)
# Exit status: 0 pass, 1 fail, 77 skipped (not root / no `ip`), with the reason on stdout.
set -euo pipefail

KEEP=0
[[ "${1:-}" == "--keep" ]] && KEEP=1

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/netns-hosts.sh"
source "$HERE/netns-sweep-lib.sh"   # wait_for, netns_sweep_keys, netns_sweep_stop (needs `fail`)
if reason=$(netns_hosts_skip_reason); then echo "netns-test: SKIP: $reason"; exit 77; fi
RT=${RT_BINARY:-$HERE/../../.build/release/rt}
[[ -x "$RT" ]] || { echo "netns-test: FAIL: no rt binary at $RT (swift build -c release first)"; exit 1; }

PORT=5555
WORK=$(mktemp -d /tmp/rt-netns.XXXXXX)
PIDS=()

log() { echo "netns-test: $*"; }

cleanup() {
  local status=$?
  netns_sweep_stop $status "$WORK"
  if [[ $KEEP -eq 1 || $status -ne 0 ]]; then log "files kept in $WORK"; else rm -rf "$WORK"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { log "FAIL: $*"; exit 1; }

# Host 0 runs the coordinator, hosts 1 and 2 the workers; the links are not shaped here.
netns_hosts_up 3
NS_C=${NETNS_HOST[0]} NS_1=${NETNS_HOST[1]} NS_2=${NETNS_HOST[2]} C_ADDR=${NETNS_ADDR[0]}
W1_PORT=${NETNS_PORT[1]}   # w1's port on the switch: taking it down cuts w1's link
log "namespaces $NS_C $NS_1 $NS_2 on switch $NETNS_SWITCH"

# Keys: the coordinator admits exactly the two worker hosts.
KEYS=$WORK/keys
netns_sweep_keys "$RT" "$KEYS" w1 w2

cat > "$WORK/netns.yaml" <<YAML
name: netns
stages:
  - name: nap
    job: sleep
    parameters: {seconds: 0.25}
    grid: {index: {range: [0, 100]}}
YAML

FAST=(--heartbeat-ms 200 --liveness 3)
ip netns exec "$NS_C" "$RT" coordinator "$WORK/netns.yaml" --bind "tcp://0.0.0.0:$PORT" \
  --keys "$KEYS/coordinator" --allow "$KEYS/allow" --runs "$WORK/runs" "${FAST[@]}" >"$WORK/coordinator.log" 2>&1 &
COORDINATOR=$!; PIDS+=($COORDINATOR)
ip netns exec "$NS_1" "$RT" worker --connect "tcp://$C_ADDR:$PORT" --keys "$KEYS/w1" --name w1 --concurrency 2 \
  --max-backoff-ms 800 "${FAST[@]}" >"$WORK/w1.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NS_2" "$RT" worker --connect "tcp://$C_ADDR:$PORT" --keys "$KEYS/w2" --name w2 --concurrency 2 \
  --max-backoff-ms 800 "${FAST[@]}" >"$WORK/w2.log" 2>&1 &
PIDS+=($!)

RUN=$WORK/runs/netns
events() { "$RT" report "$RUN" --events 2>/dev/null; }
done_by() { events | awk -F'\t' -v w="$1" '$2 == "done" && $4 == w' | wc -l; }
w1_busy() { [[ $(done_by w1) -ge 6 ]]; }
w1_lost() { events | awk -F'\t' '$2 == "requeued" && $5 ~ /w1/' | grep -q .; }
w1_back() { [[ $(events | awk -F'\t' '$2 == "worker-registered" && $4 == "w1"' | wc -l) -ge 2 ]]; }

wait_for 60 "w1 to finish a few trials across the veth link" w1_busy
log "cutting w1's link mid-sweep"
ip -n "$NETNS_SWITCH" link set "$W1_PORT" down
CUT_AT=$(date +%s.%N)
wait_for 30 "the coordinator to requeue w1's leases" w1_lost
sleep 1
log "restoring w1's link"
ip -n "$NETNS_SWITCH" link set "$W1_PORT" up
RESTORED_AT=$(date +%s.%N)
wait_for 60 "w1 to register again" w1_back

for _ in $(seq 1 1200); do kill -0 "$COORDINATOR" 2>/dev/null || break; sleep 0.1; done
kill -0 "$COORDINATOR" 2>/dev/null && fail "the sweep did not finish within 120 s"
wait "$COORDINATOR" || fail "coordinator exited with status $?"

REPORT=$("$RT" report "$RUN" --format trials-json)
DONE=$(grep -c '"state" : "done"' <<<"$REPORT" || true)
[[ "$DONE" -eq 100 ]] || fail "expected 100 done trials, found $DONE"
DUPLICATES=$(events | awk -F'\t' '$2 == "done" {print $3}' | sort | uniq -d | wc -l)
[[ "$DUPLICATES" -eq 0 ]] || fail "$DUPLICATES trials were done more than once"
REQUEUED=$(events | awk -F'\t' '$2 == "requeued" && $5 ~ /w1/ {print $3}' | sort -u)
ELSEWHERE=0
for trial in $REQUEUED; do
  events | awk -F'\t' -v t="$trial" '$2 == "done" && $3 == t && $4 == "w2"' | grep -q . && ELSEWHERE=$((ELSEWHERE + 1))
done
[[ $ELSEWHERE -ge 1 ]] || fail "no trial requeued from w1 was finished by w2"
AFTER=$(events | awk -F'\t' -v t="$RESTORED_AT" '$2 == "done" && $4 == "w1" && $1 > t' | wc -l)
[[ "$AFTER" -ge 1 ]] || fail "w1 ran no trial after its link came back"
grep -q "not allow-listed" "$WORK/coordinator.log" && fail "an allow-listed worker was denied"
log "PASS: 100 trials done once each; link cut at $CUT_AT, $(wc -w <<<"$REQUEUED") leases requeued, $ELSEWHERE finished on w2; w1 rejoined and ran $AFTER more"
