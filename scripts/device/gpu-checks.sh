#!/usr/bin/env bash
# Runs on a lent NVIDIA machine, from the repository root, with the bundle from make-bundle.sh in build/gpu:
# builds the pinned llama.cpp with CUDA for this GPU's architecture, then runs accel's GPU checks. Every log and
# the results database go to $OUT (default build/gpu-out). Steps are timed and independent: one failing step does
# not stop the others. Usage: OUT=/some/dir scripts/device/gpu-checks.sh [build|checks|parity|quick|all]
set -uo pipefail
what=${1:-all}
root=$(pwd)
b=$root/build/gpu
out=${OUT:-$root/build/gpu-out}
mkdir -p "$out"
export PATH=$b/bin:$PATH:/usr/local/cuda/bin
lsrc=/tmp/accel-llama-src
lbuild=/tmp/accel-llama-cuda

step() {  # step NAME CMD...: runs CMD with its output in $out/NAME.log, prints rc, time and the log's tail
    local name=$1
    shift
    local t0
    t0=$(date +%s%N)
    timeout "${STEP_TIMEOUT:-120}" "$@" >"$out/$name.log" 2>&1
    local rc=$?
    echo "== $name: rc=$rc, $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    tail -n "${TAIL:-6}" "$out/$name.log" | cut -c1-220
    return $rc
}

build() {
    nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv >"$out/nvidia-smi.txt" 2>&1
    cat "$out/nvidia-smi.txt"
    local arch
    arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '. ')
    [ -f "$b/lib/libduckdb.so" ] || gunzip -c "$b/lib/libduckdb.so.gz" >"$b/lib/libduckdb.so"
    rm -rf "$lsrc" && mkdir -p "$lsrc" && tar xzf "$b/llama-src.tgz" -C "$lsrc"
    # The bundle's source has no .git, so llama.cpp's CMake would record the commit "unknown" (ggml_commit(), which
    # accel stores with every run): pass the pinned commit instead, and keep git from being asked.
    local commit
    commit=$(cat "$b/LLAMA_COMMIT")
    # Flash-attention kernels are left out (GGML_CUDA_FA=OFF): they are most of the CUDA compile time, and the lent
    # machine's time is short. llama.cpp then runs flash attention where the backend supports it, i.e. not here.
    step cuda-configure cmake -S "$lsrc" -B "$lbuild" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
        -DGGML_NATIVE=ON -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON \
        -DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$arch" -DGGML_CUDA_FA=OFF -DGGML_CUDA_NCCL=OFF \
        "-DLLAMA_BUILD_COMMIT=$commit" -DGIT_EXE= || return 1
    STEP_TIMEOUT=500 TAIL=3 step cuda-build ninja -C "$lbuild" -j "$(nproc)" llama llama-bench || return 1
    ls -la "$lbuild/bin" | grep -E "\.so|llama-bench" | awk '{print $5, $9}'
}

# accel's runtime: llama.cpp from the CUDA build, the rest from the bundle (the carry replaces build/gpu on every
# call, so libduckdb is unpacked again when missing).
runtime_env() {
    export LD_LIBRARY_PATH=$lbuild/bin:$b/lib
    export ACCEL_VOCAB_DIR=$b/vocab ACCEL_CACHE_DIR=/tmp/accel-cache ACCEL_DATA_DIR=/tmp/accel-data
    [ -f "$b/lib/libduckdb.so" ] || gunzip -c "$b/lib/libduckdb.so.gz" >"$b/lib/libduckdb.so"
}

# Placement and generation: the same greedy text on the GPU as on the CPU.
same_text() {
    local A=$b/bin/accel M=$b/stories260K.gguf
    step generate-cpu "$A" generate --model "$M" --prompt "Once upon a time" -n 48 --device cpu
    step generate-cuda "$A" generate --model "$M" --prompt "Once upon a time" -n 48 --device cuda0 --pool-stats
    if diff <(head -c 200 "$out/generate-cpu.log") <(head -c 200 "$out/generate-cuda.log") >/dev/null; then
        echo "generate: cuda0 text == cpu text"
    else
        echo "generate: cuda0 text DIFFERS from cpu text"
    fi
}

