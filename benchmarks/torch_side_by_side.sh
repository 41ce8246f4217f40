#!/usr/bin/env bash
# accel against PyTorch eager (transformers) on the CPU, side by side in one run (issues 20, 21, 23): runs
# benchmarks/torch_side_by_side.py in the oracle environment (scripts/bootstrap.sh --oracle; never in CI).
#
#   benchmarks/torch_side_by_side.sh BUILD_DIR [--threads N] [--out DIR] [--models vit,clip,detr,wav2vec2]
#                                    [--batches 1,8] [--types f32,f16] [--warmup 1] [--reps 5] [--min-duration 5]
#
# BUILD_DIR holds src/cli/accel (use a release build). RANDOM WEIGHTS: the figures are speed only.
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [torch_side_by_side.py options]}
shift
here="$(cd "$(dirname "$0")" && pwd)"
accel="$build/src/cli/accel"
[ -x "$accel" ] || { echo "torch_side_by_side: $accel is missing (build it)" >&2; exit 2; }
exec bash "$here/../scripts/oracle/run.sh" ../../benchmarks/torch_side_by_side.py --accel "$accel" "$@"
