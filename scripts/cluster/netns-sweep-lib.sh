# What the sweep tests over network-namespace hosts share (netns-test.sh, netns-dataparallel.sh);
# `source` it after defining `fail MESSAGE` (which must exit).

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every NETNS_POLL seconds (default 0.1)
# until it succeeds, or fails naming DESCRIPTION after SECONDS.
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || fail "timed out after ${seconds}s waiting for: $what"
    sleep "${NETNS_POLL:-0.1}"
  done
}

# netns_sweep_stop STATUS WORK: kills every process in the array PIDS, removes the hosts and, on
# failure (STATUS not 0), shows the tail of every log in WORK.
netns_sweep_stop() {
  local status=$1 work=$2 pid f
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  netns_hosts_down
  if [[ $status -ne 0 ]]; then
    for f in "$work"/*.log; do [[ -f "$f" ]] && { echo "--- $f"; tail -n 30 "$f"; }; done
  fi
  return 0
}

# netns_sweep_keys RT DIR WORKER...: CurveZMQ keys as across real hosts: DIR/coordinator and
# DIR/WORKER key pairs, DIR/allow (the coordinator admits exactly these workers) and each
# worker's copy of the coordinator's public key.
netns_sweep_keys() {
  local rt=$1 keys=$2 who; shift 2
  for who in coordinator "$@"; do "$rt" keys generate --output "$keys/$who" >/dev/null; done
  mkdir -p "$keys/allow"
  for who in "$@"; do
    cp "$keys/$who/public.key" "$keys/allow/$who.key"
    cp "$keys/coordinator/public.key" "$keys/$who/coordinator.key"
  done
}
