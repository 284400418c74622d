#!/usr/bin/env bash
# A one-node Slurm cluster for test/slurm.test.ts (the Slurm executor, docs/slurm.md).
#
#   .ci/slurm.sh start   install slurm-wlm + munge if missing (root, Debian), write a slurm.conf for this
#                        machine (proctrack/linuxproc, task/none, select/cons_tres, its CPUs; no
#                        accounting), start munged, slurmctld and slurmd, wait for the node; prints
#                        `export SLURM_CONF=…` for the caller to eval
#   .ci/slurm.sh stop    stop the three daemons by their pid files
#
# Everything lives under $LORA_REPRO_SLURM_DIR (default /tmp/lora-repro-slurm); /etc/slurm is not
# touched, so the clients need SLURM_CONF. Exit 0 from start means the node answers `sinfo`; any
# other exit means no cluster (the test then skips, saying why).
set -uo pipefail
dir=${LORA_REPRO_SLURM_DIR:-/tmp/lora-repro-slurm}
conf="$dir/slurm.conf"

log() { echo "slurm.sh: $*" >&2; }

stop() {
  for name in slurmd slurmctld munged; do
    pidfile="$dir/$name.pid"
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

install() {
  command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "slurm-wlm and munge are not installed, and installing needs root and apt-get"
    return 1
  fi
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends slurm-wlm munge) >"$dir/apt.log" 2>&1 \
    || { log "apt-get install slurm-wlm munge failed (see $dir/apt.log)"; return 1; }
}

start() {
  mkdir -p "$dir"
  if [ "$(id -u)" != 0 ]; then log "the daemons need root (slurmd runs the tasks as the submitting user)"; return 1; fi
  install || return 1
  stop
  mkdir -p "$dir/state" "$dir/slurmd" "$dir/munge"
  # munge: the package's key, else a new one; its socket and pid under $dir, run as the munge user.
  key=/etc/munge/munge.key
  if [ ! -s "$key" ]; then
    mkdir -p /etc/munge
    (command -v mungekey >/dev/null && mungekey --create --keyfile="$key") || dd if=/dev/urandom of="$key" bs=1 count=1024 2>/dev/null
    chown munge:munge "$key" 2>/dev/null; chmod 400 "$key"
  fi
  chown -R munge:munge "$dir/munge" 2>/dev/null
  socket="$dir/munge/munge.socket.2"
  runuser -u munge -- munged --socket="$socket" --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed" --force \
    || { log "munged did not start (see $dir/munge/munged.log)"; return 1; }
  cp "$dir/munge/munged.pid" "$dir/munged.pid"

  host=$(hostname -s)
  # The node as slurmd sees it (CPUs, sockets, cores, threads, memory), on the loopback address.
  node=$(slurmd -C 2>/dev/null | head -1)
  [ -n "$node" ] || node="NodeName=$host CPUs=$(nproc)"
  cat >"$conf" <<EOF
# Written by .ci/slurm.sh: one node, no accounting (sacct answers "disabled": the executor's fallback).
ClusterName=lora-repro-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
KillWait=5
MinJobAge=60
SlurmctldPort=${LORA_REPRO_SLURMCTLD_PORT:-6817}
SlurmdPort=${LORA_REPRO_SLURMD_PORT:-6818}
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/slurmd
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$conf"
  slurmctld -f "$conf" -i || { log "slurmctld did not start (see $dir/slurmctld.log)"; return 1; }
  slurmd -f "$conf" || { log "slurmd did not start (see $dir/slurmd.log)"; return 1; }
  for _ in $(seq 1 60); do
    state=$(sinfo -h -o %T 2>/dev/null | head -1)
    case "$state" in idle*|mixed*|allocated*) echo "export SLURM_CONF=$conf"; return 0 ;; esac
    sleep 1
  done
  log "the node did not come up (sinfo: ${state:-no answer}; see $dir/slurmctld.log, $dir/slurmd.log)"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: .ci/slurm.sh start|stop" >&2; exit 2 ;;
esac
