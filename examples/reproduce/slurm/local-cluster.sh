#!/bin/bash
# A single-node Slurm on this machine, to try the cluster path (submit.sh)
# on a workstation before the real cluster, and for CI.
#
#   examples/reproduce/slurm/local-cluster.sh install   # apt-get install slurm-wlm munge (Debian/Ubuntu, as root)
#   examples/reproduce/slurm/local-cluster.sh start     # munged, slurmctld, slurmd; waits until the node is idle
#   examples/reproduce/slurm/local-cluster.sh stop      # stops the three daemons by the PIDs start recorded
#   examples/reproduce/slurm/local-cluster.sh env       # prints the export line the Slurm commands need
#
# It runs as root (munged and slurmd need it here). Everything it writes
# lives in EMOSEL_SLURM_DIR (default /tmp/emosel-slurm): slurm.conf, the
# munge key and socket, the daemons' state, logs and PID files. Nothing
# is written to /etc, so it does not disturb an installed Slurm; the
# Slurm commands find this cluster through SLURM_CONF, which `env` prints:
#
#   eval "$(examples/reproduce/slurm/local-cluster.sh env)"
#   sinfo
#
# The node is this host with every CPU and 90% of the memory,
# select/cons_tres, proctrack/linuxproc, task/none, no cgroups and no
# accounting database; finished jobs stay visible to scontrol for an hour
# (MinJobAge), which is how the tests read each job's final state.
set -euo pipefail
dir=${EMOSEL_SLURM_DIR:-/tmp/emosel-slurm}
conf=$dir/slurm.conf
node=$(hostname -s)

die() { echo "local-cluster.sh: $*" >&2; exit 1; }

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    return
  fi
  command -v apt-get >/dev/null || die "no apt-get: install Slurm (slurmctld, slurmd, sbatch) and munge yourself"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq slurm-wlm munge >/dev/null
}

pidof_file() { [ -s "$1" ] && cat "$1"; }

# alive PID: the process exists and is not a zombie.
alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

running() { local p; p=$(pidof_file "$1") && alive "$p"; }

start() {
  [ "$(id -u)" = 0 ] || die "start needs root (munged and slurmd run as root here)"
  for b in munged slurmctld slurmd sinfo; do
    command -v "$b" >/dev/null || die "$b is not installed: run '$0 install' (Debian: apt-get install slurm-wlm munge)"
  done
  if running "$dir/slurmctld.pid"; then
    die "a cluster is already running from $dir (stop it with '$0 stop')"
  fi
  mkdir -p "$dir"/{munge,state,spool,log}
  chmod 700 "$dir/munge"
  # munge: a fresh key, a private socket.
  if [ ! -s "$dir/munge/munge.key" ]; then
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  fi
  chmod 400 "$dir/munge/munge.key"
  local cpus mem
  cpus=$(nproc)
  mem=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
  cat >"$conf" <<EOF
# Written by examples/reproduce/slurm/local-cluster.sh: one node, this host.
ClusterName=emosel-local
SlurmctldHost=$node
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=${EMOSEL_SLURM_PORT:-6817}
SlurmdPort=$(( ${EMOSEL_SLURM_PORT:-6817} + 1 ))
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
EnforcePartLimits=ALL
KillWait=10
SchedulerParameters=bf_interval=1
DependencyParameters=kill_invalid_depend
NodeName=$node CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  munged --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munge.seed" --force
  export SLURM_CONF=$conf
  slurmctld -f "$conf"
  slurmd -f "$conf"
  local i
  for i in $(seq 1 60); do
    if [ "$(sinfo -h -n "$node" -o %T 2>/dev/null)" = idle ]; then
      echo "local-cluster.sh: node $node idle ($cpus CPUs, ${mem} MB) after ${i}s; SLURM_CONF=$conf"
      sinfo
      return
    fi
    sleep 1
  done
  sinfo -N -l || true
  tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
  die "node $node not idle after 60 s (logs in $dir/log)"
}

stop() {
  local name p
  for name in slurmd slurmctld munged; do
    if p=$(pidof_file "$dir/$name.pid") && alive "$p"; then
      kill "$p"
      for _ in $(seq 1 20); do alive "$p" || break; sleep 0.5; done
      if alive "$p"; then kill -9 "$p" 2>/dev/null || true; fi
      echo "local-cluster.sh: stopped $name (pid $p)"
    fi
    rm -f "$dir/$name.pid"
  done
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *) echo "usage: $0 install|start|stop|env (state in EMOSEL_SLURM_DIR, default /tmp/emosel-slurm)" >&2; exit 2 ;;
esac
