#!/usr/bin/env bash
# Parity of accel's llm scenario with llama.cpp's own llama-bench (the pinned build), on identical settings.
# Interleaves the two tools test by test (A B, then B A), and prints the median of the per-pair ratios
# accel/llama-bench for each test.
#
#   benchmarks/bench_parity.sh path/to/accel [rounds (12)] [reps (5)]   (about 7 min on 2 cores)
#   benchmarks/bench_parity.sh --report DIR                             (the table from a kept run)
#
# Environment: DEVICE=cuda0 runs both tools fully offloaded (-ngl 99) on that device (default: cpu);
# LLAMA_BENCH=path picks another llama-bench (default: the pinned build's); KEEP=DIR keeps the raw JSONL there.
# Models: synthetic ~100M llama in q4_0 and f16 (RANDOM WEIGHTS: for speed only), made once with make-model and
# cached; stories260K in f32 when ../shared has it (reported, not held to the band: it is too fast to be stable).
set -euo pipefail

report() {
python3 - "$1" <<'PY'
import json, os, statistics, sys
out = sys.argv[1]
runs = {}  # (model, test) -> round -> tool -> avg_ts
meta = {}
for f in sorted(os.listdir(out)):
    if not f.endswith(".jsonl"):
        continue
    tool, rnd, _, name = f.rsplit(".", 1)[0].split("-", 3)
    for line in open(os.path.join(out, f)):
        line = line.strip()
        if not line:
            continue
        j = json.loads(line)
        test = f"pp{j['n_prompt']}" if j["n_prompt"] > 0 else f"tg{j['n_gen']}"
        runs.setdefault((name, test), {}).setdefault(rnd, {})[tool] = j["avg_ts"]
        meta.setdefault("threads", j.get("n_threads"))
        meta.setdefault("device", j.get("device") or "")
print(f"| model | test | accel t/s (median) | llama-bench t/s (median) | ratio (median of pairs) | pair ratios min-max | in 0.97-1.03 |")
print("|---|---|---:|---:|---:|---|---|")
bad = 0
n_rounds = 0
for (name, test), by_round in sorted(runs.items()):
    pairs = [v for v in by_round.values() if "accel" in v and "llama" in v]
    n_rounds = max(n_rounds, len(pairs))
    if not pairs:
        print(f"| {name} | {test} | | | | | NO (a tool gave no result) |")
        bad += 1
        continue
    ratios = [p["accel"] / p["llama"] for p in pairs]
    ratio = statistics.median(ratios)
    a = statistics.median(p["accel"] for p in pairs)
    l = statistics.median(p["llama"] for p in pairs)
    held = not name.startswith("stories")
    ok = 0.97 <= ratio <= 1.03
    if held and not ok:
        bad += 1
    verdict = ("yes" if ok else "NO") if held else "not held (too fast)"
    print(f"| {name} | {test} | {a:.2f} | {l:.2f} | {ratio:.3f} | {min(ratios):.3f}-{max(ratios):.3f} | {verdict} |")
print(f"\ndevice: {meta.get('device') or 'cpu'}; threads: {meta.get('threads')}; {n_rounds} rounds, each tool once "
      "per test per round, A B / B A alternating")
sys.exit(3 if bad else 0)
PY
}

if [ "${1:-}" = "--report" ]; then
    dir=${2:?usage: benchmarks/bench_parity.sh --report DIR}
    if ! compgen -G "$dir/*.jsonl" >/dev/null; then
        echo "bench_parity.sh: --report $dir: no JSONL results there (a folder kept with KEEP=DIR)" >&2
        exit 2
    fi
    report "$dir"
    exit
fi
accel=${1:?usage: benchmarks/bench_parity.sh path/to/accel [rounds] [reps]}
rounds=${2:-12}
reps=${3:-5}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
llama_bench=${LLAMA_BENCH:-"$(bash "$here/scripts/bootstrap.sh" --print-prefix)/bin/llama-bench"}
device=${DEVICE:-cpu}
accel_dev=(--device "$device")
llama_dev=()
if [ "$device" != cpu ]; then
    accel_dev+=(-ngl 99)
    llama_dev=(-ngl 99)
fi
threads=${THREADS:-$(nproc)}
cache="${ACCEL_CACHE_DIR:-$HOME/.cache/accel}/models"
mkdir -p "$cache"
if [ -n "${KEEP:-}" ]; then
    out=$KEEP
    mkdir -p "$out"
else
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi

models=()
for type in q4_0 f16; do
    m="$cache/llama-100M-$type-s1.gguf"
    [ -f "$m" ] || "$accel" make-model --arch llama --params 100M --type "$type" --seed 1 --out "$m" >/dev/null
    models+=("$m")
done
stories="${ACCEL_TEST_DATA:-$here/../shared}/models/stories260K.gguf"
[ -f "$stories" ] && models+=("$stories")

# One test at a time, the two tools back to back, A B in odd rounds and B A in even ones: a drift of the VM's speed
# over a round (tens of seconds) then falls on both tools alike, where running all four tests of one tool before
# the other's let the drift decide the ratio. Each figure is the median over rounds of the per-pair ratios.
tests=("-p 64 -n 0" "-p 512 -n 0" "-p 0 -n 32" "-p 0 -n 128")
run_accel() { "$accel" bench -m "$1" $2 "${accel_dev[@]}" -r "$reps" -t "$threads" --no-store --format jsonl >"$3"; }
run_llama() { "$llama_bench" -m "$1" $2 "${llama_dev[@]}" -r "$reps" -t "$threads" -o jsonl >"$3" 2>/dev/null; }
for r in $(seq 1 "$rounds"); do
    for m in "${models[@]}"; do
        name=$(basename "$m" .gguf)
        for t in "${tests[@]}"; do
            key="$r-$(echo "$t" | tr -d ' -')-$name"
            echo "round $r: $name: $t" >&2
            if [ $((r % 2)) -eq 1 ]; then
                run_accel "$m" "$t" "$out/accel-$key.jsonl"
                run_llama "$m" "$t" "$out/llama-$key.jsonl"
            else
                run_llama "$m" "$t" "$out/llama-$key.jsonl"
                run_accel "$m" "$t" "$out/accel-$key.jsonl"
            fi
        done
    done
done

report "$out"
