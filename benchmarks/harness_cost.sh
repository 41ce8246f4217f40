#!/usr/bin/env bash
# The harness's own cost: `accel bench` against llama.cpp's llama-bench (the pinned build) as whole processes, on
# stories260K with 2 threads, where measuring takes little and the fixed cost (processes, loads, probes) shows.
# Interleaves the two tools (A B, then B A in the next pair) and prints per case the median wall time of each and
# the median of the per-pair ratios accel/llama-bench.
#
#   benchmarks/harness_cost.sh path/to/accel [pairs (7)]   (about 30 s on 2 cores)
#
# Cases: one pp/tg pair (-p 64 -n 32 -r 5 -t 2) and a 12-point sweep (-p 16,32,64,128 -n 16,32 -t 1,2 -r 5).
# accel runs with --no-store (llama-bench stores nothing either). Environment: LLAMA_BENCH=path picks another
# llama-bench (default: the pinned build's); MODEL=path another model (default: stories260K from $ACCEL_TEST_DATA
# or ../shared). Exit 3 when the sweep's ratio is above MAX_RATIO (default 1.2).
set -euo pipefail

accel=${1:?usage: benchmarks/harness_cost.sh path/to/accel [pairs]}
pairs=${2:-7}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
llama_bench=${LLAMA_BENCH:-"$(bash "$here/scripts/bootstrap.sh" --print-prefix)/bin/llama-bench"}
model=${MODEL:-"${ACCEL_TEST_DATA:-$here/../shared}/models/stories260K.gguf"}
for f in "$accel" "$llama_bench" "$model"; do
    [ -e "$f" ] || { echo "harness_cost.sh: $f not found" >&2; exit 2; }
done

python3 - "$accel" "$llama_bench" "$model" "$pairs" "${MAX_RATIO:-1.2}" <<'PY'
import statistics, subprocess, sys, time
accel, llama, model, pairs, max_ratio = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
cases = {
    "one pp/tg pair: -p 64 -n 32 -r 5 -t 2": ["-p", "64", "-n", "32", "-r", "5", "-t", "2"],
    "12-point sweep: -p 16,32,64,128 -n 16,32 -t 1,2 -r 5": ["-p", "16,32,64,128", "-n", "16,32", "-t", "1,2", "-r", "5"],
}
def wall(cmd):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"harness_cost.sh: {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return dt
bad = 0
def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "unknown"
print(f"load average (1 min) at the start: {loadavg()}\n")
print("| case | accel s (median) | llama-bench s (median) | ratio (median of pairs) | pair ratios min-max |")
print("|---|---:|---:|---:|---|")
for name, flags in cases.items():
    a_cmd = [accel, "bench", "--no-store", "-m", model, "--format", "jsonl"] + flags
    b_cmd = [llama, "-m", model, "-o", "jsonl"] + flags
    wall(a_cmd); wall(b_cmd)  # one untimed pair: page cache, dynamic loader
    a, b = [], []
    for i in range(pairs):
        if i % 2 == 0:
            a.append(wall(a_cmd)); b.append(wall(b_cmd))
        else:
            b.append(wall(b_cmd)); a.append(wall(a_cmd))
    ratios = [x / y for x, y in zip(a, b)]
    r = statistics.median(ratios)
    if name.startswith("12-point") and r > max_ratio:
        bad += 1
    print(f"| {name} | {statistics.median(a):.3f} | {statistics.median(b):.3f} | {r:.2f} | "
          f"{min(ratios):.2f}-{max(ratios):.2f} |")
print(f"\n{pairs} pairs per case, A B / B A alternating, whole processes (wall clock); target: sweep ratio <= {max_ratio}")
print(f"load average (1 min) at the end: {loadavg()}")
sys.exit(3 if bad else 0)
PY
