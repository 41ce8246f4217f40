#!/usr/bin/env bash
# The README's main job, after the build: detect the machine, benchmark, and report.
# Usage: scripts/main-job.sh path/to/accel
set -euo pipefail
accel=${1:?usage: scripts/main-job.sh path/to/accel}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared="${ACCEL_TEST_DATA:-$here/../shared}"
cache="${ACCEL_CACHE_DIR:-$HOME/.cache/accel}"

"$accel" version
mkdir -p "$cache/models"
synthetic="$cache/models/llama-100M-q4_0-s1.gguf"
if [ ! -f "$synthetic" ]; then
    "$accel" make-model --arch llama --params 100M --type q4_0 --seed 1 --out "$synthetic"
fi
echo "== synthetic llama 100M q4_0 (random weights: the text is meaningless, the speed is real)"
"$accel" generate --model "$synthetic" --prompt "The quick brown fox" -n 64 >/dev/null
if [ -f "$shared/models/stories260K.gguf" ]; then
    echo "== stories260K"
    "$accel" generate --model "$shared/models/stories260K.gguf" --prompt "Once upon a time" -n 48
fi
