#!/usr/bin/env bash
# Parity of accel's Whisper path with whisper.cpp's own whisper-bench, built from the same whisper.cpp source
# against the same ggml (scripts/bootstrap-whisper.sh). Every side does whisper-bench's work (examples/bench/bench.cpp)
# on the same file, on the CPU with flash attention off (whisper-bench -ng -nfa): a zero mel, heat passes, then timed:
# one encode of a 30 s window; decode, 256 calls of 1 token at n_past 0..255; batchd, 64 calls of 5 tokens at 0;
# prompt, 16 calls of 256 tokens at 0. No side reads the logits.
#
#   benchmarks/whisper_parity.sh BUILD_DIR [rounds (20)] [threads (1)] [size (base)]
#   benchmarks/whisper_parity.sh --report DIR       (the tables from a kept run, old raw lines included)
#
# Each round runs three processes, in an order that cycles through all six: "accel" (benchmarks/whisper_parity:
# engine::WhisperModel, timed around accel's calls), "whisper-bench" (the peer program; its printed timers) and
# "whisper.cpp" (benchmarks/whisper_parity_peer: bench.cpp's calls on whisper.h, timed as accel's side is).
# Figures, each the median over rounds of the per-round ratio accel/peer, with a bootstrap 95% interval of that
# median and the ratios' interquartile range; under 8 rounds no verdict is given:
#   1. wall time, accel against whisper-bench: the parity claim. Supported only when every phase's interval lies
#      inside 0.97-1.03; exit 0 then, 3 otherwise (outside, or undecided: more rounds or a quieter machine).
#   2. process CPU time, accel against whisper.cpp (the same calls as whisper-bench): far less sensitive to other
#      load than wall time; reported with its own verdict, not in the exit status.
#   3. whisper.cpp's own timers in accel's process against whisper-bench's: the library's time alone (diagnostic);
#   4. the whisper.cpp harness's wall time against whisper-bench's (the harness does what whisper-bench does);
#   5. accel's time beyond whisper.cpp's timers within its own process: what accel's path adds (load moves both
#      terms of the difference alike, so this one holds on a busy machine).
#
# Environment: ROUNDS, THREADS, SIZE (defaults for the arguments); QUICK=1 (3 rounds of tiny: checks that
# everything runs, decides nothing); PIN=CPU_LIST pins every process there with taskset (default: the last CPU when
# THREADS=1, so both sides get the same core; PIN=none: no pinning); KEEP=DIR keeps the raw lines (one JSON line
# per process) there. BUILD_DIR holds src/cli/accel, benchmarks/whisper_parity and benchmarks/whisper_parity_peer.
# The model is `accel make-model --arch whisper --size SIZE --type f16` (RANDOM WEIGHTS: for speed only), made once
# into ~/.cache/accel/models.
set -euo pipefail

report() {
python3 - "$1" <<'PY'
import json, os, random, statistics, sys
out = sys.argv[1]
rows = [json.loads(l) for l in open(os.path.join(out, "raw.jsonl")) if l.strip()]
PHASES = ("encode", "decode", "batchd", "prompt")
LABEL = {"encode": "encode (one 30 s window)", "decode": "decode (256 x 1 token)",
         "batchd": "batchd (64 x 5 tokens)", "prompt": "prompt (16 x 256 tokens)"}
LO, HI = 0.97, 1.03
MIN_ROUNDS = 8  # below it a bootstrap of the median is little more than the range: no verdict
for r in rows:  # raw lines of the earlier script: accel timed around its calls, whisper-bench's timers, 2 phases
    if "encode_ms" in r:
        key = "wall_ms" if r["tool"] == "accel" else "whisper_ms"
        r[key] = {"encode": r.pop("encode_ms"), "decode": r.pop("decode_ms")}
by_round = {}
for r in rows:
    by_round.setdefault(r["round"], {})[r["tool"]] = r

def boot_ci(ratios, n=4000):
    rng = random.Random(0)  # fixed: the same raw lines give the same interval
    meds = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(n))
    return meds[int(0.025 * n)], meds[int(0.975 * n) - 1]

