#!/usr/bin/env bash
# Parity of accel's Whisper path with whisper.cpp's own whisper-bench, built from the same whisper.cpp source
# against the same ggml (scripts/bootstrap-whisper.sh). Both do whisper-bench's work on the same file: one encode of
# a 30 s window and 256 single-token decodes, timed after two warm-up passes, on the CPU with flash attention off
# (whisper-bench -ng -nfa). Rounds alternate the order (A B, then B A); the table gives the medians and the median
# of the per-round ratios accel/whisper-bench, held to 0.97-1.03 (exit 3 outside it).
#
#   benchmarks/whisper_parity.sh BUILD_DIR [rounds (8)] [threads (2)] [size (base)]
#   benchmarks/whisper_parity.sh --report DIR       (the table from a kept run)
#
# BUILD_DIR holds src/cli/accel and benchmarks/whisper_parity. The model is `accel make-model --arch whisper
# --size SIZE --type f16` (RANDOM WEIGHTS: for speed only), made once into ~/.cache/accel/models. KEEP=DIR keeps
# the raw lines (one JSON line per tool per round) there.
set -euo pipefail

report() {
python3 - "$1" <<'PY'
import json, os, statistics, sys
out = sys.argv[1]
rows = [json.loads(l) for l in open(os.path.join(out, "raw.jsonl")) if l.strip()]
by_round = {}
for r in rows:
    by_round.setdefault(r["round"], {})[r["tool"]] = r
pairs = [v for v in by_round.values() if "accel" in v and "whisper-bench" in v]
if not pairs:
    print("no complete round"); sys.exit(1)
print("| figure | accel ms (median) | whisper-bench ms (median) | ratio accel/peer (median of rounds) | round ratios min-max | in 0.97-1.03 |")
print("|---|---:|---:|---:|---|---|")
bad = 0
for key, label in (("encode_ms", "encode (one 30 s window)"), ("decode_ms", "decode (256 single tokens)")):
    ratios = [p["accel"][key] / p["whisper-bench"][key] for p in pairs]
    r = statistics.median(ratios)
    ok = 0.97 <= r <= 1.03
    bad += not ok
    print(f"| {label} | {statistics.median(p['accel'][key] for p in pairs):.2f} | "
          f"{statistics.median(p['whisper-bench'][key] for p in pairs):.2f} | {r:.3f} | "
          f"{min(ratios):.3f}-{max(ratios):.3f} | {'yes' if ok else 'NO'} |")
m = pairs[0]["accel"]
print(f"\nmodel: {os.path.basename(m['model'])}; threads: {m['n_threads']}; {len(pairs)} rounds, A B / B A alternating")
sys.exit(3 if bad else 0)
PY
}

if [ "${1:-}" = "--report" ]; then report "$2"; exit $?; fi
build=${1:?usage: $0 BUILD_DIR [rounds] [threads] [size]}
rounds=${2:-8}
threads=${3:-2}
size=${4:-base}
here="$(cd "$(dirname "$0")" && pwd)"
accel="$build/src/cli/accel"
ours="$build/benchmarks/whisper_parity"
peer="$(bash "$here/../scripts/bootstrap.sh" --print-whisper-prefix)/bin/whisper-bench"
for f in "$accel" "$ours" "$peer"; do [ -x "$f" ] || { echo "whisper_parity: $f is missing (build it)" >&2; exit 2; }; done
models="${ACCEL_CACHE_DIR:-$HOME/.cache/accel}/models"
mkdir -p "$models"
model="$models/whisper-$size-f16-s1.bin"
[ -f "$model" ] || "$accel" make-model --arch whisper --size "$size" --type f16 --out "$model" >&2
out=${KEEP:-$(mktemp -d)}
mkdir -p "$out"
: >"$out/raw.jsonl"

run_peer() {
    "$peer" -m "$model" -t "$threads" -ng -nfa 2>&1 | python3 -c '
import json, re, sys
log = sys.stdin.read()
enc = float(re.search(r"encode time =\s*([0-9.]+) ms /\s*1 runs", log).group(1))
dec = float(re.search(r"decode time =\s*([0-9.]+) ms /\s*256 runs", log).group(1))
print(json.dumps({"tool": "whisper-bench", "round": int(sys.argv[1]), "encode_ms": enc, "decode_ms": dec,
                  "n_threads": int(sys.argv[3]), "model": sys.argv[2]}))
' "$1" "$model" "$threads" >>"$out/raw.jsonl"
}
run_ours() {
    "$ours" "$model" "$threads" 2>/dev/null | python3 -c "import json,sys; j=json.loads(sys.stdin.read()); j['round']=$1; print(json.dumps(j))" >>"$out/raw.jsonl"
}
for ((i = 0; i < rounds; i++)); do
    if ((i % 2 == 0)); then run_ours "$i"; run_peer "$i"; else run_peer "$i"; run_ours "$i"; fi
    echo "round $((i + 1))/$rounds done" >&2
done
echo "raw data: $out/raw.jsonl" >&2
report "$out"
