#!/usr/bin/env bash
# A real two-node Slurm cluster on this machine (Debian's slurm-wlm 22.05 and munge): slurmctld in the root
# namespace on a bridge, one slurmd in each of two network namespaces joined to it by veth pairs. accel plan's
# arrays are submitted with submit-slurm.sh; one node is killed (every process in its namespace) while it runs a
# shard, Slurm requeues it on the other, and accel db merge must hold exactly the planned points, with the GPU
# shards reported as unplaceable. Cleans up its daemons and namespaces on every exit.
# Usage: slurm_cluster_test.sh ACCEL_BIN. Needs root and CAP_NET_ADMIN; exit 77 (skip) without them, without
# slurm/munge or without ../shared/models/stories260K.gguf ($ACCEL_TEST_DATA), a failure under CI=true.
set -euo pipefail
accel=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data=${ACCEL_TEST_DATA:-$here/../../../shared}
model=$data/models/stories260K.gguf

skip() {
    if [ "${CI:-}" = true ]; then echo "FAIL: $1 (CI=true: required)"; exit 1; fi
    echo "SKIP: $1"
    exit 77
}
[ -f "$model" ] || skip "no $model (set ACCEL_TEST_DATA)"
# shellcheck source=../support/netns.sh
. "$here/../support/netns.sh"
netns_require
for tool in slurmctld slurmd munged sbatch squeue scontrol; do
    command -v "$tool" >/dev/null || skip "$tool not installed (scripts/bootstrap.sh installs slurm-wlm and munge)"
done

