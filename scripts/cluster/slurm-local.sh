#!/usr/bin/env bash
# A real one-node Slurm on this machine, for the launcher tests: munged, slurmctld and slurmd
# (Debian's slurm-wlm 22.05) as root, configured in a private directory, with this host as its
# only node (proctrack/linuxproc, task/none: no cgroups needed).
#
#   source scripts/cluster/slurm-local.sh; slurm_local_start DIR; ...; slurm_local_stop
#
# After start, SLURM_CONF points at DIR/slurm.conf, so sbatch/squeue/scontrol talk to it.
# slurm_local_start returns 77 (skip) when not root or when the packages cannot be installed.

slurm_local_start() {
  local dir=$1
  if [[ $(id -u) -ne 0 ]]; then echo "slurm-local: SKIP: needs root to run slurmctld and slurmd"; return 77; fi
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1; } \
      || { echo "slurm-local: SKIP: cannot install slurm-wlm and munge"; return 77; }
  fi
  local running; running=$(slurm_local_live slurmctld slurmd)
  if [[ -n "$running" ]]; then echo "slurm-local: SKIP: a Slurm daemon is already running here (pid $running)"; return 77; fi
  mkdir -p "$dir"/{state,spool,log}
  local host; host=$(hostname -s)
  # More CPUs than the machine has (config_overrides): a toy sweep's workers mostly wait, and
  # two jobs must fit at once.
  cat >"$dir/slurm.conf" <<EOF
ClusterName=rt-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# A killed job's credential stays revoked on its node this long, and a requeued job waits as
# long before it may start again (the default 120 s would make each requeue test wait 2 min).
AuthInfo=cred_expire=10
SlurmctldPort=${SLURM_LOCAL_PORT:-16817}
SlurmdPort=$(( ${SLURM_LOCAL_PORT:-16817} + 1 ))
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
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
NodeName=$host CPUs=8 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  export SLURM_CONF=$dir/slurm.conf
  [[ -f /etc/munge/munge.key ]] || mungekey --create >/dev/null 2>&1 || true
  mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
  if [[ -z "$(slurm_local_live munged)" ]]; then
    slurm_local_detached runuser -u munge -- munged || slurm_local_detached munged --force \
      || { echo "slurm-local: FAIL: munged did not start"; return 1; }
    slurm_local_live munged >"$dir/munged.pid" # started here, so stopped here too
  fi
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
