#!/usr/bin/env bash
# End-to-end test of sharded runs on a real Slurm: installs (when missing) and starts a one-node
# Slurm (Debian's slurmctld, slurmd, slurm-client, munge), runs a small config once in one
# process and once as a job array of shards submitted with `gmmtune slurm --submit` (a merge job
# after the array), waits, and checks that the merged run equals the one-process run trial for
# trial (every field but the timings) and in its summary. It stops the daemons it started, by
# their process ids.
#
#   scripts/slurm_e2e.sh [path/to/gmmtune]      # default target/release/gmmtune
#
# Exit status: 0 passed, 1 failed, 77 skipped (no root or no apt-get to install Slurm).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(realpath "${1:-$repo/target/release/gmmtune}")"
skip() { echo "slurm e2e: SKIPPED: $*"; exit 77; }
fail() { echo "slurm e2e: FAILED: $*" >&2; exit 1; }

[ -x "$bin" ] || fail "no gmmtune binary at $bin (build it first: cargo build --release)"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    [ "$(id -u)" = 0 ] || skip "Slurm is not installed and installing it needs root"
    command -v apt-get >/dev/null || skip "Slurm is not installed and there is no apt-get"
    echo "slurm e2e: installing slurmctld slurmd slurm-client munge"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        slurmctld slurmd slurm-client munge >/dev/null; }; then
        skip "apt-get could not install Slurm (no package mirror reachable?)"
    fi
fi
[ "$(id -u)" = 0 ] || skip "starting slurmd needs root"

work="$(mktemp -d /tmp/gmmtune-slurm.XXXXXX)"
started=()
cleanup() {
    for pid in "${started[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${started[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

# munge: a key and a daemon of our own (an already running munged is used as it is).
if ! pgrep -x munged >/dev/null; then
    if [ ! -s /etc/munge/munge.key ]; then
        mkdir -p /etc/munge
        head -c 1024 /dev/urandom > /etc/munge/munge.key
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    fi
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    rm -f /run/munge/munged.pid
    su -s /bin/sh munge -c /usr/sbin/munged
    for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
    started+=("$(cat /run/munge/munged.pid)")
fi

host="$(hostname -s)"
cpus="$(nproc)"
mkdir -p "$work/spool/ctld" "$work/spool/d" "$work/log"
export SLURM_CONF="$work/slurm.conf"
cat > "$SLURM_CONF" <<EOF
ClusterName=gmmtune-e2e
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
/usr/sbin/slurmctld -D -f "$SLURM_CONF" > "$work/log/slurmctld.stdout" 2>&1 &
started+=("$!")
/usr/sbin/slurmd -D -f "$SLURM_CONF" > "$work/log/slurmd.stdout" 2>&1 &
started+=("$!")
for _ in $(seq 100); do
    sinfo -h -o '%T' 2>/dev/null | grep -qE '^idle' && break
    sleep 0.2
done
sinfo -h -o '%T' | grep -qE '^idle' || {
    tail -n 20 "$work/log/"*.log >&2 || true
    fail "the Slurm node did not come up"
}
echo "slurm e2e: Slurm is up on $host ($cpus CPUs)"

# A small config over shipped datasets, several groups per shard.
cat > "$work/e2e.yaml" <<EOF
name: slurm_e2e
seeds: [0, 1]
registry: $repo/datasets/registry.yaml
datasets: [wbc, glass, wine, hepatitis, lymphography]
space:
  n_components: {low: 1, high: 8, log: true, grid: 3}
  covariance_type: [spherical, diag, full]
  reg_covar: {low: 1.0e-5, high: 1.0e-2, log: true, grid: 2}
  init: [kmeans, random_from_data]
strategies:
  - {kind: grid}
  - {kind: random, budget: {trials: 10}}
  - {kind: cfo, budget: {trials: 15}}
EOF

t0=$(date +%s.%N)
"$bin" run "$work/e2e.yaml" --out "$work/whole" --quiet --jobs 2 > "$work/whole.out"
t1=$(date +%s.%N)
"$bin" slurm "$work/e2e.yaml" --array 3 --cpus-per-task 1 --out "$work/sharded" --submit \
    > "$work/submit.out"
cat "$work/submit.out"
jobs="$(grep -oE 'array job [0-9]+|merge job [0-9]+' "$work/submit.out" | grep -oE '[0-9]+' | paste -sd, -)"
[ -n "$jobs" ] || fail "no job ids in the output of gmmtune slurm --submit"
for _ in $(seq 600); do
    [ -z "$(squeue -h -j "$jobs" 2>/dev/null)" ] && break
    sleep 0.5
done
t2=$(date +%s.%N)
[ -z "$(squeue -h -j "$jobs" 2>/dev/null)" ] || fail "the jobs $jobs did not finish in 5 minutes"
[ -s "$work/sharded/summary.csv" ] || {
    cat "$work/sharded/slurm/"*.out >&2 || true
    fail "the merge job wrote no summary"
}
"$bin" status "$work/sharded" | tee "$work/status.out"
grep -q '0 running, 0 stopped, 0 missing' "$work/status.out" || fail "not every unit is done"

# Trial for trial: every field of every record but those that depend on timing (the seconds,
# and whether a result measured twice at once was taken from the other measurement).
essence() {
    cat "$@" | sed -E 's/"fit_seconds":[^,]*,"elapsed_s":[^,]*,"reused":(true|false),//' | sort
}
diff <(essence "$work/whole/trials.jsonl") <(essence "$work/sharded"/shards/*/trials.jsonl) \
    > "$work/trials.diff" || fail "the sharded trials differ from the one-process run ($work/trials.diff)"
# The summaries, without their timing columns.
untimed() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i !~ /^(fit_seconds|elapsed_s|time_overshoot_s)$/) keep[i] = 1 }
             { out = ""; for (i = 1; i <= NF; i++) if (keep[i]) out = out $i ","; print out }' "$1"
}
diff <(untimed "$work/whole/summary.csv") <(untimed "$work/sharded/summary.csv") \
    > "$work/summary.diff" || fail "the merged summary differs ($work/summary.diff)"
trials=$(wc -l < "$work/whole/trials.jsonl")
awk -v n="$trials" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
    printf "slurm e2e: PASSED: %d trials; one process %.1f s, 3 shards on Slurm + merge %.1f s (submit to done)\n", n, b - a, c - b }'
rm -rf "$work"
