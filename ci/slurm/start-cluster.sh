#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for pegboard's `nox -s slurm` session.
#
#   ci/slurm/start-cluster.sh          install (apt) if needed, start, wait until the node is idle
#   ci/slurm/start-cluster.sh stop     stop slurmd, slurmctld and munged
#
# Debian 12's slurm-wlm (22.05) and munge, run as root: munged, slurmctld and slurmd; one
# node named after `hostname -s` (localhost when that name does not resolve), at 127.0.0.1,
# with 2 CPUs; no cgroups (processes tracked through /proc); CPUs are the consumable
# resource, so two 1-CPU jobs run at once; requeue allowed. The config is
# /etc/slurm/slurm.conf, where Debian's sbatch, srun and scontrol look, so jobs and tests
# need no SLURM_CONF; a slurm.conf this script did not write is never replaced. State,
# spool and logs go to $PEGBOARD_SLURM_DIR (/tmp/pegboard-slurm). Idempotent: a running
# cluster is left as it is. On any failure it says why (with the daemon's log), exit 1.
set -euo pipefail

DIR="${PEGBOARD_SLURM_DIR:-/tmp/pegboard-slurm}"
CONF=/etc/slurm/slurm.conf
MARK="# Written by pegboard ci/slurm/start-cluster.sh"
NODE="$(hostname -s)"
# Lightning's DDP reaches a job's first node by its name, so the name must resolve.
getent hosts "$NODE" >/dev/null || NODE=localhost
WAIT_S="${PEGBOARD_SLURM_WAIT:-60}"

die() {
    echo "start-cluster: $*" >&2
    exit 1
}

show_log() {
    if [[ -f "$1" ]]; then
        echo "--- last lines of $1 ---" >&2
        tail -n 25 "$1" >&2
    fi
}

stop() {
    # Only the daemons this script started: their pid files, not a search by name.
    local pid
    for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munged.pid"; do
        pid="$(cat "$pidfile" 2>/dev/null || true)"
        if [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; then
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
        rm -f "$pidfile"
    done
    echo "start-cluster: stopped"
}

install_packages() {
    command -v slurmctld >/dev/null && command -v munged >/dev/null && return
    [[ "$(id -u)" == 0 ]] || die "slurm-wlm and munge are not installed, and installing them needs root"
    command -v apt-get >/dev/null || die "slurm-wlm and munge are not installed, and there is no apt-get"
    local packages=(slurm-wlm munge)
    echo "start-cluster: installing ${packages[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${packages[@]}" >"$DIR/apt.log" 2>&1; then
        # The package lists may be missing or stale (a fresh CI image): refresh them once.
        apt-get update -q >>"$DIR/apt.log" 2>&1 || true
        apt-get install -y -q --no-install-recommends "${packages[@]}" >>"$DIR/apt.log" 2>&1 ||
            { show_log "$DIR/apt.log"; die "apt-get could not install ${packages[*]}"; }
    fi
}

start_munge() {
    if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
        return # a munged already answers on the default socket
    fi
    if [[ ! -s /etc/munge/munge.key ]]; then
        mungekey --create --keyfile=/etc/munge/munge.key >/dev/null ||
            die "could not create /etc/munge/munge.key"
    fi
    # munged runs as the munge user (it refuses keys and folders it does not own).
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
    chmod 0400 /etc/munge/munge.key
    chmod 0755 /run/munge
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid ||
        { show_log /var/log/munge/munged.log; die "munged did not start"; }
    cp /run/munge/munged.pid "$DIR/munged.pid"
    munge -n </dev/null | unmunge >/dev/null 2>&1 ||
        { show_log /var/log/munge/munged.log; die "munged started but does not answer"; }
}

write_conf() {
    if [[ -f "$CONF" ]] && ! head -n 1 "$CONF" | grep -qF "$MARK"; then
        die "$CONF exists and was not written by this script: not replacing a real cluster's config"
    fi
    local memory
    # All but 1 GiB of the machine's memory, in MiB (jobs ask for --mem; CPUs are what is shared).
    memory=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 1024))
    mkdir -p /etc/slurm "$DIR/state" "$DIR/spool"
    cat >"$CONF" <<EOF
$MARK: a one-node test cluster on localhost.
ClusterName=pegboard
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# No cgroups: process tracking by /proc, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# CPUs are the consumable resource: two 1-CPU jobs share the node.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# A job may be requeued (scontrol requeue), and a node that was down comes back by itself.
JobRequeue=1
ReturnToService=2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
SlurmdTimeout=30
MessageTimeout=10
# Seconds between SIGTERM and SIGKILL when a job ends; finished jobs stay visible to
# scontrol show job for MinJobAge seconds (there is no accounting database for sacct).
KillWait=10
MinJobAge=600
InactiveLimit=0
MpiDefault=none
MailProg=/bin/true
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=2 RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

node_state() {
    { timeout 5 sinfo -h -N -n "$NODE" -o %T 2>/dev/null || true; } | head -n 1
}

start_daemons() {
    if [[ -s "$DIR/slurmctld.pid" ]] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null; then
        :
    else
        /usr/sbin/slurmctld -i || { show_log "$DIR/slurmctld.log"; die "slurmctld did not start"; }
    fi
    if [[ -s "$DIR/slurmd.pid" ]] && kill -0 "$(cat "$DIR/slurmd.pid")" 2>/dev/null; then
        :
    else
        /usr/sbin/slurmd -N "$NODE" || { show_log "$DIR/slurmd.log"; die "slurmd did not start"; }
    fi
}

wait_idle() {
    local state="" deadline=$((SECONDS + WAIT_S))
    while ((SECONDS < deadline)); do
        state="$(node_state)"
        case "$state" in
            idle | mixed | allocated) return ;;
        esac
        sleep 0.5
    done
    show_log "$DIR/slurmctld.log"
    show_log "$DIR/slurmd.log"
    timeout 5 sinfo -N -l >&2 || true
    die "node $NODE is not idle after $WAIT_S s (state: ${state:-no answer from slurmctld})"
}

main() {
    mkdir -p "$DIR"
    if [[ "${1:-start}" == "stop" ]]; then
        stop
        return
    fi
    [[ "${1:-start}" == "start" ]] || die "usage: $0 [start|stop]"
    install_packages
    start_munge
    write_conf
    start_daemons
    wait_idle
    echo "start-cluster: node $NODE is $(node_state); config $CONF, logs in $DIR"
}

main "$@"
