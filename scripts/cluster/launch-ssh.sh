#!/usr/bin/env bash
# A sweep on ssh hosts: the coordinator here, one worker per host of a hosts file over ssh.
#
#   scripts/cluster/launch-ssh.sh [--port P] [--advertise ADDR] [--ssh-timeout S] SWEEP.yaml HOSTS_FILE
#
# HOSTS_FILE: one host per line, `HOST [SLOTS]` (SLOTS: trials at once, default 1); HOST is
# anything ssh accepts (user@name, an alias from ~/.ssh/config); `#` starts a comment.
#
# Before anything starts, every host is checked: reachable within --ssh-timeout (default 10 s),
# the same rt version at $RT_REMOTE there, and able to dial this machine back: each worker
# dials the address its own ssh session came from (what the host sees in SSH_CONNECTION), or
# --advertise ADDR for all, which is refused if it is a loopback address and a host is not.
# Keys: per run, in $RT_KEYS (default ./keys/<sweep>): the coordinator's pair, an allow-list,
# and a pair per host, copied over ssh to ~/$RT_REMOTE_KEYS/<sweep>/<host> (default
# .rt-keys; a directory per host, so a home shared over NFS works too).
#
# The run is created or continued (--create-or-resume): running the same command again after
# Ctrl-C, a crash or a lost host goes on with the same run. Ctrl-C or SIGTERM stops it
# cleanly: the coordinator hands the running trials back (they store a snapshot), then the
# workers are ended. A worker that exits with an error or loses its host is restarted up to
# $RT_WORKER_RESTARTS (2) times. Logs, appended across runs, in $RT_LOGS (default
# ./ssh-logs/<sweep>): coordinator.log and worker-<host>.log.
#
# Exit status: the coordinator's when not 0 (3 trials failed, 4 no worker came for
# $RT_IDLE_TIMEOUT s, 75 another coordinator serves the run, 130/143 stopped), 5 when the sweep
# finished but a host's worker failed for good (named on stderr), 2 for bad input or a host that fails its check, else 0.
#
# Environment: RT_BINARY (default: this repository's release build), RT_REMOTE (rt's path on
# the hosts; default the same path), RT_SSH_OPTIONS (added to every ssh and scp, e.g.
# "-F ./ssh_config"), RT_RUNS (./runs), RT_KEYS, RT_REMOTE_KEYS, RT_LOGS, RT_WORKER_RESTARTS,
# RT_IDLE_TIMEOUT (120), RT_SSH_ALIVE (seconds between ssh keep-alives; a host is lost after 3
# unanswered: 5).
set -uo pipefail

usage="usage: launch-ssh.sh [--port P] [--advertise ADDR] [--ssh-timeout S] SWEEP.yaml HOSTS_FILE"
say() { echo "launch-ssh: $*" >&2; }
fail() { say "$*"; exit 2; }

PORT=5555 ADVERTISE="" SSH_TIMEOUT=10 ARGS=("$@") POSITIONAL=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) PORT=${2:?$usage}; shift 2 ;;
    --advertise) ADVERTISE=${2:?$usage}; shift 2 ;;
    --ssh-timeout) SSH_TIMEOUT=${2:?$usage}; shift 2 ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) fail "unknown option $1; $usage" ;;
    *) POSITIONAL+=("$1"); shift ;;
  esac
