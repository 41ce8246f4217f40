#!/usr/bin/env bash
# whisper.cpp compiled to WebAssembly for web-bench's browser runs (`bootstrap.sh --whisper-wasm`): the same
# whisper.cpp 1.9.3 and the same ggml commit as the native library, so a browser figure and a native one run one
# source. Built with Debian's emscripten (3.1.6): ggml through llama.cpp's CMake (memory64 off: that emscripten's
# clang 14 cannot select its vector ops), then whisper.cpp and accel's entry points (wasm/whisper_entry.cpp)
# into one ES module, whisper.mjs + whisper.wasm. Single-threaded (no pthreads), with WASM SIMD.
# Sourced by scripts/bootstrap.sh; needs deps_root, tarballs, fetch, check_sha, die, say, src (the llama.cpp
# source) and here from it.

whisper_wasm_build() {
    local out=$1 tmp build pkg
    command -v em++ >/dev/null || die "--whisper-wasm needs emscripten (apt-get install emscripten)"
    fetch "$WHISPER_SPEC" "$WHISPER_TGZ"
    check_sha "$tarballs/$WHISPER_TGZ" "$WHISPER_TGZ_SHA256"
    tmp=$(mktemp -d)
    trap 'rm -rf "${tmp:-}"' EXIT
    tar xzf "$tarballs/$WHISPER_TGZ" -C "$tmp" package/whisper.cpp/src package/whisper.cpp/include package/LICENSE
    pkg="$tmp/package/whisper.cpp"
    build="$out.build"
    rm -rf "$build"
    say "building whisper.cpp $WHISPER_VERSION for WebAssembly into $out (emscripten; minutes)"
    # A node from elsewhere than Debian (e.g. NodeSource) does not look in Debian's module folder.
    export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"
    {
        emcmake cmake -S "$src" -B "$build/ggml" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
            -DGGML_NATIVE=OFF -DGGML_OPENMP=OFF -DLLAMA_WASM_MEM64=OFF -DLLAMA_OPENSSL=OFF \
            -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF \
            -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_APP=OFF -DCMAKE_C_FLAGS=-msimd128 -DCMAKE_CXX_FLAGS=-msimd128 &&
        ninja -C "$build/ggml" -j "$jobs" ggml ggml-base ggml-cpu &&
        em++ -O2 -msimd128 -std=c++17 "-DWHISPER_VERSION=\"$WHISPER_VERSION\"" -I"$pkg/include" -I"$pkg/src" \
            -I"$src/ggml/include" "$pkg/src/whisper.cpp" "$here/../wasm/whisper_entry.cpp" \
            "$build/ggml/ggml/src/libggml.a" "$build/ggml/ggml/src/libggml-cpu.a" "$build/ggml/ggml/src/libggml-base.a" \
            -o "$build/whisper.mjs" -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createWhisper \
            -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sINITIAL_MEMORY=64MB -sFORCE_FILESYSTEM=1 \
            -sEXPORTED_RUNTIME_METHODS=FS,cwrap,UTF8ToString -sENVIRONMENT=web,node
    } >"$build.log" 2>&1 || die "the whisper.cpp WebAssembly build failed; see $build.log"
    rm -rf "$out"
    mkdir -p "$out"
    cp "$build/whisper.mjs" "$build/whisper.wasm" "$tmp/package/LICENSE" "$out/"
    echo "$WHISPER_VERSION ${LLAMA_COMMIT:0:12} $(em++ --version 2>/dev/null | sed -n 1p)" >"$out/VERSION"
    rm -rf "$build" "$tmp"
    trap - EXIT
    touch "$out/.complete"
    say "whisper.cpp $WHISPER_VERSION WebAssembly ready in $out"
}

wwasm=$(whisper_wasm_dir)
if [ ! -f "$wwasm/.complete" ] || [ "$here/../wasm/whisper_entry.cpp" -nt "$wwasm/.complete" ]; then
    whisper_wasm_build "$wwasm"
fi
