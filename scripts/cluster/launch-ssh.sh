#!/usr/bin/env bash
# Starts the coordinator here and one worker per host of a hosts file over ssh.
#
#   scripts/cluster/launch-ssh.sh SWEEP.yaml HOSTS_FILE [PORT]
#
# Each host needs the same `rt` build at $RT_REMOTE (default: the path of the local binary).
# Keys: ./keys/coordinator is this coordinator's pair (created if missing); every host gets its
# own pair, generated here, copied to ~/.rt-keys on the host with coordinator.key beside it,
# and its public key is added to ./keys/allow. Secret keys travel only over ssh (scp).
# Ctrl-C stops the coordinator and the remote workers.
set -euo pipefail

SWEEP=${1:?usage: launch-ssh.sh SWEEP.yaml HOSTS_FILE [PORT]}
HOSTS=${2:?usage: launch-ssh.sh SWEEP.yaml HOSTS_FILE [PORT]}
PORT=${3:-5555}
HERE=$(cd "$(dirname "$0")" && pwd)
RT=${RT_BINARY:-$HERE/../../.build/release/rt}
RT_REMOTE=${RT_REMOTE:-$RT}
KEYS=${RT_KEYS:-$PWD/keys}
ADVERTISE=${RT_ADVERTISE:-$(hostname -f)}

[[ -f "$KEYS/coordinator/secret.key" ]] || "$RT" keys generate --out "$KEYS/coordinator" >/dev/null
mkdir -p "$KEYS/allow"

SSH_PIDS=()
cleanup() {
  for pid in "${SSH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -n "${COORDINATOR:-}" ]] && kill "$COORDINATOR" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

while read -r host slots _; do
  [[ -z "$host" || "$host" == \#* ]] && continue
  slots=${slots:-1}
  if [[ ! -f "$KEYS/hosts/$host/secret.key" ]]; then
    "$RT" keys generate --out "$KEYS/hosts/$host" >/dev/null
  fi
  cp "$KEYS/hosts/$host/public.key" "$KEYS/allow/$host.key"
  cp "$KEYS/coordinator/public.key" "$KEYS/hosts/$host/coordinator.key"
  ssh "$host" 'mkdir -p ~/.rt-keys && chmod 700 ~/.rt-keys'
  scp -q "$KEYS/hosts/$host/public.key" "$KEYS/hosts/$host/secret.key" "$KEYS/hosts/$host/coordinator.key" "$host:.rt-keys/"
done < "$HOSTS"

"$RT" coordinator "$SWEEP" --bind "tcp://0.0.0.0:$PORT" --keys "$KEYS/coordinator" --allow "$KEYS/allow" &
COORDINATOR=$!

while read -r host slots _; do
  [[ -z "$host" || "$host" == \#* ]] && continue
  # -tt: the remote worker dies with the ssh session when this script stops.
  ssh -tt "$host" "$RT_REMOTE" worker --connect "tcp://$ADVERTISE:$PORT" --keys '~/.rt-keys' \
    --threads "${slots:-1}" --name "$host" </dev/null &
  SSH_PIDS+=($!)
done < "$HOSTS"

wait "$COORDINATOR"