done
[[ ${#POSITIONAL[@]} -eq 2 ]] || fail "$usage"
SWEEP=${POSITIONAL[0]} HOSTS=${POSITIONAL[1]}
[[ "$PORT" =~ ^[0-9]+$ ]] && (( PORT > 0 && PORT < 65536 )) || fail "--port: not a port number: $PORT"
[[ "$SSH_TIMEOUT" =~ ^[0-9]+$ ]] && (( SSH_TIMEOUT > 0 )) || fail "--ssh-timeout: not a whole number of seconds > 0: $SSH_TIMEOUT"

HERE=$(cd "$(dirname "$0")" && pwd)
RT=${RT_BINARY:-$HERE/../../.build/release/rt}
RT_REMOTE=${RT_REMOTE:-$RT}
RESTARTS=${RT_WORKER_RESTARTS:-2}
ALIVE=${RT_SSH_ALIVE:-5}
read -r -a SSH_OPTIONS <<<"${RT_SSH_OPTIONS:-}"
SSH_OPTIONS+=(-o BatchMode=yes -o ConnectTimeout="$SSH_TIMEOUT" -o ServerAliveInterval="$ALIVE" -o ServerAliveCountMax=3)
[[ -x "$RT" ]] || fail "no rt binary at $RT: build it (swift build -c release) or set RT_BINARY"

# The sweep, checked before any host is touched.
check=$("$RT" coordinator --check "$SWEEP" 2>&1) || fail "$check"
RUN=$(sed -n 's/^.*: sweep \([^,]*\),.*$/\1/p' <<<"$check")
[[ -n "$RUN" ]] || fail "cannot read the sweep's name from: $check"
say "$check"
RUNS=${RT_RUNS:-$PWD/runs}
KEYS=${RT_KEYS:-$PWD/keys/$RUN}
LOGS=${RT_LOGS:-$PWD/ssh-logs/$RUN}
REMOTE_KEYS=${RT_REMOTE_KEYS:-.rt-keys}/$RUN

# The hosts file: HOST [SLOTS] per line.
[[ -r "$HOSTS" ]] || fail "cannot read the hosts file $HOSTS"
HOST=() SLOTS=()
line=0
while IFS= read -r text || [[ -n "$text" ]]; do
  line=$((line + 1))
  text=${text%%#*}
  read -r host slots extra <<<"$text" || true
  [[ -z "${host:-}" ]] && continue
  [[ -z "${extra:-}" ]] || fail "$HOSTS:$line: expected 'HOST [SLOTS]', got '$text'"
  slots=${slots:-1}
  [[ "$slots" =~ ^[0-9]+$ ]] && (( slots >= 1 )) || fail "$HOSTS:$line: slots must be a whole number >= 1, got '$slots'"
  for seen in "${HOST[@]}"; do [[ "$seen" != "$host" ]] || fail "$HOSTS:$line: host $host is listed twice"; done
  HOST+=("$host") SLOTS+=("$slots")
done <"$HOSTS"
[[ ${#HOST[@]} -gt 0 ]] || fail "$HOSTS names no host"

is_loopback() { [[ "$1" == localhost || "$1" == ::1 || "$1" == 127.* ]]; }
# A name's IPv4 address (the first one the resolver gives), or the name if it is one already.
address_of() { getent ahostsv4 "$1" 2>/dev/null | awk 'NR == 1 { print $1 }'; }
key_dir_name() { tr -c 'A-Za-z0-9._\n-' '_' <<<"$1"; }

# Check every host: ssh works, rt is there in our version, and where it sees us.
VERSION=$("$RT" --version)
CONNECT=() RING=()
for i in "${!HOST[@]}"; do
  host=${HOST[$i]}
  reply=$(ssh -n "${SSH_OPTIONS[@]}" "$host" \
    "echo \$SSH_CONNECTION; if [ -x '$RT_REMOTE' ]; then '$RT_REMOTE' --version; else echo 'no-rt-binary'; fi" 2>&1)
  status=$?
  (( status == 0 )) || fail "host $host: ssh failed (status $status) within --ssh-timeout $SSH_TIMEOUT s: $(tail -n 1 <<<"$reply")"
  read -r seen_us _ seen_self _ <<<"$(sed -n 1p <<<"$reply")"
  remote_version=$(sed -n 2p <<<"$reply")
  [[ "$remote_version" != no-rt-binary ]] || fail "host $host: no executable rt at $RT_REMOTE there (set RT_REMOTE to its path on the hosts)"
  [[ "$remote_version" == "$VERSION" ]] || fail "host $host: $RT_REMOTE is rt $remote_version there, $VERSION here; the same build must run everywhere"
  [[ -n "${seen_us:-}" ]] || fail "host $host: its sshd did not say where this machine connects from (SSH_CONNECTION is empty); give --advertise"
  if [[ -n "$ADVERTISE" ]]; then
    resolved=$(address_of "$ADVERTISE"); resolved=${resolved:-$ADVERTISE}
    if is_loopback "$resolved" && ! is_loopback "$seen_self"; then
      fail "--advertise $ADVERTISE is the loopback address $resolved, which host $host (reached at $seen_self) cannot dial; give this machine's address on its network"
    fi
    CONNECT+=("$ADVERTISE")
  else
    CONNECT+=("$seen_us")
  fi
  RING+=("$seen_self")
  say "host $host: rt $remote_version, dials tcp://${CONNECT[$i]}:$PORT"
done

# Keys: made once per run and kept, so re-running the command continues with the same ones.
mkdir -p "$KEYS/allow" "$LOGS" "$RUNS" || fail "cannot create $KEYS, $LOGS and $RUNS"
[[ -f "$KEYS/coordinator/secret.key" ]] || "$RT" keys generate --output "$KEYS/coordinator" >/dev/null || fail "cannot create keys in $KEYS"
for i in "${!HOST[@]}"; do
  host=${HOST[$i]} name=$(key_dir_name "${HOST[$i]}")
  [[ -f "$KEYS/hosts/$name/secret.key" ]] || "$RT" keys generate --output "$KEYS/hosts/$name" >/dev/null || fail "cannot create keys in $KEYS"
  cp "$KEYS/hosts/$name/public.key" "$KEYS/allow/$name.key"
  cp "$KEYS/coordinator/public.key" "$KEYS/hosts/$name/coordinator.key"
  ssh -n "${SSH_OPTIONS[@]}" "$host" "umask 077 && mkdir -p '$REMOTE_KEYS/$name'" \
    && scp -q "${SSH_OPTIONS[@]}" "$KEYS/hosts/$name/public.key" "$KEYS/hosts/$name/secret.key" "$KEYS/hosts/$name/coordinator.key" "$host:$REMOTE_KEYS/$name/" \
    || fail "host $host: cannot copy its keys to $REMOTE_KEYS/$name there"
done

STATE=$(mktemp -d)
LAUNCHER=$$
COORDINATOR="" SUPERVISORS=()
stop_requested() {
  # Ctrl-C reaches the coordinator from the terminal as well; it counts duplicates within half
  # a second as one request, so forwarding cannot turn a clean stop into an immediate one.
  touch "$STATE/stopping"
  [[ -n "$COORDINATOR" ]] && kill -"$1" "$COORDINATOR" 2>/dev/null
}
trap 'stop_requested INT' INT
trap 'stop_requested TERM' TERM
trap 'rm -rf "$STATE"' EXIT

# The coordinator, supervised by this script (it stops cleanly if the script dies), its output
# on the terminal and in coordinator.log.
RT_SUPERVISOR_PID=$$ "$RT" coordinator "$SWEEP" --runs "$RUNS" --create-or-resume \
  --bind "tcp://0.0.0.0:$PORT" --advertise "${ADVERTISE:-${CONNECT[0]}}" \
  --keys "$KEYS/coordinator" --allow "$KEYS/allow" --idle-timeout "${RT_IDLE_TIMEOUT:-120}" \
  > >(trap '' INT TERM; exec tee -a "$LOGS/coordinator.log") 2>&1 &   # tee outlives a Ctrl-C: no SIGPIPE
COORDINATOR=$!
for _ in $(seq 300); do   # until it listens (coordinator.json names it), at most 30 s
  grep -qs "\"pid\" : $COORDINATOR\b" "$RUNS/$RUN/coordinator.json" && break
  kill -0 "$COORDINATOR" 2>/dev/null || break
  sleep 0.1
done

# One supervisor per host: runs the worker over ssh and restarts it when it fails while the
# coordinator still runs. ssh ignores SIGINT/SIGTERM (it keeps an ignored signal ignored), so
# a Ctrl-C at the terminal reaches the coordinator, which stops the workers cleanly, and does
# not cut the sessions under them.
supervise() {
  local host=$1 slots=$2 connect=$3 ring=$4 name; name=$(key_dir_name "$host")
  local log=$LOGS/worker-$name.log attempt=0 status
  trap '' INT TERM
  # This shell's own notes go to the terminal through fd 3; its stderr is closed to the job
  # notices bash prints when the sessions are ended at the finish ("Killed ...").
  exec 3>&2 2>/dev/null
  while :; do
    echo "=== $(date -Is) worker on $host (attempt $((attempt + 1)))" >>"$log"
    # -tt: a terminal on the host, so the worker there gets SIGHUP when the session ends.
    ssh -tt "${SSH_OPTIONS[@]}" "$host" \
      "exec '$RT_REMOTE' worker --connect 'tcp://$connect:$PORT' --keys '$REMOTE_KEYS/$name' --concurrency $slots --name '$host' --ring-host '$ring'" \
      </dev/null >>"$log" 2>&1 &
    local session=$!
    # Should this script be killed outright (no trap runs), the session is ended all the same
    # (ssh keeps SIGHUP), so no worker is left on the host.
    while kill -0 "$session" 2>/dev/null; do
      kill -0 "$LAUNCHER" 2>/dev/null || kill -HUP "$session" 2>/dev/null
      sleep 1
    done
    wait "$session"
    status=$?
    kill -0 "$LAUNCHER" 2>/dev/null || return 0
    # 0: the coordinator said the sweep is over.
    (( status == 0 )) || [[ -f "$STATE/stopping" || -f "$STATE/finished" ]] && return 0
    kill -0 "$COORDINATOR" 2>/dev/null || return 0
    if (( status == 255 )); then what="lost its ssh connection"; else what="exited with status $status"; fi
    if (( attempt >= RESTARTS )); then
      echo "$what" >"$STATE/failed-$name"
      say "host $host: worker $what; not restarted again after $RESTARTS restarts (log: $log)" 2>&3
      return 1
    fi
    attempt=$((attempt + 1))
    say "host $host: worker $what; restarting it ($attempt of $RESTARTS; log: $log)" 2>&3
    sleep 2
  done
}
for i in "${!HOST[@]}"; do
  supervise "${HOST[$i]}" "${SLOTS[$i]}" "${CONNECT[$i]}" "${RING[$i]}" &
  SUPERVISORS+=($!)
done

# Wait for the coordinator (a signal interrupts `wait`; go on waiting).
while :; do
  wait "$COORDINATOR"
  status=$?
  kill -0 "$COORDINATOR" 2>/dev/null || break
done
touch "$STATE/finished"

# The sweep is over or stopped: the workers have nothing left; end their sessions.
for _ in $(seq 50); do
  alive=0
  for pid in "${SUPERVISORS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  (( alive )) || break
  sleep 0.1
done
for pid in "${SUPERVISORS[@]}"; do pkill -KILL -P "$pid" ssh 2>/dev/null; done
wait "${SUPERVISORS[@]}" 2>/dev/null

failed=()
for i in "${!HOST[@]}"; do
  name=$(key_dir_name "${HOST[$i]}")
  [[ -f "$STATE/failed-$name" ]] && failed+=("${HOST[$i]} ($(cat "$STATE/failed-$name"); log: $LOGS/worker-$name.log)")
done
again="$0$(printf ' %q' "${ARGS[@]}")"
case $status in
  0) ;;
  130|143|4) say "the run is not finished; continue with: $again" ;;
  75) say "another coordinator serves this run (log: $LOGS/coordinator.log); run this again once it has ended: $again" ;;
  *) say "the coordinator exited with status $status (log: $LOGS/coordinator.log)" ;;
esac
if [[ ${#failed[@]} -gt 0 ]]; then
  for f in "${failed[@]}"; do say "worker failed on host $f"; done
  (( status != 0 )) || status=5
fi
exit "$status"
