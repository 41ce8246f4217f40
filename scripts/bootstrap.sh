#!/usr/bin/env bash
# Fetch, verify and build accel's pinned dependencies into a cache outside the clone.
#
#   scripts/bootstrap.sh                 install missing Debian packages, fetch and build llama.cpp and DuckDB
#   scripts/bootstrap.sh --print-prefix  print the llama.cpp install prefix for this machine and exit
#   scripts/bootstrap.sh --print-whisper-prefix  print the whisper.cpp install prefix (scripts/bootstrap-whisper.sh) and exit
#   scripts/bootstrap.sh --print-wllama-dir  print the extracted @wllama/wllama folder (web-bench) and exit
#   scripts/bootstrap.sh --print-openai-dir  print the extracted openai npm package (accel serve's tests) and exit
#   scripts/bootstrap.sh --oracle        only the oracle's Python environment (transformers, torch; see docs/testing.md)
#   scripts/bootstrap.sh --fuzz          also clang and an ASan+UBSan llama.cpp for the load-path fuzzer (make fuzz)
#   scripts/bootstrap.sh --print-fuzz-prefix  print that llama.cpp's prefix and exit
#   scripts/bootstrap.sh --whisper-wasm  also emscripten and whisper.cpp built for WebAssembly (web-bench on Whisper)
#   scripts/bootstrap.sh --print-whisper-wasm-dir  print that build's folder and exit
#   scripts/bootstrap.sh --no-apt        skip the Debian packages (for machines without apt, e.g. GPU hosts)
#
# Environment:
#   ACCEL_DEPS_DIR        cache root (default ~/.cache/accel); builds go to $ACCEL_DEPS_DIR/deps
#   ACCEL_DEPS_TARBALLS   folder of already-downloaded tarballs (see scripts/fetch-deps.sh); no registry is used
#   ACCEL_CUDA=1          also build ggml's CUDA backend when nvcc is present
#   ACCEL_CUDA_ARCHS      CUDA architectures (default: native, else 90)
#   ACCEL_LLAMA_AMX=1     keep ggml's AMX kernels on a CPU with amx_int8 (left out by default, see llama_variant)
#   ACCEL_WITH_BROWSERS=0 skip chromium and firefox-esr (web-bench and its tests need them; CI installs them)
#   ACCEL_JOBS            parallel build jobs (default: nproc)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/deps.env
source "$here/deps.env"

deps_root="${ACCEL_DEPS_DIR:-$HOME/.cache/accel}/deps"
jobs="${ACCEL_JOBS:-$(nproc)}"

die() { echo "bootstrap: error: $*" >&2; exit 1; }
say() { echo "bootstrap: $*" >&2; }

# A -march=native build dies with SIGILL on another CPU, so the llama.cpp build is keyed by
# the commit, the CPU's ISA flags and whether CUDA is in it.
cpu_key() {
    local flags
    flags=$( (grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || uname -m) | cut -d: -f2 | tr ' ' '\n' | sort -u | tr -d '\n')
    printf '%s' "$(uname -m)-$flags" | sha256sum | cut -c1-12
}

# ggml's AMX kernels (q4_0/q8_0 on CPUs with amx_int8) died with SIGILL on `tilezero` in the Firecracker VMs that
# accel's CI runs on, for every quantized model, although the kernel grants AMX and a small AMX program runs there;
# the cause is not found. Without ACCEL_LLAMA_AMX=1 the build leaves AMX out; the other native kernels stay.
cpu_has_amx() { grep -m1 -E '^flags' /proc/cpuinfo 2>/dev/null | grep -qw amx_int8; }
llama_amx() { [ "${ACCEL_LLAMA_AMX:-0}" = 1 ] || ! cpu_has_amx; }

llama_variant() {
    local v="cpu"
    if [ "${ACCEL_CUDA:-0}" = 1 ]; then v="cuda-${ACCEL_CUDA_ARCHS:-native}"; fi
    if [ "${ACCEL_LLAMA_AMX:-0}" = 1 ] && cpu_has_amx; then v="$v-amx"; fi
    echo "$v"
}

