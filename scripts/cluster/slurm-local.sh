#!/usr/bin/env bash
# A real Slurm on this machine, for the launcher tests: munged, slurmctld and slurmd
# (Debian's slurm-wlm 22.05) as root, configured in a private directory, with this host as its
# only node (proctrack/linuxproc, task/none: no cgroups needed); or several nodes in network
# namespaces (slurm_multi_start, at the end).
#
#   source scripts/cluster/slurm-local.sh; slurm_local_start DIR; ...; slurm_local_stop
#
# After start, SLURM_CONF points at DIR/slurm.conf, so sbatch/squeue/scontrol talk to it.
# slurm_local_start returns 77 (skip) when not root or when the packages cannot be installed.

# slurm_local_conf DIR CONTROLLER_LINE NODE_LINES PARTITION_NODES SPOOL PIDFILE LOGFILE
slurm_local_conf() {
  local dir=$1
  cat >"$dir/slurm.conf" <<EOF
ClusterName=rt-test
$2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# A killed job's credential stays revoked on its node this long, and a requeued job waits as
# long before it may start again (the default 120 s would make each requeue test wait 2 min).
AuthInfo=cred_expire=10
SlurmctldPort=${SLURM_LOCAL_PORT:-16817}
SlurmdPort=$(( ${SLURM_LOCAL_PORT:-16817} + 1 ))
StateSaveLocation=$dir/state
SlurmdSpoolDir=$5
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$6
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$7
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SlurmdParameters=config_overrides
JobRequeue=1
KillWait=30
MinJobAge=600
ReturnToService=2
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
$3
PartitionName=debug Nodes=$4 Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

# Installs slurm-wlm and munge if missing; 77 with the reason when it cannot (or is not root).
slurm_local_packages() {
  if [[ $(id -u) -ne 0 ]]; then echo "slurm-local: SKIP: needs root to run slurmctld and slurmd"; return 77; fi
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1; } \
      || { echo "slurm-local: SKIP: cannot install slurm-wlm and munge"; return 77; }
  fi
  local running; running=$(slurm_local_live slurmctld slurmd)
  if [[ -n "$running" ]]; then echo "slurm-local: SKIP: a Slurm daemon is already running here (pid $running)"; return 77; fi
}

# munged, unless one runs; one started here is recorded in DIR/munged.pid (stopped with the rest).
slurm_local_munge() {
  local dir=$1
  [[ -f /etc/munge/munge.key ]] || mungekey --create >/dev/null 2>&1 || true
  mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
  if [[ -z "$(slurm_local_live munged)" ]]; then
    slurm_local_detached runuser -u munge -- munged || slurm_local_detached munged --force \
      || { echo "slurm-local: FAIL: munged did not start"; return 1; }
    slurm_local_live munged >"$dir/munged.pid" # started here, so stopped here too
  fi
}

slurm_local_start() {
  local dir=$1
  slurm_local_packages || return $?
  mkdir -p "$dir"/{state,spool,log}
  local host; host=$(hostname -s)
  # More CPUs than the machine has (config_overrides): a toy sweep's workers mostly wait, and
  # two jobs must fit at once.
  slurm_local_conf "$dir" "SlurmctldHost=$host" \
    "NodeName=$host CPUs=8 RealMemory=4000 State=UNKNOWN" "$host" "$dir/spool" "$dir/slurmd.pid" "$dir/log/slurmd.log"
  export SLURM_CONF=$dir/slurm.conf
  slurm_local_munge "$dir" || return 1
  slurm_local_detached slurmctld -f "$SLURM_CONF" || { echo "slurm-local: FAIL: slurmctld did not start"; tail -n 20 "$dir/log/slurmctld.log"; return 1; }
  slurm_local_detached slurmd -f "$SLURM_CONF" || { echo "slurm-local: FAIL: slurmd did not start"; tail -n 20 "$dir/log/slurmd.log"; return 1; }
  SLURM_LOCAL_DIR=$dir
  local deadline=$((SECONDS + 30))
  until sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; do
    (( SECONDS < deadline )) || { echo "slurm-local: FAIL: the node never became idle: $(sinfo -h -N -o '%T %E' 2>&1)"; tail -n 20 "$dir/log/slurmd.log"; return 1; }
    sleep 0.3
  done
}

# Runs a daemon with nothing open but /dev/null: a daemon that keeps a descriptor its starter
# inherited (munged keeps them all) holds that starter's pipes open, and whoever waits for them
# to close (a test's Foundation.Process) waits forever.
slurm_local_detached() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      (( fd > 2 )) && eval "exec $fd>&-"
    done
    exec "$@"
  ) </dev/null >/dev/null 2>&1
}

# Pids of the live (not zombie) processes with these names: an init that does not reap leaves
# zombies behind, which pgrep still lists.
slurm_local_live() {
  local name pid
  for name in "$@"; do
    for pid in $(pgrep -x "$name"); do
      [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]] || echo -n "$pid "
    done
  done
}

