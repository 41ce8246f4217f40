#!/usr/bin/env bash
# Packs what a lent GPU machine needs to build the CUDA backend of the pinned llama.cpp and run accel's GPU checks
# (gpu-checks.sh) when that machine has nvcc and CMake but no network and none of our Debian packages:
#   llama-src.tgz  the pinned llama.cpp source, without models, docs and tests (10 MB)
#   bin/accel      accel as built here (any preset; default build/ci), plus hw_gpu_test
#   lib/           accel's runtime libraries from this Debian machine (libduckdb.so gzipped to fit the carry limit)
#   vocab/         the tokenizers make-model needs; bin/ninja
# Usage: scripts/device/make-bundle.sh [BUILD_DIR] [OUT_DIR]   (OUT_DIR defaults to build/gpu, which git ignores)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/ci}
out=${2:-$root/build/gpu}
deps=${ACCEL_DEPS_DIR:-$HOME/.cache/accel}/deps
# shellcheck source=../deps.env
. "$root/scripts/deps.env"
commit=$LLAMA_COMMIT
src="$deps/llama.cpp-${commit:0:12}-src"
[ -f "$src/.complete" ] || { echo "make-bundle: no llama.cpp source at $src; run scripts/bootstrap.sh" >&2; exit 1; }
[ -x "$build/src/cli/accel" ] || { echo "make-bundle: no accel binary in $build; build it first" >&2; exit 1; }

rm -rf "$out" && mkdir -p "$out/bin" "$out/lib" "$out/vocab"
tar czf "$out/llama-src.tgz" -C "$src" --exclude=.git --exclude=./models --exclude=./docs --exclude=./media \
    --exclude=./gguf-py --exclude=./examples --exclude=./tests --exclude=./benches --exclude=./app --exclude=./pocs \
    --exclude=./skills .
# Debug info would make accel 100 MB; the carry limit is 64 MiB in all.
strip --strip-debug -o "$out/bin/accel" "$build/src/cli/accel"
[ -x "$build/tests/hw/hw_gpu_test" ] && strip --strip-debug -o "$out/bin/hw_gpu_test" "$build/tests/hw/hw_gpu_test"
cp "$(command -v ninja)" "$out/bin/"
# Every shared library accel loads except glibc's own and llama.cpp's (the GPU machine builds those).
ldd "$build/src/cli/accel" | awk '/=> \// {print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
        libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libllama*|libggml*) ;;
        libduckdb.so) gzip -1 -c "$lib" >"$out/lib/libduckdb.so.gz" ;;
        libaccel.so*) strip --strip-debug -o "$out/lib/$(basename "$lib")" "$lib" ;;  # the bulk of accel's code
        *) cp -L "$lib" "$out/lib/" ;;
    esac
done
cp "$deps"/llama.cpp-"${commit:0:12}"-*-cpu/share/vocab/ggml-vocab-{llama-spm,bert-bge,gpt-2,qwen2}.gguf "$out/vocab/" 2>/dev/null || true
data=${ACCEL_TEST_DATA:-$root/../shared}
cp "$data/models/stories260K.gguf" "$out/" || { echo "make-bundle: no stories260K.gguf under $data" >&2; exit 1; }
echo "$commit" >"$out/LLAMA_COMMIT"
du -sh "$out"