checks() {
    runtime_env
    export ACCEL_DB=$out/gpu.duckdb
    local A=$b/bin/accel M=$b/stories260K.gguf
    step version "$A" version
    step detect "$A" detect --json
    # #17: the device's own roofline (device-to-device copy and read-reduce bandwidth, matmul peaks per type with each
    # result checked against the CPU's), cached per machine and device so that bench's roofline % below uses it.
    STEP_TIMEOUT=90 TAIL=30 step detect-measure "$A" detect --measure
    step hw_gpu_test "$b/bin/hw_gpu_test"
    same_text
    TAIL=12 step conform "$A" conform --arch llama,qwen2,gpt2,bert --device cuda0 --type f32,f16,q8_0,q4_0 --timeout 60
    # #19/#20/#22: the Hugging Face classes against transformers on the GPU (the fixtures travel with the tree)
    TAIL=16 step conform-hf "$A" conform --arch llama,qwen2,bert,t5,vit,clip,whisper --device cuda0 --type f32,f16,q8_0 \
        --hf-fixtures "$root/tests/fixtures/hf" --timeout 120
    step make-q4 "$A" make-model --arch llama --params 100M --type q4_0 --out /tmp/llama-100M-q4_0.gguf
    step make-f16 "$A" make-model --arch llama --params 100M --type f16 --out /tmp/llama-100M-f16.gguf
    TAIL=10 step bench-cuda "$A" bench --model /tmp/llama-100M-q4_0.gguf,/tmp/llama-100M-f16.gguf \
        --device cuda0 -ngl 99 -p 512 -n 128 -r 5 --verify --tag gpu-check
    # stories260K's context is 512 tokens: shorter tests, and the CPU for the same points in the same run.
    TAIL=10 step bench-stories "$A" bench --model "$M" --device cuda0,cpu -ngl 99 -p 128 -n 128 -r 5 --verify \
        --tag gpu-check
    TAIL=10 step llama-bench "$lbuild/bin/llama-bench" -m /tmp/llama-100M-q4_0.gguf -m /tmp/llama-100M-f16.gguf \
        -ngl 99 -p 512 -n 128 -r 5
    TAIL=12 step recommend "$A" recommend --model /tmp/llama-100M-q4_0.gguf
    step report "$A" report --out "$out/gpu-report.html"
    step export "$A" db export --out "$out/export" --format parquet
    TAIL=12 step tradeoffs-ngl "$A" tradeoffs --model /tmp/llama-100M-f16.gguf --device cuda0 --ngl 0,6,12 --no-quality
    du -sh "$out"
}

# accel against llama-bench on the GPU, test by test (benchmarks/bench_parity.sh with DEVICE=cuda0); the raw JSONL
# comes back as one tarball (the device tool returns a few files per call), to be read with
# `benchmarks/bench_parity.sh --report DIR` where python3 is.
parity() {
    runtime_env
    mkdir -p /tmp/accel-data-shared/models && cp "$b/stories260K.gguf" /tmp/accel-data-shared/models/
    ACCEL_TEST_DATA=/tmp/accel-data-shared DEVICE=cuda0 LLAMA_BENCH=$lbuild/bin/llama-bench KEEP=$out/parity \
        STEP_TIMEOUT=${PARITY_TIMEOUT:-300} step parity bash "$root/benchmarks/bench_parity.sh" "$b/bin/accel" \
        "${PARITY_ROUNDS:-4}" "${PARITY_REPS:-5}"
    tar czf "$out/parity.tgz" -C "$out" parity && rm -rf "$out/parity"
}

# The short set for a session with little device time: the GPU inventory test, CPU/GPU text identity, parity.
quick() {
    runtime_env
    step hw_gpu_test "$b/bin/hw_gpu_test"
    same_text
    parity
}

case $what in
    build) build ;;
    checks) checks ;;
    parity) parity ;;
    quick) quick ;;
    all) build && checks ;;
    *) echo "usage: $0 [build|checks|parity|quick|all]" >&2; exit 2 ;;
esac
