#!/usr/bin/env bash
# accel serve against the pinned llama.cpp's llama-server on the same GGUF and machine, both measured from the
# outside by `accel bench --target` with the same workload (docs/benchmarks.md, "serve: accel serve vs
# llama-server"). The servers run pinned to SERVER_CPUS and the load generator to CLIENT_CPUS, one server at a
# time, each measured ROUNDS times, alternating (A B, then B A); prints the median per-round ratio accel/llama.
#
#   benchmarks/serve_side_by_side.sh path/to/accel [model.gguf] [rounds (2)]
#   benchmarks/serve_side_by_side.sh --report DIR          (the table from a kept run)
#
# Environment: SERVER_CPUS (default 0) and CLIENT_CPUS (default 1): taskset lists; CLIENT_MASK: the same as a hex
# mask for --cpu-mask (default 2); PARALLEL (default "1,2,4": client concurrency of the offline points), QPS
# (default "2,8"), N_GEN (default 32), N_PROMPT (default 64), QUERIES (default 32), SLOTS (default 4: the
# servers' slots: llama-server -np, accel serve --parallel; 512 context cells per slot in both),
# THREADS (default 1: server threads), LLAMA_SERVER (default: the pinned build's), KEEP=DIR keeps the raw JSON.
set -euo pipefail

report() {
python3 - "$1" <<'PY'
import json, os, statistics, sys
out = sys.argv[1]
rows = {}  # (test) -> server -> round -> figures
for f in sorted(os.listdir(out)):
    if not f.endswith(".json"):
        continue
    server, rnd = f[:-5].split("-", 1)
    try:
        doc = json.load(open(os.path.join(out, f)))
    except ValueError:
        print(f"{f}: no JSON (see {f[:-5]}.log)", file=sys.stderr)
        continue
    for r in doc.get("results", []):
        rem = r.get("remote")
        if not r.get("ok") or not rem:
            print(f"{f}: {r.get('test')} failed: {r.get('failure_reason', '')}", file=sys.stderr)
            continue
        test = r["test"]
        rows.setdefault(test, {}).setdefault(server, {})[rnd] = {
            "tok_s": rem["output_tokens_per_s"], "ttft_p99": rem["ttft"]["p99_ms"], "tpot_p99": rem["tpot"]["p99_ms"],
            "e2e_p99": rem["e2e"]["p99_ms"], "valid": r["valid"], "tokens": rem["token_source"],
            "n_out": rem["n_output_tokens"], "header": rem["server_header"]}
def med(xs):
    return statistics.median(xs) if xs else float("nan")
print("| test | llama-server tok/s | accel tok/s | ratio | llama TTFT p99 ms | accel TTFT p99 ms | llama TPOT p99 ms | accel TPOT p99 ms | valid (llama/accel) |")
print("|---|---|---|---|---|---|---|---|---|")
for test, by in rows.items():
    a, l = by.get("accel", {}), by.get("llama", {})
    ratios = [a[k]["tok_s"] / l[k]["tok_s"] for k in a if k in l and l[k]["tok_s"] > 0]
    def m(d, key):
        return med([v[key] for v in d.values()])
    valid = lambda d: "/".join("y" if v["valid"] else "N" for v in d.values())
    print(f"| {test} | {m(l,'tok_s'):.1f} | {m(a,'tok_s'):.1f} | {med(ratios):.2f} | {m(l,'ttft_p99'):.1f} | "
          f"{m(a,'ttft_p99'):.1f} | {m(l,'tpot_p99'):.2f} | {m(a,'tpot_p99'):.2f} | {valid(l)} / {valid(a)} |")
PY
}

if [[ "${1:-}" == "--report" ]]; then report "$2"; exit 0; fi
ACCEL=$(realpath "${1:?usage: serve_side_by_side.sh path/to/accel [model.gguf] [rounds]}")
HERE=$(cd "$(dirname "$0")/.." && pwd)
MODEL=$(realpath "${2:-$HERE/../shared/models/stories260K.gguf}")
ROUNDS=${3:-2}
SERVER_CPUS=${SERVER_CPUS:-0} CLIENT_CPUS=${CLIENT_CPUS:-1} CLIENT_MASK=${CLIENT_MASK:-2}
PARALLEL=${PARALLEL:-1,2,4} QPS=${QPS:-2,8} N_GEN=${N_GEN:-32} N_PROMPT=${N_PROMPT:-64} QUERIES=${QUERIES:-32}
SLOTS=${SLOTS:-4} THREADS=${THREADS:-1}
PREFIX=$(bash "$HERE/scripts/bootstrap.sh" --print-prefix)
LLAMA_SERVER=${LLAMA_SERVER:-$PREFIX/bin/llama-server}
[[ -x "$LLAMA_SERVER" ]] || { echo "no llama-server at $LLAMA_SERVER (run scripts/bootstrap.sh)" >&2; exit 1; }
OUT=${KEEP:-$(mktemp -d)}
mkdir -p "$OUT"
ID=$(basename "$MODEL" .gguf)
PORT_L=18431 PORT_A=18432
PID=""
stop() { if [[ -n "$PID" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; fi; }
trap stop EXIT

start() {  # name
    if [[ $1 == llama ]]; then
        LD_LIBRARY_PATH="$PREFIX/lib:${LD_LIBRARY_PATH:-}" taskset -c "$SERVER_CPUS" "$LLAMA_SERVER" -m "$MODEL" \
            --alias "$ID" --port $PORT_L -t "$THREADS" -np "$SLOTS" -c $((SLOTS * 512)) --no-webui --metrics \
            >"$OUT/llama-server.log" 2>&1 &
        PID=$! URL=http://127.0.0.1:$PORT_L
    else
        taskset -c "$SERVER_CPUS" "$ACCEL" serve --models "$MODEL" --port $PORT_A -t "$THREADS" \
            --parallel "$SLOTS" --ctx 512 \
            >"$OUT/accel-serve.log" 2>&1 &
        PID=$! URL=http://127.0.0.1:$PORT_A
    fi
    for _ in $(seq 1 200); do curl -sf "$URL/v1/models" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "$1 did not start; see $OUT" >&2; exit 1
}

measure() {  # name round
    start "$1"
    taskset -c "$CLIENT_CPUS" "$ACCEL" bench --target "$URL" --served-model "$ID" --scenario offline,server \
        -p "$N_PROMPT" -n "$N_GEN" --parallel "$PARALLEL" --qps "$QPS" --queries "$QUERIES" --warmup 2 \
        --tokenizer "$MODEL" \
        --cpu-mask "$CLIENT_MASK" --no-store --json >"$OUT/$1-$2.json" 2>"$OUT/$1-$2.log" || true
    stop
}

for r in $(seq 1 "$ROUNDS"); do
    if (( r % 2 )); then measure llama "$r"; measure accel "$r"; else measure accel "$r"; measure llama "$r"; fi
done
echo "raw results: $OUT" >&2
report "$OUT"