slurm_local_stop() {
  [[ -n "${SLURM_LOCAL_DIR:-}" ]] || return 0
  scancel --quiet --user=root 2>/dev/null || true
  for daemon in slurmd slurmctld; do
    local pidfile=$SLURM_LOCAL_DIR/$daemon.pid
    [[ -f "$pidfile" ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  local deadline=$((SECONDS + 15))
  for daemon in slurmd slurmctld; do
    local pidfile=$SLURM_LOCAL_DIR/$daemon.pid
    while [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
    [[ -f "$pidfile" ]] && kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  done
  [[ -f "$SLURM_LOCAL_DIR/munged.pid" ]] && kill $(cat "$SLURM_LOCAL_DIR/munged.pid") 2>/dev/null || true
  SLURM_LOCAL_DIR=
}

# --- Several nodes ---------------------------------------------------------------------------
# slurm_multi_start DIR K: K slurmd "nodes" node1..nodeK, each on a network-namespace host of
# netns-hosts.sh with its own NodeAddr, and slurmctld on a host of its own (ctl, 10.213.0.1).
# Every daemon runs in its host's network namespace with its own host name (a UTS namespace)
# and DIR/hosts as /etc/hosts (a mount namespace); nsenter, not `ip netns exec`, so the real
# /sys (and its cgroups, which slurmd reads) stays mounted. Run Slurm's commands on the
# controller's host with slurm_multi_ctl CMD... (it sources DIR/hosts.env). Returns 77 with the
# reason when Slurm, namespaces or root are not available.
slurm_multi_start() {
  local dir=$1 k=$2 i reason
  slurm_local_packages || return $?
  source "$(dirname "${BASH_SOURCE[0]}")/netns-hosts.sh"
  if reason=$(netns_hosts_skip_reason); then echo "slurm-local: SKIP: $reason"; return 77; fi
  command -v nsenter >/dev/null && command -v unshare >/dev/null || { echo "slurm-local: SKIP: needs nsenter and unshare (util-linux)"; return 77; }
  mkdir -p "$dir"/{state,log}
  netns_hosts_up $((k + 1)) || return 1
  declare -p NETNS_HOST NETNS_ADDR NETNS_PORT NETNS_SWITCH >"$dir/hosts.env"
  local names=(ctl) nodes="" lines=""
  echo "127.0.0.1 localhost" >"$dir/hosts"
  echo "${NETNS_ADDR[0]} ctl" >>"$dir/hosts"
  for ((i = 1; i <= k; i++)); do
    names+=("node$i")
    echo "${NETNS_ADDR[$i]} node$i" >>"$dir/hosts"
    lines+="NodeName=node$i NodeAddr=${NETNS_ADDR[$i]} CPUs=4 RealMemory=2000 State=UNKNOWN"$'\n'
    nodes+="${nodes:+,}node$i"
    mkdir -p "$dir/spool-node$i"
  done
  slurm_local_conf "$dir" "SlurmctldHost=ctl(${NETNS_ADDR[0]})" "$lines" "$nodes" "$dir/spool-%n" "$dir/slurmd-%n.pid" "$dir/log/slurmd-%n.log"
  export SLURM_CONF=$dir/slurm.conf
  SLURM_LOCAL_DIR=$dir
  slurm_local_munge "$dir" || return 1
  for ((i = 0; i <= k; i++)); do
    local daemon="slurmd -f $SLURM_CONF -N ${names[$i]}"
    (( i > 0 )) || daemon="slurmctld -f $SLURM_CONF"
    slurm_local_detached nsenter --net="/run/netns/${NETNS_HOST[$i]}" unshare --mount --uts \
      sh -c "mount --bind '$dir/hosts' /etc/hosts && hostname ${names[$i]} && exec $daemon" \
      || { echo "slurm-local: FAIL: ${names[$i]} did not start: $(tail -n 3 "$dir"/log/*.log)"; return 1; }
  done
  local deadline=$((SECONDS + 30))
  until [[ $(slurm_multi_ctl sinfo -h -N -o '%T' 2>/dev/null | grep -cE '^(idle|mixed|allocated)') -eq $k ]]; do
    (( SECONDS < deadline )) || { echo "slurm-local: FAIL: the nodes never became idle: $(slurm_multi_ctl sinfo -h -N -o '%N %T %E' 2>&1)"; return 1; }
    sleep 0.3
  done
}

# CMD... on the controller's host (where sbatch, squeue and scontrol reach slurmctld).
slurm_multi_ctl() {
  local dir=${SLURM_LOCAL_DIR:?slurm_multi_start first}
  (source "$dir/hosts.env" && exec nsenter --net="/run/netns/${NETNS_HOST[0]}" "$@")
}

slurm_multi_stop() {
  local dir=${SLURM_LOCAL_DIR:-}
  [[ -n "$dir" && -f "$dir/hosts.env" ]] || return 0
  slurm_multi_ctl scancel --quiet --user=root 2>/dev/null || true
  local pidfile
  for pidfile in "$dir"/slurmd-*.pid "$dir/slurmctld.pid"; do [[ -f "$pidfile" ]] && kill "$(cat "$pidfile")" 2>/dev/null; done
  local deadline=$((SECONDS + 15))
  while [[ -n "$(slurm_local_live slurmctld slurmd)" ]] && (( SECONDS < deadline )); do sleep 0.2; done
  for pidfile in "$dir"/slurmd-*.pid "$dir/slurmctld.pid"; do [[ -f "$pidfile" ]] && kill -KILL "$(cat "$pidfile")" 2>/dev/null; done
  [[ -f "$dir/munged.pid" ]] && kill $(cat "$dir/munged.pid") 2>/dev/null
  source "$(dirname "${BASH_SOURCE[0]}")/netns-hosts.sh"
  source "$dir/hosts.env"
  local ns pid
  for ns in "${NETNS_HOST[@]}"; do for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done; done
  netns_hosts_down
  rm -f "$dir/hosts.env"
  SLURM_LOCAL_DIR=
}
