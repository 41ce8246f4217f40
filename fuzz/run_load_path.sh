#!/usr/bin/env bash
# Runs the load-path fuzzer for its budget: one hour or 5 million executions, whichever comes first.
#   fuzz/run_load_path.sh BUILD_DIR [SECONDS] [RUNS]
# Seeds: fuzz/corpus/gguf and fuzz/regressions/gguf, 400 mutants of ../shared/models/stories260K.gguf written now,
# and a small synthetic model of each architecture when an accel binary is at $ACCEL_BIN (make-model). Findings
# (crash-*, leak-*, timeout-*, oom-*) land in $ACCEL_FUZZ_OUT (default build/fuzz-out); the summary line says how
# many executions ran. Exit status: libFuzzer's (non-zero when it found something).
set -euo pipefail
build=${1:?usage: fuzz/run_load_path.sh BUILD_DIR [SECONDS] [RUNS]}
seconds=${2:-3600}
runs=${3:-5000000}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data=${ACCEL_TEST_DATA:-$here/../../shared}
out=${ACCEL_FUZZ_OUT:-$build/../fuzz-out}
mkdir -p "$out/corpus" "$out/seeds" "$out/findings"
stories="$data/models/stories260K.gguf"
if [ -f "$stories" ]; then
    "$build/fuzz/write_mutants" "$stories" "$out/seeds/mutants" 400 >/dev/null
    cp "$stories" "$out/seeds/"
else
    echo "run_load_path: $stories is absent: no stories260K mutants among the seeds" >&2
fi
if [ -x "${ACCEL_BIN:-}" ]; then
    # The smallest model of each architecture whose vocabulary keeps it under the input cap: qwen2 and qwen3's
    # 151936-token vocabulary makes 20 MB, too large to mutate quickly; their loader paths are llama's.
    for arch in llama bert phi3 gpt2 starcoder2; do
        [ -f "$out/seeds/synthetic-$arch.gguf" ] || "$ACCEL_BIN" make-model --arch "$arch" --params 7M --type q4_0 \
            --out "$out/seeds/synthetic-$arch.gguf" >/dev/null 2>&1 || echo "run_load_path: make-model $arch failed" >&2
    done
fi
# -rss_limit_mb: a model that passes validation may still ask llama.cpp for a large context or compute buffer;
# 2 GiB is far above anything a seed needs. -timeout: loading the 50k-merge synthetic gpt2/starcoder2 vocabularies
# under ASan took 6 s of CPU and 43 s of wall time on a loaded 2-core VM, which a 30 s limit reported as a hang. Inputs are capped at 8 MiB (stories260K is 1.1 MB, the synthetic
# models at q4_0 about 5 MB).
exec "$build/fuzz/load_path_fuzzer" -max_total_time="$seconds" -runs="$runs" -rss_limit_mb=2048 -max_len=8388608 \
    -timeout=120 -print_final_stats=1 -artifact_prefix="$out/findings/" \
    "$out/corpus" "$out/seeds" "$here/corpus/gguf" "$here/regressions/gguf"
