#!/usr/bin/env bash
# ssh hosts on one machine, for the launcher tests: netns-hosts.sh's namespaces (host 0 is the
# "login node" the launcher runs on), and a real OpenSSH sshd on each of hosts 1..K-1, which
# lets in root with a key made for the test. Nothing touches ~/.ssh or /etc/ssh: keys, configs,
# known_hosts and logs live in DIR.
#
#   source scripts/cluster/sshd-hosts.sh; sshd_hosts_up DIR K; ...; sshd_hosts_down DIR
#
# After up: DIR/ssh_config names the hosts h1..h(K-1) (use `ssh -F DIR/ssh_config h1`), and
# DIR/hosts.env holds the namespaces and addresses (NETNS_HOST, NETNS_ADDR, NETNS_PORT,
# NETNS_SWITCH arrays) for `source`. Returns 77 with the reason when not root, or when iproute2
# or OpenSSH is missing and cannot be installed.

SSHD_HOSTS_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$SSHD_HOSTS_HERE/netns-hosts.sh"

sshd_hosts_up() {
  local dir=$1 k=$2 reason i
  if reason=$(netns_hosts_skip_reason); then echo "sshd-hosts: SKIP: $reason"; return 77; fi
  if [[ ! -x /usr/sbin/sshd ]] || ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null 2>&1; } \
      || { echo "sshd-hosts: SKIP: cannot install openssh-server and openssh-client"; return 77; }
  fi
  mkdir -p "$dir" /run/sshd
  chmod 700 "$dir"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key" </dev/null >/dev/null || return 1
  ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" </dev/null >/dev/null || return 1
  cp "$dir/client_key.pub" "$dir/authorized_keys"
  netns_hosts_up "$k" || return 1
  declare -p NETNS_HOST NETNS_ADDR NETNS_PORT NETNS_SWITCH >"$dir/hosts.env"
  : >"$dir/ssh_config"
  for ((i = 1; i < k; i++)); do
    cat >"$dir/sshd-$i.conf" <<EOF
ListenAddress ${NETNS_ADDR[$i]}
Port 22
HostKey $dir/host_key
PidFile $dir/sshd-$i.pid
PermitRootLogin prohibit-password
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
# A session whose client vanished (a cut link) ends within 6 s, and its worker with it.
ClientAliveInterval 2
ClientAliveCountMax 3
Subsystem sftp internal-sftp
EOF
    # -E: its log in DIR; sshd daemonizes and closes what it inherited.
    ip netns exec "${NETNS_HOST[$i]}" /usr/sbin/sshd -f "$dir/sshd-$i.conf" -E "$dir/sshd-$i.log" </dev/null >/dev/null 2>&1 \
      || { echo "sshd-hosts: FAIL: sshd on host $i did not start: $(tail -n 3 "$dir/sshd-$i.log")"; return 1; }
    cat >>"$dir/ssh_config" <<EOF
Host h$i
  HostName ${NETNS_ADDR[$i]}
  User root
  IdentityFile $dir/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $dir/known_hosts
  StrictHostKeyChecking accept-new
  LogLevel ERROR
EOF
  done
  # Until every sshd answers (from host 0), at most 10 s.
  for ((i = 1; i < k; i++)); do
    local tries=0
    until ip netns exec "${NETNS_HOST[0]}" ssh -F "$dir/ssh_config" -n -o BatchMode=yes -o ConnectTimeout=2 "h$i" true 2>/dev/null; do
      (( ++tries < 20 )) || { echo "sshd-hosts: FAIL: sshd on host $i does not answer: $(tail -n 3 "$dir/sshd-$i.log")"; return 1; }
      sleep 0.5
    done
  done
}

sshd_hosts_down() {
  local dir=$1 pidfile
  [[ -f "$dir/hosts.env" ]] || return 0
  source "$dir/hosts.env"
  for pidfile in "$dir"/sshd-*.pid; do [[ -f "$pidfile" ]] && kill "$(cat "$pidfile")" 2>/dev/null; done
  # The sessions (and the workers in them) of a namespace die with it only once they end.
  local ns pid
  for ns in "${NETNS_HOST[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  netns_hosts_down
  rm -f "$dir/hosts.env"
}
