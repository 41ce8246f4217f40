#!/usr/bin/env bash
# Parity of accel's llm scenario with llama.cpp's own llama-bench (the pinned build), on identical settings.
# Interleaves the two tools A B A B, and prints the median ratio accel/llama-bench per test.
#
#   benchmarks/bench_parity.sh path/to/accel [rounds] [reps]
#
# Models: synthetic ~100M llama in q4_0 and f16 (RANDOM WEIGHTS: for speed only), made once with make-model and
# cached; stories260K in f32 when ../shared has it (reported, not held to the band: it is too fast to be stable).
set -euo pipefail
accel=${1:?usage: benchmarks/bench_parity.sh path/to/accel [rounds] [reps]}
rounds=${2:-2}
reps=${3:-5}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
llama_bench="$(bash "$here/scripts/bootstrap.sh" --print-prefix)/bin/llama-bench"
threads=${THREADS:-$(nproc)}
cache="${ACCEL_CACHE_DIR:-$HOME/.cache/accel}/models"
mkdir -p "$cache"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

models=()
for type in q4_0 f16; do
    m="$cache/llama-100M-$type-s1.gguf"
    [ -f "$m" ] || "$accel" make-model --arch llama --params 100M --type "$type" --seed 1 --out "$m" >/dev/null
    models+=("$m")
done
stories="${ACCEL_TEST_DATA:-$here/../shared}/models/stories260K.gguf"
[ -f "$stories" ] && models+=("$stories")

for r in $(seq 1 "$rounds"); do
    for m in "${models[@]}"; do
        name=$(basename "$m" .gguf)
        echo "round $r: $name: accel" >&2
        "$accel" bench -m "$m" -p 64,512 -n 32,128 -r "$reps" -t "$threads" --no-store --format jsonl \
            >"$out/accel-$r-$name.jsonl"
        echo "round $r: $name: llama-bench" >&2
        "$llama_bench" -m "$m" -p 64,512 -n 32,128 -r "$reps" -t "$threads" -o jsonl \
            >"$out/llama-$r-$name.jsonl" 2>/dev/null
    done
done

python3 - "$out" "$threads" <<'PY'
import json, os, statistics, sys
out, threads = sys.argv[1], sys.argv[2]
rows = {}
for f in sorted(os.listdir(out)):
    tool, _, rest = f.partition("-")
    name = rest.partition("-")[2].rsplit(".", 1)[0]
    for line in open(os.path.join(out, f)):
        line = line.strip()
        if not line:
            continue
        j = json.loads(line)
        test = f"pp{j['n_prompt']}" if j["n_prompt"] > 0 else f"tg{j['n_gen']}"
        rows.setdefault((name, test), {}).setdefault(tool, []).append(j["avg_ts"])
print(f"| model | test | accel t/s (median) | llama-bench t/s (median) | ratio | in 0.97-1.03 |")
print("|---|---|---:|---:|---:|---|")
bad = 0
for (name, test), v in sorted(rows.items()):
    a, l = statistics.median(v.get("accel", [0])), statistics.median(v.get("llama", [0]))
    ratio = a / l if l else float("nan")
    held = not name.startswith("stories")
    ok = 0.97 <= ratio <= 1.03
    if held and not ok:
        bad += 1
    print(f"| {name} | {test} | {a:.2f} | {l:.2f} | {ratio:.3f} | {('yes' if ok else 'NO') if held else 'not held (too fast)'} |")
print(f"\nthreads: {threads}; {len(next(iter(rows.values())).get('accel', []))} interleaved rounds per tool")
sys.exit(3 if bad else 0)
PY