work=$(mktemp -d /tmp/accel-slurm.XXXXXX)
tag=$(( $$ % 100000 ))
br=acbr$tag
sub=10.$(( 200 + $$ % 50 )).$(( ($$ / 50) % 250 ))
port=$(( 20000 + ($$ % 2000) * 2 ))
pids=()
failed=1
cleanup() {
    set +e
    netns_remove "accel-n1-$tag" "accel-n2-$tag"
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    [ -f "$work/munged.pid" ] && kill -9 "$(cat "$work/munged.pid")" 2>/dev/null
    ip link del "$br" 2>/dev/null
    if [ "$failed" = 1 ]; then
        echo "--- logs (failure) ---"
        tail -n 30 "$work"/*.log 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
export SLURM_CONF=$work/slurm.conf ACCEL=$accel ACCEL_DATA_DIR=$work/data ACCEL_CACHE_DIR=$work/cache
log() { echo "[$(date +%T)] $*"; }

# The network: a bridge for the controller, a namespace per node.
netns_bridge "$br" "$sub"
for i in 1 2; do
    netns_host "accel-n$i-$tag" "av${i}h$tag" "av${i}n$tag" "$br" "$sub.$((10 + i))"
done

# One munged with a key of our own; every namespace reaches its socket through the filesystem.
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge.key"
munged --force --key-file="$work/munge.key" --socket="$work/munge.sock" --pid-file="$work/munged.pid" \
    --log-file="$work/munged.log" --seed-file="$work/munged.seed"

mkdir -p "$work/state" "$work/spool"
cat >"$SLURM_CONF" <<CONF
ClusterName=accel$tag
SlurmctldHost=$(hostname -s)($sub.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge.sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool/%n
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd-%n.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MailProg=/bin/true
ReturnToService=2
SlurmdTimeout=6
SlurmctldTimeout=10
MessageTimeout=5
KillWait=2
MinJobAge=600
JobRequeue=1
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=n1 NodeAddr=$sub.11 CPUs=1 State=UNKNOWN
NodeName=n2 NodeAddr=$sub.12 CPUs=1 State=UNKNOWN
PartitionName=test Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
CONF
echo "CgroupPlugin=cgroup/v1" >"$work/cgroup.conf"

slurmctld -D -f "$SLURM_CONF" >"$work/slurmctld.out.log" 2>&1 &
pids+=($!)
disown
start_node() {
    ip netns exec "accel-n$1-$tag" slurmd -D -N "n$1" -f "$SLURM_CONF" >"$work/slurmd-n$1.out.log" 2>&1 &
    pids+=($!)
    disown
}
start_node 1
start_node 2
for _ in $(seq 60); do
    [ "$(sinfo -h -N -t idle -o %N 2>/dev/null | sort -u | wc -l)" = 2 ] && break
    sleep 0.5
done
[ "$(sinfo -h -N -t idle -o %N | sort -u | wc -l)" = 2 ] || { echo "FAIL: the two nodes did not come up"; sinfo -N; exit 1; }
log "cluster up: $(sinfo -h -N -o '%N %T' | tr '\n' ' ')"

# The campaign: 4 CPU shards (one point each) and 4 GPU shards that no node here can run.
cat >"$work/spec.toml" <<SPEC
campaign = "slurm-ci"
[sweep]
model = "$model"
device = "cpu,cuda0"
n_prompt = 8
n_gen = 4
threads = "1,2"
[run]
repetitions = 1
warmup = 0
min_duration = 3
timeout = 60
[shards]
split = "point"
SPEC
"$accel" plan "$work/spec.toml" --out "$work/plan"
results=$work/plan/results/slurm-ci
set +e
"$work/plan/submit-slurm.sh" >"$work/submit.out" 2>"$work/submit.err"
submit_rc=$?
set -e
cat "$work/submit.out" "$work/submit.err"
[ "$submit_rc" = 3 ] || { echo "FAIL: submit-slurm.sh exit $submit_rc, expected 3 (the GPU class is unplaceable)"; exit 1; }
grep -q '^cuda0: unplaceable: ' "$work/submit.err" || { echo "FAIL: the GPU class was not reported unplaceable"; exit 1; }
job=$(awk '/^cpu: job /{print $3}' "$work/submit.out")
[ -n "$job" ] || { echo "FAIL: no job id for the cpu class"; exit 1; }

# Kill node n1 (slurmd, its step daemons and the shard) while its shard measures: once a run-shard process in
# n1's namespace has started its attempt folder (.attempt-0.tmp-<pid>). Bring n1 back once Slurm marked it down.
killed=""
for _ in $(seq 300); do
    for d in "$results"/*/.attempt-0.tmp-*; do
        [ -d "$d" ] || continue
        if ip netns pids "accel-n1-$tag" | grep -qx "${d##*-}"; then
            killed=$(squeue -h -j "$job" -t R -w n1 -o %i | head -n 1)
            log "killing node n1 while it runs task $killed ($(basename "$(dirname "$d")"))"
            ip netns pids "accel-n1-$tag" | xargs -r kill -9
            break 2
        fi
    done
    sleep 0.2
done
[ -n "$killed" ] || { echo "FAIL: no shard ran on n1"; squeue; exit 1; }
for _ in $(seq 120); do
    sinfo -h -N -n n1 -o %T | grep -qiE 'down|fail' && break
    sleep 0.5
done
log "n1: $(sinfo -h -N -n n1 -o '%T %E')"
start_node 1

# Wait for the array to finish; a requeued task waits for its begin time, which we bring forward.
for _ in $(seq 400); do
    left=$(squeue -h -j "$job" -o '%i %T %r' 2>/dev/null || true)
    [ -z "$left" ] && break
    while read -r id state reason; do
        [ "$state" = PENDING ] && [ "$reason" = BeginTime ] && scontrol update "JobId=$id" StartTime=now >/dev/null 2>&1
    done <<<"$left"
    sleep 0.5
done
[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] || { echo "FAIL: the array did not finish"; squeue; exit 1; }
log "array $job finished"
restarts=$(scontrol -o show job "$killed" 2>/dev/null | grep -o 'Restarts=[0-9]*' | head -n 1 || true)
log "killed task $killed: $restarts"

# Merge: exactly the planned CPU points, no duplicate, the GPU shards unplaceable.
db=$work/warehouse.duckdb
set +e
"$accel" db merge --db "$db" "$results" --format csv >"$work/merge.csv" 2>"$work/merge.err"
merge_rc=$?
set -e
cat "$work/merge.csv" "$work/merge.err"
[ "$merge_rc" = 3 ] || { echo "FAIL: db merge exit $merge_rc, expected 3 (unplaceable GPU shards)"; exit 1; }
count() { "$accel" db query --db "$db" --format csv "$1" | tail -n 1; }
n=$(count "SELECT count(*) FROM results")
distinct=$(count "SELECT count(DISTINCT (scenario, n_prompt, n_gen, n_threads, device)) FROM results")
[ "$n" = 4 ] && [ "$distinct" = 4 ] || { echo "FAIL: the warehouse holds $n results ($distinct distinct), planned 4"; exit 1; }
[ "$(grep -c ',unplaceable,' "$work/merge.csv")" = 4 ] || { echo "FAIL: 4 GPU shards should be unplaceable"; exit 1; }
[ "$(grep -c ',merged,' "$work/merge.csv")" = 4 ] || { echo "FAIL: 4 CPU shards should be merged"; exit 1; }
grep -q ',unplaceable,.*sbatch refused it' "$work/merge.csv" || { echo "FAIL: no sbatch reason for the GPU shards"; exit 1; }
ls -a "$results"/*/ | grep -q '^\.attempt-0\.tmp-' || { echo "FAIL: the killed shard left no unfinished attempt"; exit 1; }
"$accel" report --db "$db" --campaign slurm-ci
failed=0
echo "PASS: two-node Slurm campaign: 4 planned CPU points merged once each after a killed node; GPU shards unplaceable"
