#!/usr/bin/env bash
# Distributed load (docs/multinode.md): one `accel serve` on stories260K in the root namespace, on a bridge, and two
# load generators, each in a network namespace of its own (with its own host name) joined by a veth pair, run
# `accel bench --target --load-shard I/2 --start-at T` against it. `accel bench --merge-samples` must give the
# percentiles of the union of both generators' raw samples (computed here with jq and awk), name both hosts, store
# one point with every query's sample, and refuse a shard of another schedule (exit 2). Cleans up its processes and
# namespaces on every exit.
# Usage: distributed_load_test.sh ACCEL_BIN. Needs root and CAP_NET_ADMIN; exit 77 (skip) without them, without jq,
# or without ../shared/models/stories260K.gguf ($ACCEL_TEST_DATA), a failure under CI=true.
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
for tool in jq awk curl unshare; do
    command -v "$tool" >/dev/null || skip "$tool not installed"
done

work=$(mktemp -d /tmp/accel-distload.XXXXXX)
tag=$(( $$ % 100000 ))
br=adbr$tag
sub=10.$(( 200 + $$ % 50 )).$(( ($$ / 50) % 250 ))
port=$(( 24000 + ($$ % 2000) * 2 ))
serve_pid=""
failed=1
cleanup() {
    set +e
    netns_remove "accel-g0-$tag" "accel-g1-$tag"
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    ip link del "$br" 2>/dev/null
    if [ "$failed" = 1 ]; then
        echo "--- logs (failure) ---"
        tail -n 20 "$work"/*.log 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
export ACCEL_DATA_DIR=$work/data ACCEL_CACHE_DIR=$work/cache
log() { echo "[$(date +%T)] $*"; }
fail() { echo "FAIL: $*"; exit 1; }

# The network: the server on a bridge in the root namespace, a namespace per load generator.
netns_bridge "$br" "$sub"
for i in 0 1; do
    netns_host "accel-g$i-$tag" "ag${i}h$tag" "ag${i}n$tag" "$br" "$sub.$((10 + i))"
done

# accel serve off loopback needs an API key; the generators send it with --api-key-file.
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/key"
"$accel" serve --host "$sub.1" --port "$port" --models "$model" --api-key-file "$work/key" --parallel 4 --max-queue 256 \
    >"$work/serve.log" 2>&1 &
serve_pid=$!
url=http://$sub.1:$port
for _ in $(seq 100); do
    ip netns exec "accel-g0-$tag" curl -sf "$url/health" >/dev/null 2>&1 && break
    sleep 0.1
done
ip netns exec "accel-g0-$tag" curl -sf "$url/health" >/dev/null || fail "accel serve did not answer at $url from a namespace"
log "serving $url; generators at $sub.10 and $sub.11"

# Both generators: the same command but for --load-shard, and a common start a few seconds ahead.
start=$(( $(date +%s%3N) + 10000 ))
mkdir -p "$work/samples"
pids=()
for i in 0 1; do
    ip netns exec "accel-g$i-$tag" unshare --uts sh -c "hostname accel-gen$i && exec \"\$0\" \"\$@\"" \
        "$accel" bench --target "$url" --served-model stories260K --api-key-file "$work/key" --scenario server \
        -p 8 -n 4 --qps 20 --queries 60 --max-lateness-ms 2000 --seed 7 \
        --load-shard "$i/2" --start-at "$start" --samples-out "$work/samples/gen$i.json" --json \
        >"$work/gen$i.out" 2>"$work/gen$i.log" &
    pids+=($!)
done
for i in 0 1; do
    wait "${pids[$i]}" || fail "generator $i exited $?: $(tail -n 3 "$work/gen$i.log")"
done
log "generators done: $(jq -c '[.samples | length]' "$work"/samples/gen*.json | tr '\n' ' ')"
for i in 0 1; do
    [ "$(jq -r .host "$work/samples/gen$i.json")" = "accel-gen$i" ] || fail "gen$i.json does not name its host"
    # Each generator sent only its share: queries with index % 2 == i.
    jq -e --argjson i "$i" '[.samples[].query % 2 == $i] | all' "$work/samples/gen$i.json" >/dev/null ||
        fail "generator $i issued queries outside its shard"
done

db=$work/warehouse.duckdb
"$accel" bench --merge-samples "$work/samples" --db "$db" --json >"$work/merged.json" 2>"$work/merge.log" ||
    fail "merge exited $?: $(tail -n 3 "$work/merge.log")"
point=$(jq -c '.results[0]' "$work/merged.json")

# The reference: type 7 percentiles of the union of the raw samples, from the files alone.
pct() {  # FIELD P: the P-th percentile (ms) of FIELD over both files' successful samples
    jq -r ".samples[] | select(.error == \"\") | .$1 | select(. != null)" "$work"/samples/gen*.json | sort -n |
        awk -v p="$2" '{ v[NR - 1] = $1 } END {
            h = (NR - 1) * p; lo = int(h); hi = (lo + 1 < NR) ? lo + 1 : lo
            printf "%.9f\n", (v[lo] + (h - lo) * (v[hi] - v[lo])) / 1e6 }'
}
same() {  # WHAT GOT WANT
    awk -v a="$2" -v b="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-6 * (b < 0 ? -b : b) + 1e-6) }' ||
        fail "$1: merged $2, union of the raw samples $3"
    log "$1: merged $2 = union $3"
}
n=$(jq -s '[.[].samples | length] | add' "$work"/samples/gen*.json)
[ "$n" = 60 ] || fail "the two files hold $n samples, not the schedule's 60"
[ "$(jq '.remote.n_requests' <<<"$point")" = 60 ] || fail "the merged point counts $(jq '.remote.n_requests' <<<"$point") requests"
[ "$(jq '.remote.n_failed' <<<"$point")" = 0 ] || fail "failed requests: $(jq -r '.remote.first_error' <<<"$point")"
for p in 50 90 99; do
    same "E2E p$p" "$(jq ".remote.e2e.p${p}_ms" <<<"$point")" "$(pct e2e_ns "0.$p")"
    same "TTFT p$p" "$(jq ".remote.ttft.p${p}_ms" <<<"$point")" "$(pct ttft_ns "0.$p")"
done
same "server p99" "$(jq '.server.p99_ms' <<<"$point")" "$(pct e2e_ns 0.99)"
jq -e '.remote.generators == ["accel-gen0 (shard 0/2, 30 queries)", "accel-gen1 (shard 1/2, 30 queries)"]' \
    <<<"$point" >/dev/null || fail "generators: $(jq -c .remote.generators <<<"$point")"

# Stored like a single generator's point: one result with every query's latency, the hosts in the run's extra.
stored=$("$accel" db query --db "$db" --format csv \
    "SELECT (SELECT count(*) FROM results), (SELECT count(*) FROM samples), (SELECT count(*) FROM runs WHERE \
     json_extract_string(extra, '\$.load_generators[1]') LIKE 'accel-gen1 %')" | tail -n 1)
[ "$stored" = "1,60,1" ] || fail "stored results,samples,runs-naming-gen1: $stored"

# A shard of another schedule (another seed) is refused with one line, exit 2.
mkdir "$work/mixed"
cp "$work/samples/gen0.json" "$work/mixed/"
jq -c '.seed = 8' "$work/samples/gen1.json" >"$work/mixed/gen1.json"
set +e
"$accel" bench --merge-samples "$work/mixed" --no-store >/dev/null 2>"$work/mixed.err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "a mismatched shard: exit $rc, expected 2"
grep -q "are shards of different schedules: seed 7 vs 8" "$work/mixed.err" || fail "mismatch message: $(cat "$work/mixed.err")"
[ "$(grep -c . "$work/mixed.err")" = 1 ] || fail "the mismatch is not one line: $(cat "$work/mixed.err")"

failed=0
log "PASS"
