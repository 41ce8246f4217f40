#!/usr/bin/env bash
# `accel convert` against the pinned llama.cpp's convert_hf_to_gguf.py on the same ~1 GB f16 random LLaMA checkpoint,
# f16 out, in one run (docs/benchmarks.md, "model: convert speed"). Needs the oracle environment
# (scripts/bootstrap.sh --oracle) for the checkpoint and the reference converter.
#   benchmarks/convert_speed.sh [ACCEL_BIN]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
accel=${1:-$root/build/release/src/cli/accel}
# shellcheck source=scripts/deps.env
source "$root/scripts/deps.env"
cache="${ACCEL_DEPS_DIR:-$HOME/.cache/accel}"
src="$cache/deps/llama.cpp-${LLAMA_COMMIT:0:12}-src"
ckpt="$cache/bench/convert-speed-llama"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [[ ! -f "$ckpt/model.safetensors" ]]; then
    "$root/scripts/oracle/run.sh" make_big_llama.py --out "$ckpt" --tokenizer "$root/tests/fixtures/hf/llama"
fi
echo "checkpoint: $ckpt ($(du -sh "$ckpt" | cut -f1)); $(nproc) cores; $(date -u +%FT%TZ)"
sync
t0=$(date +%s.%N)
"$accel" convert "$ckpt" --out "$out/accel.gguf" --type f16 > /dev/null
t1=$(date +%s.%N)
"$cache/oracle/venv/bin/python" "$src/convert_hf_to_gguf.py" "$ckpt" --outtype f16 --outfile "$out/ref.gguf" \
    > "$out/ref.log" 2>&1 || { tail -20 "$out/ref.log"; exit 1; }
t2=$(date +%s.%N)
a=$(echo "$t1 - $t0" | bc -l) r=$(echo "$t2 - $t1" | bc -l)
printf 'accel convert:        %6.1f s  (%s)\n' "$a" "$(du -h "$out/accel.gguf" | cut -f1)"
printf 'convert_hf_to_gguf.py: %6.1f s  (%s)\n' "$r" "$(du -h "$out/ref.gguf" | cut -f1)"
printf 'ratio: accel is %.1fx faster\n' "$(echo "$r / $a" | bc -l)"
PYTHONPATH="$src/gguf-py" "$cache/oracle/venv/bin/python" "$root/scripts/oracle/compare_gguf.py" "$out/accel.gguf" \
    "$out/ref.gguf" --ignore general.name --ignore general.size_label --ignore tokenizer.ggml.add_sep_token | tail -1