llama_prefix() { echo "$deps_root/llama.cpp-${LLAMA_COMMIT:0:12}-$(cpu_key)-$(llama_variant)"; }
# The fuzzer's llama.cpp: clang, ASan+UBSan and libFuzzer's coverage, so a fault inside llama.cpp's loader is found
# where it happens. CPU only, not native: the fuzzer looks for loader bugs, not speed.
fuzz_prefix() { echo "$deps_root/llama.cpp-${LLAMA_COMMIT:0:12}-fuzz-asan"; }
duckdb_prefix() { echo "$deps_root/duckdb-$DUCKDB_VERSION"; }
wllama_dir() { echo "$deps_root/wllama-$WLLAMA_VERSION"; }
openai_dir() { echo "$deps_root/openai-$OPENAI_NPM_VERSION"; }
# whisper.cpp links the llama.cpp prefix's ggml, so it is keyed like it.
whisper_prefix() { echo "$deps_root/whisper.cpp-$WHISPER_VERSION-${LLAMA_COMMIT:0:12}-$(cpu_key)-$(llama_variant)"; }
# Its WebAssembly build is the same for every machine: no CPU key.
whisper_wasm_dir() { echo "$deps_root/whisper.cpp-$WHISPER_VERSION-${LLAMA_COMMIT:0:12}-wasm"; }

if [ "${1:-}" = "--print-prefix" ]; then
    echo "$(llama_prefix)"
    exit 0
fi
if [ "${1:-}" = "--print-fuzz-prefix" ]; then
    echo "$(fuzz_prefix)"
    exit 0
fi
if [ "${1:-}" = "--print-duckdb-prefix" ]; then
    echo "$(duckdb_prefix)"
    exit 0
fi
if [ "${1:-}" = "--print-whisper-prefix" ]; then
    echo "$(whisper_prefix)"
    exit 0
fi
if [ "${1:-}" = "--print-whisper-wasm-dir" ]; then
    echo "$(whisper_wasm_dir)"
    exit 0
fi
if [ "${1:-}" = "--print-wllama-dir" ]; then
    echo "$(wllama_dir)"
    exit 0
fi
if [ "${1:-}" = "--print-openai-dir" ]; then
    echo "$(openai_dir)"
    exit 0
fi
# ---- the oracle's Python environment: only for scripts/oracle (test references), never for the build or CI ----
if [ "${1:-}" = "--oracle" ]; then
    venv="${ACCEL_DEPS_DIR:-$HOME/.cache/accel}/oracle/venv"
    req="$here/oracle/requirements.txt"
    stamp="$venv/.requirements.sha256"
    want=$(sha256sum "$req" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then say "oracle environment ready in $venv"; exit 0; fi
    rm -rf "$venv"
    python3 -m venv "$venv" || die "python3 -m venv failed (install python3-venv)"
    say "installing the oracle environment into $venv (about 2.6 GB of wheels, 5 GB installed; minutes)"
    "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes --no-deps --only-binary=:all: \
        -r "$req" || die "pip install of $req failed"
    echo "$want" > "$stamp"
    say "oracle environment ready in $venv"
    exit 0
fi
use_apt=1
with_fuzz=0
with_whisper_wasm=0
for arg in "$@"; do
    case "$arg" in
        --no-apt) use_apt=0 ;;
        --fuzz) with_fuzz=1 ;;
        --whisper-wasm) with_whisper_wasm=1 ;;
        *) die "unknown option $arg (see the top of $0)" ;;
    esac
done

# ---- Debian packages: install only the missing ones ----
apt_packages=(build-essential cmake ninja-build git pkg-config libcli11-dev nlohmann-json3-dev libfmt-dev
    libgtest-dev libgmock-dev libbenchmark-dev libhwloc-dev libtomlplusplus-dev libssl-dev libpng-dev
    libjpeg62-turbo-dev libsndfile1-dev libsoxr-dev espeak-ng python3 ccache ca-certificates
    libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg
    mate-backgrounds
    clang-format
    slurm-wlm munge iproute2)