def verdict(lo, hi):
    if LO <= lo and hi <= HI:
        return "within 3%"
    if hi < LO or lo > HI:
        return "OUTSIDE 3%"
    return "undecided"

def table(title, a_tool, a_key, b_tool, b_key, a_name="accel", b_name="whisper-bench"):
    pairs = [v for v in by_round.values() if a_tool in v and b_tool in v and a_key in v[a_tool] and b_key in v[b_tool]]
    if not pairs:
        return None
    print(f"\n{title}\n")
    print(f"| phase | {a_name} ms (median) | {b_name} ms (median) | ratio (median of per-round ratios) "
          f"| 95% interval (bootstrap) | IQR of round ratios | rounds | verdict |")
    print("|---|---:|---:|---:|---|---|---:|---|")
    verdicts = []
    for ph in PHASES:
        got = [(p[a_tool][a_key][ph], p[b_tool][b_key][ph]) for p in pairs
               if ph in p[a_tool][a_key] and ph in p[b_tool][b_key]]
        if not got:
            continue
        ratios = [a / b for a, b in got]
        med = statistics.median(ratios)
        lo, hi = boot_ci(ratios)
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        v = verdict(lo, hi) if len(ratios) >= MIN_ROUNDS else f"too few rounds (< {MIN_ROUNDS})"
        verdicts.append(v)
        print(f"| {LABEL[ph]} | {statistics.median(a for a, _ in got):.2f} | {statistics.median(b for _, b in got):.2f} "
              f"| {med:.3f} | {lo:.3f}-{hi:.3f} | {q[0]:.3f}-{q[2]:.3f} | {len(ratios)} | {v} |")
    return verdicts

def claim(name, verdicts):
    if verdicts is None:
        return None
    if all(v == "within 3%" for v in verdicts):
        s = "SUPPORTED (every phase's interval lies within 0.97-1.03)"
    elif any(v == "OUTSIDE 3%" for v in verdicts):
        s = "NOT SUPPORTED (a phase's interval lies outside 0.97-1.03)"
    else:
        s = "UNDECIDED (an interval straddles the band, or too few rounds: more rounds, or a quieter machine)"
    print(f"\n{name}: {s}")
    return s.startswith("SUPPORTED")

wall = table("1. Wall time: accel (timed around its calls) against whisper-bench (its printed timers)",
             "accel", "wall_ms", "whisper-bench", "whisper_ms")
ok = claim("Parity claim, accel within 3% of whisper-bench (wall)", wall)
cpu = table("2. Process CPU time: accel against whisper.cpp (bench.cpp's calls on whisper.h), both timed around "
            "the calls", "accel", "cpu_ms", "whisper.cpp", "cpu_ms", b_name="whisper.cpp")
claim("Same work, CPU time, accel within 3% of whisper.cpp", cpu)
table("3. Diagnostic, whisper.cpp's own timers: in accel's process against whisper-bench's",
      "accel", "whisper_ms", "whisper-bench", "whisper_ms")
table("4. Diagnostic, wall time: the whisper.cpp harness (timed around its calls) against whisper-bench",
      "whisper.cpp", "wall_ms", "whisper-bench", "whisper_ms", a_name="whisper.cpp")
def overhead(tool, name):
    # in one process, so other load moves both the same way: wall time around the calls minus whisper.cpp's timers
    got = [r for r in rows if r["tool"] == tool and "wall_ms" in r and "whisper_ms" in r]
    if not got:
        return
    print(f"\n5. {name}'s time beyond whisper.cpp's own timers in the same process (wall around the calls - timers)\n")
    print("| phase | median ms | max ms | median % of the timers |")
    print("|---|---:|---:|---:|")
    for ph in PHASES:
        d = [(r["wall_ms"][ph] - r["whisper_ms"][ph], r["whisper_ms"][ph]) for r in got if ph in r["whisper_ms"]]
        if d:
            print(f"| {LABEL[ph]} | {statistics.median(a for a, _ in d):.2f} | {max(a for a, _ in d):.2f} "
                  f"| {statistics.median(100 * a / b for a, b in d):.3f} |")
