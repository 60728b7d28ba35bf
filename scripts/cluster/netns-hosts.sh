#!/usr/bin/env bash
# k "hosts" on one machine: k network namespaces, each with one link (a veth pair) to a switch
# namespace that bridges them, in a private test subnet (10.213.0.0/24) that exists only inside
# these namespaces: no default route, no link to the host's network. With a rate, every link is
# shaped with tbf on BOTH ends of its veth (the host's end limits what it sends, the switch's end
# what it receives), so the link, not the CPU, is the bottleneck, as with real NICs.
#
# As a command: builds the hosts, runs COMMAND, tears everything down on exit (also on failure):
#   scripts/cluster/netns-hosts.sh --hosts K [--rate 1gbit] [--burst 256kb] [--latency 50ms] -- COMMAND...
# COMMAND sees NETNS_HOSTS (host namespaces, by index), NETNS_ADDRS (their addresses),
# NETNS_PORTS (the switch-side device of each host's link: `ip -n $NETNS_SWITCH link set DEV
# down` cuts it) and NETNS_SWITCH, space-separated; run a process on host i with
# `ip netns exec <namespace i> ...`.
#
# As a library (`source` it): netns_hosts_up K [RATE] creates them and sets the arrays
# NETNS_HOST, NETNS_ADDR, NETNS_PORT and NETNS_SWITCH; netns_hosts_down deletes them. The caller
# owns the trap.
# Exit status as a command: COMMAND's; 77 (with the reason) when not root or iproute2 is missing.

NETNS_SUBNET=${NETNS_SUBNET:-10.213.0}
# tbf: `burst` is the bucket (bytes that may leave back to back; it must hold a GSO packet of
# 64 KiB, or tbf splits it, and a timer tick's worth of the rate); `latency` bounds the queue
# (the longest a packet may wait) so TCP sees a queue rather than drops and keeps the link busy.
NETNS_BURST=${NETNS_BURST:-256kb}
NETNS_LATENCY=${NETNS_LATENCY:-50ms}
NETNS_HOST=() NETNS_ADDR=() NETNS_PORT=() NETNS_SWITCH=""

netns_hosts_skip_reason() {
  [[ $(id -u) -eq 0 ]] || { echo "needs root to create network namespaces"; return 0; }
  command -v ip >/dev/null 2>&1 || { echo "iproute2 (ip) is not installed"; return 0; }
  return 1
}

# netns_shape NAMESPACE DEVICE RATE: the device sends at most RATE.
netns_shape() {
  ip netns exec "$1" tc qdisc replace dev "$2" root tbf rate "$3" burst "$NETNS_BURST" latency "$NETNS_LATENCY"
}

# netns_hosts_up K [RATE]: K host namespaces on one switch; each link shaped to RATE if given.
netns_hosts_up() {
  local k=$1 rate=${2:-} id=$$ i
  (( k >= 1 && k <= 200 )) || { echo "netns-hosts: bad host count $k" >&2; return 1; }
  NETNS_SWITCH=rt-sw-$id
  ip netns add "$NETNS_SWITCH"
  ip -n "$NETNS_SWITCH" link set lo up
  ip -n "$NETNS_SWITCH" link add br0 type bridge
  ip -n "$NETNS_SWITCH" link set br0 up
  for ((i = 0; i < k; i++)); do
    local ns=rt-h$i-$id port=p$i-$id   # interface names: <= 15 characters
    ip netns add "$ns"
    NETNS_HOST+=("$ns") NETNS_ADDR+=("$NETNS_SUBNET.$((i + 1))") NETNS_PORT+=("$port")
    ip -n "$ns" link set lo up
    ip link add "h$i-$id" netns "$ns" type veth peer name "$port" netns "$NETNS_SWITCH"
    ip -n "$ns" link set "h$i-$id" name eth0
    ip -n "$ns" addr add "$NETNS_SUBNET.$((i + 1))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$NETNS_SWITCH" link set "$port" master br0
    ip -n "$NETNS_SWITCH" link set "$port" up
    if [[ -n "$rate" ]]; then
      netns_shape "$ns" eth0 "$rate"                 # what host i sends
      netns_shape "$NETNS_SWITCH" "$port" "$rate"    # what host i receives
    fi
  done
}

netns_hosts_down() {
  local ns
  for ns in "${NETNS_HOST[@]}" "$NETNS_SWITCH"; do [[ -z "$ns" ]] || ip netns del "$ns" 2>/dev/null || true; done
  NETNS_HOST=() NETNS_ADDR=() NETNS_PORT=() NETNS_SWITCH=""
  return 0
}

# Run as a command (not sourced).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  K=2 RATE=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --hosts) K=$2; shift 2 ;;
      --rate) RATE=$2; shift 2 ;;
      --burst) NETNS_BURST=$2; shift 2 ;;
      --latency) NETNS_LATENCY=$2; shift 2 ;;
      --) shift; break ;;
      *) echo "netns-hosts: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
    esac
  done
  [[ $# -gt 0 ]] || { echo "netns-hosts: no command after --" >&2; exit 2; }
  if reason=$(netns_hosts_skip_reason); then echo "netns-hosts: SKIP: $reason"; exit 77; fi
  trap netns_hosts_down EXIT
  trap 'exit 1' INT TERM
  netns_hosts_up "$K" "$RATE"
  NETNS_HOSTS="${NETNS_HOST[*]}" NETNS_ADDRS="${NETNS_ADDR[*]}" NETNS_PORTS="${NETNS_PORT[*]}" \
    NETNS_SWITCH="$NETNS_SWITCH" "$@"
fi
