#!/usr/bin/env bash
# Builds the estimator-vs-measured table of docs/benchmarks.md (model section).
# usage: benchmarks/estimator_table.sh BUILD_DIR [STORIES_GGUF] [MODEL_DIR] [N_CTX]
set -euo pipefail
build=${1:?build dir}
stories=${2:-$(dirname "$0")/../../shared/models/stories260K.gguf}
dir=${3:-/tmp/accel-estimator-models}
n_ctx=${4:-2048}
mkdir -p "$dir"
models=("$stories")
for params in 25M 200M; do
    for type in f32 f16 q8_0 q4_0; do
        out="$dir/llama-$params-$type.gguf"
        [ -f "$out" ] || "$build/src/cli/accel" make-model --arch llama --params "$params" --type "$type" --out "$out" >&2
        models+=("$out")
    done
done
echo "| model | params | weights MiB | KV MiB | compute MiB (est.) | total MiB (est.) | measured MiB | error |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for m in "${models[@]}"; do
    "$build/benchmarks/estimator_bench" "$m" "$n_ctx" 512
done