overhead("accel", "accel")
m = next(iter(by_round.values()))
m = m.get("accel") or next(iter(m.values()))
meta = json.load(open(os.path.join(out, "meta.json"))) if os.path.exists(os.path.join(out, "meta.json")) else {}
print(f"\nmodel: {os.path.basename(m.get('model', '?'))}; threads: {m.get('n_threads', '?')}; "
      f"{len(by_round)} rounds; pinned to CPU: {meta.get('pin', 'no')}; "
      f"load average at start/end: {meta.get('load_start', '?')} / {meta.get('load_end', '?')}")
sys.exit(0 if ok else 3)
PY
}

if [ "${1:-}" = "--report" ]; then report "$2"; exit $?; fi
build=${1:?usage: $0 BUILD_DIR [rounds] [threads] [size]}
if [ "${QUICK:-0}" = 1 ]; then : "${ROUNDS:=3}" "${SIZE:=tiny}"; fi
rounds=${2:-${ROUNDS:-20}}
threads=${3:-${THREADS:-1}}
size=${4:-${SIZE:-base}}
here="$(cd "$(dirname "$0")" && pwd)"
accel="$build/src/cli/accel"
ours="$build/benchmarks/whisper_parity"
harness="$build/benchmarks/whisper_parity_peer"
peer="$(bash "$here/../scripts/bootstrap.sh" --print-whisper-prefix)/bin/whisper-bench"
for f in "$accel" "$ours" "$harness" "$peer"; do
    [ -x "$f" ] || { echo "whisper_parity: $f is missing (build it)" >&2; exit 2; }
done
pin=${PIN:-}
if [ -z "$pin" ] && [ "$threads" = 1 ]; then pin=$(($(nproc) - 1)); fi
[ "$pin" = none ] && pin=
pinned=()
if [ -n "$pin" ]; then
    command -v taskset >/dev/null || { echo "whisper_parity: PIN needs taskset (util-linux)" >&2; exit 2; }
    pinned=(taskset -c "$pin")
fi
models="${ACCEL_CACHE_DIR:-$HOME/.cache/accel}/models"
mkdir -p "$models"
model="$models/whisper-$size-f16-s1.bin"
[ -f "$model" ] || "$accel" make-model --arch whisper --size "$size" --type f16 --out "$model" >&2
out=${KEEP:-$(mktemp -d)}
mkdir -p "$out"
: >"$out/raw.jsonl"
load() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(load)

tag() {  # adds the round and the position in the round to a tool's JSON line
    python3 -c 'import json, sys; j = json.loads(sys.stdin.read()); j["round"] = int(sys.argv[1]); j["slot"] = int(sys.argv[2]); print(json.dumps(j))' "$1" "$2"
}
run_bench() {
    "${pinned[@]}" "$peer" -m "$model" -t "$threads" -ng -nfa 2>&1 | python3 -c '
import json, re, sys
log = sys.stdin.read()
got = {}
for name in ("encode", "decode", "batchd", "prompt"):
    m = re.search(name + r" time =\s*([0-9.]+) ms /\s*(\d+) runs", log)
    if not m:
        sys.exit("whisper-bench printed no " + name + " time:\n" + log[-2000:])
    got[name] = float(m.group(1))
print(json.dumps({"tool": "whisper-bench", "n_threads": int(sys.argv[2]), "model": sys.argv[1], "whisper_ms": got}))
' "$model" "$threads"
}
run_accel() { "${pinned[@]}" "$ours" "$model" "$threads" 2>/dev/null; }
run_harness() { "${pinned[@]}" "$harness" "$model" "$threads" 2>/dev/null; }
orders=("accel bench harness" "bench harness accel" "harness accel bench"
        "accel harness bench" "harness bench accel" "bench accel harness")
for ((i = 0; i < rounds; i++)); do
    slot=0
    for side in ${orders[$((i % 6))]}; do
        "run_$side" | tag "$i" "$slot" >>"$out/raw.jsonl"
        slot=$((slot + 1))
    done
    echo "round $((i + 1))/$rounds done" >&2
done
printf '{"pin": "%s", "load_start": "%s", "load_end": "%s"}\n' "${pin:-no}" "$load_start" "$(load)" >"$out/meta.json"
echo "raw data: $out/raw.jsonl" >&2
report "$out"