if [ "${ACCEL_WITH_BROWSERS:-1}" = 1 ]; then apt_packages+=(chromium firefox-esr); fi
# clang-14 brings libFuzzer and the sanitizer runtimes (libclang-common-14-dev).
if [ "$with_fuzz" = 1 ]; then apt_packages+=(clang-14); fi
# Debian's emscripten runs its JavaScript tools with node-acorn from /usr/share/nodejs.
if [ "$with_whisper_wasm" = 1 ]; then apt_packages+=(emscripten node-acorn); fi
# npm may come from elsewhere than Debian (e.g. NodeSource); only ask apt for it when it is absent.
if [ -z "${ACCEL_DEPS_TARBALLS:-}" ] && ! command -v npm >/dev/null; then apt_packages+=(npm); fi
if [ "$use_apt" = 1 ] && command -v dpkg-query >/dev/null; then
    missing=()
    for p in "${apt_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing Debian packages: ${missing[*]}"
        sudo_cmd=()
        [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
        "${sudo_cmd[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

mkdir -p "$deps_root"
tarballs="${ACCEL_DEPS_TARBALLS:-$deps_root/tarballs}"

# ---- tarballs: from ACCEL_DEPS_TARBALLS, or npm pack into the cache ----
fetch() {  # fetch <npm spec> <file name>
    local spec=$1 file=$2
    [ -f "$tarballs/$file" ] && return 0
    [ -n "${ACCEL_DEPS_TARBALLS:-}" ] && die "$file is missing from ACCEL_DEPS_TARBALLS=$ACCEL_DEPS_TARBALLS (fill it with scripts/fetch-deps.sh)"
    mkdir -p "$tarballs"
    say "npm pack $spec"
    (cd "$tarballs" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed (is the npm registry reachable? otherwise use ACCEL_DEPS_TARBALLS)"
    [ -f "$tarballs/$file" ] || die "npm pack $spec did not produce $file"
}

check_sha() {  # check_sha <file> <expected>
    local got
    got=$(sha256sum "$1" | cut -d' ' -f1)
    [ "$got" = "$2" ] || die "sha256 mismatch for $1: expected $2, got $got. Delete the file and run again, or check the pinned version in scripts/deps.env"
}

# ---- DuckDB: libduckdb.so and duckdb.h ----
dprefix=$(duckdb_prefix)
if [ ! -f "$dprefix/.complete" ]; then
    if [ ! -f "$tarballs/$DUCKDB_HEADER_FILE" ]; then
        fetch "$DUCKDB_HEADER_SPEC" "$DUCKDB_HEADER_TGZ"
    fi
    fetch "$DUCKDB_LIB_SPEC" "$DUCKDB_LIB_TGZ"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    tar xzf "$tarballs/$DUCKDB_LIB_TGZ" -C "$tmp" package/libduckdb.so
    check_sha "$tmp/package/libduckdb.so" "$DUCKDB_LIB_SHA256"
    if [ -f "$tarballs/$DUCKDB_HEADER_FILE" ]; then
        cp "$tarballs/$DUCKDB_HEADER_FILE" "$tmp/duckdb.h"
    else
        tar xzf "$tarballs/$DUCKDB_HEADER_TGZ" -C "$tmp" "package/$DUCKDB_HEADER_PATH"
        cp "$tmp/package/$DUCKDB_HEADER_PATH" "$tmp/duckdb.h"
    fi
    check_sha "$tmp/duckdb.h" "$DUCKDB_HEADER_SHA256"
    rm -rf "$dprefix"
    mkdir -p "$dprefix/lib" "$dprefix/include"
    mv "$tmp/package/libduckdb.so" "$dprefix/lib/"
    mv "$tmp/duckdb.h" "$dprefix/include/"
    touch "$dprefix/.complete"
    rm -rf "$tmp"
    trap - EXIT
    say "DuckDB $DUCKDB_VERSION ready in $dprefix"
fi

# ---- @wllama/wllama: llama.cpp compiled to WASM, served to the browsers by web-bench ----
wdir=$(wllama_dir)
if [ ! -f "$wdir/.complete" ] && [ -n "${ACCEL_DEPS_TARBALLS:-}" ] && [ ! -f "$tarballs/$WLLAMA_TGZ" ]; then
    say "warning: $WLLAMA_TGZ is not in ACCEL_DEPS_TARBALLS; web-bench will be unavailable"
elif [ ! -f "$wdir/.complete" ]; then
    fetch "$WLLAMA_SPEC" "$WLLAMA_TGZ"
    check_sha "$tarballs/$WLLAMA_TGZ" "$WLLAMA_TGZ_SHA256"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    tar xzf "$tarballs/$WLLAMA_TGZ" -C "$tmp" package/esm package/package.json package/LICENCE
    rm -rf "$wdir"
    mkdir -p "$wdir"
    mv "$tmp/package/esm" "$tmp/package/package.json" "$tmp/package/LICENCE" "$wdir/"
    touch "$wdir/.complete"
    rm -rf "$tmp"
    trap - EXIT
    say "wllama $WLLAMA_VERSION ready in $wdir"
fi

# ---- openai (npm): the official client, which drives accel serve in its tests ----
odir=$(openai_dir)
if [ ! -f "$odir/.complete" ] && [ -n "${ACCEL_DEPS_TARBALLS:-}" ] && [ ! -f "$tarballs/$OPENAI_NPM_TGZ" ]; then
    say "warning: $OPENAI_NPM_TGZ is not in ACCEL_DEPS_TARBALLS; the openai client test will be skipped"
elif [ ! -f "$odir/.complete" ]; then
    fetch "$OPENAI_NPM_SPEC" "$OPENAI_NPM_TGZ"
    check_sha "$tarballs/$OPENAI_NPM_TGZ" "$OPENAI_NPM_TGZ_SHA256"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    tar xzf "$tarballs/$OPENAI_NPM_TGZ" -C "$tmp"
    rm -rf "$odir"
    mv "$tmp/package" "$odir"
    touch "$odir/.complete"
    rm -rf "$tmp"
    trap - EXIT
    say "openai $OPENAI_NPM_VERSION ready in $odir"
fi

# ---- llama.cpp: source from the git bundle, verified by commit ----
lprefix=$(llama_prefix)
src="$deps_root/llama.cpp-${LLAMA_COMMIT:0:12}-src"
if [ ! -f "$src/.complete" ]; then
    if [ ! -f "$tarballs/$LLAMA_BUNDLE_FILE" ]; then
        fetch "$LLAMA_NPM_SPEC" "$LLAMA_NPM_TGZ"
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    if [ -f "$tarballs/$LLAMA_BUNDLE_FILE" ]; then
        bundle="$tarballs/$LLAMA_BUNDLE_FILE"
    else
        tar xzf "$tarballs/$LLAMA_NPM_TGZ" -C "$tmp" package/llama/gitRelease.bundle
        bundle="$tmp/package/llama/gitRelease.bundle"
    fi
    rm -rf "$src"
    git clone -q --no-checkout "$bundle" "$src" || die "cannot read the llama.cpp bundle $bundle"
    git -C "$src" -c advice.detachedHead=false checkout -q "$LLAMA_COMMIT" 2>/dev/null \
        || die "the llama.cpp bundle does not contain commit $LLAMA_COMMIT"
    head=$(git -C "$src" rev-parse HEAD)
    [ "$head" = "$LLAMA_COMMIT" ] || die "llama.cpp commit mismatch: expected $LLAMA_COMMIT, got $head"
    touch "$src/.complete"
    rm -rf "$tmp"
    trap - EXIT
fi

# What the prefix holds; bump it when the list of built targets changes, so an older cache is rebuilt.
# 2: libmtmd and llama-mtmd-cli (LLaVA, docs/infer.md) and llama-server (the peer of `accel serve`).
LLAMA_RECIPE=2
# A build made before AMX was left out has .complete but not .no-amx: build it again.
llama_current() {
    [ -f "$lprefix/.complete" ] && [ "$(cat "$lprefix/RECIPE" 2>/dev/null)" = "$LLAMA_RECIPE" ] \
        && { llama_amx || [ -f "$lprefix/.no-amx" ]; }
}
if ! llama_current; then
    cuda_args=()
    if [ "${ACCEL_CUDA:-0}" = 1 ]; then
        command -v nvcc >/dev/null || die "ACCEL_CUDA=1 but nvcc is not on PATH"
        archs="${ACCEL_CUDA_ARCHS:-}"
        if [ -z "$archs" ]; then
            archs=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.' || true)
            [ -n "$archs" ] || archs=90
        fi
        cuda_args=(-DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$archs")
        say "building the CUDA backend for sm_$archs"
    fi
    amx_args=()
    if ! llama_amx; then
        amx_args=("-DCMAKE_C_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
                  "-DCMAKE_CXX_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16")
        say "leaving ggml's AMX kernels out (set ACCEL_LLAMA_AMX=1 to build them; see llama_variant)"
    fi
    build="$lprefix.build"
    say "building llama.cpp ${LLAMA_COMMIT:0:12} into $lprefix (takes several minutes once per cache)"
    cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$lprefix" \
        -DCMAKE_INSTALL_RPATH='$ORIGIN/../lib' -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DLLAMA_TOOLS_INSTALL=OFF -DBUILD_SHARED_LIBS=ON -DGGML_NATIVE=ON -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF \
        -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
        -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON "${cuda_args[@]}" "${amx_args[@]}" >"$build.log" 2>&1 \
        || die "llama.cpp configure failed; see $build.log"
    # The server is built without its web UI: LLAMA_USE_PREBUILT_UI would download it at build time.
    ninja -C "$build" -j "$jobs" llama llama-bench llama-perplexity mtmd llama-mtmd-cli llama-server \
        >>"$build.log" 2>&1 \
        || die "llama.cpp build failed; see $build.log"
    # Copy what accel links and runs rather than `cmake --install`, which wants every tool target built.
    stage="$lprefix.new"  # filled, then swapped in whole, so nothing sees a half-copied prefix
    rm -rf "$stage"
    mkdir -p "$stage/bin" "$stage/lib" "$stage/include"
    cp -P "$build"/bin/lib*.so* "$stage/lib/" || die "libraries missing; see $build.log"
    cp "$src"/include/*.h "$src"/ggml/include/*.h "$src"/tools/mtmd/mtmd.h "$src"/tools/mtmd/mtmd-helper.h \
        "$stage/include/"
    for tool in llama-bench llama-perplexity llama-mtmd-cli llama-server; do  # the reference tools
        cp "$build/bin/$tool" "$stage/bin/" 2>/dev/null || die "$tool was not built; see $build.log"
    done
    "$stage/bin/llama-bench" --help >/dev/null 2>&1 || die "the installed llama-bench does not run; see $build.log"
    # The synthetic-model generator needs two internal headers (see src/engine/synthetic_model.cpp).
    mkdir -p "$stage/include/llama-internal"
    cp "$src/src/llama-arch.h" "$src/src/llama-model-saver.h" "$stage/include/llama-internal/"
    # Vocab-only tokenizers, used by make-model for architectures that need a real vocabulary.
    mkdir -p "$stage/share/vocab"
    cp "$src"/models/ggml-vocab-*.gguf "$stage/share/vocab/"
    echo "$LLAMA_COMMIT" >"$stage/COMMIT"
    echo "$LLAMA_RECIPE" >"$stage/RECIPE"
    rm -rf "$build"
    llama_amx || touch "$stage/.no-amx"
    touch "$stage/.complete"
    rm -rf "$lprefix.old"; [ ! -e "$lprefix" ] || mv "$lprefix" "$lprefix.old"
    mv "$stage" "$lprefix" && rm -rf "$lprefix.old"
    say "llama.cpp ready in $lprefix"
fi

# ---- whisper.cpp: against the llama.cpp prefix's ggml ----
# shellcheck source=scripts/bootstrap-whisper.sh
source "$here/bootstrap-whisper.sh"

# ---- whisper.cpp for WebAssembly (--whisper-wasm) ----
if [ "$with_whisper_wasm" = 1 ]; then
    # shellcheck source=scripts/bootstrap-whisper-wasm.sh
    source "$here/bootstrap-whisper-wasm.sh"
fi

# ---- the fuzzer's llama.cpp (--fuzz) ----
fprefix=$(fuzz_prefix)
if [ "$with_fuzz" = 1 ] && [ ! -f "$fprefix/.complete" ]; then
    command -v clang-14 >/dev/null || die "--fuzz needs clang-14 (apt-get install clang-14)"
    build="$fprefix.build"
    flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link"
    say "building an ASan+UBSan llama.cpp for the fuzzer into $fprefix (long: sanitizers slow the compiler too)"
    cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
        -DCMAKE_CXX_COMPILER=clang++-14 "-DCMAKE_C_FLAGS=$flags" "-DCMAKE_CXX_FLAGS=$flags" \
        -DCMAKE_INSTALL_RPATH='$ORIGIN/../lib' -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DBUILD_SHARED_LIBS=ON \
        -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_OPENMP=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
        -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TOOLS=OFF >"$build.log" 2>&1 \
        || die "fuzz llama.cpp configure failed; see $build.log"
    ninja -C "$build" -j "$jobs" llama >>"$build.log" 2>&1 || die "fuzz llama.cpp build failed; see $build.log"
    rm -rf "$fprefix"
    mkdir -p "$fprefix/lib" "$fprefix/include/llama-internal" "$fprefix/share"
    cp -P "$build"/bin/lib*.so* "$fprefix/lib/" || die "libraries missing; see $build.log"
    cp "$src"/include/*.h "$src"/ggml/include/*.h "$fprefix/include/"
    cp "$src/src/llama-arch.h" "$src/src/llama-model-saver.h" "$fprefix/include/llama-internal/"
    cp -r "$lprefix/share/vocab" "$fprefix/share/"
    mkdir -p "$fprefix/bin"
    echo "$LLAMA_COMMIT" >"$fprefix/COMMIT"
    rm -rf "$build"
    touch "$fprefix/.complete"
    say "fuzzer llama.cpp ready in $fprefix"
fi

say "ok: llama.cpp $lprefix, whisper.cpp $wprefix, duckdb $dprefix"
